/* config - mailcti.conf, one GKeyFile shared by every program.
 *
 * Every setting has a compiled-in default, so an empty file is a valid
 * configuration.  Unknown groups or keys are an error at start-up (tier 2),
 * naming the group, key and line.  The struct is read-only after load.
 */
#ifndef MAILCTI_CONFIG_H
#define MAILCTI_CONFIG_H

#include <glib.h>

typedef enum {
	CTI_SESSION_ECMA354,       /* StartApplicationSession / Reset / Stop */
	CTI_SESSION_SYSTEM_STATUS, /* SystemStatus + SystemRegister heartbeats */
} CtiSessionStyle;

typedef struct {
	char *path;                /* the file it came from, NULL for defaults */

	/* [milter] */
	char *milter_socket;       /* socket=  libmilter spec, "unix:/run/mailcti/milter.sock" */
	gsize max_request_size;    /* max_request_size= bytes of the x-cti part, 65536 */
	gsize max_message_size;    /* max_message_size= bytes, 52428800 */
	char *tmp_dir;             /* tmp_dir= where the milter spools a candidate mail, "/var/spool/mailcti/tmp" */
	char *milter_user;         /* user= drop root to this user after binding, "postfix"; "" keeps the current user */
	int ctid_timeout_ms;       /* ctid_timeout_ms= how long to wait for ctid's durable ack, 10000 */
	char *explain_address;     /* explain_address= dry-run addresses: "local" (any domain) or "local@domain" list, "explain"; "" = off */
	char *cti_address;         /* cti_address= where Trigger: system requests run: "local" (any domain) or "local@domain" list, "call"; "" = none */
	char *request_addresses;   /* request_addresses= where requests are mailed: "local", "local@domain", "@domain" list; "" = any recipient */

	/* [ctid] */
	char *ctid_socket;         /* socket= control/submission socket, "/run/mailcti/ctid.sock" */
	char *retrieval_socket;    /* retrieval_socket= for the Dovecot plugin, "/run/mailcti/retrieval.sock" */
	char *socket_group;        /* socket_group= group allowed on socket (the milter's), "postfix"; "" = leave */
	char *retrieval_group;     /* retrieval_group= the mail users' group for retrieval_socket, "mail"; "" = leave */
	char *ctid_user;           /* user= drop root to this user after binding, ""= keep */
	int max_connections;       /* max_connections= open ipc connections to ctid, 64 */
	char *notify_from;         /* notify_from= From: of notifications, "mailcti@<hostname>" */
	char *spool_dir;           /* spool_dir= "/var/spool/mailcti" */
	char *jobs_db;             /* jobs_db= "/var/lib/mailcti/jobs.db" */
	char *media_dir;           /* media_dir= "/var/spool/mailcti/media" */
	char *sendmail;            /* sendmail= command line, "/usr/sbin/sendmail" */
	char *hostname;            /* hostname= used in Message-IDs and texts, g_get_host_name() */
	char *notify_confirm;      /* notify_confirm= yes: a notification counts once cti-milter confirmed it (NOTIFIED), "yes" */
	int default_monitor_time;  /* default_monitor_time= seconds, 120 */
	int user_trigger_expiry;   /* user_trigger_expiry= seconds a Trigger: user job waits, 604800 */
	int keep_finished;         /* keep_finished= seconds a finished job and its spool file are kept, 2592000; 0 = forever */
	int time_scale;            /* time_scale= TEST ONLY: Retry intervals run this many times faster, 1 */

	/* [pbx] */
	char *pbx_host;            /* host= "127.0.0.1" */
	int pbx_port;              /* port= 8800 */
	CtiSessionStyle session_style; /* session= ecma354 | system-status */
	char *protocol_version;    /* protocol= namespace URI requested/emitted (ed3 default) */
	char *application_id;      /* application_id= "mailcti" */
	char *pbx_user;            /* user= vendor login, optional */
	char *pbx_password;        /* password= */
	int session_duration;      /* session_duration= seconds, 300 */
	int reconnect_min_ms;      /* reconnect_min_ms= 100 */
	int reconnect_max_ms;      /* reconnect_max_ms= 500 */
	char *call_method;         /* method= native | server-lines: how conference/intrude/forward are done */
	char *server_lines;        /* server_lines= the gateway's own lines, e.g. "7001,7002" ("" = none) */
	char *pbx_tls;             /* tls= yes: the link runs over TLS, certificates verified, "no" */
	char *tls_ca;              /* tls_ca= PEM file of the CA(s) to trust, "" = the system's CAs */
	char *tls_cert;            /* tls_cert= PEM client certificate, "" = none */
	char *tls_key;             /* tls_key= PEM key of tls_cert, "" = in tls_cert's file */
	char *tls_server_name;     /* tls_server_name= name the certificate must carry, "" = host */

	/* [routing] */
	char *routes_db;           /* db= "/var/lib/mailcti/routes.db" */
	char *gateway_name;        /* gateway_name= this gateway's name in X-CTI-Hop traces, "" = hostname */
	int max_hops;              /* max_hops= X-CTI-Hop traces a request may carry, 8 */
	char *default_route;       /* default_route= no route found: "local" (execute here) | "refuse" */
	char *international_prefix; /* international_prefix= digits a leading '+' stands for, "" = keep '+' */

	/* [identity] how a sender is recognised (identity.h) */
	char *identity_methods;    /* methods= ordered list of auth, network, dkim; "auth" */
	char *trusted_networks;    /* trusted_networks= CIDR list (IPv4, IPv6) for "network", "" */
	char *authserv_id;         /* authserv_id= authserv-id of this site's DKIM verifier, "" */
	char *dkim_domains;        /* dkim_domains= domains whose DKIM-verified From identifies, "" */
	char *default_domain;      /* default_domain= the domain of bare SMTP AUTH logins, "" */
	char *trusted_relays;      /* trusted_relays= CIDR list whose X-CTI-* headers are kept, "" */

	/* [policy] who may use which extension, which destinations (policy.h) */
	char *policy_db;           /* db= "/var/lib/mailcti/policy.db" */
	char *default_rules;       /* default_rules= rule set seeded into a new policy DB */
	int max_number_length;     /* max_number_length= digits of a destination, 15 */

	/* [limits] request rates (ratelimit.h); 0 = no limit */
	int per_sender_per_minute; /* per_sender_per_minute= 6 */
	int per_sender_per_hour;   /* per_sender_per_hour= 60 */
	int global_per_minute;     /* global_per_minute= 60 */
	int global_per_hour;       /* global_per_hour= 600 */
	int per_sender_concurrent; /* per_sender_concurrent= jobs not yet finished, 4 */
	int global_concurrent;     /* global_concurrent= 32 */
	int notify_per_hour;       /* per_sender_notifications_per_hour= 30 */
	char *over_limit;          /* over_limit= tempfail (450 4.7.1) | reject (550 5.7.1) */

	/* [media] cti-media, the SIP/RTP media leg (cti-media(8)) */
	char *media_socket;        /* socket= cti-media's control socket, "/run/mailcti/media.sock" */
	char *media_registrar;     /* registrar= host:port of the PBX's SIP registrar, "127.0.0.1:5060" */
	char *media_domain;        /* domain= SIP domain of the lines, "" = the registrar's host */
	char *media_lines;         /* lines= the gateway's SIP line(s), e.g. "7001,7002" ("" = none) */
	char *media_password;      /* password= digest password of the lines */
	char *media_local_address; /* local_address= address SIP and RTP bind to and announce, "127.0.0.1" */
	int media_sip_port;        /* sip_port= local SIP UDP port, 5070 */
	char *media_rtp_ports;     /* rtp_ports= RTP port range "MIN-MAX", "16384-16999" */
	char *media_codecs;        /* codecs= offered codecs in order: pcmu, pcma; "pcmu,pcma" */
	char *media_user;          /* user= drop root to this user after binding, "" = keep */
	char *media_spool_dir;     /* spool_dir= converted prompts and recordings, "/var/spool/mailcti/media-leg" */

	/* [log] */
	char *syslog_socket;       /* syslog_socket= datagram socket of the syslog daemon, "/dev/log" */
} CtiConfig;

/* config_load - read PATH (NULL: defaults only); (transfer full) or NULL + error */
CtiConfig *config_load(const char *path, GError **error);
/* config_free - free; NULL is a no-op */
void config_free(CtiConfig *config);
/* config_address_listed - is ADDR (with or without <>) in LIST ("local" on any domain,
 * "local@domain", or "@domain" for a whole domain; comma/blank separated; no case)?  The
 * form of explain_address, cti_address and request_addresses. */
gboolean config_address_listed(const char *list, const char *addr);
/* config_is_cti_address - is ADDR one of CONFIG's [milter] cti_address entries, where a
 * Trigger: system request runs?  Mail with a request part to any other address is ordinary
 * mail (a forward, a reply that keeps the attachment). */
gboolean config_is_cti_address(const CtiConfig *config, const char *addr);
/* config_dump - "group.key = value" lines of the effective settings, like postconf -n */
char *config_dump(const CtiConfig *config);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiConfig, config_free)

#endif
