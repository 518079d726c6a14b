/* authres - a bounded parser of Authentication-Results header fields (RFC 8601).
 *
 * GMime 3.2 has no parser for this header, so this module reads the payload
 * (the field body without "Authentication-Results:") into an authserv-id and
 * a list of results, each "method=result" with an optional reason and
 * "ptype.property=value" properties.  Comments (nested, bounded) and folding
 * white space are skipped.  The input is untrusted mail text: it is bounded
 * (CTI_AUTHRES_MAX bytes, CTI_AUTHRES_MAX_RESULTS results, CTI_AUTHRES_MAX_PROPS
 * properties per result) and every malformed field is an error in
 * CTI_AUTHRES_ERROR, never a partial result.
 */
#ifndef MAILCTI_AUTHRES_H
#define MAILCTI_AUTHRES_H

#include <glib.h>

#define CTI_AUTHRES_MAX              8192
#define CTI_AUTHRES_MAX_RESULTS      32
#define CTI_AUTHRES_MAX_PROPS        16
#define CTI_AUTHRES_MAX_COMMENT_NEST 8

#define CTI_AUTHRES_ERROR (authres_error_quark())
typedef enum {
	CTI_AUTHRES_ERROR_SYNTAX, /* not RFC 8601 */
	CTI_AUTHRES_ERROR_LIMIT,  /* too long, too many results or properties */
} CtiAuthresError;
GQuark authres_error_quark(void);

typedef struct {
	char *ptype;    /* lower case: "header", "smtp", "body", "policy" */
	char *property; /* lower case: "d", "i", "from", "mailfrom" */
	char *value;    /* as written, quotes removed */
} CtiAuthresProp;

typedef struct {
	char *method;     /* lower case: "dkim", "spf", ... */
	char *result;     /* lower case: "pass", "fail", ... */
	char *reason;     /* or NULL */
	GPtrArray *props; /* CtiAuthresProp* */
} CtiAuthresResult;

typedef struct {
	char *authserv_id;  /* as written (compare case-insensitively) */
	int version;        /* 1 when absent */
	GPtrArray *results; /* CtiAuthresResult*; empty for "none" */
} CtiAuthres;

/* authres_parse - parse one field body of LEN bytes (-1: NUL-terminated); (transfer full) or NULL +
 * error */
CtiAuthres *authres_parse(const char *text, gssize len, GError **error);
/* authres_free - free; NULL is a no-op */
void authres_free(CtiAuthres *ar);
/* authres_prop - the value of property PTYPE.PROPERTY of RESULT, or NULL (transfer none) */
const char *authres_prop(const CtiAuthresResult *result, const char *ptype, const char *property);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtiAuthres, authres_free)

#endif
