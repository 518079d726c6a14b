/* cti-mail - decides which mail accesses are retrievals by the mailbox owner.
 *
 * Every struct mail of an active user gets three vfuncs wrapped:
 *  - get_stream: a body retrieval is a get_body stream whose reason (set by
 *    mail_get_stream_because()) is one of the table below.  Header peeks,
 *    ENVELOPE, BODYSTRUCTURE, SEARCH, prefetch and POP3 TOP use other reasons
 *    and never fire.  The reasons are Dovecot internals, not API: the tests in
 *    t/dovecot/ catch a rename in a new Dovecot version.
 *  - get_binary_stream with a stream wanted (IMAP BINARY[], not BINARY.SIZE).
 *  - update_flags: \Seen newly set (STORE, non-PEEK FETCH, POP3 QUIT).
 * A mail fires only if its job header (cti_header) is exactly 32 lower-case
 * hex digits, and at most once per session and (mailbox, uidvalidity, uid).
 * The header lookup re-enters get_stream (reason "header stream"), hence the
 * guard; index_mail seeks the stream back to 0, so the client's bytes are
 * unchanged.  A failed lookup only skips the report (logged in debug mode).
 */
#include "lib.h"
#include "hash.h"
#include "mail-storage-private.h"
#include "cti-plugin-private.h"

#define CTI_MAIL_CONTEXT(obj) MODULE_CONTEXT_REQUIRE(obj, cti_mail_module)

static MODULE_CONTEXT_DEFINE_INIT(cti_mail_module, &mail_module_register);

static const struct {
	const char *reason;
	const char *trigger;
} cti_body_reasons[] = {
    {"full mail", "fetch:full mail"}, /* BODY[], BODY.PEEK[], RFC822 */
    {"mail body", "fetch:mail body"}, /* BODY[TEXT], RFC822.TEXT */
    {"MIME part", "fetch:MIME part"}, /* BODY[<section>] */
    {"RETR", "fetch:RETR"},           /* POP3 RETR */
};

static const char *cti_trigger_for_reason(const char *reason)
{
	unsigned int i;

	if (reason == NULL)
		return NULL;
	for (i = 0; i < N_ELEMENTS(cti_body_reasons); i++) {
		if (strcmp(reason, cti_body_reasons[i].reason) == 0)
			return cti_body_reasons[i].trigger;
	}
	return NULL;
}

static bool cti_job_id_valid(const char *value)
{
	unsigned int i;

	for (i = 0; value[i] != '\0'; i++) {
		if (!((value[i] >= '0' && value[i] <= '9') || (value[i] >= 'a' && value[i] <= 'f')))
			return FALSE;
	}
	return i == CTI_JOB_ID_LEN;
}

/* The mail's job id: 1 found (*job_r), 0 none/invalid, -1 lookup failed. */
static int cti_mail_job(struct cti_user *cuser, struct mail *mail, const char **job_r)
{
	const char *value;
	int ret;

	ret = mail_get_first_header(mail, cuser->header, &value);
	if (ret < 0) {
		if (cuser->debug)
			i_debug("cti: uid=%u: %s lookup failed: %s", mail->uid, cuser->header,
			        mailbox_get_last_internal_error(mail->box, NULL));
		return -1;
	}
	if (ret == 0) {
		if (cuser->debug)
			i_debug("cti: uid=%u has no %s header", mail->uid, cuser->header);
		return 0;
	}
	value = t_str_trim(value, " \t\r\n");
	if (!cti_job_id_valid(value)) {
		if (cuser->debug)
			i_debug("cti: uid=%u ignored: invalid %s value '%s'", mail->uid,
			        cuser->header, value);
		return 0;
	}
	*job_r = value;
	return 1;
}

/* MAIL was retrieved by TRIGGER: report it unless seen in this session. */
static void cti_mail_report(struct mail *mail, const char *trigger)
{
	struct mail_user *user = mailbox_get_namespace(mail->box)->user;
	struct cti_user *cuser = CTI_USER_CONTEXT(user);
	struct mailbox_status status;
	struct cti_report report;
	const char *key, *job = NULL;
	int ret;

	/* uid 0: a mail being saved, not one the user retrieves */
	if (cuser == NULL || cuser->in_lookup || mail->uid == 0)
		return;
	mailbox_get_open_status(mail->box, STATUS_UIDVALIDITY, &status);
	key = t_strdup_printf("%s/%u/%u", mailbox_get_vname(mail->box), status.uidvalidity,
	                      mail->uid);
	if (hash_table_lookup(cuser->mails, key) != NULL)
		return;
	cuser->in_lookup = TRUE;
	ret = cti_mail_job(cuser, mail, &job);
	cuser->in_lookup = FALSE;
	if (ret < 0)
		return;
	hash_table_insert(cuser->mails, p_strdup(user->pool, key),
	                  POINTER_CAST(ret > 0 ? CTI_MAIL_REPORTED : CTI_MAIL_IGNORED));
	if (ret == 0)
		return;
	i_zero(&report);
	report.user = user->username;
	report.job = job;
	report.mailbox = mailbox_get_vname(mail->box);
	report.uid = mail->uid;
	report.trigger = trigger;
	cti_user_report(user, cuser, &report);
}

/* cti_mail_report() in its own data-stack frame: the vfuncs may run in a loop */
static void cti_mail_retrieved(struct mail *mail, const char *trigger)
{
	data_stack_frame_t frame = t_push(__func__);

	cti_mail_report(mail, trigger);
	if (!t_pop(&frame))
		i_unreached();
}

static int cti_mail_get_stream(struct mail *_mail, bool get_body, struct message_size *hdr_size,
                               struct message_size *body_size, struct istream **stream_r)
{
	struct mail_private *mail = (struct mail_private *)_mail;
	union mail_module_context *cmail = CTI_MAIL_CONTEXT(mail);
	const char *trigger;

	if (get_body) {
		trigger = cti_trigger_for_reason(mail->get_stream_reason);
		if (trigger != NULL)
			cti_mail_retrieved(_mail, trigger);
	}
	return cmail->super.get_stream(_mail, get_body, hdr_size, body_size, stream_r);
}

static int cti_mail_get_binary_stream(struct mail *_mail, const struct message_part *part,
                                      bool include_hdr, uoff_t *size_r, unsigned int *lines_r,
                                      bool *binary_r, struct istream **stream_r)
{
	struct mail_private *mail = (struct mail_private *)_mail;
	union mail_module_context *cmail = CTI_MAIL_CONTEXT(mail);

	/* stream_r == NULL is BINARY.SIZE: nothing is sent to the client */
	if (stream_r != NULL)
		cti_mail_retrieved(_mail, "fetch:binary");
	return cmail->super.get_binary_stream(_mail, part, include_hdr, size_r, lines_r, binary_r,
	                                      stream_r);
}

static void cti_mail_update_flags(struct mail *_mail, enum modify_type modify_type,
                                  enum mail_flags flags)
{
	struct mail_private *mail = (struct mail_private *)_mail;
	union mail_module_context *cmail = CTI_MAIL_CONTEXT(mail);
	enum mail_flags old_flags, new_flags;

	old_flags = mail_get_flags(_mail);
	cmail->super.update_flags(_mail, modify_type, flags);
	new_flags = mail_get_flags(_mail);
	if ((old_flags & MAIL_SEEN) == 0 && (new_flags & MAIL_SEEN) != 0)
		cti_mail_retrieved(_mail, "seen");
}

/* cti_mail_allocated - the mail_allocated hook: wrap the retrieval vfuncs */
void cti_mail_allocated(struct mail *_mail)
{
	struct mail_private *mail = (struct mail_private *)_mail;
	struct mail_vfuncs *v = mail->vlast;
	union mail_module_context *cmail;

	if (CTI_USER_CONTEXT(mailbox_get_namespace(_mail->box)->user) == NULL)
		return;
	cmail = p_new(mail->pool, union mail_module_context, 1);
	cmail->super = *v;
	mail->vlast = &cmail->super;
	v->get_stream = cti_mail_get_stream;
	v->get_binary_stream = cti_mail_get_binary_stream;
	v->update_flags = cti_mail_update_flags;
	MODULE_CONTEXT_SET_SELF(mail, cti_mail_module, cmail);
}
