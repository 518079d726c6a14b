/* simconf.c - reads the pbx-sim configuration: [sim] settings and one group per
 * number or number range ("2001-2010") with kind= and behaviour=.
 *
 * The SimConf owns all its strings.  A bad group, kind or behaviour is a load
 * error naming the group (tier 2: pbx-sim exits).  Lookups prefer an exact number
 * over a range; ranges match numbers of the same length numerically.
 */
#include "simconf.h"

#include <stdlib.h>
#include <string.h>

static void
spec_free(SimDeviceSpec *s)
{
	g_free(s->lo);
	g_free(s->hi);
	g_free(s->peer);
	g_free(s);
}

/* simconf_free - free a configuration; NULL is a no-op */
void
simconf_free(SimConf *conf)
{
	if (conf == NULL)
		return;
	g_free(conf->media_dir);
	g_free(conf->user);
	g_free(conf->password);
	g_free(conf->prefix);
	g_free(conf->sip_password);
	g_ptr_array_unref(conf->specs);
	g_free(conf);
}

typedef struct {
	const char *name;
	SimBehaviourKind kind;
	gboolean takes_secs;
} BehaviourRow;

static const BehaviourRow behaviour_rows[] = {
	{ "answer-after", SIM_BEH_ANSWER_AFTER, TRUE },
	{ "busy", SIM_BEH_BUSY, FALSE },
	{ "busy-for", SIM_BEH_BUSY_FOR, TRUE },
	{ "never-answer", SIM_BEH_NEVER_ANSWER, FALSE },
	{ "decline", SIM_BEH_DECLINE, FALSE },
	{ "invalid", SIM_BEH_INVALID, FALSE },
	{ "dnd", SIM_BEH_DND, FALSE },
	{ "fax", SIM_BEH_FAX, FALSE },
	{ "unreachable", SIM_BEH_UNREACHABLE, FALSE },
};

/* simconf_parse_behaviour - parse "answer-after 2", "busy", ... */
gboolean
simconf_parse_behaviour(const char *text, SimBehaviour *out, GError **error)
{
	g_auto(GStrv) all = g_strsplit_set(text, " \t", -1);
	const char *words[3] = { NULL, NULL, NULL };
	int n = 0;
	for (int i = 0; all[i] != NULL; i++) {
		if (all[i][0] == '\0')
			continue;
		if (n == 3)
			break;
		words[n++] = all[i];
	}
	for (gsize r = 0; r < G_N_ELEMENTS(behaviour_rows); r++) {
		const BehaviourRow *row = &behaviour_rows[r];
		if (n == 0 || strcmp(words[0], row->name) != 0)
			continue;
		if (n != (row->takes_secs ? 2 : 1))
			break;
		out->kind = row->kind;
		out->secs = 0;
		if (row->takes_secs) {
			char *end = NULL;
			out->secs = g_ascii_strtod(words[1], &end);
			if (end == words[1] || *end != '\0' || out->secs < 0)
				break;
		}
		return TRUE;
	}
	g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		    "bad behaviour \"%s\"", text);
	return FALSE;
}

/* simconf_behaviour_str - the behaviour in config syntax (transfer full) */
char *
simconf_behaviour_str(const SimBehaviour *beh)
{
	for (gsize r = 0; r < G_N_ELEMENTS(behaviour_rows); r++) {
		if (behaviour_rows[r].kind != beh->kind)
			continue;
		if (behaviour_rows[r].takes_secs)
			return g_strdup_printf("%s %g", behaviour_rows[r].name, beh->secs);
		return g_strdup(behaviour_rows[r].name);
	}
	g_assert_not_reached();
}

/* simconf_kind_str - "extension", "external" or "line" */
const char *
simconf_kind_str(SimDeviceKind kind)
{
	switch (kind) {
	case SIM_DEV_EXTENSION: return "extension";
	case SIM_DEV_EXTERNAL: return "external";
	case SIM_DEV_LINE: return "line";
	}
	return "?";
}

static gboolean
parse_kind(const char *text, SimDeviceKind *kind)
{
	static const SimDeviceKind kinds[] = { SIM_DEV_EXTENSION, SIM_DEV_EXTERNAL, SIM_DEV_LINE };
	for (gsize i = 0; i < G_N_ELEMENTS(kinds); i++) {
		if (strcmp(text, simconf_kind_str(kinds[i])) == 0) {
			*kind = kinds[i];
			return TRUE;
		}
	}
	return FALSE;
}

static gboolean
all_digits(const char *s)
{
	if (*s == '\0')
		return FALSE;
	for (; *s != '\0'; s++)
		if (!g_ascii_isdigit(*s))
			return FALSE;
	return TRUE;
}

static gboolean
parse_group_name(const char *group, SimDeviceSpec *spec)
{
	const char *dash = strchr(group, '-');
	if (dash != NULL) {
		g_autofree char *lo = g_strndup(group, dash - group);
		if (all_digits(lo) && all_digits(dash + 1) && strlen(lo) == strlen(dash + 1)) {
			if (strcmp(lo, dash + 1) > 0)
				return FALSE; /* a reversed range is a mistake, not a name */
			spec->lo = g_steal_pointer(&lo);
			spec->hi = g_strdup(dash + 1);
			return TRUE;
		}
	}
	if (*group == '\0')
		return FALSE;
	spec->lo = g_strdup(group);
	spec->hi = g_strdup(group);
	return TRUE;
}

/* An optional number of seconds >= 0 in GROUP; absent leaves *OUT alone. */
static gboolean
get_secs(GKeyFile *kf, const char *group, const char *key, double *out, GError **error)
{
	g_autofree char *text = g_key_file_get_string(kf, group, key, NULL);
	if (text == NULL)
		return TRUE;
	char *end = NULL;
	double v = g_ascii_strtod(text, &end);
	if (end == text || *end != '\0' || v < 0) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "bad %s \"%s\" (seconds, 0 or more)", key, text);
		return FALSE;
	}
	*out = v;
	return TRUE;
}

static SimDeviceSpec *
load_spec(GKeyFile *kf, const char *group, GError **error)
{
	SimDeviceSpec *spec = g_new0(SimDeviceSpec, 1);
	g_autofree char *kind = g_key_file_get_string(kf, group, "kind", NULL);
	g_autofree char *beh = g_key_file_get_string(kf, group, "behaviour", NULL);
	spec->peer = g_key_file_get_string(kf, group, "peer", NULL);
	spec->kind = SIM_DEV_EXTENSION;
	spec->beh.kind = SIM_BEH_ANSWER_AFTER;
	spec->beh.secs = 1;
	spec->talk_time = -1;
	if (!parse_group_name(group, spec) || (kind != NULL && !parse_kind(kind, &spec->kind))) {
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			    "[%s]: bad group name or kind", group);
		spec_free(spec);
		return NULL;
	}
	if ((beh != NULL && !simconf_parse_behaviour(beh, &spec->beh, error)) ||
	    !get_secs(kf, group, "talk_time", &spec->talk_time, error)) {
		g_prefix_error(error, "[%s]: ", group);
		spec_free(spec);
		return NULL;
	}
	return spec;
}

static double
get_double(GKeyFile *kf, const char *key, double dflt)
{
	g_autoptr(GError) err = NULL;
	double v = g_key_file_get_double(kf, "sim", key, &err);
	return err != NULL ? dflt : v;
}

static gboolean
load_sim(GKeyFile *kf, const char *path, SimConf *conf, GError **error)
{
	conf->heartbeat_interval = get_double(kf, "heartbeat_interval", 30);
	conf->heartbeat_max_missed = (int)get_double(kf, "heartbeat_max_missed", 3);
	conf->fail_release = get_double(kf, "fail_release", 10);
	conf->ring_time = get_double(kf, "ring_time", 5);
	conf->route_timeout = get_double(kf, "route_timeout", 15);
	conf->session_max = get_double(kf, "session_max", 3600);
	conf->user = g_key_file_get_string(kf, "sim", "user", NULL);
	conf->password = g_key_file_get_string(kf, "sim", "password", NULL);
	conf->prefix = g_key_file_get_string(kf, "sim", "prefix", NULL);
	conf->sip_password = g_key_file_get_string(kf, "sim", "sip_password", NULL);
	if (!get_secs(kf, "sim", "talk_time", &conf->talk_time, error)) {
		g_prefix_error(error, "[sim]: ");
		return FALSE;
	}
	g_autofree char *media = g_key_file_get_string(kf, "sim", "media_dir", NULL);
	if (media == NULL)
		return TRUE;
	if (g_path_is_absolute(media)) {
		conf->media_dir = g_steal_pointer(&media);
	} else {
		g_autofree char *dir = g_path_get_dirname(path);
		conf->media_dir = g_build_filename(dir, media, NULL);
	}
	return TRUE;
}

/* simconf_load - read PATH (transfer full) */
SimConf *
simconf_load(const char *path, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, error)) {
		g_prefix_error(error, "%s: ", path);
		return NULL;
	}
	g_autoptr(SimConf) conf = g_new0(SimConf, 1);
	conf->specs = g_ptr_array_new_with_free_func((GDestroyNotify)spec_free);
	if (!load_sim(kf, path, conf, error)) {
		g_prefix_error(error, "%s: ", path);
		return NULL;
	}
	g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
	for (int i = 0; groups[i] != NULL; i++) {
		if (strcmp(groups[i], "sim") == 0)
			continue;
		SimDeviceSpec *spec = load_spec(kf, groups[i], error);
		if (spec == NULL) {
			g_prefix_error(error, "%s: ", path);
			return NULL;
		}
		g_ptr_array_add(conf->specs, spec);
	}
	return g_steal_pointer(&conf);
}

/* simconf_lookup - the spec covering NUMBER, or NULL when it is not configured */
const SimDeviceSpec *
simconf_lookup(const SimConf *conf, const char *number)
{
	for (guint i = 0; i < conf->specs->len; i++) {
		const SimDeviceSpec *s = g_ptr_array_index(conf->specs, i);
		if (strcmp(s->lo, number) == 0)
			return s;
	}
	gsize len = strlen(number);
	if (!all_digits(number))
		return NULL;
	for (guint i = 0; i < conf->specs->len; i++) {
		const SimDeviceSpec *s = g_ptr_array_index(conf->specs, i);
		if (strlen(s->lo) == len && strcmp(s->lo, s->hi) != 0 &&
		    strcmp(s->lo, number) <= 0 && strcmp(number, s->hi) <= 0)
			return s;
	}
	return NULL;
}
