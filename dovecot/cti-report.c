/* cti-report - sends one RETRIEVED frame to ctid's retrieval socket.
 *
 * The frame is the ipc protocol of lib/ipc.h ("MCTI/1 RETRIEVED", header
 * fields with \\ \n \r \t escaped, an empty line); the reply is a frame whose
 * first line is "MCTI/1 OK", "MCTI/1 REJECT" or "MCTI/1 TEMPFAIL".
 * This runs inside the user's imap/pop3 process, so it must never hold the
 * user's command up for long: the socket is non-blocking and every wait is
 * bounded by one overall deadline.  Everything that can fail (no socket,
 * refused, full backlog, slow or garbled reply) maps to CTI_SEND_RETRY so the
 * caller can queue the report; only an explicit REJECT is permanent.
 * The caller owns the report; errors are allocated from the data stack.
 */
#include "lib.h"
#include "str.h"
#include "net.h"
#include "str-sanitize.h"
#include "cti-plugin-private.h"

#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CTI_REPLY_MAX 4096

/* Escape a field value per lib/ipc.h. */
static void cti_append_escaped(string_t *dest, const char *value)
{
	for (; *value != '\0'; value++) {
		switch (*value) {
		case '\\':
			str_append(dest, "\\\\");
			break;
		case '\n':
			str_append(dest, "\\n");
			break;
		case '\r':
			str_append(dest, "\\r");
			break;
		case '\t':
			str_append(dest, "\\t");
			break;
		default:
			str_append_c(dest, *value);
			break;
		}
	}
}

static void cti_append_field(string_t *dest, const char *name, const char *value)
{
	str_append(dest, name);
	str_append(dest, ": ");
	cti_append_escaped(dest, value);
	str_append_c(dest, '\n');
}

/* cti_report_encode - append the wire bytes of REPORT's frame to DEST */
void cti_report_encode(string_t *dest, const struct cti_report *report)
{
	str_append(dest, CTI_IPC_VERSION " RETRIEVED\n");
	cti_append_field(dest, "User", report->user);
	cti_append_field(dest, "Job", report->job);
	cti_append_field(dest, "Mailbox", report->mailbox);
	cti_append_field(dest, "Uid", dec2str(report->uid));
	cti_append_field(dest, "Trigger", report->trigger);
	str_append_c(dest, '\n');
}

/* cti_now_msecs - a monotonic clock in milliseconds */
long long cti_now_msecs(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		i_fatal("clock_gettime(CLOCK_MONOTONIC) failed: %m");
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until FD is ready for EVENTS or DEADLINE passes: 1 ready, 0 timeout, -1 error. */
static int cti_wait(int fd, short events, long long deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	long long left;
	int ret;

	for (;;) {
		left = deadline - cti_now_msecs();
		if (left <= 0)
			return 0;
		ret = poll(&pfd, 1, (int)left);
		if (ret >= 0 || errno != EINTR)
			return ret;
	}
}

static int cti_write_all(int fd, const string_t *frame, long long deadline, const char **error_r)
{
	const unsigned char *data = str_data(frame);
	size_t size = str_len(frame), off = 0;
	ssize_t n;
	int ret;

	while (off < size) {
		n = send(fd, data + off, size - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			*error_r = t_strdup_printf("send() failed: %m");
			return -1;
		}
		ret = cti_wait(fd, POLLOUT, deadline);
		if (ret <= 0) {
			*error_r =
			    ret == 0 ? "timed out sending" : t_strdup_printf("poll() failed: %m");
			return -1;
		}
	}
	return 0;
}

/* Read until the reply frame's empty line; the reply text goes into BUF (NUL-terminated). */
static int cti_read_reply(int fd, char *buf, size_t bufsize, long long deadline,
                          const char **error_r)
{
	size_t used = 0;
	ssize_t n;
	int ret;

	buf[0] = '\0';
	while (strstr(buf, "\n\n") == NULL) {
		if (used + 1 >= bufsize) {
			*error_r = "reply too long";
			return -1;
		}
		ret = cti_wait(fd, POLLIN, deadline);
		if (ret <= 0) {
			*error_r = ret == 0 ? "timed out waiting for the reply"
			                    : t_strdup_printf("poll() failed: %m");
			return -1;
		}
		n = read(fd, buf + used, bufsize - 1 - used);
		if (n == 0) {
			*error_r = "connection closed before the reply";
			return -1;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			*error_r = t_strdup_printf("read() failed: %m");
			return -1;
		}
		used += (size_t)n;
		buf[used] = '\0';
	}
	return 0;
}

/* The unescaped Reason field of a reply, or "" (data stack). */
static const char *cti_reply_reason(const char *reply)
{
	const char *p = strstr(reply, "\nReason: ");
	string_t *reason = t_str_new(64);

	if (p == NULL)
		return "";
	for (p += 9; *p != '\0' && *p != '\n'; p++) {
		if (*p != '\\' || p[1] == '\0') {
			str_append_c(reason, *p);
			continue;
		}
		p++;
		str_append_c(reason, *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p == 't' ? '\t' : *p);
	}
	return str_sanitize(str_c(reason), 256);
}

static enum cti_send_result cti_parse_reply(const char *reply, const char **error_r)
{
	if (str_begins(reply, CTI_IPC_VERSION " OK\n"))
		return CTI_SEND_OK;
	if (str_begins(reply, CTI_IPC_VERSION " REJECT\n")) {
		*error_r = t_strdup_printf("rejected: %s", cti_reply_reason(reply));
		return CTI_SEND_REJECTED;
	}
	if (str_begins(reply, CTI_IPC_VERSION " TEMPFAIL\n")) {
		*error_r = t_strdup_printf("temporary failure: %s", cti_reply_reason(reply));
		return CTI_SEND_RETRY;
	}
	*error_r =
	    t_strdup_printf("unexpected reply '%s'", str_sanitize(t_strcut(reply, '\n'), 64));
	return CTI_SEND_RETRY;
}

/* cti_report_send - send REPORT and wait for the reply, bounded by TIMEOUT_MSECS */
enum cti_send_result cti_report_send(const char *socket_path, const struct cti_report *report,
                                     unsigned int timeout_msecs, const char **error_r)
{
	long long deadline = cti_now_msecs() + timeout_msecs;
	string_t *frame = t_str_new(256);
	char *reply = t_malloc0(CTI_REPLY_MAX);
	enum cti_send_result result = CTI_SEND_RETRY;
	int fd;

	cti_report_encode(frame, report);
	fd = net_connect_unix(socket_path);
	if (fd < 0) {
		*error_r = t_strdup_printf("connect(%s) failed: %m", socket_path);
		return CTI_SEND_RETRY;
	}
	/* a UNIX connect completes at once or fails; POLLOUT covers the rest */
	if (cti_write_all(fd, frame, deadline, error_r) == 0 &&
	    cti_read_reply(fd, reply, CTI_REPLY_MAX, deadline, error_r) == 0)
		result = cti_parse_reply(reply, error_r);
	else
		*error_r = t_strdup_printf("%s: %s", socket_path, *error_r);
	i_close_fd(&fd);
	return result;
}
