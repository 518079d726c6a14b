/* events.h - CSTA event encoding and delivery to monitors. */
#pragma once

#include <glib.h>

#include "model.h"
#include "xml.h"

typedef enum {
	EV_SERVICE_INITIATED,
	EV_ORIGINATED,
	EV_DELIVERED,
	EV_ESTABLISHED,
	EV_FAILED,
	EV_CONNECTION_CLEARED,
	EV_CALL_CLEARED,
	EV_HELD,
	EV_RETRIEVED,
	EV_DIVERTED,
	EV_CONFERENCED,
	EV_TRANSFERED,
	EV_FORWARDING,
	EV_PLAY,
	EV_STOP,
} EvKind;

typedef struct {
	const char *new_call, *old_call, *device;
} EvListItem;

typedef struct {
	EvKind kind;
	const char *call, *device;     /* the subject ConnectionID */
	const char *subject;           /* initiating/alerting/answering/... device */
	const char *calling, *called;
	const char *redir;             /* lastRedirectionDevice, NULL = notRequired */
	const char *other;             /* newDestination / addedParty / transferredToDevice */
	const char *old_call, *old_device; /* secondaryOldCall */
	const char *result_call;       /* call whose local state is reported (default: call) */
	const char *cause;
	const EvListItem *items;
	guint n_items;
	const char *fwd_type, *fwd_to;
	gboolean fwd_on;
	const char *message;
} EvInfo;

void events_emit(GPtrArray *monitors, const EvInfo *ev);
guint events_filter_parse(const XmlNode *filter);
void events_conn_list(GString *xml, const char *name, const EvListItem *items, guint n);
