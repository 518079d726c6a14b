/* check_filter - one message at a time through the milter's per-message code,
 * as the libmilter callbacks drive it: the end-of-header fast path, spooling
 * in chunks, the SUBMIT handed to a stand-in ctid on a real UNIX socket (its
 * fields and the byte-exact message), and every failure's SMTP answer. */
#include <check.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../filter/filter.h"
#include "../filter/reply.h"
#include "../filter/submit.h"
#include "ipc.h"

/* ---- a stand-in ctid: accept one connection, read one frame, answer ---- */

typedef struct {
	int listen_fd;
	const char *verb; /* OK, TEMPFAIL, REJECT */
	const char *job_id;
	const char *reason;
	CtiIpcFrame *received;
	GThread *thread;
} FakeCtid;

static gpointer fake_ctid_run(gpointer data)
{
	FakeCtid *fake = data;
	int fd = accept(fake->listen_fd, NULL, NULL);
	g_autoptr(CtiIpcFrame) reply = ipc_frame_new(fake->verb);

	if (fd < 0)
		return NULL;
	fake->received = ipc_recv(fd, 64 * 1024 * 1024, NULL);
	if (fake->job_id)
		ipc_frame_add(reply, "Job-Id", fake->job_id);
	if (fake->reason)
		ipc_frame_add(reply, "Reason", fake->reason);
	ipc_send(fd, reply, NULL);
	close(fd);
	return NULL;
}

static void fake_ctid_start(FakeCtid *fake, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	g_strlcpy(sa.sun_path, path, sizeof sa.sun_path);
	unlink(path);
	fake->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fake->listen_fd, 0);
	ck_assert_int_eq(bind(fake->listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(fake->listen_fd, 4), 0);
	fake->thread = g_thread_new("fake-ctid", fake_ctid_run, fake);
}

/* fake_ctid_join - wait until the stand-in has answered (or given up) */
static void fake_ctid_join(FakeCtid *fake)
{
	if (fake->thread == NULL)
		return;
	shutdown(fake->listen_fd, SHUT_RDWR); /* wakes accept() when nobody called */
	g_thread_join(g_steal_pointer(&fake->thread));
}

static void fake_ctid_stop(FakeCtid *fake, const char *path)
{
	if (fake->listen_fd <= 0)
		return;
	fake_ctid_join(fake);
	close(fake->listen_fd);
	unlink(path);
	g_clear_pointer(&fake->received, ipc_frame_free);
}

/* ---- fixtures ---- */

static CtiConfig *config;
static char *tmp_root;
static char *ctid_path;

static void setup(void)
{
	GError *error = NULL;

	tmp_root = g_dir_make_tmp("check_filter.XXXXXX", &error);
	ck_assert_ptr_nonnull(tmp_root);
	config = config_load(NULL, &error);
	ck_assert_ptr_nonnull(config);
	g_free(config->tmp_dir);
	config->tmp_dir = g_strdup(tmp_root);
	ctid_path = g_build_filename(tmp_root, "ctid.sock", NULL);
	g_free(config->ctid_socket);
	config->ctid_socket = g_strdup(ctid_path);
	config->ctid_timeout_ms = 2000;
}

static void teardown(void)
{
	g_autoptr(GDir) dir = g_dir_open(tmp_root, 0, NULL);
	const char *name;

	/* The spool file is unlinked at creation: nothing may be left over. */
	while (dir && (name = g_dir_read_name(dir)) != NULL)
		ck_abort_msg("left behind in tmp_dir: %s", name);
	g_rmdir(tmp_root);
	g_clear_pointer(&tmp_root, g_free);
	g_clear_pointer(&ctid_path, g_free);
	g_clear_pointer(&config, config_free);
}

/* ---- driving a message ---- */

typedef struct {
	const char *const *headers; /* name, value (after the colon), ... NULL */
	const char *body;
	gsize chunk; /* body chunk size, 0 = one chunk */
} Mail;

static const char *const multipart_headers[] = {
    "Received",
    " from client (localhost [127.0.0.1])\n\tby mx.test.example (Postfix) with ESMTPA id 4Q1",
    "From",
    " Alice <alice@test.example>",
    "To",
    " call@test.example",
    "Message-ID",
    " <req-1@test.example>",
    "MIME-Version",
    " 1.0",
    "Content-Type",
    " multipart/mixed; boundary=\"b1\"",
    NULL,
};

#define BODY_START                                                                                 \
	"--b1\r\nContent-Type: text/plain\r\n\r\nCall Bob.\r\n--b1\r\nContent-Type: "              \
	"application/x-cti\r\n\r\n"
#define GOOD_BODY BODY_START "Source: 2001\r\nDestination: 0312345678\r\n--b1--\r\n"

static FilterMsg *drive_headers(const Mail *mail, FilterEoh *eoh, GError **error)
{
	FilterMsg *msg = filter_msg_new(config);

	filter_msg_envelope(msg, "<alice@test.example>", "alice", "127.0.0.1");
	filter_msg_recipient(msg, "<call@test.example>");
	filter_msg_set_queue_id(msg, "4Q1");
	for (const char *const *h = mail->headers; *h; h += 2)
		filter_msg_header(msg, h[0], h[1]);
	*eoh = filter_msg_eoh(msg, error);
	return msg;
}

static void drive_body(FilterMsg *msg, const Mail *mail)
{
	gsize len = strlen(mail->body);
	gsize chunk = mail->chunk ? mail->chunk : MAX(len, 1);

	for (gsize off = 0; off < len; off += chunk)
		filter_msg_body(msg, mail->body + off, MIN(chunk, len - off));
}

/* drive - headers, body, end of message; the eom result */
static gboolean drive(const Mail *mail, FilterOutcome *outcome, GError **error)
{
	FilterEoh eoh;
	g_autoptr(FilterMsg) msg = drive_headers(mail, &eoh, error);
	gboolean ok;

	ck_assert_int_eq(eoh, FILTER_EOH_CONTINUE);
	drive_body(msg, mail);
	ok = filter_msg_eom(msg, outcome, error);
	return ok;
}

/* the message as the MTA holds it: headers with CRLF, blank line, body */
static char *wire_message(const Mail *mail)
{
	GString *out = g_string_new(NULL);

	for (const char *const *h = mail->headers; *h; h += 2) {
		g_auto(GStrv) lines = g_strsplit(h[1], "\n", -1);
		g_autofree char *value = g_strjoinv("\r\n", lines);

		g_string_append_printf(out, "%s:%s\r\n", h[0], value);
	}
	g_string_append_printf(out, "\r\n%s", mail->body);
	return g_string_free(out, FALSE);
}

/* ---- filter_msg_eoh ---- */

static const char *const plain_headers[] = {
    "From",         " alice@test.example",        "Subject", " lunch?",
    "Content-Type", " text/plain; charset=utf-8", NULL,
};
static const char *const no_type_headers[] = {"From", " alice@test.example", NULL};
static const char *const forged_job_headers[] = {
    "From", " mallory@test.example", "X-CTI-Job", " J-victim", "x-cti-job", " J-other", NULL,
};
static const char *const single_cti_headers[] = {
    "From", " alice@test.example", "Content-Type", " application/x-cti", NULL,
};
static const char *const cti_name_headers[] = {
    "From",
    " alice@test.example",
    "Content-Type",
    " application/octet-stream",
    "Content-Disposition",
    " attachment;\n\tfilename=\"call.cti\"",
    NULL,
};

typedef struct {
	const char *what;
	const char *const *headers;
	FilterEoh expect;
} EohCase;

static const EohCase eoh_cases[] = {
    {"text/plain", plain_headers, FILTER_EOH_ACCEPT},
    {"no Content-Type", no_type_headers, FILTER_EOH_ACCEPT},
    {"multipart", multipart_headers, FILTER_EOH_CONTINUE},
    {"X-CTI-Job from outside", forged_job_headers, FILTER_EOH_CONTINUE},
    {"application/x-cti", single_cti_headers, FILTER_EOH_CONTINUE},
    {"*.cti file name", cti_name_headers, FILTER_EOH_CONTINUE},
};

START_TEST(test_eoh)
{
	const EohCase *c = &eoh_cases[_i];
	Mail mail = {c->headers, "", 0};
	g_autoptr(GError) error = NULL;
	FilterEoh eoh;
	g_autoptr(FilterMsg) msg = drive_headers(&mail, &eoh, &error);

	ck_assert_msg(eoh == c->expect, "%s: %d", c->what, eoh);
}
END_TEST

/* a missing tmp_dir: small mail, small requests included, never needs it */
START_TEST(test_no_tmp_dir)
{
	Mail announced = {single_cti_headers, "Source: 2001\r\nDestination: 0312345678\r\n", 0};
	Mail candidate = {multipart_headers, GOOD_BODY, 3};
	Mail plain = {multipart_headers, "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n",
	              0};
	g_autoptr(GError) error = NULL;
	g_autoptr(FilterMsg) msg = NULL;
	g_autoptr(FilterReply) reply = NULL;
	FilterOutcome outcome;
	FilterEoh eoh;

	g_free(config->tmp_dir);
	config->tmp_dir = g_build_filename(tmp_root, "missing", NULL);
	/* small mail never needs tmp_dir: a request is held in memory */
	msg = drive_headers(&announced, &eoh, &error);
	ck_assert_int_eq(eoh, FILTER_EOH_CONTINUE);
	ck_assert(drive(&plain, &outcome, &error));
	ck_assert(!outcome.is_request);
	/* no ctid listens: 451, and not about tmp_dir */
	ck_assert(!drive(&candidate, &outcome, &error));
	reply = reply_from_error(error);
	ck_assert_str_eq(reply->rcode, "451");
	ck_assert(strstr(error->message, "missing") == NULL);
}
END_TEST

/* spool_creations - files created in tmp_dir since the last call (inotify IN); drains it */
static int spool_creations(int in)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int n = 0;
	ssize_t len;

	while ((len = read(in, buf, sizeof buf)) > 0)
		for (char *p = buf; p < buf + len;
		     p += sizeof(struct inotify_event) + ((struct inotify_event *)p)->len)
			n++;
	return n;
}

/* a multipart mail without a request is held in memory and never creates a file in
 * tmp_dir; one larger than the memory bound, or with a candidate part, is spooled */
START_TEST(test_spool_only_when_needed)
{
	Mail plain = {multipart_headers, "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n",
	              0};
	Mail candidate = {multipart_headers, GOOD_BODY, 7};
	g_autoptr(GString) big = g_string_new("--b1\r\nContent-Type: text/plain\r\n\r\n");
	Mail large = {multipart_headers, NULL, 65535};
	g_autoptr(GError) error = NULL;
	FilterOutcome outcome;
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	ck_assert_int_ge(in, 0);
	ck_assert_int_ge(inotify_add_watch(in, tmp_root, IN_CREATE), 0);
	while (big->len < 300 * 1024)
		g_string_append(big, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789\r\n");
	g_string_append(big, "--b1--\r\n");
	large.body = big->str;
	ck_assert(drive(&plain, &outcome, &error));
	ck_assert(!outcome.is_request);
	ck_assert_int_eq(spool_creations(in), 0);
	ck_assert(drive(&large, &outcome, &error));
	ck_assert(!outcome.is_request);
	ck_assert_int_eq(spool_creations(in), 1);
	ck_assert(!drive(&candidate, &outcome, &error)); /* no ctid listens: 451 */
	ck_assert(g_error_matches(error, FILTER_ERROR, FILTER_ERROR_TEMP));
	ck_assert_int_eq(spool_creations(in), 0); /* a small request stays in memory */
	close(in);
}
END_TEST

/* ---- filter_msg_eom with a stand-in ctid ---- */

START_TEST(test_eom_submit)
{
	static const gsize chunks[] = {0, 1, 7, 64};
	Mail mail = {multipart_headers, GOOD_BODY, chunks[_i]};
	FakeCtid fake = {.verb = "OK", .job_id = "J-42"};
	g_autoptr(GError) error = NULL;
	g_autofree char *wire = wire_message(&mail);
	FilterOutcome outcome;
	const CtiIpcFrame *got;
	gsize len = 0;
	const char *body;

	fake_ctid_start(&fake, ctid_path);
	ck_assert_msg(drive(&mail, &outcome, &error), "%s", error ? error->message : "");
	fake_ctid_join(&fake);
	ck_assert(outcome.is_request);
	ck_assert_str_eq(outcome.job_id, "J-42");
	ck_assert_ptr_null(outcome.add_job_header);
	ck_assert_str_eq(outcome.request->source, "2001");
	got = fake.received;
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got->verb, "SUBMIT");
	ck_assert(strstr(ipc_frame_get(got, "Request"), "Destination: 0312345678") != NULL);
	ck_assert_str_eq(ipc_frame_get(got, "Sender"), "alice@test.example");
	ck_assert_str_eq(ipc_frame_get(got, "Recipient"), "call@test.example");
	ck_assert_str_eq(ipc_frame_get(got, "Auth-Authen"), "alice");
	ck_assert_str_eq(ipc_frame_get(got, "Client-Addr"), "127.0.0.1");
	ck_assert_str_eq(ipc_frame_get(got, "Queue-Id"), "4Q1");
	ck_assert_str_eq(ipc_frame_get(got, "Message-Id"), "<req-1@test.example>");
	ck_assert_ptr_null(ipc_frame_get(got, "Mailbox"));
	ck_assert_uint_eq(strlen(ipc_frame_get(got, "Job-Id")), 32);
	body = g_bytes_get_data(got->body, &len);
	ck_assert_uint_eq(len, strlen(wire));
	ck_assert(memcmp(body, wire, len) == 0);
	filter_outcome_clear(&outcome);
	fake_ctid_stop(&fake, ctid_path);
}
END_TEST

START_TEST(test_eom_trigger_user)
{
	Mail mail = {
	    multipart_headers,
	    BODY_START "Source: 2001\r\nDestination: 0312345678\r\nTrigger: user\r\n--b1--\r\n", 0};
	FakeCtid fake = {.verb = "OK", .job_id = "J-7"};
	g_autoptr(GError) error = NULL;
	FilterOutcome outcome;

	fake_ctid_start(&fake, ctid_path);
	ck_assert_msg(drive(&mail, &outcome, &error), "%s", error ? error->message : "");
	fake_ctid_join(&fake);
	ck_assert_str_eq(outcome.add_job_header, "J-7");
	ck_assert_str_eq(ipc_frame_get(fake.received, "Mailbox"), "call@test.example");
	filter_outcome_clear(&outcome);
	fake_ctid_stop(&fake, ctid_path);
}
END_TEST

/* the Job-Id: stable for a retried message, different for any other */
START_TEST(test_job_id)
{
	SubmitInfo a = {.request = "Source: 2001\n",
	                .sender = "alice@x",
	                .recipient = "call@x",
	                .message_id = "<1@x>"};
	SubmitInfo b = a;
	g_autofree char *id_a = submit_job_id(&a);
	g_autofree char *again = submit_job_id(&a);
	g_autofree char *other_msg = NULL, *other_sender = NULL, *none = NULL;

	ck_assert_uint_eq(strlen(id_a), 32);
	for (const char *p = id_a; *p; p++)
		ck_assert(g_ascii_isdigit(*p) || (*p >= 'a' && *p <= 'f'));
	ck_assert_str_eq(id_a, again);
	b.message_id = "<2@x>";
	other_msg = submit_job_id(&b);
	ck_assert_str_ne(id_a, other_msg);
	b = a;
	b.sender = "alice@xc";
	b.recipient = "all@x"; /* same bytes run together, other fields */
	other_sender = submit_job_id(&b);
	ck_assert_str_ne(id_a, other_sender);
	b = a;
	b.message_id = NULL;
	none = submit_job_id(&b);
	ck_assert_ptr_null(none);
}
END_TEST

typedef struct {
	const char *what;
	const char *verb; /* NULL: no ctid listening */
	const char *job_id;
	const char *reason;
	const char *rcode;
	const char *xcode;
	const char *text; /* expected in the reply text */
} CtidCase;

static const CtidCase ctid_cases[] = {
    {"ctid down", NULL, NULL, NULL, "451", "4.3.0", "try again later"},
    {"ctid TEMPFAIL", "TEMPFAIL", NULL, "database busy", "451", "4.3.0", "try again later"},
    {"ctid REJECT", "REJECT", NULL, "Source: 2001 is not an extension of alice@test.example", "550",
     "5.7.0", "refused: Source: 2001 is not an extension of alice@test.example"},
    {"ctid OK without Job-Id", "OK", NULL, NULL, "451", "4.3.0", "try again later"},
    {"ctid odd verb", "HELLO", NULL, NULL, "451", "4.3.0", "try again later"},
};

START_TEST(test_eom_ctid_answers)
{
	const CtidCase *c = &ctid_cases[_i];
	Mail mail = {multipart_headers, GOOD_BODY, 0};
	FakeCtid fake = {.verb = c->verb, .job_id = c->job_id, .reason = c->reason};
	g_autoptr(GError) error = NULL;
	g_autoptr(FilterReply) reply = NULL;
	FilterOutcome outcome;

	if (c->verb)
		fake_ctid_start(&fake, ctid_path);
	ck_assert_msg(!drive(&mail, &outcome, &error), "%s: accepted", c->what);
	filter_outcome_clear(&outcome);
	reply = reply_from_error(error);
	ck_assert_str_eq(reply->rcode, c->rcode);
	ck_assert_str_eq(reply->xcode, c->xcode);
	ck_assert_msg(strstr(reply->text, c->text) != NULL, "%s: %s", c->what, reply->text);
	fake_ctid_stop(&fake, ctid_path);
}
END_TEST

typedef struct {
	const char *what;
	const char *const *headers;
	const char *body;
	const char *xcode; /* NULL: accepted as no request */
	const char *text;
	guint removed;
} LocalCase;

static const LocalCase local_cases[] = {
    {"bad Monitor-Time", multipart_headers,
     BODY_START "Source: 2001\r\nDestination: 0312345678\r\nMonitor-Time: abc\r\n--b1--\r\n",
     "5.6.0", "bad CTI request: Monitor-Time: 'abc'", 0},
    {"unknown field", multipart_headers,
     BODY_START "Source: 2001\r\nDestinaton: 0312345678\r\n--b1--\r\n", "5.6.0", "Destinaton", 0},
    {"two request parts", multipart_headers,
     BODY_START "Source: 2001\r\nDestination: 1\r\n--b1\r\nContent-Type: "
                "application/x-cti\r\n\r\nSource: 2\r\n--b1--\r\n",
     "5.6.0", "2 request parts", 0},
    {"plain multipart", multipart_headers,
     "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n", NULL, NULL, 0},
    {"forwarded request", multipart_headers,
     "--b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y\r\nContent-Type: "
     "application/x-cti\r\n\r\n"
     "Source: 2001\r\nDestination: 0312345678\r\n--b1--\r\n",
     NULL, NULL, 0},
    {"forged X-CTI-Job", forged_job_headers, "hello\r\n", NULL, NULL, 2},
};

/* outcomes decided without asking ctid (none is listening) */
START_TEST(test_eom_local)
{
	const LocalCase *c = &local_cases[_i];
	Mail mail = {c->headers, c->body, 5};
	g_autoptr(GError) error = NULL;
	FilterOutcome outcome;
	gboolean ok = drive(&mail, &outcome, &error);

	ck_assert_uint_eq(outcome.remove_job_headers, c->removed);
	if (c->xcode == NULL) {
		ck_assert_msg(ok, "%s: %s", c->what, error ? error->message : "");
		ck_assert(!outcome.is_request);
	} else {
		g_autoptr(FilterReply) reply = NULL;

		ck_assert_msg(!ok, "%s: accepted", c->what);
		reply = reply_from_error(error);
		ck_assert_int_eq(reply->kind, REPLY_REJECT);
		ck_assert_str_eq(reply->xcode, c->xcode);
		ck_assert_msg(strstr(reply->text, c->text) != NULL, "%s: %s", c->what, reply->text);
	}
	filter_outcome_clear(&outcome);
}
END_TEST

/* ---- when a request runs: Trigger: system only for a CTI address ([milter] cti_address) ---- */

typedef struct {
	const char *what;
	const char *rcpts[3];
	const char *body;
	const char *ran_for; /* the Recipient ctid is given; NULL: delivered as ordinary mail */
	const char *mailbox; /* the Mailbox ctid is given, or NULL */
} AddressedCase;

static const AddressedCase addressed_cases[] = {
    {"system request forwarded to a mailbox", {"<bob@test.example>"}, GOOD_BODY, NULL, NULL},
    {"bad request in a reply to a mailbox",
     {"<bob@test.example>"},
     BODY_START "Source: 2001\r\nDestination: 0312345678\r\nMonitor-Time: abc\r\n--b1--\r\n",
     NULL,
     NULL},
    {"system request to a mailbox and the CTI address",
     {"<bob@test.example>", "<CALL@test.example>"},
     GOOD_BODY,
     "CALL@test.example",
     NULL},
    {"user request to its mailbox owner",
     {"<bob@test.example>"},
     BODY_START "Source: 2001\r\nDestination: 0312345678\r\nTrigger: user\r\n--b1--\r\n",
     "bob@test.example",
     "bob@test.example"},
};

START_TEST(test_eom_addressed)
{
	const AddressedCase *c = &addressed_cases[_i];
	Mail mail = {multipart_headers, c->body, 0};
	FakeCtid fake = {.verb = "OK", .job_id = "J-9"};
	g_autoptr(GError) error = NULL;
	g_autoptr(FilterMsg) msg = filter_msg_new(config);
	FilterOutcome outcome;
	gboolean ok;

	if (c->ran_for != NULL)
		fake_ctid_start(&fake, ctid_path);
	filter_msg_envelope(msg, "<alice@test.example>", "alice", "127.0.0.1");
	for (const char *const *r = c->rcpts; *r; r++)
		filter_msg_recipient(msg, *r);
	filter_msg_set_queue_id(msg, "4Q2");
	for (const char *const *h = mail.headers; *h; h += 2)
		filter_msg_header(msg, h[0], h[1]);
	ck_assert_int_eq(filter_msg_eoh(msg, &error), FILTER_EOH_CONTINUE);
	drive_body(msg, &mail);
	ok = filter_msg_eom(msg, &outcome, &error);
	ck_assert_msg(ok, "%s: %s", c->what, error ? error->message : "");
	if (c->ran_for == NULL) {
		/* no ctid listens: a submission would have failed the mail */
		ck_assert_msg(!outcome.is_request && outcome.ordinary != NULL, "%s", c->what);
	} else {
		fake_ctid_join(&fake);
		ck_assert_msg(outcome.is_request && outcome.ordinary == NULL, "%s", c->what);
		ck_assert_str_eq(ipc_frame_get(fake.received, "Recipient"), c->ran_for);
		ck_assert_str_eq(ipc_frame_get(fake.received, "Mailbox")
		                     ? ipc_frame_get(fake.received, "Mailbox")
		                     : "",
		                 c->mailbox ? c->mailbox : "");
		fake_ctid_stop(&fake, ctid_path);
	}
	filter_outcome_clear(&outcome);
}
END_TEST

START_TEST(test_eom_too_big)
{
	g_autoptr(GString) body =
	    g_string_new(BODY_START "Source: 2001\r\nDestination: 0312345678\r\n--b1\r\n\r\n");
	Mail mail = {multipart_headers, NULL, 1000};
	g_autoptr(GError) error = NULL;
	g_autoptr(FilterReply) reply = NULL;
	FilterOutcome outcome;

	config->max_message_size = 4096;
	for (int i = 0; i < 100; i++)
		g_string_append(
		    body,
		    "0123456789012345678901234567890123456789012345678901234567890123456789\r\n");
	mail.body = body->str;
	ck_assert(!drive(&mail, &outcome, &error));
	reply = reply_from_error(error);
	ck_assert_str_eq(reply->rcode, "552");
	ck_assert_str_eq(reply->xcode, "5.3.4");
}
END_TEST

/* ---- the explain address ([milter] explain_address) ---- */

typedef struct {
	const char *setting;
	const char *rcpt;
	gboolean expect;
} ExplainAddrCase;

static const ExplainAddrCase explain_addr_cases[] = {
    {"explain", "<explain@test.example>", TRUE},
    {"explain", "Explain@Other.Example", TRUE},
    {"explain", "<call@test.example>", FALSE},
    {"explain", "<explainer@test.example>", FALSE},
    {"explain", "<my-explain@test.example>", FALSE},
    {"explain", "<explain>", FALSE},
    {"explain", "<>", FALSE},
    {"", "<explain@test.example>", FALSE},
    {"dry@gw-a.example", "<DRY@GW-A.example>", TRUE},
    {"dry@gw-a.example", "<dry@gw-b.example>", FALSE},
    {"dry@gw-a.example, why", "<why@gw-b.example>", TRUE},
    {"dry@gw-a.example, why", "<explain@gw-a.example>", FALSE},
};

START_TEST(test_explain_address)
{
	const ExplainAddrCase *c = &explain_addr_cases[_i];

	g_free(config->explain_address);
	config->explain_address = g_strdup(c->setting);
	ck_assert_msg(filter_is_explain_address(config, c->rcpt) == c->expect, "'%s' with '%s'",
	              c->rcpt, c->setting);
}
END_TEST

/* ---- early accept: [milter] request_addresses and who may be identified ---- */

typedef struct {
	const char *request_addresses;
	const char *auth_authen;
	const char *client_addr;
	gboolean local;
	const char *rcpt;
	gboolean expect; /* may be a request: the milter goes on */
} EarlyCase;

static const EarlyCase early_cases[] = {
    {"call", NULL, "192.0.2.7", FALSE, "<bob@test.example>", FALSE},
    {"call", NULL, "192.0.2.7", FALSE, "<Call@test.example>", TRUE},
    {"call", NULL, "192.0.2.7", FALSE, "<explain@test.example>", TRUE},
    {"call", "alice", "192.0.2.7", FALSE, "<bob@test.example>", TRUE},
    {"call", NULL, "192.0.2.7", TRUE, "<bob@test.example>", TRUE},
    {"", NULL, "192.0.2.7", FALSE, "<bob@test.example>", TRUE},
    {"call, @gw-b.example", NULL, "192.0.2.7", FALSE, "<x@GW-B.example>", TRUE},
    {"call, @gw-b.example", NULL, "192.0.2.7", FALSE, "<x@gw-c.example>", FALSE},
    {"call@gw-a.example", NULL, "192.0.2.7", FALSE, "<cti@gw-b.example>", FALSE},
    /* a CTI address ([milter] cti_address, "call" here) always counts */
    {"@gw-b.example", NULL, "192.0.2.7", FALSE, "<call@gw-c.example>", TRUE},
};

START_TEST(test_early_accept)
{
	const EarlyCase *c = &early_cases[_i];
	g_autoptr(GError) error = NULL;
	g_autoptr(AuthzStep) authz = NULL;
	g_autoptr(FilterMsg) msg = NULL;

	g_free(config->request_addresses);
	config->request_addresses = g_strdup(c->request_addresses);
	authz = authz_step_new(config, &error);
	ck_assert_msg(authz != NULL, "%s", error ? error->message : "");
	msg = filter_msg_new(config);
	filter_msg_set_authz(msg, authz);
	filter_msg_envelope(msg, "<alice@test.example>", c->auth_authen, c->client_addr);
	filter_msg_recipient(msg, "<carol@elsewhere.example>");
	filter_msg_recipient(msg, c->rcpt);
	ck_assert_msg(filter_msg_may_be_request(msg, c->local) == c->expect,
	              "request_addresses '%s', auth %s, rcpt %s", c->request_addresses,
	              c->auth_authen ? c->auth_authen : "-", c->rcpt);
}
END_TEST

/* a trusted network or relay may identify senders or carry traces: never accepted early */
START_TEST(test_early_trusted)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(AuthzStep) authz = NULL;
	g_autoptr(FilterMsg) msg = NULL;
	const char *setting = _i == 0 ? "trusted_networks" : "trusted_relays";

	g_free(config->request_addresses);
	config->request_addresses = g_strdup("call");
	if (_i == 0) {
		g_free(config->identity_methods);
		config->identity_methods = g_strdup("auth,network");
		g_free(config->trusted_networks);
		config->trusted_networks = g_strdup("192.0.2.0/24");
	} else {
		g_free(config->trusted_relays);
		config->trusted_relays = g_strdup("192.0.2.7/32");
	}
	authz = authz_step_new(config, &error);
	ck_assert_msg(authz != NULL, "%s", error ? error->message : "");
	msg = filter_msg_new(config);
	filter_msg_set_authz(msg, authz);
	filter_msg_envelope(msg, "<alice@test.example>", NULL, "192.0.2.7");
	filter_msg_recipient(msg, "<bob@test.example>");
	ck_assert_msg(filter_msg_may_be_request(msg, FALSE), "%s: accepted early", setting);
	filter_msg_envelope(msg, "<alice@test.example>", NULL, "198.51.100.1");
	ck_assert_msg(!filter_msg_may_be_request(msg, FALSE), "%s: other client not accepted",
	              setting);
}
END_TEST

/* the SMTP AUTH login drive_envelope() uses (NULL: none) */
static const char *drive_auth = "alice";

/* drive_envelope - MAIL through end of message with SENDER and RCPTS (NULL-ended) */
static gboolean drive_envelope(const Mail *mail, const char *sender, const char *const *rcpts,
                               AuthzStep *authz, FilterOutcome *outcome, GError **error)
{
	g_autoptr(FilterMsg) msg = filter_msg_new(config);

	filter_msg_set_authz(msg, authz);
	filter_msg_envelope(msg, sender, drive_auth, "127.0.0.1");
	for (const char *const *r = rcpts; *r; r++)
		filter_msg_recipient(msg, *r);
	for (const char *const *h = mail->headers; *h; h += 2)
		filter_msg_header(msg, h[0], h[1]);
	ck_assert_int_eq(filter_msg_eoh(msg, error), FILTER_EOH_CONTINUE);
	drive_body(msg, mail);
	return filter_msg_eom(msg, outcome, error);
}

#define EXPLAIN_BODY                                                                               \
	BODY_START "Source: 2009\r\nDestination: 0312345678\r\nNotify-To: victim@else.example\r\n" \
	           "Trigger: user\r\nNot-Before: 2099-01-01T00:00:00Z\r\n--b1--\r\n"

/* a request to explain@ from an identified sender: a dry-run job for the sender, the grants
 * left to the explanation; unidentified or another's envelope sender: 550, nothing sent */
START_TEST(test_eom_explain)
{
	static const char *const only[] = {"<explain@test.example>", NULL};
	static const char *const two[] = {"<bob@test.example>", "<Explain@test.example>", NULL};
	const char *const *rcpts = _i == 0 ? only : two;
	Mail mail = {multipart_headers, EXPLAIN_BODY, 9};
	FakeCtid fake = {.verb = "OK", .job_id = "J-8"};
	g_autoptr(GError) error = NULL;
	g_autoptr(AuthzStep) authz = NULL;
	g_autoptr(CtiRequest) sent = NULL;
	FilterOutcome outcome;
	const char *text;

	/* no policy DB: the authorization step would refuse every request */
	g_free(config->policy_db);
	config->policy_db = g_build_filename(tmp_root, "no-policy.db", NULL);
	authz = authz_step_new(config, &error);
	ck_assert_ptr_nonnull(authz);
	fake_ctid_start(&fake, ctid_path);
	ck_assert_msg(drive_envelope(&mail, "<alice@test.example>", rcpts, authz, &outcome, &error),
	              "%s", error ? error->message : "");
	fake_ctid_join(&fake);
	ck_assert(outcome.is_request && outcome.explain);
	ck_assert_str_eq(outcome.job_id, "J-8");
	ck_assert_ptr_null(outcome.add_job_header);
	ck_assert_int_eq(outcome.discard, _i == 0);
	ck_assert_str_eq(outcome.explain_rcpts[0],
	                 _i == 0 ? "<explain@test.example>" : "<Explain@test.example>");
	ck_assert_ptr_null(outcome.explain_rcpts[1]);
	ck_assert_str_eq(ipc_frame_get(fake.received, "Recipient"),
	                 _i == 0 ? "explain@test.example" : "Explain@test.example");
	ck_assert_ptr_null(ipc_frame_get(fake.received, "Mailbox"));
	text = ipc_frame_get(fake.received, "Request");
	sent = request_parse(text, strlen(text), NULL);
	ck_assert_ptr_nonnull(sent);
	ck_assert(sent->dry_run && sent->notify);
	ck_assert_ptr_null(sent->notify_to);
	ck_assert_int_eq(sent->trigger, CTI_TRIGGER_SYSTEM);
	ck_assert_int_eq(sent->not_before, 0);
	ck_assert_str_eq(sent->source, "2009");
	filter_outcome_clear(&outcome);
	fake_ctid_stop(&fake, ctid_path);
	/* the same mail to call@ meets the authorization step */
	ck_assert(!drive_envelope(&mail, "<alice@test.example>",
	                          (const char *const[]){"<call@test.example>", NULL}, authz,
	                          &outcome, &error));
	ck_assert(g_error_matches(error, FILTER_ERROR, FILTER_ERROR_UNAUTHORIZED));
	filter_outcome_clear(&outcome);
	g_clear_error(&error);
	/* no login: no explanation is mailed to whatever the envelope says */
	drive_auth = NULL;
	ck_assert(!drive_envelope(&mail, "<alice@test.example>", rcpts, authz, &outcome, &error));
	drive_auth = "alice";
	ck_assert(g_error_matches(error, FILTER_ERROR, FILTER_ERROR_UNAUTHORIZED));
	ck_assert_msg(strstr(error->message, "explanation not sent") &&
	                  strstr(error->message, "not identified"),
	              "%s", error->message);
	filter_outcome_clear(&outcome);
	g_clear_error(&error);
	/* alice's login with bob's envelope sender */
	ck_assert(!drive_envelope(&mail, "<bob@test.example>", rcpts, authz, &outcome, &error));
	ck_assert_msg(strstr(error->message, "does not belong"), "%s", error->message);
	filter_outcome_clear(&outcome);
}
END_TEST

typedef struct {
	const char *what;
	const char *sender;
	const char *const *headers;
	const char *text;
} ExplainRefusal;

static const char *const auto_headers[] = {
    "From",
    " robot@test.example",
    "Auto-Submitted",
    " auto-replied",
    "Content-Type",
    " multipart/mixed; boundary=\"b1\"",
    NULL,
};

static const char *const nope_headers[] = {
    "From",  " robot@test.example", "Auto-Submitted",
    " nope", "Content-Type",        " multipart/mixed; boundary=\"b1\"",
    NULL,
};

static const ExplainRefusal explain_refusals[] = {
    {"null sender", "<>", multipart_headers, "has none"},
    {"auto-submitted", "<robot@test.example>", auto_headers, "Auto-Submitted: auto-replied"},
    {"auto-submitted, not no", "<robot@test.example>", nope_headers, "Auto-Submitted: nope"},
};

/* what an explanation cannot answer is refused at once, without asking ctid */
START_TEST(test_eom_explain_refused)
{
	static const char *const rcpts[] = {"<explain@test.example>", NULL};
	const ExplainRefusal *c = &explain_refusals[_i];
	Mail mail = {c->headers, GOOD_BODY, 0};
	g_autoptr(GError) error = NULL;
	g_autoptr(FilterReply) reply = NULL;
	FilterOutcome outcome;

	ck_assert_msg(!drive_envelope(&mail, c->sender, rcpts, NULL, &outcome, &error), "%s",
	              c->what);
	filter_outcome_clear(&outcome);
	reply = reply_from_error(error);
	ck_assert_str_eq(reply->rcode, "550");
	ck_assert_str_eq(reply->xcode, "5.7.1");
	ck_assert_msg(strstr(reply->text, c->text) != NULL, "%s: %s", c->what, reply->text);
}
END_TEST

static Suite *filter_suite(void)
{
	Suite *s = suite_create("filter");
	TCase *tc = tcase_create("filter_msg_eoh");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_eoh, 0, G_N_ELEMENTS(eoh_cases));
	tcase_add_test(tc, test_no_tmp_dir);
	tcase_add_test(tc, test_spool_only_when_needed);
	suite_add_tcase(s, tc);
	tc = tcase_create("filter_msg_eom");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_eom_submit, 0, 4);
	tcase_add_loop_test(tc, test_eom_addressed, 0, G_N_ELEMENTS(addressed_cases));
	tcase_add_test(tc, test_eom_trigger_user);
	tcase_add_loop_test(tc, test_eom_ctid_answers, 0, G_N_ELEMENTS(ctid_cases));
	tcase_add_loop_test(tc, test_eom_local, 0, G_N_ELEMENTS(local_cases));
	tcase_add_test(tc, test_eom_too_big);
	tcase_add_test(tc, test_job_id);
	suite_add_tcase(s, tc);
	tc = tcase_create("filter_is_explain_address");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_explain_address, 0, G_N_ELEMENTS(explain_addr_cases));
	tcase_add_loop_test(tc, test_eom_explain, 0, 2);
	tcase_add_loop_test(tc, test_eom_explain_refused, 0, G_N_ELEMENTS(explain_refusals));
	suite_add_tcase(s, tc);
	tc = tcase_create("filter_msg_may_be_request");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_early_accept, 0, G_N_ELEMENTS(early_cases));
	tcase_add_loop_test(tc, test_early_trusted, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	g_mime_init();
	sr = srunner_create(filter_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	g_mime_shutdown();
	return failed == 0 ? 0 : 1;
}
