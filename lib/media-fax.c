/* media-fax - fax parts: TIFF (libtiff) and PDF (Ghostscript) to TIFF Class F.
 *
 * A TIFF is read from memory through libtiff's client I/O, page by page and
 * band by band through TIFFRGBAImage (so every compression and photometric
 * libtiff supports works, and a page never sits in memory whole).  Each page
 * is scaled to 1728 pixels across (keeping its physical aspect ratio), the
 * grey level is averaged over each output pixel's box and thresholded, and
 * the page is written as CCITT Group 3 (1-D, fill bits), 204 x 196 or
 * 204 x 98 dpi, with PageNumber, i.e. TIFF Class F.  A PDF is first rendered
 * by a Ghostscript subprocess (-dSAFER, tiffg3 device, bounded in pages and
 * wall time) and its TIFF output goes the same way.  libtiff's messages are
 * captured per handle into the GError.  Failures: not a TIFF/PDF or corrupt
 * (FORMAT), too many pages or pixels, too slow (LIMIT), Ghostscript failed
 * (CONVERT), the store (STORE).  Temporary files are removed on every path.
 */
#include "media-private.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <tiffio.h>

#define FAX_BAND      64
#define FAX_MAX_ROWS  8000 /* about 41 inches at 196 dpi */
#define FAX_THRESHOLD 160  /* averaged grey below this is black */
#define FAX_XDPI      204

typedef struct {
	const guint8 *data;
	toff_t len, pos;
} FaxMem;

typedef struct {
	char message[256]; /* libtiff's first error */
} FaxErrors;

static tmsize_t fm_read(thandle_t h, void *buf, tmsize_t n)
{
	FaxMem *m = (FaxMem *)h;
	toff_t left = m->len - m->pos;
	tmsize_t k = (toff_t)n < left ? n : (tmsize_t)left;

	memcpy(buf, m->data + m->pos, (size_t)k);
	m->pos += (toff_t)k;
	return k;
}

static tmsize_t fm_write(thandle_t h, void *buf, tmsize_t n)
{
	return 0;
}

static toff_t fm_seek(thandle_t h, toff_t off, int whence)
{
	FaxMem *m = (FaxMem *)h;
	toff_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->len : 0;

	if (off > G_MAXUINT64 - base || base + off > m->len)
		return (toff_t)-1;
	m->pos = base + off;
	return m->pos;
}

static int fm_close(thandle_t h)
{
	return 0;
}

static toff_t fm_size(thandle_t h)
{
	return ((FaxMem *)h)->len;
}

static int fm_map(thandle_t h, void **base, toff_t *size)
{
	*base = (void *)((FaxMem *)h)->data;
	*size = ((FaxMem *)h)->len;
	return 1;
}

static void fm_unmap(thandle_t h, void *base, toff_t size)
{
}

static int fax_on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	FaxErrors *errs = user;

	if (errs->message[0] == '\0')
		g_vsnprintf(errs->message, sizeof errs->message, fmt, ap);
	return 1;
}

static int fax_on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
	return 1; /* unknown tags and the like: not the sender's problem */
}

static TIFFOpenOptions *fax_options(FaxErrors *errs)
{
	TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();

	TIFFOpenOptionsSetErrorHandlerExtR(opts, fax_on_error, errs);
	TIFFOpenOptionsSetWarningHandlerExtR(opts, fax_on_warning, errs);
	TIFFOpenOptionsSetMaxSingleMemAlloc(opts, 256 * 1024 * 1024);
	return opts;
}

static void fax_error(GError **error, CtiMediaError code, const FaxErrors *errs, const char *what)
{
	if (errs->message[0] != '\0')
		g_set_error(error, CTI_MEDIA_ERROR, code, "%s: %s", what, errs->message);
	else
		g_set_error(error, CTI_MEDIA_ERROR, code, "%s", what);
}

static gboolean is_tiff(const guint8 *d, gsize len)
{
	return len >= 4 &&
	       ((d[0] == 'I' && d[1] == 'I' && (d[2] == 42 || d[2] == 43) && d[3] == 0) ||
	        (d[0] == 'M' && d[1] == 'M' && d[2] == 0 && (d[3] == 42 || d[3] == 43)));
}

static gboolean is_pdf(const guint8 *d, gsize len)
{
	gsize scan = MIN(len, 1024);

	for (gsize i = 0; i + 5 <= scan; i++)
		if (memcmp(d + i, "%PDF-", 5) == 0)
			return TRUE;
	return FALSE;
}

/* Page geometry: the output size of one input page. */
typedef struct {
	guint32 src_w, src_h;
	guint32 out_h;
} FaxPage;

/* page_geometry - scale to 1728 across, keep the physical aspect ratio */
static gboolean page_geometry(TIFF *in, guint page, gboolean fine, FaxPage *g, GError **error)
{
	float xres = 0, yres = 0;
	double rows;

	TIFFGetField(in, TIFFTAG_IMAGEWIDTH, &g->src_w);
	TIFFGetField(in, TIFFTAG_IMAGELENGTH, &g->src_h);
	if (g->src_w == 0 || g->src_h == 0 || (guint64)g->src_w * g->src_h > CTI_MEDIA_MAX_PIXELS) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_LIMIT,
		            "page %u is %ux%u pixels (at most %d pixels)", page, g->src_w, g->src_h,
		            CTI_MEDIA_MAX_PIXELS);
		return FALSE;
	}
	if (!TIFFGetField(in, TIFFTAG_XRESOLUTION, &xres) ||
	    !TIFFGetField(in, TIFFTAG_YRESOLUTION, &yres) || xres <= 0 || yres <= 0 ||
	    xres / yres > 16 || yres / xres > 16)
		xres = yres = 1;
	rows = (double)g->src_h * xres / yres * CTI_MEDIA_FAX_WIDTH / g->src_w * (fine ? 196 : 98) /
	       FAX_XDPI;
	g->out_h = (guint32)MAX(1.0, rows + 0.5);
	if (g->out_h > FAX_MAX_ROWS) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_LIMIT,
		            "page %u is longer than %d fax lines", page, FAX_MAX_ROWS);
		return FALSE;
	}
	return TRUE;
}

/* Reads source rows in increasing order through a band buffer. */
typedef struct {
	TIFFRGBAImage img;
	guint32 *band;
	guint32 band_start, band_rows;
	guint8 *grey; /* the current row as grey, src_w bytes */
	guint32 grey_row;
} FaxReader;

static guint8 rgba_grey(guint32 p)
{
	guint32 lum = (299 * TIFFGetR(p) + 587 * TIFFGetG(p) + 114 * TIFFGetB(p)) / 1000;
	guint32 a = TIFFGetA(p);

	return (guint8)((lum * a + 255 * (255 - a)) / 255); /* on white paper */
}

/* reader_row - source row Y as grey, Y never decreasing */
static const guint8 *reader_row(FaxReader *r, const FaxPage *g, guint32 y, GError **error)
{
	char emsg[1024] = "";

	if (y == r->grey_row)
		return r->grey;
	if (y < r->band_start || y >= r->band_start + r->band_rows) {
		r->band_start = y;
		r->band_rows = MIN(FAX_BAND, g->src_h - y);
		r->img.row_offset = (int)y;
		r->img.col_offset = 0;
		if (!TIFFRGBAImageGet(&r->img, r->band, g->src_w, r->band_rows)) {
			g_snprintf(emsg, sizeof emsg, "cannot decode rows %u-%u", y,
			           y + r->band_rows);
			g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_FORMAT, "%s", emsg);
			r->band_rows = 0;
			return NULL;
		}
	}
	for (guint32 x = 0; x < g->src_w; x++)
		r->grey[x] = rgba_grey(r->band[(gsize)(y - r->band_start) * g->src_w + x]);
	r->grey_row = y;
	return r->grey;
}

/* fax_scale_row - output row OY (1728 pixels, 1 = black) from its box of source rows */
static gboolean fax_scale_row(FaxReader *r, const FaxPage *g, guint32 oy, guint32 *acc,
                              guint8 *bits, GError **error)
{
	guint32 y0 = (guint32)((guint64)oy * g->src_h / g->out_h);
	guint32 y1 = MAX(y0 + 1, (guint32)((guint64)(oy + 1) * g->src_h / g->out_h));
	guint32 count = 0;

	memset(acc, 0, CTI_MEDIA_FAX_WIDTH * sizeof *acc);
	memset(bits, 0, CTI_MEDIA_FAX_WIDTH / 8);
	for (guint32 y = y0; y < y1 && y < g->src_h; y++, count++) {
		const guint8 *grey = reader_row(r, g, y, error);

		if (grey == NULL)
			return FALSE;
		for (guint32 ox = 0; ox < CTI_MEDIA_FAX_WIDTH; ox++) {
			guint32 x0 = (guint32)((guint64)ox * g->src_w / CTI_MEDIA_FAX_WIDTH);
			guint32 x1 = MAX(
			    x0 + 1, (guint32)((guint64)(ox + 1) * g->src_w / CTI_MEDIA_FAX_WIDTH));
			guint32 sum = 0;

			for (guint32 x = x0; x < x1; x++)
				sum += grey[x];
			acc[ox] += sum / (x1 - x0);
		}
	}
	for (guint32 ox = 0; ox < CTI_MEDIA_FAX_WIDTH; ox++)
		if (acc[ox] / MAX(count, 1) < FAX_THRESHOLD)
			bits[ox / 8] |= (guint8)(0x80 >> (ox % 8));
	return TRUE;
}

static void fax_page_tags(TIFF *out, const FaxPage *g, gboolean fine, guint page, guint pages)
{
	TIFFSetField(out, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
	TIFFSetField(out, TIFFTAG_IMAGEWIDTH, (guint32)CTI_MEDIA_FAX_WIDTH);
	TIFFSetField(out, TIFFTAG_IMAGELENGTH, g->out_h);
	TIFFSetField(out, TIFFTAG_BITSPERSAMPLE, 1);
	TIFFSetField(out, TIFFTAG_SAMPLESPERPIXEL, 1);
	TIFFSetField(out, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
	TIFFSetField(out, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX3);
	TIFFSetField(out, TIFFTAG_GROUP3OPTIONS, GROUP3OPT_FILLBITS);
	TIFFSetField(out, TIFFTAG_FILLORDER, FILLORDER_LSB2MSB);
	TIFFSetField(out, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
	TIFFSetField(out, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT);
	TIFFSetField(out, TIFFTAG_XRESOLUTION, (float)FAX_XDPI);
	TIFFSetField(out, TIFFTAG_YRESOLUTION, fine ? 196.0f : 98.0f);
	TIFFSetField(out, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
	TIFFSetField(out, TIFFTAG_ROWSPERSTRIP, g->out_h);
	TIFFSetField(out, TIFFTAG_PAGENUMBER, (guint16)page, (guint16)pages);
	TIFFSetField(out, TIFFTAG_SOFTWARE, "mailcti");
}

/* fax_page - convert the current directory of IN into a new page of OUT */
static gboolean fax_page(TIFF *in, TIFF *out, gboolean fine, guint page, guint pages,
                         MediaDeadline deadline, FaxPage *g, GError **error)
{
	char emsg[1024] = "";
	FaxReader r = {.grey_row = G_MAXUINT32};
	g_autofree guint32 *acc = g_new(guint32, CTI_MEDIA_FAX_WIDTH);
	guint8 bits[CTI_MEDIA_FAX_WIDTH / 8];
	gboolean ok = TRUE;

	if (!page_geometry(in, page + 1, fine, g, error))
		return FALSE;
	if (!TIFFRGBAImageOK(in, emsg) || !TIFFRGBAImageBegin(&r.img, in, 0, emsg)) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_FORMAT, "page %u: %s", page + 1,
		            emsg);
		return FALSE;
	}
	r.img.req_orientation = ORIENTATION_TOPLEFT;
	r.band = g_new(guint32, (gsize)g->src_w * FAX_BAND);
	r.grey = g_new(guint8, g->src_w);
	fax_page_tags(out, g, fine, page, pages);
	for (guint32 oy = 0; ok && oy < g->out_h; oy++) {
		ok = fax_scale_row(&r, g, oy, acc, bits, error) &&
		     !((oy & 255) == 0 && media_deadline_passed(deadline, "fax conversion", error));
		if (ok && TIFFWriteScanline(out, bits, oy, 0) < 0) {
			g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_STORE,
			            "cannot write fax page %u", page + 1);
			ok = FALSE;
		}
	}
	TIFFRGBAImageEnd(&r.img);
	g_free(r.band);
	g_free(r.grey);
	if (ok && !TIFFWriteDirectory(out)) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_STORE,
		            "cannot write fax page %u", page + 1);
		ok = FALSE;
	}
	if (!ok)
		g_prefix_error(error, "page %u: ", page + 1);
	return ok;
}

/* fax_count_pages - directories that are pages (not reduced-resolution copies) */
static guint fax_count_pages(TIFF *in)
{
	guint pages = 0;

	TIFFSetDirectory(in, 0);
	do {
		guint32 type = 0;

		if (!TIFFGetField(in, TIFFTAG_SUBFILETYPE, &type) ||
		    !(type & FILETYPE_REDUCEDIMAGE))
			pages++;
	} while (pages <= CTI_MEDIA_MAX_PAGES && TIFFReadDirectory(in));
	TIFFSetDirectory(in, 0);
	return pages;
}

static TIFF *fax_open_mem(FaxMem *mem, GBytes *data, TIFFOpenOptions *opts)
{
	gsize len;

	mem->data = g_bytes_get_data(data, &len);
	mem->len = len;
	mem->pos = 0;
	return TIFFClientOpenExt("fax", "r", (thandle_t)mem, fm_read, fm_write, fm_seek, fm_close,
	                         fm_size, fm_map, fm_unmap, opts);
}

/* fax_tiff_pages - open DATA as TIFF and count its pages (FALSE + error when unusable) */
static TIFF *fax_tiff_open(FaxMem *mem, GBytes *data, TIFFOpenOptions *opts, FaxErrors *errs,
                           guint *pages, GError **error)
{
	TIFF *in = fax_open_mem(mem, data, opts);

	if (in == NULL) {
		fax_error(error, CTI_MEDIA_ERROR_FORMAT, errs, "not a readable TIFF");
		return NULL;
	}
	*pages = fax_count_pages(in);
	if (*pages > CTI_MEDIA_MAX_PAGES) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_LIMIT, "more than %d pages",
		            CTI_MEDIA_MAX_PAGES);
		TIFFClose(in);
		return NULL;
	}
	return in;
}

/* fax_from_tiff - every page of the TIFF DATA into OUT_PATH */
static CtiMedia *fax_from_tiff(GBytes *data, const char *format, gboolean fine,
                               const char *out_path, MediaDeadline deadline, GError **error)
{
	FaxErrors errs = {""};
	TIFFOpenOptions *opts = fax_options(&errs);
	g_autofree char *tmp = media_tmp_path(out_path);
	g_autoptr(CtiMedia) media = media_new(format);
	FaxMem mem;
	TIFF *in, *out = NULL;
	guint pages = 0, done = 0;
	gboolean ok;

	in = fax_tiff_open(&mem, data, opts, &errs, &pages, error);
	ok = in != NULL;
	if (ok && (out = TIFFOpenExt(tmp, "w", opts)) == NULL) {
		fax_error(error, CTI_MEDIA_ERROR_STORE, &errs, "cannot create the fax file");
		ok = FALSE;
	}
	for (; ok && done < pages; done++) {
		FaxPage g;
		guint32 type = 0;

		while (TIFFGetField(in, TIFFTAG_SUBFILETYPE, &type) &&
		       (type & FILETYPE_REDUCEDIMAGE) && TIFFReadDirectory(in))
			;
		ok = fax_page(in, out, fine, done, pages, deadline, &g, error) &&
		     (done + 1 == pages || TIFFReadDirectory(in));
		if (done == 0) {
			media->width = CTI_MEDIA_FAX_WIDTH;
			media->height = g.out_h;
		}
	}
	if (out != NULL)
		TIFFClose(out);
	if (in != NULL)
		TIFFClose(in);
	TIFFOpenOptionsFree(opts);
	if (ok && errs.message[0] != '\0' && done < pages)
		ok = FALSE;
	media->pages = done;
	if (!ok || !media_finish_file(media, tmp, out_path, error)) {
		g_unlink(tmp);
		return NULL;
	}
	return g_steal_pointer(&media);
}

typedef struct {
	GSubprocess *proc;
	gboolean done, timed_out;
	char *err_text;
	GError *error;
} GsRun;

static void gs_done(GObject *src, GAsyncResult *res, gpointer data)
{
	GsRun *run = data;

	g_subprocess_communicate_utf8_finish(G_SUBPROCESS(src), res, NULL, &run->err_text,
	                                     &run->error);
	run->done = TRUE;
}

static gboolean gs_timeout(gpointer data)
{
	GsRun *run = data;

	run->timed_out = TRUE;
	g_subprocess_force_exit(run->proc);
	return G_SOURCE_REMOVE;
}

/* gs_wait - run ARGV to its end or until the deadline; stderr in run->err_text */
static gboolean gs_wait(const char *const *argv, MediaDeadline deadline, GsRun *run, GError **error)
{
	g_autoptr(GMainContext) ctx = g_main_context_new();
	gint64 left_ms = MAX(1, (deadline - g_get_monotonic_time()) / 1000);
	GSource *timer;

	run->proc = g_subprocess_newv(
	    argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, error);
	if (run->proc == NULL) {
		g_prefix_error(error, "cannot run Ghostscript: ");
		return FALSE;
	}
	g_main_context_push_thread_default(ctx);
	g_subprocess_communicate_utf8_async(run->proc, NULL, NULL, gs_done, run);
	timer = g_timeout_source_new((guint)MIN(left_ms, G_MAXUINT));
	g_source_set_callback(timer, gs_timeout, run, NULL);
	g_source_attach(timer, ctx);
	while (!run->done)
		g_main_context_iteration(ctx, TRUE);
	g_source_destroy(timer);
	g_source_unref(timer);
	g_subprocess_wait(run->proc, NULL, NULL);
	g_main_context_pop_thread_default(ctx);
	return TRUE;
}

/* gs_first_error - the first line of Ghostscript's stderr worth showing */
static char *gs_first_error(const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", 0);

	for (guint i = 0; lines[i] != NULL; i++) {
		g_strstrip(lines[i]);
		if (lines[i][0] != '\0')
			return g_strndup(lines[i], 120);
	}
	return g_strdup("no output");
}

/* fax_render_pdf - PDF_PATH rendered by Ghostscript into TIFF_PATH (tiffg3, 204x196) */
static gboolean fax_render_pdf(const char *pdf_path, const char *tiff_path, MediaDeadline deadline,
                               GError **error)
{
	g_autofree char *out_arg = g_strconcat("-sOutputFile=", tiff_path, NULL);
	g_autofree char *last = g_strdup_printf("-dLastPage=%d", CTI_MEDIA_MAX_PAGES + 1);
	const char *argv[] = {"gs",
	                      "-q",
	                      "-dSAFER",
	                      "-dBATCH",
	                      "-dNOPAUSE",
	                      "-dNOPROMPT",
	                      "-sDEVICE=tiffg3",
	                      "-r204x196",
	                      "-sPAPERSIZE=a4",
	                      "-dFIXEDMEDIA",
	                      "-dPDFFitPage",
	                      last,
	                      out_arg,
	                      "-f",
	                      pdf_path,
	                      NULL};
	GsRun run = {0};
	gboolean ok;

	ok = gs_wait(argv, deadline, &run, error);
	if (ok && run.timed_out) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_LIMIT,
		            "rendering the PDF took longer than %d s", CTI_MEDIA_TIMEOUT_MS / 1000);
		ok = FALSE;
	} else if (ok && (run.error != NULL || !g_subprocess_get_if_exited(run.proc) ||
	                  g_subprocess_get_exit_status(run.proc) != 0)) {
		g_autofree char *why = gs_first_error(run.err_text);

		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_FORMAT,
		            "not a readable PDF (%s)", why);
		ok = FALSE;
	}
	g_clear_object(&run.proc);
	g_clear_error(&run.error);
	g_free(run.err_text);
	return ok;
}

/* fax_from_pdf - PDF DATA through Ghostscript, then as TIFF */
static CtiMedia *fax_from_pdf(GBytes *data, gboolean fine, const char *out_path,
                              MediaDeadline deadline, GError **error)
{
	g_autofree char *pdf_path = g_strconcat(out_path, ".pdf.tmp", NULL);
	g_autofree char *tiff_path = g_strconcat(out_path, ".gs.tmp", NULL);
	g_autofree char *tiff = NULL;
	gsize len;
	CtiMedia *media = NULL;

	if (!g_file_set_contents(pdf_path, g_bytes_get_data(data, NULL),
	                         (gssize)g_bytes_get_size(data), error)) {
		g_prefix_error(error, "media store: ");
		(*error)->domain = CTI_MEDIA_ERROR;
		(*error)->code = CTI_MEDIA_ERROR_STORE;
		return NULL;
	}
	if (fax_render_pdf(pdf_path, tiff_path, deadline, error) &&
	    g_file_get_contents(tiff_path, &tiff, &len, NULL)) {
		g_autoptr(GBytes) bytes = g_bytes_new_take(g_steal_pointer(&tiff), len);

		media = fax_from_tiff(bytes, "pdf", fine, out_path, deadline, error);
		if (media != NULL && media->pages > CTI_MEDIA_MAX_PAGES) {
			g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_LIMIT,
			            "more than %d pages", CTI_MEDIA_MAX_PAGES);
			g_unlink(media->path);
			g_clear_pointer(&media, media_free);
		}
	} else if (error != NULL && *error == NULL) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_FORMAT,
		            "not a readable PDF (no pages)");
	}
	g_unlink(pdf_path);
	g_unlink(tiff_path);
	return media;
}

static gboolean fax_input_ok(GBytes *data, GError **error)
{
	if (g_bytes_get_size(data) <= CTI_MEDIA_MAX_INPUT)
		return TRUE;
	g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_LIMIT, "document larger than %d bytes",
	            CTI_MEDIA_MAX_INPUT);
	return FALSE;
}

/* media_fax_convert - TIFF or PDF to TIFF Class F */
CtiMedia *media_fax_convert(GBytes *data, const char *content_type, const char *filename,
                            gboolean fine, const char *out_path, GError **error)
{
	gsize len;
	const guint8 *d = g_bytes_get_data(data, &len);

	if (!fax_input_ok(data, error))
		return NULL;
	if (is_tiff(d, len))
		return fax_from_tiff(data, "tiff", fine, out_path, media_deadline(), error);
	if (is_pdf(d, len))
		return fax_from_pdf(data, fine, out_path, media_deadline(), error);
	g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_FORMAT,
	            "neither a TIFF nor a PDF document");
	return NULL;
}

/* media_fax_probe - TIFF: pages and a decodable first page; PDF: its header */
CtiMedia *media_fax_probe(GBytes *data, const char *content_type, const char *filename,
                          GError **error)
{
	gsize len;
	const guint8 *d = g_bytes_get_data(data, &len);
	FaxErrors errs = {""};
	TIFFOpenOptions *opts;
	FaxMem mem;
	TIFF *in;
	guint pages = 0;
	char emsg[1024] = "";
	CtiMedia *media = NULL;

	if (!fax_input_ok(data, error))
		return NULL;
	if (is_pdf(d, len) && !is_tiff(d, len))
		return media_new("pdf");
	if (!is_tiff(d, len)) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_FORMAT,
		            "neither a TIFF nor a PDF document");
		return NULL;
	}
	opts = fax_options(&errs);
	in = fax_tiff_open(&mem, data, opts, &errs, &pages, error);
	if (in != NULL && !TIFFRGBAImageOK(in, emsg))
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_FORMAT, "page 1: %s", emsg);
	else if (in != NULL) {
		media = media_new("tiff");
		media->pages = pages;
	}
	if (in != NULL)
		TIFFClose(in);
	TIFFOpenOptionsFree(opts);
	return media;
}
