/* fax.c - the fax receiver: reads the directory of a TIFF file sent to a fax
 * device and decides whether it is a fax (TIFF Class F): every page CCITT G3
 * (Compression 3), ImageWidth 1728, 2048 or 2432, XResolution 204 dpi (8
 * dots/mm), YResolution 98 dpi (standard) or 196 dpi (fine).  Only the image
 * file directories are read (a bounded IFD walk, both byte orders); the
 * strips are not decoded.  The transmission time follows from the file size
 * at 14400 bit/s (V.17) plus the T.30 set-up and a per-page pause.  Errors:
 * not a TIFF, a truncated or looping directory chain, a page that is not
 * Class F (G_FILE_ERROR_INVAL).  The caller owns FaxInfo's checksum.
 */
#include "fax.h"

#include <string.h>

#define FAX_MAX_PAGES   1000
#define FAX_MAX_ENTRIES 4096
#define FAX_SETUP_S     5.0   /* T.30 phase B and D */
#define FAX_PAGE_S      1.5   /* post-page handshake */
#define FAX_BPS         14400.0

enum {
	TAG_WIDTH = 256,
	TAG_COMPRESSION = 259,
	TAG_XRES = 282,
	TAG_YRES = 283,
	TAG_T4OPTIONS = 292,
	TAG_RESUNIT = 296,
};

typedef struct {
	const guint8 *d;
	gsize len;
	gboolean big; /* "MM" byte order */
} Tiff;

typedef struct {
	guint width, compression, resunit;
	double xres, yres;
	gboolean has_t4;
	guint32 t4options;
} FaxPage;

static guint16
rd16(const Tiff *t, gsize off)
{
	const guint8 *p = t->d + off;
	return t->big ? (guint16)(p[0] << 8 | p[1]) : (guint16)(p[1] << 8 | p[0]);
}

static guint32
rd32(const Tiff *t, gsize off)
{
	const guint8 *p = t->d + off;
	return t->big ? (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3]
		      : (guint32)p[3] << 24 | (guint32)p[2] << 16 | (guint32)p[1] << 8 | p[0];
}

/* entry_uint - a SHORT or LONG entry's first value; FALSE for other types */
static gboolean
entry_uint(const Tiff *t, gsize e, guint *out)
{
	switch (rd16(t, e + 2)) {
	case 3: *out = rd16(t, e + 8); return TRUE;
	case 4: *out = rd32(t, e + 8); return TRUE;
	default: return FALSE;
	}
}

/* entry_rational - a RATIONAL entry's value (stored at an offset) */
static gboolean
entry_rational(const Tiff *t, gsize e, double *out)
{
	if (rd16(t, e + 2) != 5)
		return FALSE;
	guint32 off = rd32(t, e + 8);
	if ((gsize)off + 8 > t->len || rd32(t, off + 4) == 0)
		return FALSE;
	*out = (double)rd32(t, off) / rd32(t, off + 4);
	return TRUE;
}

static void
read_entry(const Tiff *t, gsize e, FaxPage *pg)
{
	switch (rd16(t, e)) {
	case TAG_WIDTH: entry_uint(t, e, &pg->width); break;
	case TAG_COMPRESSION: entry_uint(t, e, &pg->compression); break;
	case TAG_XRES: entry_rational(t, e, &pg->xres); break;
	case TAG_YRES: entry_rational(t, e, &pg->yres); break;
	case TAG_RESUNIT: entry_uint(t, e, &pg->resunit); break;
	case TAG_T4OPTIONS: pg->has_t4 = TRUE; pg->t4options = rd32(t, e + 8); break;
	default: break;
	}
}

/* read_ifd - the page at OFF; *NEXT is the next IFD's offset (0 = last) */
static gboolean
read_ifd(const Tiff *t, gsize off, FaxPage *pg, guint32 *next)
{
	if (off < 8 || off + 2 > t->len)
		return FALSE;
	guint n = rd16(t, off);
	if (n == 0 || n > FAX_MAX_ENTRIES || off + 2 + (gsize)n * 12 + 4 > t->len)
		return FALSE;
	memset(pg, 0, sizeof *pg);
	pg->resunit = 2; /* TIFF default: inch */
	for (guint i = 0; i < n; i++)
		read_entry(t, off + 2 + (gsize)i * 12, pg);
	*next = rd32(t, off + 2 + (gsize)n * 12);
	return TRUE;
}

static double
dpi(double res, guint unit)
{
	return unit == 3 ? res * 2.54 : res;
}

/* page_class_f - NULL when PG is a Class F page, else what is wrong */
static char *
page_class_f(const FaxPage *pg, guint page)
{
	double x = dpi(pg->xres, pg->resunit), y = dpi(pg->yres, pg->resunit);
	if (pg->compression != 3)
		return g_strdup_printf("page %u: compression %u, not CCITT G3 (3)", page, pg->compression);
	if (pg->width != 1728 && pg->width != 2048 && pg->width != 2432)
		return g_strdup_printf("page %u: width %u, not a fax width (1728)", page, pg->width);
	if (x < 195 || x > 210)
		return g_strdup_printf("page %u: XResolution %.0f dpi, not 204", page, x);
	if (!((y >= 94 && y <= 102) || (y >= 190 && y <= 200)))
		return g_strdup_printf("page %u: YResolution %.0f dpi, not 98 or 196", page, y);
	if (pg->has_t4 && (pg->t4options & 2) != 0)
		return g_strdup_printf("page %u: T4Options uses uncompressed mode", page);
	return NULL;
}

static gboolean
walk(const Tiff *t, FaxInfo *info, char **why)
{
	guint32 off = rd32(t, 4);
	FaxPage pg;
	while (off != 0) {
		guint32 next = 0;
		if (info->pages >= FAX_MAX_PAGES) {
			*why = g_strdup("too many pages (a looping directory chain?)");
			return FALSE;
		}
		if (!read_ifd(t, off, &pg, &next)) {
			*why = g_strdup_printf("page %u: bad image file directory", info->pages + 1);
			return FALSE;
		}
		if ((*why = page_class_f(&pg, info->pages + 1)) != NULL)
			return FALSE;
		if (info->pages++ == 0) {
			info->width = pg.width;
			info->compression = pg.compression;
			info->fine = dpi(pg.yres, pg.resunit) >= 150;
		}
		off = next;
	}
	if (info->pages == 0)
		*why = g_strdup("no pages");
	return info->pages > 0;
}

/* fax_is_tiff_name - TRUE when MESSAGE ends in .tif or .tiff (any case) */
gboolean
fax_is_tiff_name(const char *message)
{
	const char *dot = strrchr(message, '.');
	return dot != NULL && (g_ascii_strcasecmp(dot, ".tif") == 0 ||
			       g_ascii_strcasecmp(dot, ".tiff") == 0);
}

/* fax_probe - read the TIFF file at PATH into INFO; FALSE unless it is TIFF Class F */
gboolean
fax_probe(const char *path, FaxInfo *info, GError **error)
{
	g_autofree char *data = NULL;
	g_autofree char *why = NULL;
	gsize len = 0;
	memset(info, 0, sizeof *info);
	if (!g_file_get_contents(path, &data, &len, error))
		return FALSE;
	Tiff t = { (const guint8 *)data, len, len >= 2 && memcmp(data, "MM", 2) == 0 };
	if (len < 8 || (memcmp(data, "II", 2) != 0 && !t.big) || rd16(&t, 2) != 42)
		why = g_strdup("not a TIFF file");
	else
		walk(&t, info, &why);
	if (why != NULL) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not TIFF Class F: %s", path, why);
		fax_info_clear(info);
		return FALSE;
	}
	info->size = len;
	info->duration = FAX_SETUP_S + FAX_PAGE_S * info->pages + (double)len * 8 / FAX_BPS;
	g_autofree char *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, t.d, len);
	info->checksum = g_strconcat("sha256:", sum, NULL);
	return TRUE;
}

/* fax_info_clear - free INFO's strings */
void
fax_info_clear(FaxInfo *info)
{
	g_clear_pointer(&info->checksum, g_free);
}
