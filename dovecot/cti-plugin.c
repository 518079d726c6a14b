/* cti-plugin - Dovecot mail plugin "cti": reports to ctid when the owner of a
 * mailbox retrieves a mail that carries a Trigger: user job (X-CTI-Job).
 *
 * This file holds the plugin's entry points, the per-user state (settings,
 * per-session dedup table, retry timer) and the delivery policy of a report:
 * send it to ctid's retrieval socket at once, bounded by cti_timeout; if ctid
 * does not acknowledge it, append it to the user's durable spool and resend it
 * from a timer in the same process (every cti_retry_interval), at the user's
 * next login, before the next report and at logout.  The mail vfunc wrappers
 * that decide *what* is a retrieval live in cti-mail.c.
 * The plugin never fails or delays a user's command beyond the bounded send:
 * every failure is a log line (a lost report, when even the spool fails, is
 * an error).  Memory: the per-user state lives in user->pool.
 */
#include "lib.h"
#include "str.h"
#include "hash.h"
#include "ioloop.h"
#include "settings-parser.h"
#include "mail-user.h"
#include "mail-storage-hooks.h"
#include "cti-plugin.h"
#include "cti-plugin-private.h"

#include <ctype.h>
#include <unistd.h>

const char *cti_plugin_version = DOVECOT_ABI_VERSION;

struct cti_user_module cti_user_module = MODULE_CONTEXT_INIT(&mail_user_module_register);

/* A time setting (e.g. "500ms", "2s"); DEF when unset or invalid. */
static unsigned int cti_setting_msecs(struct mail_user *user, const char *name, unsigned int def)
{
	const char *value = mail_user_plugin_getenv(user, name), *error;
	unsigned int msecs;

	if (value == NULL || *value == '\0')
		return def;
	if (settings_get_time_msecs(value, &msecs, &error) < 0) {
		i_error("cti: invalid %s=%s: %s", name, value, error);
		return def;
	}
	return msecs;
}

/* The user name as one safe file name component. */
static const char *cti_spool_file_name(const char *username)
{
	string_t *name = t_str_new(64);
	const char *p;

	for (p = username; *p != '\0'; p++) {
		if (i_isalnum(*p) || (strchr("_@+-", *p) != NULL) || (*p == '.' && p != username))
			str_append_c(name, *p);
		else
			str_printfa(name, "%%%02X", (unsigned char)*p);
	}
	return str_c(name);
}

/* cti_spool: a directory shared by all users (one file each); unset: the
   user's mail home; "none": no queue (reports to an unreachable ctid are lost). */
static const char *cti_spool_path(struct mail_user *user)
{
	const char *dir = mail_user_plugin_getenv(user, "cti_spool");
	const char *home;

	if (dir != NULL && strcmp(dir, "none") == 0)
		return NULL;
	if (dir != NULL && *dir != '\0') {
		return p_strdup_printf(user->pool, "%s/%s", dir,
		                       cti_spool_file_name(user->username));
	}
	if (mail_user_get_home(user, &home) <= 0)
		return NULL;
	return p_strconcat(user->pool, home, "/" CTI_SPOOL_HOME_NAME, NULL);
}

static void cti_user_read_settings(struct mail_user *user, struct cti_user *cuser)
{
	const char *value;

	value = mail_user_plugin_getenv(user, "cti_socket");
	cuser->socket_path = value == NULL || *value == '\0' ? NULL : p_strdup(user->pool, value);
	value = mail_user_plugin_getenv(user, "cti_header");
	cuser->header =
	    p_strdup(user->pool, value == NULL || *value == '\0' ? CTI_DEFAULT_HEADER : value);
	cuser->debug = mail_user_plugin_getenv_bool(user, "cti_debug");
	cuser->timeout_msecs = cti_setting_msecs(user, "cti_timeout", CTI_DEFAULT_TIMEOUT_MSECS);
	cuser->retry_msecs = cti_setting_msecs(user, "cti_retry_interval", CTI_DEFAULT_RETRY_MSECS);
	if (cuser->retry_msecs == 0)
		cuser->retry_msecs = CTI_DEFAULT_RETRY_MSECS;
	cuser->spool_path = cti_spool_path(user);
}

/* Is the plugin meant to act in this process (cti_services)? */
static bool cti_service_enabled(struct mail_user *user)
{
	const char *services = mail_user_plugin_getenv(user, "cti_services");
	const char *const *list;

	if (services == NULL || *services == '\0')
		services = CTI_DEFAULT_SERVICES;
	list = t_strsplit_spaces(services, " ,");
	return user->service != NULL && str_array_find(list, user->service);
}

static void cti_user_flush(struct mail_user *user, struct cti_user *cuser);

static void cti_retry_timeout(struct mail_user *user)
{
	struct cti_user *cuser = CTI_USER_CONTEXT(user);

	timeout_remove(&cuser->to_retry);
	cti_user_flush(user, cuser);
}

/* Arm the resend timer if this process has an ioloop and none is armed. */
static void cti_user_arm_retry(struct mail_user *user, struct cti_user *cuser, unsigned int msecs)
{
	if (cuser->to_retry != NULL || current_ioloop == NULL || cuser->socket_path == NULL)
		return;
	cuser->to_retry = timeout_add(msecs, cti_retry_timeout, user);
}

/* Resend the user's queued reports; re-arm the timer while some remain. */
static void cti_user_flush(struct mail_user *user, struct cti_user *cuser)
{
	data_stack_frame_t frame;
	const char *error;
	int ret;

	if (cuser->spool_path == NULL || cuser->socket_path == NULL)
		return;
	frame = t_push(__func__);
	ret = cti_spool_flush(cuser->spool_path, cuser->socket_path, cuser->timeout_msecs,
	                      cuser->debug, &error);
	if (ret < 0)
		i_error("cti: spool %s: %s", cuser->spool_path, error);
	if (!t_pop(&frame))
		i_unreached();
	cuser->pending = ret != 0;
	if (cuser->pending)
		cti_user_arm_retry(user, cuser, cuser->retry_msecs);
}

/* Queue REPORT durably after a failed send. */
static void cti_user_queue(struct mail_user *user, struct cti_user *cuser,
                           const struct cti_report *report, const char *why)
{
	const char *error;

	if (cuser->spool_path == NULL) {
		i_error("cti: report lost (no spool) user=%s job=%s box=%s uid=%u trigger=%s: %s",
		        report->user, report->job, report->mailbox, report->uid, report->trigger,
		        why);
		return;
	}
	if (cti_spool_append(cuser->spool_path, report, 2 * cuser->timeout_msecs + 1000, &error) <
	    0) {
		i_error("cti: report lost user=%s job=%s box=%s uid=%u trigger=%s: %s; %s",
		        report->user, report->job, report->mailbox, report->uid, report->trigger,
		        why, error);
		return;
	}
	i_warning("cti: ctid not reached (%s); queued job=%s in %s", why, report->job,
	          cuser->spool_path);
	cuser->pending = TRUE;
	cti_user_arm_retry(user, cuser, cuser->retry_msecs);
}

/* cti_user_report - deliver REPORT to ctid now, or queue it durably */
void cti_user_report(struct mail_user *user, struct cti_user *cuser,
                     const struct cti_report *report)
{
	const char *error = "";

	i_info("cti: retrieved user=%s box=%s uid=%u job=%s trigger=%s", report->user,
	       report->mailbox, report->uid, report->job, report->trigger);
	if (cuser->socket_path == NULL) {
		i_warning("cti: cti_socket is not set; job=%s not reported", report->job);
		return;
	}
	if (cuser->pending) {
		/* with a resend already scheduled ctid was just found away: do
		   not try again per report, which is quadratic in a long outage */
		if (cuser->to_retry == NULL)
			cti_user_flush(user, cuser);
		/* still undelivered: queue behind them rather than wait twice */
		if (cuser->pending) {
			cti_user_queue(user, cuser, report, "earlier reports pending");
			return;
		}
	}
	switch (cti_report_send(cuser->socket_path, report, cuser->timeout_msecs, &error)) {
	case CTI_SEND_OK:
		if (cuser->debug)
			i_debug("cti: ctid acknowledged job=%s", report->job);
		return;
	case CTI_SEND_REJECTED:
		i_info("cti: ctid refused job=%s: %s", report->job, error);
		return;
	case CTI_SEND_RETRY:
		cti_user_queue(user, cuser, report, error);
		return;
	}
	i_unreached();
}

static void cti_user_deinit(struct mail_user *user)
{
	struct cti_user *cuser = CTI_USER_CONTEXT(user);

	timeout_remove(&cuser->to_retry);
	/* last chance in this process; the next login retries again */
	if (cuser->pending)
		cti_user_flush(user, cuser);
	timeout_remove(&cuser->to_retry);
	hash_table_destroy(&cuser->mails);
	cuser->module_ctx.super.deinit(user);
}

static void cti_mail_user_created(struct mail_user *user)
{
	struct mail_user_vfuncs *v = user->vlast;
	struct cti_user *cuser;

	/* autocreated: the owner of a shared namespace, not a login */
	if (user->autocreated || !cti_service_enabled(user)) {
		if (mail_user_plugin_getenv_bool(user, "cti_debug"))
			i_debug("cti: not active for service %s",
			        user->service == NULL ? "(none)" : user->service);
		return;
	}
	cuser = p_new(user->pool, struct cti_user, 1);
	cuser->module_ctx.super = *v;
	user->vlast = &cuser->module_ctx.super;
	v->deinit = cti_user_deinit;
	cti_user_read_settings(user, cuser);
	hash_table_create(&cuser->mails, user->pool, 0, str_hash, strcmp);
	MODULE_CONTEXT_SET(user, cti_user_module, cuser);
	if (cuser->socket_path == NULL)
		i_warning("cti: cti_socket is not set; retrievals are not reported");
	if (cuser->debug)
		i_debug("cti: active user=%s socket=%s spool=%s", user->username,
		        cuser->socket_path == NULL ? "(none)" : cuser->socket_path,
		        cuser->spool_path == NULL ? "(none)" : cuser->spool_path);
	/* resend what earlier sessions queued, once the login has finished */
	if (cuser->spool_path != NULL && access(cuser->spool_path, F_OK) == 0) {
		cuser->pending = TRUE;
		cti_user_arm_retry(user, cuser, 0);
	}
}

static struct mail_storage_hooks cti_mail_storage_hooks = {
    .mail_user_created = cti_mail_user_created,
    .mail_allocated = cti_mail_allocated,
};

/* cti_plugin_init - register the mail storage hooks (called at load) */
void cti_plugin_init(struct module *module)
{
	mail_storage_hooks_add(module, &cti_mail_storage_hooks);
}

/* cti_plugin_deinit - unregister the hooks (called at unload) */
void cti_plugin_deinit(void)
{
	mail_storage_hooks_remove(&cti_mail_storage_hooks);
}
