/* model.h - the simulated switch: devices, calls, connections, monitors. */
#pragma once

#include <glib.h>

#include "session.h"
#include "simconf.h"
#include "sip.h"

typedef enum {
	CONN_NULL,
	CONN_INITIATED,
	CONN_ALERTING,
	CONN_CONNECTED,
	CONN_HOLD,
	CONN_QUEUED,
	CONN_FAIL,
} ConnState;

typedef struct ModelDevice ModelDevice;
typedef struct ModelCall ModelCall;
typedef struct ModelConn ModelConn;
typedef struct ModelMonitor ModelMonitor;
typedef struct ModelRoute ModelRoute;

struct ModelDevice {
	char *id;
	SimDeviceKind kind;
	SimBehaviour beh;
	double beh_since;     /* simulated time the behaviour was set (busy-for) */
	char *peer;           /* line board partner */
	char *path_key;       /* the call pair whose path was last logged */
	GHashTable *fwd;      /* forwardingType -> forwardDN */
	int ring_count;       /* forwardNoAns rings */
	double talk_time;     /* external party: simulated seconds it talks once it answered, 0 = until cleared */
	GList *monitors;      /* ModelMonitor* (device monitors) */
	GList *conns;         /* ModelConn* */
	ModelCall *busy_call; /* the call made by the "busy" control command */
	SessClient *route_owner;
	SessClient *line_owner; /* server line: the client that monitors it first */
	char *route_reg_id;
};

struct ModelCall {
	char *id;
	GPtrArray *conns;     /* ModelConn*, owned */
	char *calling;        /* the first calling device */
	char *called;         /* the number originally dialled */
	int diversions;       /* loop guard */
	gboolean clearing;
};

struct ModelConn {
	ModelCall *call;
	char *device;          /* device id (also for unconfigured numbers) */
	ModelDevice *dev;      /* NULL for unconfigured numbers */
	ConnState state;
	char *last_redir;      /* lastRedirectionDevice, NULL = notRequired */
	const char *join_cause; /* answered leg joins a conference: ConferencedEvent cause */
	char *join_by;         /* device that asked for the join (SingleStepConferenceCall) */
	guint timer;           /* answer / decline / fail-release */
	guint noans_timer;     /* forwardNoAns */
	guint play_timer;
	char *playing;         /* message being played (voice unit) */
	ModelRoute *route;     /* pending RouteRequest while queued at a route point */
	guint sip_leg;         /* the phone's SIP leg (sip.c) when the device is registered, or 0 */
};

struct ModelMonitor {
	char *xref;
	ModelDevice *dev;  /* device monitor, or NULL */
	char *call_id;     /* call monitor, or NULL */
	SessClient *client;
	guint filter;      /* 1 << EvKind for each event filtered out */
};

struct ModelRoute {
	char *xref;
	ModelConn *conn;
	SessClient *client;
	char *reg_id;
	guint timer;
};

void model_init(const SimConf *conf);
void model_shutdown(void);
const SimConf *model_conf(void);

ModelDevice *model_device(const char *id);
ModelCall *model_call(const char *id);
ModelConn *model_conn(const ModelCall *call, const char *device);
ModelConn *model_conn_in_state(const ModelDevice *dev, ConnState state);
const char *model_state_str(ConnState state);
const char *model_local_state(const char *call_id, const ModelDevice *dev);
gboolean model_device_busy(const ModelDevice *dev);

ModelMonitor *model_monitor_start(SessClient *c, ModelDevice *dev, const char *call_id);
ModelMonitor *model_monitor(const char *xref);
void model_monitor_stop(ModelMonitor *m);
void model_client_gone(SessClient *c);

ModelCall *model_call_new(void);
void model_make_call(ModelCall *call, ModelDevice *from, const char *to, const char *cause,
		     gboolean prompted);
void model_inbound_call(ModelCall *call, const char *from, const char *to);
void model_answer(ModelConn *conn);
void model_clear_connection(ModelConn *conn, const char *cause);
void model_clear_call(ModelCall *call, const char *cause);
void model_hold(ModelConn *conn, const char *cause);
void model_retrieve(ModelConn *conn);
void model_consult(ModelConn *held, ModelCall *call2, const char *to);
ModelCall *model_conference(ModelConn *held, ModelConn *active);
void model_ss_conference(ModelConn *active, const char *join, gboolean silent);
ModelCall *model_transfer(ModelConn *held, ModelConn *active);
void model_ss_transfer(ModelConn *active, const char *to);
void model_deflect(ModelConn *alerting, const char *to);
void model_set_forwarding(ModelDevice *dev, const char *type, gboolean on, const char *dn,
			  int ring_count);
void model_set_behaviour(ModelDevice *dev, const SimBehaviour *beh);
gboolean model_go_busy(ModelDevice *dev);
gboolean model_go_free(ModelDevice *dev);

char *model_route_register(SessClient *c, ModelDevice *dev);
gboolean model_route_cancel(SessClient *c, const char *reg_id);
ModelRoute *model_route(const char *xref);
void model_route_select(ModelRoute *route, const char *dest, gboolean route_used);
void model_route_end(ModelRoute *route);

gboolean model_play_check(ModelConn *conn, const char *message, GError **error);
gboolean model_play(ModelConn *conn, const char *message, GError **error);
gboolean model_stop_play(ModelConn *conn);

void model_dump(GString *json);

gboolean model_sip_device(const ModelDevice *dev);
void model_sip_event(guint leg, SipLegEvent ev, guint scode, gpointer data);
