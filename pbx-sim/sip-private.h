/* sip-private.h - internals shared by sip.c (the SIP thread, calls, RTP relay)
 * and sip-reg.c (the registrar). */
#pragma once

#include <re.h>

#include "simconf.h"
#include "sip.h"

#define SIP_REALM "pbx-sim"

typedef struct {
	const SimConf *conf;    /* immutable while the thread runs */
	char *password;         /* the digest password of every extension */
	struct sip *sip;        /* everything libre: SIP thread only */
	struct sipsess_sock *sock;
	struct sip_lsnr *lsnr;
	struct mqueue *mq;
	struct sa laddr;
	GHashTable *nonces;     /* nonce -> expiry (monotonic us); SIP thread only */
	GMutex lock;            /* guards regs, read by the main thread too */
	GHashTable *regs;       /* extension -> SipReg* */
} SipState;

typedef struct {
	char *contact; /* the phone's Contact URI */
	gint64 expires; /* monotonic us */
} SipReg;

extern SipState sipst;

/* A GLib copy of a libre string slice (libre's pl_strdup allocates with mem_alloc). */
static inline char *
pl_gstrdup(const struct pl *pl)
{
	return g_strndup(pl->p ? pl->p : "", pl->l);
}

bool sipreg_request(const struct sip_msg *msg, void *arg);
char *sipreg_contact(const char *ext);
void sipreg_free(SipReg *r);
void sip_post_log(const char *event, const char *device, guint leg, guint scode, const char *detail);
