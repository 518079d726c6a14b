/* media-bench - conversion time and peak memory of the media handlers.
 *
 * Makes its inputs in a temporary directory: a WAV of about 10 MB (44.1 kHz
 * stereo 16-bit sine, ~59 s) and a 20-page PDF (PostScript text rendered by
 * Ghostscript's pdfwrite), then converts each REPS times (default 3), every
 * conversion in a fresh child process so that its peak RSS is its own.
 * Prints one line per conversion and the medians; nothing is pass/fail.
 * Exit 1 only when an input cannot be made or a conversion fails.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sndfile.h>

#include "media.h"

static char *dir;

static GBytes *make_wav(void)
{
	g_autofree char *path = g_build_filename(dir, "in.wav", NULL);
	SF_INFO info = {
	    .samplerate = 44100, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	sf_count_t frames = 10 * 1000 * 1000 / 4;
	float buf[2 * 1024];
	char *data;
	gsize len;

	if (sf == NULL)
		return NULL;
	for (sf_count_t i = 0; i < frames; i += 1024) {
		for (int k = 0; k < 1024; k++)
			buf[2 * k] = buf[2 * k + 1] =
			    0.4f * (float)sin(2 * G_PI * 440.0 * (double)(i + k) / 44100);
		sf_writef_float(sf, buf, MIN(1024, frames - i));
	}
	sf_close(sf);
	if (!g_file_get_contents(path, &data, &len, NULL))
		return NULL;
	return g_bytes_new_take(data, len);
}

static GBytes *make_pdf(int pages)
{
	g_autofree char *ps = g_build_filename(dir, "in.ps", NULL);
	g_autofree char *pdf = g_build_filename(dir, "in.pdf", NULL);
	g_autofree char *out = g_strconcat("-sOutputFile=", pdf, NULL);
	const char *argv[] = {"gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
	                      out,  ps,   NULL};
	g_autoptr(GString) text =
	    g_string_new("%!PS\n/Times-Roman findfont 12 scalefont setfont\n");
	int status = -1;
	char *data;
	gsize len;

	for (int p = 1; p <= pages; p++) {
		for (int l = 0; l < 50; l++)
			g_string_append_printf(text,
			                       "72 %d moveto (Page %d line %d: the quick brown fox "
			                       "jumps over the lazy dog) show\n",
			                       760 - 14 * l, p, l + 1);
		g_string_append(text, "showpage\n");
	}
	if (!g_file_set_contents(ps, text->str, (gssize)text->len, NULL) ||
	    !g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
	                  &status, NULL) ||
	    status != 0 || !g_file_get_contents(pdf, &data, &len, NULL))
		return NULL;
	return g_bytes_new_take(data, len);
}

/* run_child - one conversion in a child: "ms maxrss_self_kb maxrss_children_kb" on the pipe */
static int run_child(const char *kind, GBytes *in, int fd)
{
	g_autofree char *out =
	    g_build_filename(dir, strcmp(kind, "wav") == 0 ? "job-01.wav" : "job-02.tif", NULL);
	g_autoptr(GError) error = NULL;
	gint64 t0 = g_get_monotonic_time();
	CtiMedia *m = strcmp(kind, "wav") == 0
	                  ? media_voice_convert(in, "audio/wav", "in.wav", out, &error)
	                  : media_fax_convert(in, "application/pdf", "in.pdf", TRUE, out, &error);
	gint64 t1 = g_get_monotonic_time();
	struct rusage self, kids;
	char line[128];

	if (m == NULL) {
		fprintf(stderr, "media-bench: %s: %s\n", kind, error->message);
		return 1;
	}
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	g_snprintf(line, sizeof line, "%.1f %ld %ld %g %u\n", (double)(t1 - t0) / 1000,
	           self.ru_maxrss, kids.ru_maxrss, m->duration, m->pages);
	if (write(fd, line, strlen(line)) < 0)
		return 1;
	media_free(m);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static gboolean measure(const char *kind, GBytes *in, int reps)
{
	double ms[16], rss[16];
	int n = 0;

	for (int r = 0; r < reps && r < 16; r++) {
		int fds[2];
		pid_t pid;
		char buf[128] = "";
		int status;
		double t, dur;
		long self, kids;
		unsigned pages;

		if (pipe(fds) != 0)
			return FALSE;
		pid = fork();
		if (pid == 0) {
			close(fds[0]);
			_exit(run_child(kind, in, fds[1]));
		}
		close(fds[1]);
		if (read(fds[0], buf, sizeof buf - 1) <= 0)
			buf[0] = '\0';
		close(fds[0]);
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
		    sscanf(buf, "%lf %ld %ld %lf %u", &t, &self, &kids, &dur, &pages) != 5)
			return FALSE;
		printf("%-4s rep %d: %8.1f ms  peak RSS %6.1f MB (converter child %6.1f MB)  "
		       "output %.2f s / %u pages\n",
		       kind, r + 1, t, self / 1024.0, kids / 1024.0, dur, pages);
		ms[n] = t;
		rss[n++] = MAX(self, kids) / 1024.0;
	}
	qsort(ms, (size_t)n, sizeof ms[0], cmp_double);
	qsort(rss, (size_t)n, sizeof rss[0], cmp_double);
	printf("%-4s median: %.1f ms, peak RSS %.1f MB, input %.1f MB\n\n", kind, ms[n / 2],
	       rss[n / 2], g_bytes_get_size(in) / 1e6);
	return TRUE;
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 3;
	g_autoptr(GBytes) wav = NULL;
	g_autoptr(GBytes) pdf = NULL;
	gboolean ok;

	dir = g_dir_make_tmp("media-bench-XXXXXX", NULL);
	wav = make_wav();
	pdf = make_pdf(20);
	if (dir == NULL || wav == NULL || pdf == NULL) {
		fprintf(stderr, "media-bench: cannot make the inputs\n");
		return 1;
	}
	printf("media-bench: %d reps each, every conversion in its own process\n", reps);
	ok = measure("wav", wav, reps) && measure("pdf", pdf, reps);
	media_store_cleanup(dir, "job", NULL);
	for (const char *const *n = (const char *const[]){"in.wav", "in.ps", "in.pdf", NULL}; *n;
	     n++) {
		g_autofree char *p = g_build_filename(dir, *n, NULL);
		g_unlink(p);
	}
	g_rmdir(dir);
	return ok ? 0 : 1;
}
