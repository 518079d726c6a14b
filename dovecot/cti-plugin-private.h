/* cti-plugin-private.h - internals shared by the files of the Dovecot cti
 * plugin: the per-user state, the report record, the ipc sender and the
 * durable spool.
 * Only the plugin's own .c files include this header.
 */
#ifndef CTI_PLUGIN_PRIVATE_H
#define CTI_PLUGIN_PRIVATE_H

#include "lib.h"
#include "hash.h"
#include "module-context.h"
#include "mail-user.h"

struct mail;

#define CTI_DEFAULT_HEADER        "X-CTI-Job"
#define CTI_DEFAULT_SERVICES      "imap pop3"
#define CTI_DEFAULT_TIMEOUT_MSECS 1000
#define CTI_DEFAULT_RETRY_MSECS   (30 * 1000)
#define CTI_SPOOL_HOME_NAME       ".mailcti-pending"
/* at most this many queued reports are resent per flush, so that one flush
   stays short even when the spool has grown large */
#define CTI_SPOOL_FLUSH_MAX 100
#define CTI_JOB_ID_LEN      32
#define CTI_IPC_VERSION     "MCTI/1"

/* Per-user state, hung off the mail_user (allocated from user->pool). */
struct cti_user {
	union mail_user_module_context module_ctx;
	const char *socket_path;    /* cti_socket; NULL: nothing is sent */
	const char *header;         /* cti_header */
	const char *spool_path;     /* the user's queue file; NULL: none */
	unsigned int timeout_msecs; /* cti_timeout: bound of one send */
	unsigned int retry_msecs;   /* cti_retry_interval */
	bool debug;                 /* cti_debug */
	bool pending;               /* the spool may hold reports */
	bool in_lookup;             /* re-entrancy guard for header lookups */
	/* "<vname>/<uidvalidity>/<uid>" -> enum cti_mail_state: per-session dedup */
	HASH_TABLE(char *, void *) mails;
	struct timeout *to_retry;
};

enum cti_mail_state {
	CTI_MAIL_REPORTED = 1, /* reported (or queued) in this session */
	CTI_MAIL_IGNORED,      /* no or invalid job header */
};

extern MODULE_CONTEXT_DEFINE(cti_user_module, &mail_user_module_register);
#define CTI_USER_CONTEXT(obj) MODULE_CONTEXT(obj, cti_user_module)

/* One "message retrieved" fact, as sent to ctid (strings owned by the caller). */
struct cti_report {
	const char *user;
	const char *job;
	const char *mailbox;
	uint32_t uid;
	const char *trigger;
};

enum cti_send_result {
	CTI_SEND_OK,       /* ctid answered OK: delivered (or already fired) */
	CTI_SEND_REJECTED, /* ctid answered REJECT: permanent, never resend */
	CTI_SEND_RETRY,    /* unreachable, slow, TEMPFAIL or garbled: queue */
};

/* cti_user_report - deliver REPORT to ctid now, or queue it durably */
void cti_user_report(struct mail_user *user, struct cti_user *cuser,
                     const struct cti_report *report);

/* cti_mail_allocated - the mail_allocated hook: wrap the retrieval vfuncs */
void cti_mail_allocated(struct mail *mail);

/* cti_report_send - send REPORT as one RETRIEVED frame to the UNIX stream
   socket SOCKET_PATH and wait for the reply, all within TIMEOUT_MSECS; never
   blocks longer.  error_r (data stack) says why on REJECTED/RETRY. */
enum cti_send_result cti_report_send(const char *socket_path, const struct cti_report *report,
                                     unsigned int timeout_msecs, const char **error_r);

/* cti_now_msecs - a monotonic clock in milliseconds */
long long cti_now_msecs(void);

/* cti_report_encode - append the wire bytes of REPORT's frame to DEST */
void cti_report_encode(string_t *dest, const struct cti_report *report);

/* cti_spool_append - durably (fsync) queue REPORT at the end of the spool
   file PATH, creating it, waiting at most LOCK_MSECS for the file's lock;
   0 on success, -1 + error_r */
int cti_spool_append(const char *path, const struct cti_report *report, unsigned int lock_msecs,
                     const char **error_r);

/* cti_spool_flush - resend queued reports from PATH and keep only those still
   undelivered; it holds the file's lock for about TIMEOUT_MSECS at most (it
   starts no resend after that and a send is bounded by it too, so appenders
   waiting 2 * TIMEOUT_MSECS + 1 s always get the lock).  Returns how many
   remain queued (0: the file is gone), or -1 + error_r when the spool could
   not be read or rewritten.  A spool locked by another process is left alone
   (returns 1). */
int cti_spool_flush(const char *path, const char *socket_path, unsigned int timeout_msecs,
                    bool debug, const char **error_r);

#endif
