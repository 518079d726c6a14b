/* check_media - the media handlers on inputs made here: a 44.1 kHz stereo sine
 * WAV becomes 8 kHz mono 16-bit PCM of the same length (1 %) and loudness;
 * mu-law and A-law WAV, AU and headerless mu-law convert too; speech has a
 * duration; a 3-page PDF rendered by Ghostscript and a 2-page LZW greyscale
 * TIFF become G3 TIFF Class F pages 1728 wide; corrupt input is a clean
 * FORMAT error that leaves no file; the store names and cleans up per job. */
#include <check.h>
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <sndfile.h>
#include <tiffio.h>

#include "media.h"

static char *workdir;

static void setup(void)
{
	workdir = g_dir_make_tmp("check_media-XXXXXX", NULL);
	ck_assert(workdir != NULL);
}

static void teardown(void)
{
	g_autoptr(GDir) dir = g_dir_open(workdir, 0, NULL);
	const char *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *p = g_build_filename(workdir, name, NULL);
		g_unlink(p);
	}
	g_rmdir(workdir);
	g_clear_pointer(&workdir, g_free);
}

static char *wpath(const char *name)
{
	return g_build_filename(workdir, name, NULL);
}

static guint count_files(void)
{
	g_autoptr(GDir) dir = g_dir_open(workdir, 0, NULL);
	guint n = 0;

	while (g_dir_read_name(dir) != NULL)
		n++;
	return n;
}

/* make_audio - SECONDS of a 440 Hz sine, amplitude 0.5, in FORMAT; the file's bytes */
static GBytes *make_audio(int format, int rate, int channels, double seconds)
{
	g_autofree char *path = wpath("in.audio");
	SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	sf_count_t frames = (sf_count_t)(seconds * rate);
	g_autofree float *buf = g_new(float, (gsize)frames *channels);
	char *data;
	gsize len;

	ck_assert_msg(sf != NULL, "%s", sf_strerror(NULL));
	for (sf_count_t i = 0; i < frames; i++)
		for (int c = 0; c < channels; c++)
			buf[i * channels + c] =
			    0.5f * (float)sin(2 * G_PI * 440.0 * (double)i / rate);
	ck_assert_int_eq(sf_writef_float(sf, buf, frames), frames);
	sf_close(sf);
	ck_assert(g_file_get_contents(path, &data, &len, NULL));
	g_unlink(path);
	return g_bytes_new_take(data, len);
}

/* check_pcm - PATH is 8 kHz mono 16-bit WAV of SECONDS (1 %) with the sine's RMS */
static void check_pcm(const char *path, double seconds)
{
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	g_autofree float *buf = NULL;
	double sum = 0;

	ck_assert(sf != NULL);
	ck_assert_int_eq(info.samplerate, 8000);
	ck_assert_int_eq(info.channels, 1);
	ck_assert_int_eq(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
	ck_assert_msg(fabs((double)info.frames / 8000 - seconds) <= seconds * 0.01, "%f s, want %f",
	              (double)info.frames / 8000, seconds);
	buf = g_new(float, info.frames);
	ck_assert_int_eq(sf_readf_float(sf, buf, info.frames), info.frames);
	for (sf_count_t i = info.frames / 10; i < info.frames * 9 / 10; i++)
		sum += buf[i] * buf[i];
	sum = sqrt(sum / (double)(info.frames * 8 / 10));
	ck_assert_msg(fabs(sum - 0.5 / sqrt(2)) < 0.03, "rms %f", sum);
	sf_close(sf);
}

typedef struct {
	int format, rate, channels;
	const char *type, *filename;
} VoiceCase;

static const VoiceCase voice_cases[] = {
    {SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, "audio/wav", "stereo.wav"},
    {SF_FORMAT_WAV | SF_FORMAT_ULAW, 8000, 1, "audio/wav", "ulaw.wav"},
    {SF_FORMAT_WAV | SF_FORMAT_ALAW, 16000, 1, "application/octet-stream", "alaw.wav"},
    {SF_FORMAT_AU | SF_FORMAT_ULAW, 8000, 1, "audio/basic", "sound.au"},
    {SF_FORMAT_AU | SF_FORMAT_PCM_16, 22050, 1, NULL, "sound.snd"},
    {SF_FORMAT_RAW | SF_FORMAT_ULAW, 8000, 1, "audio/PCMU", NULL},
    {SF_FORMAT_RAW | SF_FORMAT_ALAW, 8000, 1, "application/octet-stream", "msg.al"},
    {SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000, 2, "audio/flac", "x.flac"},
};

START_TEST(test_voice)
{
	const VoiceCase *c = &voice_cases[_i];
	g_autoptr(GBytes) in = make_audio(c->format, c->rate, c->channels, 3.0);
	g_autofree char *out = wpath("job1-01.wav");
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiMedia) probe = media_voice_probe(in, c->type, c->filename, &error);
	g_autoptr(CtiMedia) m = NULL;

	ck_assert_msg(probe != NULL, "case %d: %s", _i, error ? error->message : "");
	ck_assert(fabs(probe->duration - 3.0) < 0.01);
	m = media_voice_convert(in, c->type, c->filename, out, &error);
	ck_assert_msg(m != NULL, "case %d: %s", _i, error ? error->message : "");
	ck_assert_str_eq(m->path, out);
	ck_assert(fabs(m->duration - 3.0) <= 0.03);
	ck_assert(g_str_has_prefix(m->checksum, "sha256:") && strlen(m->checksum) == 7 + 64);
	check_pcm(out, 3.0);
	ck_assert_int_eq(count_files(), 1); /* no temporary file left */
}
END_TEST

START_TEST(test_voice_deterministic)
{
	g_autoptr(GBytes) in = make_audio(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 1.5);
	g_autofree char *a = wpath("a-01.wav");
	g_autofree char *b = wpath("b-01.wav");
	g_autoptr(CtiMedia) ma = media_voice_convert(in, "audio/wav", NULL, a, NULL);
	g_autoptr(CtiMedia) mb = media_voice_convert(in, "audio/wav", NULL, b, NULL);

	ck_assert(ma != NULL && mb != NULL);
	ck_assert_str_eq(ma->checksum, mb->checksum);
	ck_assert(strstr(ma->format, "44100 Hz 2 ch") != NULL);
}
END_TEST

typedef struct {
	const char *bytes;
	gsize len;
	const char *type, *filename;
} CorruptCase;

static const CorruptCase corrupt_cases[] = {
    {"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0garbage-garbage!", 32, "audio/wav", "x.wav"},
    {"this is not audio at all, just some text", 40, "application/octet-stream", "x.wav"},
    {"", 0, "audio/wav", "empty.wav"},
};

START_TEST(test_voice_corrupt)
{
	const CorruptCase *c = &corrupt_cases[_i];
	g_autoptr(GBytes) in = g_bytes_new_static(c->bytes, c->len);
	g_autofree char *out = wpath("j-01.wav");
	g_autoptr(GError) error = NULL;

	ck_assert(media_voice_probe(in, c->type, c->filename, &error) == NULL);
	ck_assert(error->domain == CTI_MEDIA_ERROR && error->code == CTI_MEDIA_ERROR_FORMAT);
	g_clear_error(&error);
	ck_assert(media_voice_convert(in, c->type, c->filename, out, &error) == NULL);
	ck_assert_int_eq(error->code, CTI_MEDIA_ERROR_FORMAT);
	ck_assert_int_eq(count_files(), 0);
}
END_TEST

START_TEST(test_speech)
{
	g_autofree char *out = wpath("j-02.wav");
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiMedia) m = media_speech_synth("Hello. Your call is being connected.", "en-GB",
	                                           "woman", out, &error);
	SF_INFO info = {0};
	SNDFILE *sf;

	ck_assert_msg(m != NULL, "%s", error ? error->message : "");
	ck_assert_msg(m->duration > 0.5 && m->duration < 10, "%f s", m->duration);
	sf = sf_open(out, SFM_READ, &info);
	ck_assert(sf != NULL);
	ck_assert_int_eq(info.samplerate, 8000);
	ck_assert_int_eq(info.channels, 1);
	ck_assert_int_eq(info.frames, (sf_count_t)m->frames);
	sf_close(sf);
	g_clear_pointer(&m, media_free);
	m = media_speech_synth("Guten Tag", "de", NULL, out, &error);
	ck_assert_msg(m != NULL && m->duration > 0.2, "%s", error ? error->message : "");
	ck_assert(media_speech_probe("fr", NULL, NULL));
}
END_TEST

START_TEST(test_speech_errors)
{
	g_autofree char *out = wpath("j-03.wav");
	g_autoptr(GError) error = NULL;

	ck_assert(!media_speech_probe("xq", NULL, &error));
	ck_assert_int_eq(error->code, CTI_MEDIA_ERROR_LANGUAGE);
	g_clear_error(&error);
	ck_assert(media_speech_synth("hello", "xq-zz", NULL, out, &error) == NULL);
	ck_assert_int_eq(error->code, CTI_MEDIA_ERROR_LANGUAGE);
	ck_assert(strstr(error->message, "xq-zz") != NULL);
	g_clear_error(&error);
	ck_assert(media_speech_synth("  \n ", NULL, NULL, out, &error) == NULL);
	ck_assert_int_eq(error->code, CTI_MEDIA_ERROR_FORMAT);
	ck_assert_int_eq(count_files(), 0);
}
END_TEST

/* check_fax - PATH holds PAGES pages of TIFF Class F, 1728 wide, each with some black */
static void check_fax(const char *path, guint pages, guint yres)
{
	TIFF *t = TIFFOpen(path, "r");
	guint n = 0;

	ck_assert(t != NULL);
	do {
		guint32 w = 0, h = 0, black = 0;
		guint16 comp = 0, bits = 0, photo = 0, pg = 0, npg = 0;
		float yr = 0;
		g_autofree guint8 *line = NULL;

		TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
		TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
		TIFFGetField(t, TIFFTAG_COMPRESSION, &comp);
		TIFFGetField(t, TIFFTAG_BITSPERSAMPLE, &bits);
		TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo);
		TIFFGetField(t, TIFFTAG_YRESOLUTION, &yr);
		TIFFGetField(t, TIFFTAG_PAGENUMBER, &pg, &npg);
		ck_assert_int_eq(w, 1728);
		ck_assert_int_eq(comp, COMPRESSION_CCITTFAX3);
		ck_assert_int_eq(bits, 1);
		ck_assert_int_eq(photo, PHOTOMETRIC_MINISWHITE);
		ck_assert_int_eq((int)yr, (int)yres);
		ck_assert_int_eq(pg, n);
		ck_assert_int_eq(npg, pages);
		ck_assert(h > 100);
		line = g_malloc(TIFFScanlineSize(t));
		for (guint32 y = 0; y < h; y++) {
			ck_assert(TIFFReadScanline(t, line, y, 0) == 1);
			for (tmsize_t i = 0; i < TIFFScanlineSize(t); i++)
				black += (guint32)__builtin_popcount(line[i]);
		}
		ck_assert_msg(black > 50 && black < w * h / 2, "page %u: %u black pixels", n,
		              black);
		n++;
	} while (TIFFReadDirectory(t));
	TIFFClose(t);
	ck_assert_int_eq(n, pages);
}

/* make_pdf - a 3-page PDF from PostScript text, rendered with gs pdfwrite */
static GBytes *make_pdf(void)
{
	g_autofree char *ps = wpath("in.ps");
	g_autofree char *pdf = wpath("in.pdf");
	g_autofree char *out_arg = g_strconcat("-sOutputFile=", pdf, NULL);
	const char *argv[] = {
	    "gs",    "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", "-sPAPERSIZE=a4",
	    out_arg, ps,   NULL};
	g_autoptr(GString) text = g_string_new("%!PS\n/Helvetica findfont 36 scalefont setfont\n");
	char *data;
	gsize len;
	int status = -1;

	for (int i = 1; i <= 3; i++)
		g_string_append_printf(
		    text,
		    "72 700 moveto (Page %d of the fax) show\n"
		    "72 600 moveto 300 0 rlineto 0 -50 rlineto -300 0 rlineto fill showpage\n",
		    i);
	ck_assert(g_file_set_contents(ps, text->str, (gssize)text->len, NULL));
	ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
	                       NULL, &status, NULL));
	ck_assert_int_eq(status, 0);
	ck_assert(g_file_get_contents(pdf, &data, &len, NULL));
	g_unlink(ps);
	g_unlink(pdf);
	return g_bytes_new_take(data, len);
}

START_TEST(test_fax_pdf)
{
	g_autoptr(GBytes) pdf = make_pdf();
	g_autofree char *out = wpath("job-04.tif");
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiMedia) probe = media_fax_probe(pdf, "application/pdf", "x.pdf", &error);
	g_autoptr(CtiMedia) m = NULL;

	ck_assert_msg(probe != NULL, "%s", error ? error->message : "");
	m = media_fax_convert(pdf, "application/pdf", "x.pdf", TRUE, out, &error);
	ck_assert_msg(m != NULL, "%s", error ? error->message : "");
	ck_assert_int_eq(m->pages, 3);
	ck_assert_int_eq(m->width, 1728);
	check_fax(out, 3, 196);
	ck_assert_int_eq(count_files(), 1);
}
END_TEST

/* make_tiff - 2 pages of 8-bit grey LZW, 1000x1400 at 120 dpi, a black bar on each */
static GBytes *make_tiff(void)
{
	g_autofree char *path = wpath("in.tif");
	TIFF *t = TIFFOpen(path, "w");
	g_autofree guint8 *row = g_malloc(1000);
	char *data;
	gsize len;

	for (int p = 0; p < 2; p++) {
		TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 1000);
		TIFFSetField(t, TIFFTAG_IMAGELENGTH, 1400);
		TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
		TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
		TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
		TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
		TIFFSetField(t, TIFFTAG_XRESOLUTION, 120.0f);
		TIFFSetField(t, TIFFTAG_YRESOLUTION, 120.0f);
		TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
		TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 16);
		for (guint32 y = 0; y < 1400; y++) {
			for (guint32 x = 0; x < 1000; x++)
				row[x] = (y > 200 && y < 260 && x > 100 && x < 900) ? 0 : 255;
			ck_assert(TIFFWriteScanline(t, row, y, 0) == 1);
		}
		TIFFWriteDirectory(t);
	}
	TIFFClose(t);
	ck_assert(g_file_get_contents(path, &data, &len, NULL));
	g_unlink(path);
	return g_bytes_new_take(data, len);
}

START_TEST(test_fax_tiff)
{
	g_autoptr(GBytes) tiff = make_tiff();
	g_autofree char *out = wpath("job-05.tif");
	g_autoptr(GError) error = NULL;
	g_autoptr(CtiMedia) probe = media_fax_probe(tiff, "image/tiff", NULL, &error);
	g_autoptr(CtiMedia) m = NULL;

	ck_assert_msg(probe != NULL && probe->pages == 2, "%s", error ? error->message : "");
	m = media_fax_convert(tiff, "image/tiff", NULL, FALSE, out, &error);
	ck_assert_msg(m != NULL, "%s", error ? error->message : "");
	ck_assert_int_eq(m->pages, 2);
	/* same physical page: 1400/1000 * 1728 px across at 204 dpi, 98 dpi down */
	ck_assert_int_eq(m->height, (guint)(1400.0 / 1000 * 1728 * 98 / 204 + 0.5));
	check_fax(out, 2, 98);
}
END_TEST

static const CorruptCase fax_corrupt[] = {
    {"II*\0\x08\0\0\0\xff\xff garbage garbage", 20, "image/tiff", "x.tif"},
    {"%PDF-1.4\nthis is no pdf at all\n", 31, "application/pdf", "x.pdf"},
    {"GIF89a", 6, "application/octet-stream", "x.tif"},
};

START_TEST(test_fax_corrupt)
{
	const CorruptCase *c = &fax_corrupt[_i];
	g_autoptr(GBytes) in = g_bytes_new_static(c->bytes, c->len);
	g_autofree char *out = wpath("j-06.tif");
	g_autoptr(GError) error = NULL;

	ck_assert(media_fax_convert(in, c->type, c->filename, TRUE, out, &error) == NULL);
	ck_assert_msg(error->domain == CTI_MEDIA_ERROR && error->code == CTI_MEDIA_ERROR_FORMAT,
	              "%s", error->message);
	ck_assert(strchr(error->message, '\n') == NULL);
	ck_assert_int_eq(count_files(), 0);
}
END_TEST

START_TEST(test_store)
{
	g_autofree char *a = media_store_path(workdir, "abc", 1, "wav");
	g_autofree char *b = media_store_path(workdir, "abc", 12, "tif");
	g_autofree char *other = media_store_path(workdir, "abc-d", 1, "wav");
	g_autofree char *tmp = g_strconcat(b, ".tmp", NULL);
	g_autoptr(GError) error = NULL;

	ck_assert(g_str_has_suffix(a, "/abc-01.wav"));
	ck_assert(media_store_path(workdir, "../etc", 1, "wav") == NULL);
	ck_assert(media_store_path(workdir, "", 1, "wav") == NULL);
	ck_assert(g_file_set_contents(a, "x", 1, NULL));
	ck_assert(g_file_set_contents(b, "x", 1, NULL));
	ck_assert(g_file_set_contents(tmp, "x", 1, NULL));
	ck_assert(g_file_set_contents(other, "x", 1, NULL));
	ck_assert_int_eq(media_store_cleanup(workdir, "abc", &error), 3);
	ck_assert(!g_file_test(a, G_FILE_TEST_EXISTS));
	ck_assert(g_file_test(other, G_FILE_TEST_EXISTS));
	ck_assert_int_eq(media_store_cleanup(workdir, "abc", &error), 0);
	ck_assert_int_eq(media_store_cleanup(workdir, "a/b", &error), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("media");
	TCase *voice = tcase_create("voice"), *speech = tcase_create("speech");
	TCase *fax = tcase_create("fax"), *store = tcase_create("store");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(voice, setup, teardown);
	tcase_add_loop_test(voice, test_voice, 0, G_N_ELEMENTS(voice_cases));
	tcase_add_test(voice, test_voice_deterministic);
	tcase_add_loop_test(voice, test_voice_corrupt, 0, G_N_ELEMENTS(corrupt_cases));
	tcase_add_checked_fixture(speech, setup, teardown);
	tcase_add_test(speech, test_speech);
	tcase_add_test(speech, test_speech_errors);
	tcase_add_checked_fixture(fax, setup, teardown);
	tcase_set_timeout(fax, 60);
	tcase_add_test(fax, test_fax_pdf);
	tcase_add_test(fax, test_fax_tiff);
	tcase_add_loop_test(fax, test_fax_corrupt, 0, G_N_ELEMENTS(fax_corrupt));
	tcase_add_checked_fixture(store, setup, teardown);
	tcase_add_test(store, test_store);
	suite_add_tcase(s, voice);
	suite_add_tcase(s, speech);
	suite_add_tcase(s, fax);
	suite_add_tcase(s, store);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
