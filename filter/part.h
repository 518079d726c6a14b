/* part - find and decode the request part of a parsed mail (doc/design.md section 2).
 *
 * The request part is an application/x-cti part or an attachment named
 * "*.cti" among the message's own parts: multiparts are walked, a
 * message/rfc822 part is not entered (a forwarded request is not ours to
 * execute).  At most one request part may be present.
 */
#ifndef MAILCTI_FILTER_PART_H
#define MAILCTI_FILTER_PART_H

#include <glib.h>
#include <gmime/gmime.h>

/* Walks deeper than this are refused rather than followed. */
#define PART_MAX_DEPTH 32

/* part_find - the request part of MESSAGE: TRUE and *part_out (transfer none,
 * NULL when there is none); FALSE + FILTER_ERROR_REQUEST for two request parts
 * or a structure nested too deep */
gboolean part_find(GMimeMessage *message, GMimePart **part_out, GError **error);

/* part_is_request - is OBJECT itself a request part (by type or file name)? */
gboolean part_is_request(GMimeObject *object);

/* part_decode - the part's content with its transfer encoding undone and line
 * ends as LF, NUL-terminated, length in *len_out (transfer full); NULL +
 * FILTER_ERROR_REQUEST when longer than MAX bytes, FILTER_ERROR_TEMP on a
 * read error */
char *part_decode(GMimePart *part, gsize max, gsize *len_out, GError **error);

#endif
