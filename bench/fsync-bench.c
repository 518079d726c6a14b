/* fsync-bench - what one durable commit costs on this disk, without mailcti.
 *
 * For N rounds in DIR: create a file, write SIZE bytes, fsync it, fsync the
 * directory (what store_submit does for a spool file), then unlink it.  Prints
 * one line per phase: "<phase> n=<N> p50_us=<..> p99_us=<..> mean_us=<..>".
 * Owns only the files it creates in DIR (removed as it goes).  Fails (exit 1,
 * one line on stderr) when DIR is not writable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void report(const char *phase, double *v, int n)
{
	double sum = 0;

	qsort(v, n, sizeof *v, cmp_double);
	for (int i = 0; i < n; i++)
		sum += v[i];
	printf("%s n=%d p50_us=%.1f p99_us=%.1f mean_us=%.1f\n", phase, n, v[n / 2],
	       v[(n * 99) / 100], sum / n);
}

static int one_round(int dirfd, const char *buf, size_t size, double *t_write, double *t_fsync,
                     double *t_dirsync)
{
	double t0 = now_us(), t1, t2;
	int fd = openat(dirfd, "fsync-bench.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, buf, size) != (ssize_t)size)
		return -1;
	t1 = now_us();
	if (fsync(fd) != 0)
		return -1;
	t2 = now_us();
	close(fd);
	if (fsync(dirfd) != 0)
		return -1;
	*t_write = t1 - t0;
	*t_fsync = t2 - t1;
	*t_dirsync = now_us() - t2;
	return unlinkat(dirfd, "fsync-bench.tmp", 0);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: fsync-bench DIR ROUNDS SIZE\n");
		return 2;
	}
	int n = atoi(argv[2]);
	size_t size = strtoul(argv[3], NULL, 10);
	int dirfd = open(argv[1], O_RDONLY | O_DIRECTORY);
	char *buf = malloc(size + 1);
	double *w = calloc(n, sizeof *w), *f = calloc(n, sizeof *f), *d = calloc(n, sizeof *d),
	       *all = calloc(n, sizeof *all);

	if (dirfd < 0 || n <= 0 || !buf || !w || !f || !d || !all) {
		fprintf(stderr, "fsync-bench: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	memset(buf, 'x', size);
	for (int i = 0; i < n; i++) {
		if (one_round(dirfd, buf, size, &w[i], &f[i], &d[i]) != 0) {
			fprintf(stderr, "fsync-bench: %s: %s\n", argv[1], strerror(errno));
			return 1;
		}
		all[i] = w[i] + f[i] + d[i];
	}
	report("write", w, n);
	report("fsync-file", f, n);
	report("fsync-dir", d, n);
	report("total", all, n);
	return 0;
}
