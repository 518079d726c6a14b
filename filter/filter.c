/* filter - per-message logic of cti-milter: fast path, spool, find, submit.
 *
 * A FilterMsg owns everything about one message: envelope strings, the
 * header block as received (in memory, bounded by max_message_size), the
 * scanner, and the spool file (created in tmp_dir and unlinked at once, so
 * nothing is left behind by a crash; closed by filter_msg_free()).  A mail
 * that may carry a request (announced, or multipart) is first kept in memory
 * (FILTER_MEM_SPOOL bytes at most), parsed and handed to ctid from there, and
 * written to the spool file only when it grows past that, so ordinary mail
 * and small requests never touch the disk and a big mail still streams
 * through a bounded buffer.  The
 * config is borrowed.  Errors while spooling a multipart mail are kept and
 * reported at end of message, and only if the mail turns out to carry a
 * request: body chunks get no reply (SMFIP_NR_BODY), and a broken tmp_dir
 * must not hold up mail that is no request.  Every failure is a FILTER_ERROR or CTI_REQUEST_ERROR
 * GError whose code keeps temporary and permanent apart (reply.h).
 * Mail to an explain address is answered by ctid's explanation mail, not by
 * an SMTP refusal: only what cannot be explained (a malformed request) or
 * not answered (null sender, auto-submitted mail, an unidentified sender, an
 * envelope sender that is not the identity's own) is refused here.
 */
#include "filter.h"

#include <errno.h>
#include <fcntl.h>
#include "filter-private.h"
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mediacheck.h"
#include "part.h"
#include "reply.h"
#include "scan.h"
#include "submit.h"

/* X-CTI-Hop headers kept: more than [routing] max_hops (at most 64) is a loop anyway */
#define FILTER_MAX_HOPS 128
/* the largest mail kept in memory before it is spooled to tmp_dir */
#define FILTER_MEM_SPOOL (256 * 1024)
/* Authentication-Results headers kept for the identity step */
#define FILTER_MAX_AUTH_RESULTS 16

struct FilterMsg {
	const CtiConfig *config;
	char *sender;
	char *auth_authen;
	char *client_addr;
	char *queue_id;
	GPtrArray *recipients;
	/* the recipients that are explain addresses */
	GPtrArray *explain_rcpts;
	/* the recipient a request runs for (borrowed from recipients), NULL: the first */
	const char *request_rcpt;
	GString *headers;   /* "Name:value\r\n" as received */
	char *content_type; /* first top-level Content-Type value */
	char *disposition;  /* first top-level Content-Disposition value */
	char *message_id;
	guint job_headers;  /* X-CTI-Job headers that came from outside */
	GPtrArray *hops;    /* X-CTI-Hop values as received, top first */
	RouteStep *router;  /* borrowed; NULL: no routing step */
	AuthzStep *authz;   /* borrowed; NULL: no authorization step */
	char *from;           /* first From: value */
	char *auto_submitted; /* first Auto-Submitted: value */
	GPtrArray *auth_results; /* Authentication-Results values, bounded */
	gboolean announced; /* the top-level headers announce a request */
	Scan *scan;         /* multipart: scanning the body; NULL otherwise */
	int spool_fd;       /* -1 when not spooling */
	GByteArray *mem;    /* the mail so far while it is held in memory, else NULL */
	gsize size;         /* header + body bytes seen */
	gboolean too_big;
	GError *deferred; /* a body-time failure, reported at eom */
};

/* filter_msg_new - an empty message context */
FilterMsg *filter_msg_new(const CtiConfig *config)
{
	FilterMsg *msg = g_new0(FilterMsg, 1);

	msg->config = config;
	msg->recipients = g_ptr_array_new_with_free_func(g_free);
	msg->explain_rcpts = g_ptr_array_new_with_free_func(g_free);
	msg->hops = g_ptr_array_new_with_free_func(g_free);
	msg->auth_results = g_ptr_array_new_with_free_func(g_free);
	msg->headers = g_string_sized_new(2048);
	msg->spool_fd = -1;
	return msg;
}

/* filter_msg_free - free everything the message owns */
void filter_msg_free(FilterMsg *msg)
{
	if (msg == NULL)
		return;
	if (msg->spool_fd >= 0)
		close(msg->spool_fd);
	if (msg->mem != NULL)
		g_byte_array_unref(msg->mem);
	g_free(msg->sender);
	g_free(msg->auth_authen);
	g_free(msg->client_addr);
	g_free(msg->queue_id);
	g_ptr_array_unref(msg->recipients);
	g_ptr_array_unref(msg->explain_rcpts);
	g_ptr_array_unref(msg->hops);
	g_ptr_array_unref(msg->auth_results);
	g_free(msg->from);
	g_free(msg->auto_submitted);
	g_string_free(msg->headers, TRUE);
	g_free(msg->content_type);
	g_free(msg->disposition);
	g_free(msg->message_id);
	scan_free(msg->scan);
	g_clear_error(&msg->deferred);
	g_free(msg);
}

/* filter_msg_set_router - see filter.h */
void filter_msg_set_router(FilterMsg *msg, RouteStep *router)
{
	msg->router = router;
}

/* filter_msg_set_authz - see filter.h */
void filter_msg_set_authz(FilterMsg *msg, AuthzStep *authz)
{
	msg->authz = authz;
}

/* filter_hops_untrusted - X-CTI-Hop headers came from a client that is no trusted relay */
static gboolean filter_hops_untrusted(const FilterMsg *msg)
{
	return msg->authz != NULL && msg->hops->len > 0 &&
	       !authz_step_trusted_relay(msg->authz, msg->client_addr);
}

/* filter_strip_angles - "<a@b>" -> "a@b", "<>" -> "" (transfer full) */
static char *filter_strip_angles(const char *addr)
{
	gsize len = strlen(addr);

	if (len >= 2 && addr[0] == '<' && addr[len - 1] == '>')
		return g_strndup(addr + 1, len - 2);
	return g_strdup(addr);
}

static char *filter_nonempty(const char *value)
{
	return value != NULL && *value != '\0' ? g_strdup(value) : NULL;
}

/* filter_msg_envelope - record the sender and the MAIL-stage macros */
void filter_msg_envelope(FilterMsg *msg, const char *sender, const char *auth_authen,
                         const char *client_addr)
{
	g_free(msg->sender);
	msg->sender = filter_strip_angles(sender ? sender : "");
	g_free(msg->auth_authen);
	msg->auth_authen = filter_nonempty(auth_authen);
	g_free(msg->client_addr);
	msg->client_addr = filter_nonempty(client_addr);
}

/* filter_is_explain_address - see filter.h */
gboolean filter_is_explain_address(const CtiConfig *config, const char *rcpt)
{
	return config_address_listed(config->explain_address, rcpt);
}

/* filter_is_request_address - see filter.h */
gboolean filter_is_request_address(const CtiConfig *config, const char *rcpt)
{
	return filter_is_explain_address(config, rcpt) || config_is_cti_address(config, rcpt) ||
	       config_address_listed(config->request_addresses, rcpt);
}

/* filter_msg_may_be_request - see filter.h */
gboolean filter_msg_may_be_request(const FilterMsg *msg, gboolean local)
{
	if (local || msg->authz == NULL || *msg->config->request_addresses == '\0')
		return TRUE;
	if (authz_step_identity_possible(msg->authz, msg->auth_authen, msg->client_addr))
		return TRUE;
	for (guint i = 0; i < msg->recipients->len; i++)
		if (filter_is_request_address(msg->config, msg->recipients->pdata[i]))
			return TRUE;
	return FALSE;
}

/* filter_cti_recipient - the first recipient that is a CTI address ([milter] cti_address),
 * or NULL */
static const char *filter_cti_recipient(const FilterMsg *msg)
{
	for (guint i = 0; i < msg->recipients->len; i++)
		if (config_is_cti_address(msg->config, g_ptr_array_index(msg->recipients, i)))
			return g_ptr_array_index(msg->recipients, i);
	return NULL;
}

/* filter_runs_here - may REQ run for this mail?  Trigger: user runs for its mailbox owner
 * (the recipient, or Mailbox:), as the Dovecot plugin checks; Trigger: system runs only for
 * mail to a CTI address, which becomes the request's recipient.  Anything else is ordinary
 * mail that happens to carry a request part (a forward, a reply keeping the attachment). */
static gboolean filter_runs_here(FilterMsg *msg, const CtiRequest *req)
{
	switch (req->trigger) {
	case CTI_TRIGGER_USER:
		return TRUE;
	case CTI_TRIGGER_SYSTEM:
		msg->request_rcpt = filter_cti_recipient(msg);
		return msg->request_rcpt != NULL;
	}
	return FALSE;
}

/* filter_ordinary - OUTCOME: MSG is delivered as it is, and WHY is logged */
static gboolean filter_ordinary(FilterOutcome *outcome, const char *why)
{
	outcome->ordinary = g_strdup(why);
	return TRUE;
}

/* filter_msg_recipient - record one recipient, and whether it asks for an explanation */
void filter_msg_recipient(FilterMsg *msg, const char *rcpt)
{
	if (rcpt == NULL)
		return;
	g_ptr_array_add(msg->recipients, filter_strip_angles(rcpt));
	if (filter_is_explain_address(msg->config, rcpt))
		g_ptr_array_add(msg->explain_rcpts, filter_strip_angles(rcpt));
}

/* filter_msg_set_queue_id - remember the queue id */
void filter_msg_set_queue_id(FilterMsg *msg, const char *queue_id)
{
	if (queue_id == NULL || *queue_id == '\0')
		return;
	g_free(msg->queue_id);
	msg->queue_id = g_strdup(queue_id);
}

/* filter_msg_queue_id - for log lines */
const char *filter_msg_queue_id(const FilterMsg *msg)
{
	return msg->queue_id ? msg->queue_id : "NOQUEUE";
}

/* filter_msg_sender - for log lines */
const char *filter_msg_sender(const FilterMsg *msg)
{
	return msg->sender ? msg->sender : "";
}

/* filter_msg_first_recipient - the recipient the request is for */
const char *filter_msg_first_recipient(const FilterMsg *msg)
{
	if (msg->request_rcpt != NULL)
		return msg->request_rcpt;
	return msg->recipients->len > 0 ? g_ptr_array_index(msg->recipients, 0) : "";
}

/* filter_append_crlf - append TEXT with bare LF (folded MTA header values) as CRLF */
static void filter_append_crlf(GString *out, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '\n' && (p == text || p[-1] != '\r'))
			g_string_append_c(out, '\r');
		g_string_append_c(out, *p);
	}
}

static void filter_remember_first(char **slot, const char *value)
{
	if (*slot == NULL)
		*slot = g_strstrip(g_strdup(value));
}

/* filter_msg_header - keep the header for the spool; note the ones that matter */
void filter_msg_header(FilterMsg *msg, const char *name, const char *value)
{
	if (g_ascii_strcasecmp(name, "Content-Type") == 0)
		filter_remember_first(&msg->content_type, value);
	else if (g_ascii_strcasecmp(name, "Content-Disposition") == 0)
		filter_remember_first(&msg->disposition, value);
	else if (g_ascii_strcasecmp(name, "Message-Id") == 0)
		filter_remember_first(&msg->message_id, value);
	else if (g_ascii_strcasecmp(name, FILTER_JOB_HEADER) == 0)
		msg->job_headers++;
	else if (g_ascii_strcasecmp(name, CTI_RELAY_HOP_HEADER) == 0 &&
	         msg->hops->len < FILTER_MAX_HOPS)
		g_ptr_array_add(msg->hops, g_strstrip(g_strdup(value)));
	else if (g_ascii_strcasecmp(name, "From") == 0)
		filter_remember_first(&msg->from, value);
	else if (g_ascii_strcasecmp(name, "Auto-Submitted") == 0)
		filter_remember_first(&msg->auto_submitted, value);
	else if (g_ascii_strcasecmp(name, "Authentication-Results") == 0 &&
	         msg->auth_results->len < FILTER_MAX_AUTH_RESULTS)
		g_ptr_array_add(msg->auth_results, g_strdup(value));
	if (msg->too_big)
		return;
	g_string_append(msg->headers, name);
	g_string_append_c(msg->headers, ':');
	filter_append_crlf(msg->headers, value);
	g_string_append(msg->headers, "\r\n");
	if (msg->headers->len > msg->config->max_message_size)
		msg->too_big = TRUE;
}

static gboolean filter_is_multipart(const char *content_type)
{
	g_autoptr(GMimeContentType) type = NULL;

	if (content_type == NULL)
		return FALSE;
	type = g_mime_content_type_parse(NULL, content_type);
	return type != NULL &&
	       g_ascii_strcasecmp(g_mime_content_type_get_media_type(type), "multipart") == 0;
}

/* filter_spool_write - append LEN bytes to the spool file */
static gboolean filter_spool_write(FilterMsg *msg, const void *data, gsize len, GError **error)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(msg->spool_fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP,
			            "cannot write the spool file in %s: %s", msg->config->tmp_dir,
			            g_strerror(saved));
			return FALSE;
		}
		p += n;
		len -= (gsize)n;
	}
	return TRUE;
}

/* filter_spool_open - an unlinked temp file in tmp_dir holding the headers and the blank line */
static gboolean filter_spool_open(FilterMsg *msg, GError **error)
{
	g_autofree char *path = g_build_filename(msg->config->tmp_dir, "cti-milter.XXXXXX", NULL);
	int fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0) {
		int saved = errno;
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP,
		            "cannot create a spool file in %s: %s", msg->config->tmp_dir,
		            g_strerror(saved));
		return FALSE;
	}
	unlink(path);
	msg->spool_fd = fd;
	msg->size = msg->headers->len + 2;
	if (!filter_spool_write(msg, msg->headers->str, msg->headers->len, error) ||
	    !filter_spool_write(msg, "\r\n", 2, error))
		return FALSE;
	return TRUE;
}

/* filter_mem_open - hold the headers and the blank line in memory; the body follows */
static void filter_mem_open(FilterMsg *msg)
{
	msg->mem = g_byte_array_sized_new((guint)msg->headers->len + 4096);
	g_byte_array_append(msg->mem, (const guint8 *)msg->headers->str, (guint)msg->headers->len);
	g_byte_array_append(msg->mem, (const guint8 *)"\r\n", 2);
	msg->size = msg->headers->len + 2;
}

/* filter_mem_spill - move the mail held in memory to a new spool file */
static gboolean filter_mem_spill(FilterMsg *msg, GError **error)
{
	g_autoptr(GByteArray) mem = g_steal_pointer(&msg->mem);
	gsize size = msg->size;

	if (!filter_spool_open(msg, error))
		return FALSE;
	msg->size = size;
	return filter_spool_write(msg, mem->data + msg->headers->len + 2,
	                          mem->len - msg->headers->len - 2, error);
}

/* filter_msg_eoh - accept what cannot be a request; otherwise prepare for the body */
FilterEoh filter_msg_eoh(FilterMsg *msg, GError **error)
{
	gboolean multipart = filter_is_multipart(msg->content_type);

	msg->announced = scan_field_announces_cti("Content-Type", msg->content_type) ||
	                 scan_field_announces_cti("Content-Disposition", msg->disposition);
	if (!msg->announced && !multipart)
		return msg->job_headers > 0 || filter_hops_untrusted(msg) ? FILTER_EOH_CONTINUE
		                                                          : FILTER_EOH_ACCEPT;
	if (!msg->announced)
		msg->scan = scan_new();
	if (msg->too_big)
		return FILTER_EOH_CONTINUE;
	/* requests are small: held in memory, spooled only past FILTER_MEM_SPOOL */
	filter_mem_open(msg);
	return FILTER_EOH_CONTINUE;
}

/* filter_msg_body - spool and scan one chunk */
void filter_msg_body(FilterMsg *msg, const void *data, gsize len)
{
	if (msg->scan != NULL)
		scan_feed(msg->scan, data, len);
	if ((msg->spool_fd < 0 && msg->mem == NULL) || msg->deferred != NULL)
		return;
	if (msg->size + len > msg->config->max_message_size) {
		msg->too_big = TRUE;
		if (msg->spool_fd >= 0)
			close(msg->spool_fd);
		msg->spool_fd = -1;
		g_clear_pointer(&msg->mem, g_byte_array_unref);
		return;
	}
	msg->size += len;
	if (msg->mem != NULL && msg->mem->len + len <= FILTER_MEM_SPOOL) {
		g_byte_array_append(msg->mem, data, (guint)len);
		return;
	}
	if (msg->mem != NULL && !filter_mem_spill(msg, &msg->deferred))
		return;
	filter_spool_write(msg, data, len, &msg->deferred);
}

/* filter_is_candidate - announced by the top-level headers or found by the scanner */
static gboolean filter_is_candidate(FilterMsg *msg)
{
	if (msg->announced)
		return TRUE;
	return msg->scan != NULL && scan_finish(msg->scan);
}

/* filter_parse_spool - the mail held in memory or spooled as a GMimeMessage reading from
 * there (transfer full) */
static GMimeMessage *filter_parse_spool(FilterMsg *msg, GError **error)
{
	int fd = msg->mem != NULL ? -1 : dup(msg->spool_fd);
	g_autoptr(GMimeStream) stream = NULL;
	g_autoptr(GMimeParser) parser = NULL;
	GMimeMessage *message;

	if (msg->mem != NULL) {
		stream = g_mime_stream_mem_new_with_byte_array(msg->mem);
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	} else if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP,
		            "cannot reopen the spool file: %s", g_strerror(saved));
		return NULL;
	}
	if (stream == NULL)
		stream = g_mime_stream_fs_new(fd);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_persist_stream(parser, TRUE);
	message = g_mime_parser_construct_message(parser, NULL);
	if (message == NULL)
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP,
		            "cannot parse the spooled message");
	return message;
}

/* filter_read_request - the parsed request of the spooled mail; NULL with no error: none there */
static CtiRequest *filter_read_request(FilterMsg *msg, GError **error)
{
	g_autoptr(GMimeMessage) message = filter_parse_spool(msg, error);
	g_autoptr(CtiRequest) req = NULL;
	g_autofree char *text = NULL;
	GMimePart *part = NULL;
	gsize len = 0;

	if (message == NULL || !part_find(message, &part, error) || part == NULL)
		return NULL;
	text = part_decode(part, msg->config->max_request_size, &len, error);
	if (text == NULL)
		return NULL;
	req = request_parse(text, len, error);
	if (req != NULL && !mediacheck_message(message, req, error))
		return NULL;
	return g_steal_pointer(&req);
}

/* filter_spool_size - the spool file's length */
static gboolean filter_spool_size(FilterMsg *msg, gsize *size_out, GError **error)
{
	struct stat st;

	if (msg->mem != NULL) {
		*size_out = msg->mem->len;
		return TRUE;
	}
	if (fstat(msg->spool_fd, &st) != 0) {
		int saved = errno;
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TEMP,
		            "cannot stat the spool file: %s", g_strerror(saved));
		return FALSE;
	}
	*size_out = (gsize)st.st_size;
	return TRUE;
}

/* filter_submit - SUBMIT REQ for RECIPIENT with the spooled mail; ctid's Job-Id (transfer full) */
static char *filter_submit(FilterMsg *msg, const CtiRequest *req, const char *recipient,
                           const char *identity, GError **error)
{
	g_autofree char *text = request_format(req);
	g_autofree char *job_id = NULL;
	SubmitInfo info = {
	    .request = text,
	    .sender = msg->sender,
	    .recipient = recipient,
	    .auth_authen = msg->auth_authen,
	    .client_addr = msg->client_addr,
	    .queue_id = msg->queue_id,
	    .message_id = msg->message_id,
	    .mailbox = NULL,
	    .message_fd = msg->spool_fd,
	    .message_data = msg->mem != NULL ? msg->mem->data : NULL,
	    .identity = identity,
	};

	if (!filter_spool_size(msg, &info.message_size, error))
		return NULL;
	if (req->trigger == CTI_TRIGGER_USER)
		info.mailbox = req->mailbox ? req->mailbox : recipient;
	info.job_id = job_id = submit_job_id(&info);
	return submit_request(msg->config->ctid_socket, msg->config->ctid_timeout_ms, &info, error);
}

/* filter_route - the routing step when a router is set: OUTCOME->route, or FALSE + error */
static gboolean filter_route(FilterMsg *msg, const CtiRequest *req, FilterOutcome *outcome,
                             GError **error)
{
	g_autofree const char **hops = g_new0(const char *, msg->hops->len + 1);
	RouteStepInput in = {
	    .request = req,
	    .recipient = filter_msg_first_recipient(msg),
	    .hops = hops,
	};

	if (msg->router == NULL)
		return TRUE;
	for (guint i = 0; i < msg->hops->len; i++)
		hops[i] = g_ptr_array_index(msg->hops, i);
	outcome->route = route_step_decide(msg->router, &in, error);
	return outcome->route != NULL;
}

typedef char *(*FilterAuthzFn)(AuthzStep *as, const AuthzInput *in, GError **error);

/* filter_authorize - the authorization step when one is set: OUTCOME->identity, or FALSE +
 * error; CHECK is authz_step_check (a request) or authz_step_identify (an explain@ mail) */
static gboolean filter_authorize(FilterMsg *msg, const CtiRequest *req, FilterAuthzFn check,
                                 FilterOutcome *outcome, GError **error)
{
	g_autofree const char **results = g_new0(const char *, msg->auth_results->len + 1);
	AuthzInput in = {
	    .request = req,
	    .sender = msg->sender ? msg->sender : "",
	    .recipient = filter_msg_first_recipient(msg),
	    .auth_authen = msg->auth_authen,
	    .client_addr = msg->client_addr,
	    .from = msg->from,
	    .auto_submitted = msg->auto_submitted,
	    .auth_results = results,
	};

	if (msg->authz == NULL)
		return TRUE;
	for (guint i = 0; i < msg->auth_results->len; i++)
		results[i] = g_ptr_array_index(msg->auth_results, i);
	outcome->identity = check(msg->authz, &in, error);
	return outcome->identity != NULL;
}

/* filter_explain_answerable - FALSE + a 550 for mail an explanation must not answer */
static gboolean filter_explain_answerable(const FilterMsg *msg, GError **error)
{
	if (msg->sender == NULL || msg->sender[0] == '\0') {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_UNAUTHORIZED,
		            "CTI explanation not sent: the explanation is mailed to the envelope "
		            "sender, and this mail has none (<>)");
		return FALSE;
	}
	/* "no" may carry comments or parameters: "no (manual)", "no; x=y" (strchr also
	 * finds the NUL after a plain "no") */
	if (msg->auto_submitted != NULL &&
	    !(g_ascii_strncasecmp(msg->auto_submitted, "no", 2) == 0 &&
	      strchr(" ;(", msg->auto_submitted[2]) != NULL)) {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_UNAUTHORIZED,
		            "CTI explanation not sent: automatic mail (Auto-Submitted: %s) gets "
		            "no answer",
		            msg->auto_submitted);
		return FALSE;
	}
	return TRUE;
}

/* filter_explain_rcpts - MSG's explain recipients as "<addr>", NULL-ended (transfer full) */
static char **filter_explain_rcpts(const FilterMsg *msg)
{
	char **out = g_new0(char *, msg->explain_rcpts->len + 1);

	for (guint i = 0; i < msg->explain_rcpts->len; i++)
		out[i] = g_strdup_printf("<%s>", (const char *)msg->explain_rcpts->pdata[i]);
	return out;
}

/* filter_explain - REQ was sent to an explain address: a dry-run job for ctid, which
 * mails the explanation; only an identified sender whose envelope sender is its own is
 * answered (nothing is mailed to a forged address); the explanation runs the rest */
static gboolean filter_explain(FilterMsg *msg, CtiRequest *req, FilterOutcome *outcome,
                               GError **error)
{
	if (!filter_explain_answerable(msg, error))
		return FALSE;
	if (!filter_authorize(msg, req, authz_step_identify, outcome, error)) {
		g_prefix_error(error, "CTI explanation not sent: ");
		return FALSE;
	}
	/* whatever the request asks, the job only explains, at once, to the sender:
	 * a Notify-To would let anyone have explanations mailed to a third party */
	req->dry_run = TRUE;
	req->notify = TRUE;
	g_clear_pointer(&req->notify_to, g_free);
	req->trigger = CTI_TRIGGER_SYSTEM;
	req->not_before = 0;
	req->not_after = 0;
	outcome->job_id = filter_submit(msg, req, g_ptr_array_index(msg->explain_rcpts, 0),
	                                outcome->identity, error);
	if (outcome->job_id == NULL)
		return FALSE;
	outcome->is_request = TRUE;
	outcome->explain = TRUE;
	outcome->explain_rcpts = filter_explain_rcpts(msg);
	outcome->discard = msg->explain_rcpts->len == msg->recipients->len;
	return TRUE;
}

/* filter_for_gateway - is any recipient a CTI or an explain address? */
static gboolean filter_for_gateway(const FilterMsg *msg)
{
	return msg->explain_rcpts->len > 0 || filter_cti_recipient(msg) != NULL;
}

/* filter_is_permanent - would ERROR be a 5xx (a bad request, not local trouble)? */
static gboolean filter_is_permanent(const GError *error)
{
	g_autoptr(FilterReply) reply = reply_from_error(error);

	return reply->kind == REPLY_REJECT;
}

/* filter_msg_eom - decide on the whole message */
gboolean filter_msg_eom(FilterMsg *msg, FilterOutcome *outcome, GError **error)
{
	g_autoptr(CtiRequest) req = NULL;
	GError *local = NULL;

	memset(outcome, 0, sizeof *outcome);
	outcome->remove_job_headers = msg->job_headers;
	if (filter_hops_untrusted(msg)) {
		/* forged or foreign traces: removed from the mail, but still believed by
		 * the loop checks (routing step), where a forged trace can only get its
		 * own request refused and a real one stops a relay loop between
		 * gateways that do not list each other in trusted_relays */
		outcome->remove_hop_headers = msg->hops->len;
	}
	if (!filter_is_candidate(msg))
		return TRUE;
	if (msg->deferred != NULL) {
		g_propagate_error(error, g_steal_pointer(&msg->deferred));
		return FALSE;
	}
	if (msg->too_big) {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_TOO_BIG,
		            "a mail carrying a CTI request may not exceed %" G_GSIZE_FORMAT
		            " bytes",
		            msg->config->max_message_size);
		return FALSE;
	}
	req = filter_read_request(msg, &local);
	if (req == NULL) {
		if (local == NULL)
			return TRUE; /* a candidate without a request part of its own */
		if (!filter_for_gateway(msg) && filter_is_permanent(local)) {
			g_autofree char *why = g_strdup_printf(
			    "request part not valid (%s), and no CTI address among the recipients",
			    local->message);

			g_error_free(local);
			return filter_ordinary(outcome, why);
		}
		g_propagate_error(error, local);
		return FALSE;
	}
	if (msg->explain_rcpts->len > 0) {
		if (!filter_explain(msg, req, outcome, error))
			return FALSE;
		outcome->request = g_steal_pointer(&req);
		return TRUE;
	}
	if (!filter_runs_here(msg, req))
		return filter_ordinary(outcome, "Trigger: system request to no CTI address "
		                                "([milter] cti_address): nothing run");
	if (!filter_authorize(msg, req, authz_step_check, outcome, error) ||
	    !filter_route(msg, req, outcome, error))
		return FALSE;
	if (outcome->route != NULL && outcome->route->action == CTI_RELAY_FORWARD) {
		outcome->request = g_steal_pointer(&req); /* relayed: no job here */
		return TRUE;
	}
	outcome->job_id =
	    filter_submit(msg, req, filter_msg_first_recipient(msg), outcome->identity, error);
	if (outcome->job_id == NULL)
		return FALSE;
	outcome->is_request = TRUE;
	if (req->trigger == CTI_TRIGGER_USER)
		outcome->add_job_header = g_strdup(outcome->job_id);
	outcome->request = g_steal_pointer(&req);
	return TRUE;
}

/* filter_outcome_clear - free the outcome's strings and request */
void filter_outcome_clear(FilterOutcome *outcome)
{
	g_clear_pointer(&outcome->job_id, g_free);
	g_clear_pointer(&outcome->request, request_free);
	g_clear_pointer(&outcome->add_job_header, g_free);
	g_clear_pointer(&outcome->identity, g_free);
	g_clear_pointer(&outcome->route, route_step_result_free);
	g_clear_pointer(&outcome->explain_rcpts, g_strfreev);
	g_clear_pointer(&outcome->ordinary, g_free);
}
