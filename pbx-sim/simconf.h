/* simconf.h - the pbx-sim configuration file (GKeyFile). */
#pragma once

#include <glib.h>

typedef enum {
	SIM_DEV_EXTENSION,
	SIM_DEV_EXTERNAL,
	SIM_DEV_LINE,
} SimDeviceKind;

typedef enum {
	SIM_BEH_ANSWER_AFTER,
	SIM_BEH_BUSY,
	SIM_BEH_BUSY_FOR,
	SIM_BEH_NEVER_ANSWER,
	SIM_BEH_DECLINE,
	SIM_BEH_INVALID,
	SIM_BEH_DND,
	SIM_BEH_FAX,
	SIM_BEH_UNREACHABLE,
} SimBehaviourKind;

typedef struct {
	SimBehaviourKind kind;
	double secs; /* answer-after / busy-for argument, simulated seconds */
} SimBehaviour;

typedef struct {
	char *lo, *hi; /* a single number has lo == hi */
	SimDeviceKind kind;
	SimBehaviour beh;
	char *peer;    /* line board: the line this line is wired to */
	double talk_time; /* simulated seconds an answered external party talks; < 0 = [sim] talk_time */
} SimDeviceSpec;

typedef struct {
	double heartbeat_interval;  /* wall seconds, 0 = off */
	int heartbeat_max_missed;
	double fail_release;        /* simulated seconds before a failed call is released */
	double ring_time;           /* simulated seconds per ring (forwardNoAns) */
	double route_timeout;       /* simulated seconds a RouteRequest waits */
	double session_max;         /* longest ECMA-354 session duration granted */
	double talk_time;           /* simulated seconds before an answered external party hangs up, 0 = never */
	char *media_dir;            /* voice unit files; relative to the config file */
	char *user, *password;      /* required ECMA-354 login when set */
	char *prefix;               /* element prefix for what pbx-sim sends, or NULL */
	char *sip_password;         /* digest password of every extension on the SIP side */
	GPtrArray *specs;           /* SimDeviceSpec* in file order */
} SimConf;

SimConf *simconf_load(const char *path, GError **error);
void simconf_free(SimConf *conf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimConf, simconf_free)
const SimDeviceSpec *simconf_lookup(const SimConf *conf, const char *number);
gboolean simconf_parse_behaviour(const char *text, SimBehaviour *out, GError **error);
char *simconf_behaviour_str(const SimBehaviour *beh);
const char *simconf_kind_str(SimDeviceKind kind);
