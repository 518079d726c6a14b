/* scan - the milter's fast path: does a mail possibly carry a request part?
 *
 * The scanner sees the body of a multipart mail chunk by chunk, as the MTA
 * hands it over, and looks only at MIME part headers (lines after a "--"
 * boundary line, up to the blank line) named Content-Type or
 * Content-Disposition.  A part that announces application/x-cti or a file
 * name ending in ".cti" (plain, quoted, RFC 2047 or RFC 2231 "filename*="
 * forms) makes the mail a candidate; only candidates are parsed with GMime.
 * The state is bounded (one header field of SCAN_MAX_FIELD bytes), and a
 * field that overflows it counts as a candidate: a false positive costs a
 * parse, a false negative would lose a request.
 */
#ifndef MAILCTI_FILTER_SCAN_H
#define MAILCTI_FILTER_SCAN_H

#include <glib.h>

#define SCAN_MAX_FIELD 4096

typedef struct Scan Scan;

/* scan_new - a scanner positioned at the start of a body (transfer full) */
Scan *scan_new(void);
/* scan_free - free; NULL is a no-op */
void scan_free(Scan *scan);
/* scan_feed - scan LEN more body bytes; chunk boundaries may fall anywhere */
void scan_feed(Scan *scan, const char *data, gsize len);
/* scan_finish - end of body: judge a field still pending; TRUE if a candidate was seen */
gboolean scan_finish(Scan *scan);
/* scan_found - TRUE once a candidate part header has been seen */
gboolean scan_found(const Scan *scan);

/* scan_filename_is_cti - does FILENAME (NULL allowed) name a request file, "*.cti"? */
gboolean scan_filename_is_cti(const char *filename);
/* scan_field_announces_cti - does header NAME: VALUE announce a request part? */
gboolean scan_field_announces_cti(const char *name, const char *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Scan, scan_free)

#endif
