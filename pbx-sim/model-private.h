/* model-private.h - internals shared by model.c, model-call.c and model-route.c. */
#pragma once

#include "events.h"
#include "model.h"

typedef struct {
	const char *redir;   /* lastRedirectionDevice for the new leg */
	const char *cause;   /* Delivered cause */
	const char *join_by; /* join a conference on answer (SingleStepConferenceCall) */
} Offer;

typedef struct {
	const SimConf *conf;
	GHashTable *devices;  /* id -> ModelDevice */
	GHashTable *calls;    /* id -> ModelCall */
	GHashTable *monitors; /* xref -> ModelMonitor */
	GHashTable *routes;   /* crossRefIdentifier -> ModelRoute */
	GHashTable *sip_legs; /* SIP leg id -> ModelConn (model-sip.c) */
	guint next_call, next_xref, next_route, next_reg;
} ModelState;

extern ModelState model;

ModelConn *conn_new(ModelCall *call, const char *device, ModelDevice *dev);
void conn_set(ModelConn *conn, ConnState state, const char *cause);
void conn_remove(ModelConn *conn);
void conn_detach(ModelConn *conn);
void conn_attach(ModelConn *conn, ModelCall *call);
guint call_live_conns(const ModelCall *call);
void call_destroy(ModelCall *call);
void call_check_end(ModelCall *call, const char *cause, GPtrArray *also);
GPtrArray *recipients(ModelCall *a, ModelCall *b, ModelDevice *extra);
void emit(ModelCall *call, ModelDevice *extra, const EvInfo *ev);

void offer(ModelCall *call, const char *number, const Offer *o);
void deliver(ModelConn *conn, const char *cause);
void route_request(ModelConn *conn);
void route_free(ModelRoute *route);
void line_check(ModelConn *conn);

void call_originate(ModelConn *a);
void call_fail(ModelConn *conn, const char *cause);
gboolean model_sip_ring(ModelConn *conn);
void model_sip_drop(ModelConn *conn);
