/* cti-spool - the durable queue of reports that ctid has not acknowledged.
 *
 * When ctid's retrieval socket is unreachable (or slow, or answers TEMPFAIL)
 * a retrieval must not be lost, so the report is appended to a per-user spool
 * file and fsync'd before the user's command continues.  Later plugin activity
 * (the next login of the user, a timer in the same process, the next report)
 * flushes it: every queued report is resent and removed once ctid answered
 * OK or REJECT.  Sending a report twice is harmless: ctid treats a repeated
 * RETRIEVED as idempotent.
 *
 * File format, one report per line, fields tab-escaped (str_tabescape):
 *   R1 <TAB> user <TAB> job <TAB> mailbox <TAB> uid <TAB> trigger <TAB> queued-at
 * Several processes of one user may share the file, so every access holds an
 * exclusive flock().  A flush that rewrites the file replaces it by rename(),
 * so an appender re-checks after locking that its descriptor is still the
 * file at PATH (same inode) and reopens otherwise.
 * What can fail: open/lock/write/fsync/rename; each returns -1 and a reason.
 */
#include "lib.h"
#include "str.h"
#include "buffer.h"
#include "strescape.h"
#include "strnum.h"
#include "write-full.h"
#include "ioloop.h"
#include "hostpid.h"
#include "cti-plugin-private.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define CTI_SPOOL_LINE_TAG        "R1"
#define CTI_SPOOL_LOCK_STEP_USECS 10000
#define CTI_SPOOL_APPEND_TRIES    5

static void cti_spool_format(string_t *line, const struct cti_report *report)
{
	str_append(line, CTI_SPOOL_LINE_TAG "\t");
	str_append_tabescaped(line, report->user);
	str_append_c(line, '\t');
	str_append_tabescaped(line, report->job);
	str_append_c(line, '\t');
	str_append_tabescaped(line, report->mailbox);
	str_printfa(line, "\t%u\t", report->uid);
	str_append_tabescaped(line, report->trigger);
	str_printfa(line, "\t%ld\n", (long)ioloop_time);
}

/* Parse one spool line (modified in place); FALSE if it is not a report. */
static bool cti_spool_parse(char *line, struct cti_report *report_r)
{
	const char *const *f = t_strsplit_tabescaped_inplace(line);

	if (str_array_length(f) != 7 || strcmp(f[0], CTI_SPOOL_LINE_TAG) != 0)
		return FALSE;
	if (str_to_uint32(f[4], &report_r->uid) < 0)
		return FALSE;
	report_r->user = f[1];
	report_r->job = f[2];
	report_r->mailbox = f[3];
	report_r->trigger = f[5];
	return TRUE;
}

/* Take an exclusive flock on FD, waiting at most LOCK_MSECS
   (WAIT) or not at all: 1 locked, 0 busy, -1 error. */
static int cti_spool_lock(int fd, const char *path, bool wait, unsigned int lock_msecs,
                          const char **error_r)
{
	unsigned int waited_msecs = 0;

	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			*error_r = t_strdup_printf("flock(%s) failed: %m", path);
			return -1;
		}
		if (!wait || waited_msecs >= lock_msecs) {
			if (wait) {
				*error_r = t_strdup_printf("flock(%s) timed out", path);
			}
			return wait ? -1 : 0;
		}
		usleep(CTI_SPOOL_LOCK_STEP_USECS);
		waited_msecs += CTI_SPOOL_LOCK_STEP_USECS / 1000;
	}
	return 1;
}

/* Is FD still the file named PATH?  1 yes, 0 replaced/removed, -1 error. */
static int cti_spool_is_current(int fd, const char *path, const char **error_r)
{
	struct stat fst, pst;

	if (fstat(fd, &fst) < 0) {
		*error_r = t_strdup_printf("fstat(%s) failed: %m", path);
		return -1;
	}
	if (stat(path, &pst) < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = t_strdup_printf("stat(%s) failed: %m", path);
		return -1;
	}
	return fst.st_ino == pst.st_ino && fst.st_dev == pst.st_dev ? 1 : 0;
}

/* fsync the directory holding PATH so that a newly created file survives a crash. */
static int cti_spool_sync_dir(const char *path, const char **error_r)
{
	const char *slash = strrchr(path, '/');
	const char *dir = slash == NULL ? "." : slash == path ? "/" : t_strdup_until(path, slash);
	int fd, ret;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		*error_r = t_strdup_printf("open(%s) failed: %m", dir);
		return -1;
	}
	ret = fsync(fd);
	if (ret < 0)
		*error_r = t_strdup_printf("fsync(%s) failed: %m", dir);
	i_close_fd(&fd);
	return ret;
}

/* Append LINE to the locked, current spool FD and make it durable. */
static int cti_spool_write_line(int fd, const char *path, const string_t *line,
                                const char **error_r)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		*error_r = t_strdup_printf("fstat(%s) failed: %m", path);
		return -1;
	}
	if (write_full(fd, str_data(line), str_len(line)) < 0 || fdatasync(fd) < 0) {
		*error_r = t_strdup_printf("write(%s) failed: %m", path);
		return -1;
	}
	return st.st_size == 0 ? cti_spool_sync_dir(path, error_r) : 0;
}

/* cti_spool_append - durably queue REPORT at the end of the spool file PATH */
int cti_spool_append(const char *path, const struct cti_report *report, unsigned int lock_msecs,
                     const char **error_r)
{
	string_t *line = t_str_new(256);
	unsigned int i;
	int fd, ret;

	cti_spool_format(line, report);
	for (i = 0; i < CTI_SPOOL_APPEND_TRIES; i++) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			*error_r = t_strdup_printf("open(%s) failed: %m", path);
			return -1;
		}
		ret = cti_spool_lock(fd, path, TRUE, lock_msecs, error_r);
		if (ret > 0)
			ret = cti_spool_is_current(fd, path, error_r);
		if (ret > 0)
			ret = cti_spool_write_line(fd, path, line, error_r) < 0 ? -1 : 2;
		i_close_fd(&fd);
		if (ret != 0)
			return ret < 0 ? -1 : 0;
		/* a flush replaced the file between our open and lock: reopen */
	}
	*error_r = t_strdup_printf("%s keeps being replaced", path);
	return -1;
}

/* Read the whole locked spool FD into BUF. */
static int cti_spool_read(int fd, const char *path, buffer_t *buf, const char **error_r)
{
	unsigned char chunk[8192];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*error_r = t_strdup_printf("read(%s) failed: %m", path);
			return -1;
		}
		buffer_append(buf, chunk, (size_t)n);
	}
	return 0;
}

/* Replace PATH by the lines in KEEP (fsync'd before the rename), or remove it. */
static int cti_spool_rewrite(const char *path, const string_t *keep, const char **error_r)
{
	const char *tmp = t_strdup_printf("%s.tmp.%s", path, my_pid);
	int fd;

	if (str_len(keep) == 0) {
		if (unlink(path) < 0 && errno != ENOENT) {
			*error_r = t_strdup_printf("unlink(%s) failed: %m", path);
			return -1;
		}
		return 0;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		*error_r = t_strdup_printf("open(%s) failed: %m", tmp);
		return -1;
	}
	if (write_full(fd, str_data(keep), str_len(keep)) < 0 || fsync(fd) < 0) {
		*error_r = t_strdup_printf("write(%s) failed: %m", tmp);
		i_close_fd(&fd);
		i_unlink_if_exists(tmp);
		return -1;
	}
	i_close_fd(&fd);
	if (rename(tmp, path) < 0) {
		*error_r = t_strdup_printf("rename(%s, %s) failed: %m", tmp, path);
		i_unlink_if_exists(tmp);
		return -1;
	}
	return 0;
}

/* Send one queued REPORT; TRUE when it is done with (delivered or rejected). */
static bool cti_spool_send_one(const struct cti_report *report, const char *socket_path,
                               unsigned int timeout_msecs, bool debug)
{
	const char *error = "";

	switch (cti_report_send(socket_path, report, timeout_msecs, &error)) {
	case CTI_SEND_OK:
		i_info("cti: delivered queued report user=%s job=%s box=%s uid=%u trigger=%s",
		       report->user, report->job, report->mailbox, report->uid, report->trigger);
		return TRUE;
	case CTI_SEND_REJECTED:
		i_info("cti: ctid refused queued report job=%s: %s", report->job, error);
		return TRUE;
	case CTI_SEND_RETRY:
		if (debug)
			i_debug("cti: queued report job=%s still undeliverable: %s", report->job,
			        error);
		return FALSE;
	}
	i_unreached();
}

/* Resend one queued LINE in its own data-stack frame; TRUE when it is done
   with (delivered, rejected, or unreadable and dropped). */
static bool cti_spool_resend(const char *line, const char *path, const char *socket_path,
                             unsigned int timeout_msecs, bool debug)
{
	data_stack_frame_t frame = t_push(__func__);
	struct cti_report report;
	bool done = TRUE;

	if (cti_spool_parse(t_strdup_noconst(line), &report))
		done = cti_spool_send_one(&report, socket_path, timeout_msecs, debug);
	else
		i_warning("cti: dropping unreadable line in %s", path);
	if (!t_pop(&frame))
		i_unreached();
	return done;
}

/* Resend the lines of BUF, collecting the undelivered ones in KEEP; returns how
   many were kept.  No resend starts after TIMEOUT_MSECS (the lock is held). */
static int cti_spool_resend_all(buffer_t *buf, string_t *keep, const char *path,
                                const char *socket_path, unsigned int timeout_msecs, bool debug)
{
	char *p = buffer_get_modifiable_data(buf, NULL), *nl;
	long long deadline = cti_now_msecs() + timeout_msecs;
	unsigned int tried = 0;
	bool stop = FALSE;
	int kept = 0;

	for (; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			break; /* torn last line of a crashed append: drop it */
		*nl = '\0';
		if (!stop && tried++ < CTI_SPOOL_FLUSH_MAX &&
		    (tried == 1 || cti_now_msecs() < deadline)) {
			stop = !cti_spool_resend(p, path, socket_path, timeout_msecs, debug);
			if (!stop)
				continue;
		}
		str_append(keep, p);
		str_append_c(keep, '\n');
		kept++;
	}
	return kept;
}

/* cti_spool_flush - resend queued reports from PATH, keep only the undelivered */
int cti_spool_flush(const char *path, const char *socket_path, unsigned int timeout_msecs,
                    bool debug, const char **error_r)
{
	buffer_t *buf;
	string_t *keep;
	int fd, ret, kept = -1;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = t_strdup_printf("open(%s) failed: %m", path);
		return -1;
	}
	ret = cti_spool_lock(fd, path, FALSE, 0, error_r);
	if (ret > 0)
		ret = cti_spool_is_current(fd, path, error_r);
	if (ret <= 0) {
		/* another process is flushing (or just did): try later */
		i_close_fd(&fd);
		return ret < 0 ? -1 : 1;
	}
	buf = buffer_create_dynamic(default_pool, 4096);
	keep = str_new(default_pool, 1024);
	if (cti_spool_read(fd, path, buf, error_r) == 0) {
		buffer_append_c(buf, '\0');
		kept = cti_spool_resend_all(buf, keep, path, socket_path, timeout_msecs, debug);
		if ((kept == 0 || str_len(keep) + 1 != buf->used) &&
		    cti_spool_rewrite(path, keep, error_r) < 0)
			kept = -1;
	}
	buffer_free(&buf);
	str_free(&keep);
	i_close_fd(&fd); /* releases the lock after the rename */
	return kept;
}
