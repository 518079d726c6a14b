/* config - load mailcti.conf (a GKeyFile) into a read-only CtiConfig.
 *
 * One static table describes every setting: group, key, type, where it lives
 * in the struct, its default and its range.  Loading starts from the
 * defaults, then applies the file; an unknown group or key, an integer out of
 * range or a bad enum value is an error naming group, key and value (the
 * caller logs it and exits: tier 2).  The caller owns the returned struct.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "policy.h"

typedef enum {
	CONF_STRING,
	CONF_SECRET, /* a string never shown by config_dump */
	CONF_INT,
	CONF_SIZE,
	CONF_SESSION,
} ConfType;

/* a validity check for a CONF_STRING value */
typedef gboolean (*ConfCheck)(const char *value);

typedef struct {
	const char *group;
	const char *key;
	ConfType type;
	size_t offset;
	const char *def;    /* default as text; "" for computed defaults */
	gint64 min, max;    /* for CONF_INT and CONF_SIZE */
	ConfCheck check;    /* CONF_STRING: NULL or a check ... */
	const char *expect; /* ... and what it expects, for the error */
} ConfKey;

static gboolean conf_is_route_default(const char *v)
{
	return strcmp(v, "local") == 0 || strcmp(v, "refuse") == 0;
}

static gboolean conf_is_prefix(const char *v)
{
	gsize n = strlen(v);

	if (n > 8)
		return FALSE;
	for (gsize i = 0; i < n; i++)
		if (!g_ascii_isdigit(v[i]))
			return FALSE;
	return TRUE;
}

static gboolean conf_is_gateway_name(const char *v)
{
	gsize n = strlen(v);

	if (n == 0)
		return TRUE;
	if (n > 64 || !g_ascii_isalnum(v[0]))
		return FALSE;
	for (gsize i = 1; i < n; i++)
		if (!g_ascii_isalnum(v[i]) && v[i] != '.' && v[i] != '_' && v[i] != '-')
			return FALSE;
	return TRUE;
}

static gboolean conf_is_methods(const char *v)
{
	return identity_methods_parse(v, NULL, NULL, NULL);
}

static gboolean conf_is_networks(const char *v)
{
	g_autoptr(GPtrArray) nets = identity_networks_parse(v, NULL);

	return nets != NULL;
}

static gboolean conf_is_domains(const char *v)
{
	g_auto(GStrv) list = identity_split_list(v);

	for (gsize i = 0; list[i]; i++)
		if (!identity_domain_valid(list[i]))
			return FALSE;
	return TRUE;
}

static gboolean conf_is_one_domain(const char *v)
{
	return *v == '\0' || identity_domain_valid(v);
}

static gboolean conf_is_rules(const char *v)
{
	g_autoptr(GPtrArray) rules = policy_rules_parse(v, NULL);

	return rules != NULL;
}

static gboolean conf_is_yes_no(const char *v)
{
	return g_strcmp0(v, "yes") == 0 || g_strcmp0(v, "no") == 0;
}

static gboolean conf_is_method(const char *v)
{
	return strcmp(v, "native") == 0 || strcmp(v, "server-lines") == 0;
}

static gboolean conf_is_lines(const char *v)
{
	for (const char *p = v; *p; p++)
		if (!g_ascii_isdigit(*p) && *p != ',' && *p != ' ')
			return FALSE;
	return TRUE;
}

/* conf_is_port_range - "MIN-MAX", 1024 <= MIN <= MAX <= 65535 */
static gboolean conf_is_port_range(const char *v)
{
	unsigned lo, hi;
	char end;

	return sscanf(v, "%u-%u%c", &lo, &hi, &end) == 2 && lo >= 1024 && lo <= hi && hi <= 65535;
}

/* conf_is_codecs - a list of pcmu and pcma, at least one */
static gboolean conf_is_codecs(const char *v)
{
	g_auto(GStrv) list = identity_split_list(v);

	if (list[0] == NULL)
		return FALSE;
	for (gsize i = 0; list[i]; i++)
		if (strcmp(list[i], "pcmu") != 0 && strcmp(list[i], "pcma") != 0)
			return FALSE;
	return TRUE;
}

/* conf_is_hostport - "host:port" with a port in 1..65535 */
static gboolean conf_is_hostport(const char *v)
{
	const char *colon = strrchr(v, ':');
	char *end;
	long port;

	if (colon == NULL || colon == v)
		return FALSE;
	port = strtol(colon + 1, &end, 10);
	return *end == '\0' && port >= 1 && port <= 65535;
}

static gboolean conf_is_over_limit(const char *v)
{
	return strcmp(v, "tempfail") == 0 || strcmp(v, "reject") == 0;
}

/* conf_is_explain_addresses - each item a local part or local@domain, without control chars */
static gboolean conf_is_explain_addresses(const char *v)
{
	g_auto(GStrv) list = identity_split_list(v);

	for (gsize i = 0; list[i]; i++) {
		const char *at = strchr(list[i], '@');

		if (at == list[i] || (at != NULL && (at[1] == '\0' || strchr(at + 1, '@'))) ||
		    strpbrk(list[i], "<>\"") != NULL)
			return FALSE;
		for (const char *p = list[i]; *p; p++)
			if (g_ascii_iscntrl(*p))
				return FALSE;
	}
	return TRUE;
}

/* conf_is_request_addresses - like explain addresses, plus "@domain" for a whole domain */
static gboolean conf_is_request_addresses(const char *v)
{
	g_auto(GStrv) list = identity_split_list(v);

	for (gsize i = 0; list[i]; i++) {
		if (list[i][0] == '@' ? !identity_domain_valid(list[i] + 1)
		                      : !conf_is_explain_addresses(list[i]))
			return FALSE;
	}
	return TRUE;
}

#define OFF(f) offsetof(CtiConfig, f)

static const ConfKey conf_keys[] = {
    {"milter", "socket", CONF_STRING, OFF(milter_socket), "unix:/run/mailcti/milter.sock", 0, 0},
    {"milter", "max_request_size", CONF_SIZE, OFF(max_request_size), "65536", 64, 1048576},
    {"milter", "max_message_size", CONF_SIZE, OFF(max_message_size), "52428800", 1024,
     G_GINT64_CONSTANT(4294967296)},
    {"milter", "tmp_dir", CONF_STRING, OFF(tmp_dir), "/var/spool/mailcti/tmp", 0, 0},
    {"milter", "user", CONF_STRING, OFF(milter_user), "postfix", 0, 0},
    {"milter", "ctid_timeout_ms", CONF_INT, OFF(ctid_timeout_ms), "10000", 100, 600000},
    {"milter", "explain_address", CONF_STRING, OFF(explain_address), "explain", 0, 0,
     conf_is_explain_addresses, "a list of local parts and addresses (local@domain)"},
    {"milter", "cti_address", CONF_STRING, OFF(cti_address), "call", 0, 0,
     conf_is_explain_addresses, "a list of local parts and addresses (local@domain)"},
    {"milter", "request_addresses", CONF_STRING, OFF(request_addresses), "", 0, 0,
     conf_is_request_addresses, "a list of local parts, addresses (local@domain) and @domains"},

    {"ctid", "socket", CONF_STRING, OFF(ctid_socket), "/run/mailcti/ctid.sock", 0, 0},
    {"ctid", "retrieval_socket", CONF_STRING, OFF(retrieval_socket), "/run/mailcti/retrieval.sock",
     0, 0},
    {"ctid", "socket_group", CONF_STRING, OFF(socket_group), "postfix", 0, 0},
    {"ctid", "retrieval_group", CONF_STRING, OFF(retrieval_group), "mail", 0, 0},
    {"ctid", "user", CONF_STRING, OFF(ctid_user), "", 0, 0},
    {"ctid", "max_connections", CONF_INT, OFF(max_connections), "64", 1, 4096},
    {"ctid", "notify_from", CONF_STRING, OFF(notify_from), "", 0, 0},
    {"ctid", "spool_dir", CONF_STRING, OFF(spool_dir), "/var/spool/mailcti", 0, 0},
    {"ctid", "jobs_db", CONF_STRING, OFF(jobs_db), "/var/lib/mailcti/jobs.db", 0, 0},
    {"ctid", "media_dir", CONF_STRING, OFF(media_dir), "/var/spool/mailcti/media", 0, 0},
    {"ctid", "sendmail", CONF_STRING, OFF(sendmail), "/usr/sbin/sendmail", 0, 0},
    {"ctid", "hostname", CONF_STRING, OFF(hostname), "", 0, 0},
    {"ctid", "notify_confirm", CONF_STRING, OFF(notify_confirm), "yes", 0, 0, conf_is_yes_no,
     "yes or no"},
    {"ctid", "default_monitor_time", CONF_INT, OFF(default_monitor_time), "120", 1, 86400},
    {"ctid", "user_trigger_expiry", CONF_INT, OFF(user_trigger_expiry), "604800", 60, 31536000},
    {"ctid", "keep_finished", CONF_INT, OFF(keep_finished), "2592000", 0, 315360000},
    {"ctid", "time_scale", CONF_INT, OFF(time_scale), "1", 1, 100000},

    {"pbx", "host", CONF_STRING, OFF(pbx_host), "127.0.0.1", 0, 0},
    {"pbx", "port", CONF_INT, OFF(pbx_port), "8800", 1, 65535},
    {"pbx", "session", CONF_SESSION, OFF(session_style), "ecma354", 0, 0},
    {"pbx", "protocol", CONF_STRING, OFF(protocol_version),
     "http://www.ecma-international.org/standards/ecma-323/csta/ed3", 0, 0},
    {"pbx", "application_id", CONF_STRING, OFF(application_id), "mailcti", 0, 0},
    {"pbx", "user", CONF_STRING, OFF(pbx_user), "", 0, 0},
    {"pbx", "password", CONF_SECRET, OFF(pbx_password), "", 0, 0},
    {"pbx", "session_duration", CONF_INT, OFF(session_duration), "300", 10, 86400},
    {"pbx", "reconnect_min_ms", CONF_INT, OFF(reconnect_min_ms), "100", 10, 600000},
    {"pbx", "reconnect_max_ms", CONF_INT, OFF(reconnect_max_ms), "500", 10, 3600000},
    {"pbx", "method", CONF_STRING, OFF(call_method), "native", 0, 0, conf_is_method,
     "native or server-lines"},
    {"pbx", "server_lines", CONF_STRING, OFF(server_lines), "", 0, 0, conf_is_lines,
     "a comma-separated list of line numbers"},
    {"pbx", "tls", CONF_STRING, OFF(pbx_tls), "no", 0, 0, conf_is_yes_no, "yes or no"},
    {"pbx", "tls_ca", CONF_STRING, OFF(tls_ca), "", 0, 0},
    {"pbx", "tls_cert", CONF_STRING, OFF(tls_cert), "", 0, 0},
    {"pbx", "tls_key", CONF_STRING, OFF(tls_key), "", 0, 0},
    {"pbx", "tls_server_name", CONF_STRING, OFF(tls_server_name), "", 0, 0},

    {"routing", "db", CONF_STRING, OFF(routes_db), "/var/lib/mailcti/routes.db", 0, 0},
    {"routing", "gateway_name", CONF_STRING, OFF(gateway_name), "", 0, 0, conf_is_gateway_name,
     "empty or a name of letters, digits, '.', '_' and '-' (at most 64)"},
    {"routing", "max_hops", CONF_INT, OFF(max_hops), "8", 1, 64},
    {"routing", "default_route", CONF_STRING, OFF(default_route), "local", 0, 0,
     conf_is_route_default, "local or refuse"},
    {"routing", "international_prefix", CONF_STRING, OFF(international_prefix), "", 0, 0,
     conf_is_prefix, "empty or 1 to 8 digits"},

    {"identity", "methods", CONF_STRING, OFF(identity_methods), "auth", 0, 0, conf_is_methods,
     "a list of auth, network and dkim, each at most once"},
    {"identity", "trusted_networks", CONF_STRING, OFF(trusted_networks), "", 0, 0,
     conf_is_networks, "a list of IPv4 or IPv6 networks (address/bits)"},
    {"identity", "authserv_id", CONF_STRING, OFF(authserv_id), "", 0, 0},
    {"identity", "dkim_domains", CONF_STRING, OFF(dkim_domains), "", 0, 0, conf_is_domains,
     "a list of domain names"},
    {"identity", "default_domain", CONF_STRING, OFF(default_domain), "", 0, 0,
     conf_is_one_domain, "empty or one domain name"},
    {"identity", "trusted_relays", CONF_STRING, OFF(trusted_relays), "", 0, 0,
     conf_is_networks, "a list of IPv4 or IPv6 networks (address/bits)"},

    {"policy", "db", CONF_STRING, OFF(policy_db), "/var/lib/mailcti/policy.db", 0, 0},
    {"policy", "default_rules", CONF_STRING, OFF(default_rules), CTI_POLICY_DEFAULT_RULES, 0, 0,
     conf_is_rules, "a list of allow:PREFIX and deny:PREFIX rules"},
    {"policy", "max_number_length", CONF_INT, OFF(max_number_length), "15", 1, 20},

    {"limits", "per_sender_per_minute", CONF_INT, OFF(per_sender_per_minute), "6", 0, 1000000},
    {"limits", "per_sender_per_hour", CONF_INT, OFF(per_sender_per_hour), "60", 0, 1000000},
    {"limits", "global_per_minute", CONF_INT, OFF(global_per_minute), "60", 0, 1000000},
    {"limits", "global_per_hour", CONF_INT, OFF(global_per_hour), "600", 0, 1000000},
    {"limits", "per_sender_concurrent", CONF_INT, OFF(per_sender_concurrent), "4", 0, 1000000},
    {"limits", "global_concurrent", CONF_INT, OFF(global_concurrent), "32", 0, 1000000},
    {"limits", "per_sender_notifications_per_hour", CONF_INT, OFF(notify_per_hour), "30", 0,
     1000000},
    {"limits", "over_limit", CONF_STRING, OFF(over_limit), "tempfail", 0, 0, conf_is_over_limit,
     "tempfail or reject"},

    {"media", "socket", CONF_STRING, OFF(media_socket), "/run/mailcti/media.sock", 0, 0},
    {"media", "registrar", CONF_STRING, OFF(media_registrar), "127.0.0.1:5060", 0, 0,
     conf_is_hostport, "host:port"},
    {"media", "domain", CONF_STRING, OFF(media_domain), "", 0, 0},
    {"media", "lines", CONF_STRING, OFF(media_lines), "", 0, 0, conf_is_lines,
     "a comma-separated list of line numbers"},
    {"media", "password", CONF_SECRET, OFF(media_password), "", 0, 0},
    {"media", "local_address", CONF_STRING, OFF(media_local_address), "127.0.0.1", 0, 0},
    {"media", "sip_port", CONF_INT, OFF(media_sip_port), "5070", 1, 65535},
    {"media", "rtp_ports", CONF_STRING, OFF(media_rtp_ports), "16384-16999", 0, 0,
     conf_is_port_range, "MIN-MAX, 1024 <= MIN <= MAX <= 65535"},
    {"media", "codecs", CONF_STRING, OFF(media_codecs), "pcmu,pcma", 0, 0, conf_is_codecs,
     "a list of pcmu and pcma"},
    {"media", "user", CONF_STRING, OFF(media_user), "", 0, 0},
    {"media", "spool_dir", CONF_STRING, OFF(media_spool_dir), "/var/spool/mailcti/media-leg", 0,
     0},

    {"log", "syslog_socket", CONF_STRING, OFF(syslog_socket), "/dev/log", 0, 0},
};

static const ConfKey *conf_find(const char *group, const char *key)
{
	for (gsize i = 0; i < G_N_ELEMENTS(conf_keys); i++)
		if (strcmp(conf_keys[i].group, group) == 0 &&
		    (key == NULL || strcmp(conf_keys[i].key, key) == 0))
			return &conf_keys[i];
	return NULL;
}

static gboolean conf_parse_session(const char *text, CtiSessionStyle *out)
{
	if (strcmp(text, "ecma354") == 0)
		*out = CTI_SESSION_ECMA354;
	else if (strcmp(text, "system-status") == 0)
		*out = CTI_SESSION_SYSTEM_STATUS;
	else
		return FALSE;
	return TRUE;
}

static const char *conf_session_name(CtiSessionStyle style)
{
	switch (style) {
	case CTI_SESSION_ECMA354:
		return "ecma354";
	case CTI_SESSION_SYSTEM_STATUS:
		return "system-status";
	}
	return "?";
}

/* conf_parse_int - a decimal integer in [min, max] */
static gboolean conf_parse_int(const ConfKey *k, const char *text, gint64 *out, GError **error)
{
	gint64 v;
	g_autoptr(GError) local = NULL;

	if (!g_ascii_string_to_signed(text, 10, k->min, k->max, &v, &local)) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		            "[%s] %s: '%s' is not an integer in %" G_GINT64_FORMAT
		            "..%" G_GINT64_FORMAT,
		            k->group, k->key, text, k->min, k->max);
		return FALSE;
	}
	*out = v;
	return TRUE;
}

/* conf_set - store TEXT for key K into CONFIG */
static gboolean conf_set(CtiConfig *config, const ConfKey *k, const char *text, GError **error)
{
	char *base = (char *)config;
	gint64 v = 0;

	switch (k->type) {
	case CONF_STRING:
	case CONF_SECRET: {
		char **slot = (char **)(base + k->offset);
		if (k->check && !k->check(text)) {
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			            "[%s] %s: '%s' is not %s", k->group, k->key, text, k->expect);
			return FALSE;
		}
		g_free(*slot);
		*slot = g_strdup(text);
		return TRUE;
	}
	case CONF_INT:
		if (!conf_parse_int(k, text, &v, error))
			return FALSE;
		*(int *)(base + k->offset) = (int)v;
		return TRUE;
	case CONF_SIZE:
		if (!conf_parse_int(k, text, &v, error))
			return FALSE;
		*(gsize *)(base + k->offset) = (gsize)v;
		return TRUE;
	case CONF_SESSION:
		if (!conf_parse_session(text, (CtiSessionStyle *)(base + k->offset))) {
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			            "[%s] %s: '%s' is not ecma354 or system-status", k->group,
			            k->key, text);
			return FALSE;
		}
		return TRUE;
	}
	return FALSE;
}

/* conf_line - 1-based line of KEY in GROUP (KEY NULL: the group header) in TEXT, 0 if not found */
static int conf_line(const char *text, const char *group, const char *key)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	gboolean in_group = FALSE;

	for (int i = 0; lines[i]; i++) {
		char *l = g_strstrip(lines[i]);
		gsize klen = key ? strlen(key) : 0;

		if (l[0] == '[') {
			in_group = strlen(l) == strlen(group) + 2 &&
			           strncmp(l + 1, group, strlen(group)) == 0;
			if (in_group && !key)
				return i + 1;
		} else if (in_group && key && strncmp(l, key, klen) == 0 &&
		           (l[klen] == '=' || l[klen] == ' ')) {
			return i + 1;
		}
	}
	return 0;
}

/* conf_add_line - append " (line N)" to an error about GROUP/KEY */
static void conf_add_line(GError **error, const char *text, const char *group, const char *key)
{
	int line = conf_line(text, group, key);

	if (error && *error && line > 0) {
		char *msg = g_strdup_printf("%s (line %d)", (*error)->message, line);
		g_free((*error)->message);
		(*error)->message = msg;
	}
}

/* conf_apply_file - every group and key of KF (loaded from TEXT) onto CONFIG */
static gboolean conf_apply_file(CtiConfig *config, GKeyFile *kf, const char *text, GError **error)
{
	g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);

	for (gsize g = 0; groups[g]; g++) {
		g_auto(GStrv) keys = NULL;

		if (!conf_find(groups[g], NULL)) {
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
			            "unknown group [%s]", groups[g]);
			conf_add_line(error, text, groups[g], NULL);
			return FALSE;
		}
		keys = g_key_file_get_keys(kf, groups[g], NULL, NULL);
		for (gsize i = 0; keys && keys[i]; i++) {
			const ConfKey *k = conf_find(groups[g], keys[i]);
			g_autofree char *value = NULL;

			if (!k) {
				g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
				            "[%s] unknown key '%s'", groups[g], keys[i]);
				conf_add_line(error, text, groups[g], keys[i]);
				return FALSE;
			}
			value = g_key_file_get_string(kf, groups[g], keys[i], error);
			if (!value) {
				g_prefix_error(error, "[%s] %s: ", groups[g], keys[i]);
				conf_add_line(error, text, groups[g], keys[i]);
				return FALSE;
			}
			g_strstrip(value);
			if (!conf_set(config, k, value, error)) {
				conf_add_line(error, text, groups[g], keys[i]);
				return FALSE;
			}
		}
	}
	return TRUE;
}

/* conf_fill_computed - defaults that depend on the machine */
static void conf_fill_computed(CtiConfig *config)
{
	if (!config->hostname || !*config->hostname) {
		g_free(config->hostname);
		config->hostname = g_strdup(g_get_host_name());
	}
	if (!config->notify_from || !*config->notify_from) {
		g_free(config->notify_from);
		config->notify_from = g_strdup_printf("mailcti@%s", config->hostname);
	}
}

/* config_load - defaults, then PATH when given */
CtiConfig *config_load(const char *path, GError **error)
{
	g_autoptr(CtiConfig) config = g_new0(CtiConfig, 1);

	for (gsize i = 0; i < G_N_ELEMENTS(conf_keys); i++)
		if (!conf_set(config, &conf_keys[i], conf_keys[i].def, error))
			g_return_val_if_reached(NULL);
	if (path) {
		g_autoptr(GKeyFile) kf = g_key_file_new();
		g_autofree char *text = NULL;
		gsize len = 0;

		config->path = g_strdup(path);
		if (!g_file_get_contents(path, &text, &len, error) ||
		    !g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, error) ||
		    !conf_apply_file(config, kf, text, error)) {
			g_prefix_error(error, "%s: ", path);
			return NULL;
		}
	}
	if (config->reconnect_max_ms < config->reconnect_min_ms) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		            "%s: [pbx] reconnect_max_ms (%d) is less than reconnect_min_ms (%d)",
		            path ? path : "defaults", config->reconnect_max_ms,
		            config->reconnect_min_ms);
		return NULL;
	}
	if (*config->tls_key != '\0' && *config->tls_cert == '\0') {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		            "%s: [pbx] tls_key is set but tls_cert is not",
		            path ? path : "defaults");
		return NULL;
	}
	conf_fill_computed(config);
	return g_steal_pointer(&config);
}

/* config_free - free every string and the struct */
void config_free(CtiConfig *config)
{
	if (!config)
		return;
	for (gsize i = 0; i < G_N_ELEMENTS(conf_keys); i++) {
		if (conf_keys[i].type == CONF_STRING || conf_keys[i].type == CONF_SECRET)
			g_free(*(char **)((char *)config + conf_keys[i].offset));
	}
	g_free(config->path);
	g_free(config);
}

/* conf_value_text - the effective value of K as text (transfer full) */
static char *conf_value_text(const CtiConfig *config, const ConfKey *k)
{
	const char *base = (const char *)config;

	switch (k->type) {
	case CONF_STRING:
		return g_strdup(*(char *const *)(base + k->offset));
	case CONF_SECRET:
		return g_strdup(**(char *const *)(base + k->offset) ? "(set)" : "");
	case CONF_INT:
		return g_strdup_printf("%d", *(const int *)(base + k->offset));
	case CONF_SIZE:
		return g_strdup_printf("%" G_GSIZE_FORMAT, *(const gsize *)(base + k->offset));
	case CONF_SESSION:
		return g_strdup(conf_session_name(*(const CtiSessionStyle *)(base + k->offset)));
	}
	return g_strdup("");
}

static int conf_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* config_address_listed - see config.h */
gboolean config_address_listed(const char *list, const char *addr)
{
	g_autofree char *bare = g_strdup(addr ? addr : "");
	g_auto(GStrv) entries = g_strsplit_set(list ? list : "", ", \t", -1);
	gsize len = strlen(bare);
	const char *at;

	if (len >= 2 && bare[0] == '<' && bare[len - 1] == '>') {
		memmove(bare, bare + 1, len - 2);
		bare[len - 2] = '\0';
	}
	at = strrchr(bare, '@');
	for (gsize i = 0; entries[i]; i++) {
		const char *e = entries[i];

		if (*e == '\0')
			continue;
		if (e[0] == '@' ? at != NULL && g_ascii_strcasecmp(e + 1, at + 1) == 0
		    : strchr(e, '@') != NULL
		        ? g_ascii_strcasecmp(e, bare) == 0
		        : at != NULL && strlen(e) == (gsize)(at - bare) &&
		              g_ascii_strncasecmp(e, bare, strlen(e)) == 0)
			return TRUE;
	}
	return FALSE;
}

/* config_is_cti_address - see config.h */
gboolean config_is_cti_address(const CtiConfig *config, const char *addr)
{
	return config_address_listed(config->cti_address, addr);
}

/* config_dump - "group.key = value" for every setting, sorted */
char *config_dump(const CtiConfig *config)
{
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
	GString *out = g_string_new(NULL);

	for (gsize i = 0; i < G_N_ELEMENTS(conf_keys); i++) {
		g_autofree char *v = conf_value_text(config, &conf_keys[i]);
		g_ptr_array_add(
		    lines, g_strdup_printf("%s.%s = %s", conf_keys[i].group, conf_keys[i].key, v));
	}
	g_ptr_array_sort(lines, conf_cmp);
	for (guint i = 0; i < lines->len; i++)
		g_string_append_printf(out, "%s\n", (const char *)lines->pdata[i]);
	return g_string_free(out, FALSE);
}
