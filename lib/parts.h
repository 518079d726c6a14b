/* parts - the media parts of a request mail, recognised the way mail clients send them.
 *
 * A part named "*.cti" or of type application/x-cti is the request, whatever
 * else it says (parts_is_request()).  Otherwise a part's kind comes from its
 * Content-Type; when the type says nothing
 * (application/octet-stream and friends) the file name's extension decides.
 * File names come decoded from GMime (RFC 2231 and RFC 2047 forms alike),
 * Content-IDs without their angle brackets.  Only the message's own parts
 * count: multiparts are walked, a forwarded message/rfc822 is not entered.
 * The mail body (an inline text part without a file name) is not media.
 * All functions are pure over a GMimeMessage the caller owns.
 */
#ifndef MAILCTI_PARTS_H
#define MAILCTI_PARTS_H

#include <glib.h>
#include <gmime/gmime.h>

#include "scenario.h"

#define CTI_PARTS_MAX       64 /* leaf parts looked at */
#define CTI_PARTS_MAX_DEPTH 32 /* multipart nesting */

typedef enum {
	CTI_PART_OTHER,    /* the body text, signatures, anything else */
	CTI_PART_REQUEST,  /* application/x-cti, *.cti */
	CTI_PART_SCENARIO, /* application/x-cti-scenario+xml, an XML attachment */
	CTI_PART_VOICE,    /* audio/ types, *.wav, *.au, *.ul, ... */
	CTI_PART_TEXT,     /* a text/plain attachment to be spoken */
	CTI_PART_FAX,      /* application/pdf, image/tiff, *.pdf, *.tif */
} CtiPartKind;

typedef struct {
	GMimePart *part; /* transfer none: lives as long as the message */
	CtiPartKind kind;
	guint index;        /* 0-based position among the leaf parts, mail order */
	char *content_type; /* "type/subtype", lower case */
	char *filename;     /* decoded, or NULL */
	char *content_id;   /* without <>, or NULL */
	char *language;     /* Content-Language (first tag), or NULL */
	char *charset;      /* charset parameter, or NULL */
} CtiPart;

#define CTI_PARTS_ERROR (parts_error_quark())
typedef enum {
	CTI_PARTS_ERROR_STRUCTURE, /* too many parts, nested too deep */
	CTI_PARTS_ERROR_SIZE,      /* a part larger than the bound */
	CTI_PARTS_ERROR_CONTENT,   /* undecodable content (bad charset text) */
	CTI_PARTS_ERROR_READ,      /* a read error on the underlying stream (temporary) */
} CtiPartsError;
GQuark parts_error_quark(void);

/* parts_list - the leaf parts of MESSAGE in mail order (CtiPart*, transfer full), or NULL + error
 */
GPtrArray *parts_list(GMimeMessage *message, GError **error);
/* parts_is_request - THE request-part rule, shared by the milter, explain and ctid: type
 * application/x-cti (CONTENT_TYPE "type/subtype"), or FILENAME ending in ".cti" whatever the
 * type (mutt and neomutt send call.cti as text/plain); either may be NULL.  A request part is
 * never media. */
gboolean parts_is_request(const char *content_type, const char *filename);
/* parts_filename_is_request - does FILENAME (NULL allowed) name a request file, "*.cti"? */
gboolean parts_filename_is_request(const char *filename);
/* parts_kind - the kind a part of CONTENT_TYPE ("type/subtype") and FILENAME (either may be NULL)
 * has; INLINE_BODY: an inline part without a file name */
CtiPartKind parts_kind(const char *content_type, const char *filename, gboolean inline_body);
/* parts_kind_name - "voice", "fax", ... */
const char *parts_kind_name(CtiPartKind kind);
/* parts_lookup - the part REF ("cid:..." or a file name) names, or NULL (transfer none) */
const CtiPart *parts_lookup(GPtrArray *parts, const char *ref);
/* parts_scenario_refs - PARTS as the array scenario_parse() resolves against (transfer container:
 * g_free it; strings borrowed) */
CtiScenarioPart *parts_scenario_refs(GPtrArray *parts);
/* parts_content - the decoded bytes of PART (base64/quoted-printable undone), at most MAX (transfer
 * full) */
GBytes *parts_content(const CtiPart *part, gsize max, GError **error);
/* parts_text - a text part's content converted to UTF-8 from its charset, at most MAX bytes
 * (transfer full) */
char *parts_text(const CtiPart *part, gsize max, GError **error);
/* parts_describe - "'name.wav' (audio/wav, part 3)" for error messages (transfer full) */
char *parts_describe(const CtiPart *part);

#endif
