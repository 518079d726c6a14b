/* scan - find request part headers in a body that arrives in chunks.
 *
 * A byte-driven state machine over lines (CR is ignored, LF ends a line),
 * so a chunk may end anywhere: in a field name, inside a folded value or
 * between CR and LF.  The scanner owns its small buffers; the caller owns
 * the chunks.  Only the lexical part is done here: a collected field is
 * judged by scan_field_announces_cti(), which lets GMime parse the value
 * (parameters, quoting, RFC 2231 continuations and charsets).  Nothing can
 * fail; an overlong field is treated as a candidate.
 */
#include "scan.h"

#include "filter-private.h"
#include "parts.h"
#include <string.h>

#define SCAN_MAX_NAME 24

typedef enum {
	SCAN_LINE_START, /* at the first byte of a line */
	SCAN_NAME,       /* reading what may be a field name */
	SCAN_SKIP,       /* not interesting: skip to the end of the line */
	SCAN_VALUE,      /* collecting an interesting field's value */
	SCAN_VALUE_EOL,  /* after a value line: a folded line continues it */
	SCAN_DONE,       /* a candidate was found: ignore the rest */
} ScanStateKind;

struct Scan {
	ScanStateKind state;
	gboolean in_part_headers; /* after a "--" line, before the blank line */
	gboolean found;
	char name[SCAN_MAX_NAME + 1];
	gsize name_len;
	char field[32]; /* the interesting field's canonical name */
	GString *value;
};

/* scan_new - a fresh scanner */
Scan *scan_new(void)
{
	Scan *scan = g_new0(Scan, 1);

	scan->state = SCAN_LINE_START;
	scan->value = g_string_sized_new(256);
	return scan;
}

/* scan_free - free the scanner */
void scan_free(Scan *scan)
{
	if (scan == NULL)
		return;
	g_string_free(scan->value, TRUE);
	g_free(scan);
}

/* scan_found - whether a candidate has been seen */
gboolean scan_found(const Scan *scan)
{
	return scan->found;
}

/* scan_filename_is_cti - lib's request rule for file names (parts_filename_is_request) */
gboolean scan_filename_is_cti(const char *filename)
{
	return parts_filename_is_request(filename);
}

static gboolean scan_content_type_is_cti(const char *value)
{
	g_autoptr(GMimeContentType) type = g_mime_content_type_parse(NULL, value);

	if (type == NULL)
		return FALSE;
	if (g_mime_content_type_is_type(type, "application", "x-cti"))
		return TRUE;
	return scan_filename_is_cti(g_mime_content_type_get_parameter(type, "name"));
}

static gboolean scan_disposition_is_cti(const char *value)
{
	g_autoptr(GMimeContentDisposition) disp = g_mime_content_disposition_parse(NULL, value);

	if (disp == NULL)
		return FALSE;
	return scan_filename_is_cti(g_mime_content_disposition_get_parameter(disp, "filename"));
}

/* scan_field_announces_cti - Content-Type application/x-cti or a *.cti file name */
gboolean scan_field_announces_cti(const char *name, const char *value)
{
	if (name == NULL || value == NULL)
		return FALSE;
	if (g_ascii_strcasecmp(name, "Content-Type") == 0)
		return scan_content_type_is_cti(value);
	if (g_ascii_strcasecmp(name, "Content-Disposition") == 0)
		return scan_disposition_is_cti(value);
	return FALSE;
}

static void scan_judge_field(Scan *scan)
{
	if (scan_field_announces_cti(scan->field, scan->value->str)) {
		scan->found = TRUE;
		scan->state = SCAN_DONE;
	}
	g_string_truncate(scan->value, 0);
}

/* scan_name_done - a ':' ended the name: collect the value if it matters */
static void scan_name_done(Scan *scan)
{
	static const char *const fields[] = {"Content-Type", "Content-Disposition"};

	scan->name[scan->name_len] = '\0';
	g_strchomp(scan->name);
	scan->state = SCAN_SKIP;
	if (!scan->in_part_headers)
		return;
	for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
		if (g_ascii_strcasecmp(scan->name, fields[i]) == 0) {
			g_strlcpy(scan->field, fields[i], sizeof scan->field);
			g_string_truncate(scan->value, 0);
			scan->state = SCAN_VALUE;
			return;
		}
	}
}

static void scan_line_start(Scan *scan, char c)
{
	if (c == '\n') {
		scan->in_part_headers = FALSE; /* blank line: the part's body follows */
		return;
	}
	scan->name_len = 0;
	scan->state = SCAN_NAME;
	scan->name[scan->name_len++] = c;
}

static void scan_name(Scan *scan, char c)
{
	if (c == '\n') {
		scan->state = SCAN_LINE_START;
		return;
	}
	if (c == ':') {
		scan_name_done(scan);
		return;
	}
	scan->name[scan->name_len++] = c;
	if (scan->name_len == 2 && scan->name[0] == '-' && scan->name[1] == '-') {
		scan->in_part_headers = TRUE; /* a boundary line (or close enough) */
		scan->state = SCAN_SKIP;
	} else if (scan->name_len >= SCAN_MAX_NAME) {
		scan->state = SCAN_SKIP;
	}
}

static void scan_value(Scan *scan, char c)
{
	if (c == '\n') {
		scan->state = SCAN_VALUE_EOL;
		return;
	}
	g_string_append_c(scan->value, c);
	if (scan->value->len > SCAN_MAX_FIELD) {
		scan->found = TRUE; /* too long to judge: let the full parser decide */
		scan->state = SCAN_DONE;
	}
}

/* scan_value_eol - returns TRUE when C was consumed, FALSE when it starts a new line */
static gboolean scan_value_eol(Scan *scan, char c)
{
	if (c == ' ' || c == '\t') {
		g_string_append_c(scan->value, c);
		scan->state = SCAN_VALUE;
		return TRUE;
	}
	scan->state = SCAN_LINE_START;
	scan_judge_field(scan);
	return FALSE;
}

/* scan_skip - skip to the end of the line; returns the bytes consumed */
static gsize scan_skip(Scan *scan, const char *data, gsize len)
{
	const char *nl = memchr(data, '\n', len);

	if (nl == NULL)
		return len;
	scan->state = SCAN_LINE_START;
	return (gsize)(nl - data) + 1;
}

/* scan_step - process the byte(s) at DATA; returns how many were consumed */
static gsize scan_step(Scan *scan, const char *data, gsize len)
{
	char c = data[0];

	if (c == '\r' && scan->state != SCAN_SKIP && scan->state != SCAN_DONE)
		return 1;
	switch (scan->state) {
	case SCAN_LINE_START:
		scan_line_start(scan, c);
		return 1;
	case SCAN_NAME:
		scan_name(scan, c);
		return 1;
	case SCAN_SKIP:
		return scan_skip(scan, data, len);
	case SCAN_VALUE:
		scan_value(scan, c);
		return 1;
	case SCAN_VALUE_EOL:
		return scan_value_eol(scan, c) ? 1 : 0;
	case SCAN_DONE:
		return len;
	}
	return len;
}

/* scan_feed - advance the state machine over one chunk */
void scan_feed(Scan *scan, const char *data, gsize len)
{
	gsize pos = 0;

	while (pos < len && scan->state != SCAN_DONE)
		pos += scan_step(scan, data + pos, len - pos);
}

/* scan_finish - judge a field the body ended in; TRUE if a candidate was seen */
gboolean scan_finish(Scan *scan)
{
	switch (scan->state) {
	case SCAN_VALUE:
	case SCAN_VALUE_EOL:
		scan_judge_field(scan);
		break;
	case SCAN_LINE_START:
	case SCAN_NAME:
	case SCAN_SKIP:
	case SCAN_DONE:
		break;
	}
	return scan->found;
}
