/* scenario - parse a TwiML-compatible scenario into a list of steps.
 *
 * GMarkup does the XML; this module only checks the structure: one
 * <Response> root holding verbs, verbs holding text only.  Each verb is a
 * row in a table saying what content and which attributes it takes, so an
 * unknown verb or attribute falls out of a table lookup, never a default.
 * Positions: GMarkup reports where it is after the tag, so the tag's own
 * start is found by scanning back to its '<' in the caller's text.
 * The caller owns the text and the part list; the parser owns the result
 * until it is returned.  Failures: malformed XML, unknown verbs, attributes
 * or values, misplaced text, missing parts, too big or too many steps.
 */
#include "scenario.h"

#include <stddef.h>
#include <string.h>

G_DEFINE_QUARK(cti - scenario - error - quark, scenario_error)

typedef enum {
	CONTENT_NONE,   /* empty: Pause, Hangup */
	CONTENT_NUMBER, /* a dial string */
	CONTENT_TEXT,   /* free text */
	CONTENT_PART,   /* a part reference */
} ContentKind;

typedef enum {
	ATTR_INT,      /* an integer in [min, max] */
	ATTR_LANGUAGE, /* a language tag */
	ATTR_VOICE,    /* a voice name */
	ATTR_FAXRES,   /* fine | standard */
} AttrKind;

typedef struct {
	const char *name;
	AttrKind kind;
	int min, max;
	gsize offset; /* into CtiStep */
} AttrSpec;

#define MAX_ATTRS 3

typedef struct {
	const char *name;
	CtiStepKind kind;
	ContentKind content;
	AttrSpec attrs[MAX_ATTRS];
} VerbSpec;

#define STEP_FIELD(f) offsetof(CtiStep, f)

static const VerbSpec verbs[] = {
    {"Dial", CTI_STEP_DIAL, CONTENT_NUMBER, {{"timeout", ATTR_INT, 5, 600, STEP_FIELD(timeout)}}},
    {"Play", CTI_STEP_PLAY, CONTENT_PART, {{"loop", ATTR_INT, 0, 100, STEP_FIELD(loop)}}},
    {"Say",
     CTI_STEP_SAY,
     CONTENT_TEXT,
     {{"voice", ATTR_VOICE, 0, 0, STEP_FIELD(voice)},
      {"language", ATTR_LANGUAGE, 0, 0, STEP_FIELD(language)},
      {"loop", ATTR_INT, 0, 100, STEP_FIELD(loop)}}},
    {"Pause", CTI_STEP_PAUSE, CONTENT_NONE, {{"length", ATTR_INT, 1, 600, STEP_FIELD(length)}}},
    {"Hangup", CTI_STEP_HANGUP, CONTENT_NONE, {{NULL, ATTR_INT, 0, 0, 0}}},
    {"Fax", CTI_STEP_FAX, CONTENT_PART, {{"resolution", ATTR_FAXRES, 0, 0, STEP_FIELD(fine)}}},
};

typedef enum {
	WHERE_TOP,      /* before <Response> */
	WHERE_RESPONSE, /* inside <Response> */
	WHERE_VERB,     /* inside a verb */
	WHERE_DONE,     /* after </Response> */
} Where;

typedef struct {
	const char *text;
	gsize len;
	const CtiScenarioPart *parts;
	gsize n_parts;
	Where where;
	const VerbSpec *verb; /* the open verb */
	CtiStep *step;        /* the open verb's step */
	GString *content;     /* the open verb's text */
	CtiScenario *result;
} ScenarioParse;

static void step_free(gpointer data)
{
	CtiStep *step = data;

	g_free(step->text);
	g_free(step->voice);
	g_free(step->language);
	g_free(step);
}

/* scenario_free - free the steps and the scenario */
void scenario_free(CtiScenario *scenario)
{
	if (scenario == NULL)
		return;
	g_ptr_array_unref(scenario->steps);
	g_free(scenario);
}

/* scenario_step_name - the TwiML verb for KIND */
const char *scenario_step_name(CtiStepKind kind)
{
	for (gsize i = 0; i < G_N_ELEMENTS(verbs); i++)
		if (verbs[i].kind == kind)
			return verbs[i].name;
	g_return_val_if_reached("?");
}

/* text_offset - byte offset of GMarkup's (line, char) position in TEXT */
static gsize text_offset(const char *text, gsize len, int line, int chr)
{
	gsize off = 0;

	for (int l = 1; l < line && off < len; off++)
		if (text[off] == '\n')
			l++;
	for (int c = 1; c < chr && off < len; c++)
		off = (gsize)(g_utf8_find_next_char(text + off, text + len) - text);
	return MIN(off, len);
}

/* tag_position - line and column of the '<' that opens element NAME, found by
 * scanning back from GMarkup's current position */
static void tag_position(GMarkupParseContext *ctx, const ScenarioParse *sp, const char *name,
                         int *line_out, int *col_out)
{
	int line, chr;
	gsize off, nlen = strlen(name);

	g_markup_parse_context_get_position(ctx, &line, &chr);
	off = text_offset(sp->text, sp->len, line, chr);
	while (off > 0) {
		off--;
		if (sp->text[off] == '<' && off + 1 + nlen <= sp->len &&
		    strncmp(sp->text + off + 1, name, nlen) == 0)
			break;
	}
	*line_out = 1;
	gsize bol = 0;
	for (gsize i = 0; i < off; i++)
		if (sp->text[i] == '\n') {
			(*line_out)++;
			bol = i + 1;
		}
	*col_out = (int)g_utf8_strlen(sp->text + bol, (gssize)(off - bol)) + 1;
}

static void G_GNUC_PRINTF(5, 6)
    set_error_at(GError **error, CtiScenarioError code, int line, int col, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	/* the text goes into an SMTP reply: bounded, no control characters */
	if (strlen(msg) > 300)
		*g_utf8_find_prev_char(msg, msg + 300) = '\0';
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	g_set_error(error, CTI_SCENARIO_ERROR, code, "line %d, column %d: %s", line, col, msg);
}

static const VerbSpec *verb_lookup(const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS(verbs); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

static const AttrSpec *attr_lookup(const VerbSpec *verb, const char *name)
{
	for (gsize i = 0; i < MAX_ATTRS && verb->attrs[i].name != NULL; i++)
		if (strcmp(verb->attrs[i].name, name) == 0)
			return &verb->attrs[i];
	return NULL;
}

/* language_valid - a BCP 47-shaped tag: 2-3 letters, then "-" subtags of 1-8 alphanumerics */
static gboolean language_valid(const char *v)
{
	gsize n = 0;

	while (g_ascii_isalpha(v[n]))
		n++;
	if (n < 2 || n > 3)
		return FALSE;
	v += n;
	while (*v == '-' || *v == '_') {
		n = 0;
		v++;
		while (g_ascii_isalnum(v[n]))
			n++;
		if (n < 1 || n > 8)
			return FALSE;
		v += n;
	}
	return *v == '\0';
}

/* voice_valid - TwiML's man/woman/alice or an espeak-ng voice name */
static gboolean voice_valid(const char *v)
{
	gsize n = strlen(v);

	if (n == 0 || n > 64)
		return FALSE;
	for (const char *p = v; *p; p++)
		if (!g_ascii_isalnum(*p) && strchr("-_.+", *p) == NULL)
			return FALSE;
	return TRUE;
}

static gboolean int_value(const char *v, int min, int max, int *out)
{
	guint64 n;

	if (!g_ascii_string_to_unsigned(v, 10, (guint64)min, (guint64)max, &n, NULL))
		return FALSE;
	*out = (int)n;
	return TRUE;
}

/* attr_apply - check VALUE against SPEC and store it in STEP; FALSE when bad */
static gboolean attr_apply(const AttrSpec *spec, const char *value, CtiStep *step)
{
	char *field = (char *)step + spec->offset;

	switch (spec->kind) {
	case ATTR_INT:
		return int_value(value, spec->min, spec->max, (int *)(void *)field);
	case ATTR_LANGUAGE:
		if (!language_valid(value))
			return FALSE;
		*(char **)(void *)field = g_strdup(value);
		return TRUE;
	case ATTR_VOICE:
		if (!voice_valid(value))
			return FALSE;
		*(char **)(void *)field = g_strdup(value);
		return TRUE;
	case ATTR_FAXRES:
		if (strcmp(value, "fine") != 0 && strcmp(value, "standard") != 0)
			return FALSE;
		*(gboolean *)(void *)field = strcmp(value, "fine") == 0;
		return TRUE;
	}
	return FALSE;
}

static const char *attr_expect(const AttrSpec *spec)
{
	switch (spec->kind) {
	case ATTR_INT:
		return "an integer in range";
	case ATTR_LANGUAGE:
		return "a language tag such as en or en-GB";
	case ATTR_VOICE:
		return "a voice name (man, woman, alice or an espeak-ng voice)";
	case ATTR_FAXRES:
		return "fine or standard";
	}
	return "?";
}

static CtiStep *step_new(const VerbSpec *verb, int line, int col)
{
	CtiStep *step = g_new0(CtiStep, 1);

	step->kind = verb->kind;
	step->line = line;
	step->column = col;
	step->part = -1;
	step->loop = 1;
	step->timeout = 30;
	step->length = 1;
	step->fine = TRUE;
	return step;
}

/* verb_open - a verb inside <Response>: check attributes, start its step */
static gboolean verb_open(ScenarioParse *sp, const char *name, const char **names,
                          const char **values, int line, int col, GError **error)
{
	const VerbSpec *verb = verb_lookup(name);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	if (verb == NULL) {
		set_error_at(error, CTI_SCENARIO_ERROR_VERB, line, col,
		             "unknown verb <%s> (use Dial, Play, Say, Pause, Hangup or Fax)", name);
		return FALSE;
	}
	if (sp->result->steps->len >= CTI_SCENARIO_MAX_STEPS) {
		set_error_at(error, CTI_SCENARIO_ERROR_LIMIT, line, col, "more than %d steps",
		             CTI_SCENARIO_MAX_STEPS);
		return FALSE;
	}
	sp->step = step_new(verb, line, col);
	sp->verb = verb;
	g_ptr_array_add(sp->result->steps, sp->step);
	for (gsize i = 0; names[i] != NULL; i++) {
		const AttrSpec *spec = attr_lookup(verb, names[i]);

		if (spec == NULL) {
			set_error_at(error, CTI_SCENARIO_ERROR_ATTR, line, col,
			             "<%s> has no attribute '%s'", name, names[i]);
			return FALSE;
		}
		if (!g_hash_table_add(seen, (gpointer)names[i])) {
			set_error_at(error, CTI_SCENARIO_ERROR_ATTR, line, col,
			             "<%s> has attribute '%s' twice", name, names[i]);
			return FALSE;
		}
		if (!attr_apply(spec, values[i], sp->step)) {
			if (spec->kind == ATTR_INT)
				set_error_at(error, CTI_SCENARIO_ERROR_ATTR, line, col,
				             "<%s %s>: '%s' is not an integer from %d to %d", name,
				             names[i], values[i], spec->min, spec->max);
			else
				set_error_at(error, CTI_SCENARIO_ERROR_ATTR, line, col,
				             "<%s %s>: '%s' is not %s", name, names[i], values[i],
				             attr_expect(spec));
			return FALSE;
		}
	}
	g_string_truncate(sp->content, 0);
	sp->where = WHERE_VERB;
	return TRUE;
}

static void on_start(GMarkupParseContext *ctx, const char *name, const char **names,
                     const char **values, gpointer data, GError **error)
{
	ScenarioParse *sp = data;
	int line, col;

	tag_position(ctx, sp, name, &line, &col);
	switch (sp->where) {
	case WHERE_TOP:
		if (strcmp(name, "Response") != 0) {
			set_error_at(error, CTI_SCENARIO_ERROR_SYNTAX, line, col,
			             "the document element must be <Response>, not <%s>", name);
			return;
		}
		if (names[0] != NULL) {
			set_error_at(error, CTI_SCENARIO_ERROR_ATTR, line, col,
			             "<Response> has no attribute '%s'", names[0]);
			return;
		}
		sp->where = WHERE_RESPONSE;
		return;
	case WHERE_RESPONSE:
		verb_open(sp, name, names, values, line, col, error);
		return;
	case WHERE_VERB:
		set_error_at(error, CTI_SCENARIO_ERROR_VERB, line, col,
		             "<%s> inside <%s>: verbs hold text only, not elements", name,
		             sp->verb->name);
		return;
	case WHERE_DONE:
		set_error_at(error, CTI_SCENARIO_ERROR_SYNTAX, line, col, "<%s> after </Response>",
		             name);
		return;
	}
}

/* content_check - the finished text of the open verb, stored in its step */
static gboolean content_check(ScenarioParse *sp, GError **error)
{
	CtiStep *step = sp->step;
	g_autofree char *text = g_strstrip(g_strdup(sp->content->str));

	switch (sp->verb->content) {
	case CONTENT_NONE:
		if (*text == '\0')
			return TRUE;
		set_error_at(error, CTI_SCENARIO_ERROR_VALUE, step->line, step->column,
		             "<%s> must be empty", sp->verb->name);
		return FALSE;
	case CONTENT_NUMBER:
		if (*text == '\0' || strlen(text) > 32 ||
		    strspn(text, "0123456789+*#") != strlen(text) ||
		    strchr(text + 1, '+') != NULL) {
			set_error_at(error, CTI_SCENARIO_ERROR_VALUE, step->line, step->column,
			             "<Dial>: '%.40s' is not a number (digits, optional leading +)",
			             text);
			return FALSE;
		}
		break;
	case CONTENT_TEXT:
		if (*text == '\0') {
			set_error_at(error, CTI_SCENARIO_ERROR_VALUE, step->line, step->column,
			             "<%s> has no text", sp->verb->name);
			return FALSE;
		}
		break;
	case CONTENT_PART:
		step->part = scenario_part_lookup(text, sp->parts, sp->n_parts);
		if (step->part < 0) {
			set_error_at(error, CTI_SCENARIO_ERROR_PART, step->line, step->column,
			             "<%s> names part '%.100s', which is not in this mail",
			             sp->verb->name, *text ? text : "(empty)");
			return FALSE;
		}
		break;
	}
	step->text = g_steal_pointer(&text);
	return TRUE;
}

static void on_end(GMarkupParseContext *ctx, const char *name, gpointer data, GError **error)
{
	ScenarioParse *sp = data;

	switch (sp->where) {
	case WHERE_VERB:
		if (content_check(sp, error))
			sp->where = WHERE_RESPONSE;
		return;
	case WHERE_RESPONSE:
		sp->where = WHERE_DONE;
		return;
	case WHERE_TOP:
	case WHERE_DONE:
		/* GMarkup reports unbalanced tags itself. */
		return;
	}
}

static gboolean only_space(const char *text, gsize len)
{
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isspace(text[i]))
			return FALSE;
	return TRUE;
}

static void on_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer data,
                    GError **error)
{
	ScenarioParse *sp = data;
	int line, chr;

	if (sp->where == WHERE_VERB) {
		if (sp->content->len + len > CTI_SCENARIO_MAX_TEXT)
			set_error_at(error, CTI_SCENARIO_ERROR_LIMIT, sp->step->line,
			             sp->step->column, "<%s> text longer than %d bytes",
			             sp->verb->name, CTI_SCENARIO_MAX_TEXT);
		else
			g_string_append_len(sp->content, text, (gssize)len);
		return;
	}
	if (only_space(text, len))
		return;
	g_markup_parse_context_get_position(ctx, &line, &chr);
	set_error_at(error, CTI_SCENARIO_ERROR_SYNTAX, line, chr, "text outside a verb: '%.*s'",
	             (int)MIN(len, 20), text);
}

static void on_passthrough(GMarkupParseContext *ctx, const char *text, gsize len, gpointer data,
                           GError **error)
{
	int line, chr;

	/* Comments and the XML declaration are fine; a DOCTYPE (entities) is not. */
	if (len >= 2 && text[0] == '<' && (text[1] == '?' || g_str_has_prefix(text, "<!--")))
		return;
	g_markup_parse_context_get_position(ctx, &line, &chr);
	set_error_at(error, CTI_SCENARIO_ERROR_SYNTAX, line, chr,
	             "markup declarations (DOCTYPE) are not allowed");
}

static const GMarkupParser scenario_parser = {on_start, on_end, on_text, on_passthrough, NULL};

/* markup_error - restate a GMarkup error as "line L, column C: ..." */
static void markup_error(GMarkupParseContext *ctx, GError *in, GError **error)
{
	const char *msg = in->message;
	const char *colon = strstr(msg, ": ");
	int line, chr;

	if (in->domain == CTI_SCENARIO_ERROR) {
		g_propagate_error(error, in);
		return;
	}
	if (g_str_has_prefix(msg, "Error on line") && colon != NULL)
		msg = colon + 2;
	g_markup_parse_context_get_position(ctx, &line, &chr);
	set_error_at(error, CTI_SCENARIO_ERROR_SYNTAX, line, chr, "%s", msg);
	g_error_free(in);
}

/* scenario_parse - the steps of a scenario document */
CtiScenario *scenario_parse(const char *text, gsize len, const CtiScenarioPart *parts,
                            gsize n_parts, GError **error)
{
	g_autoptr(CtiScenario) result = g_new0(CtiScenario, 1);
	g_autoptr(GString) content = g_string_new(NULL);
	ScenarioParse sp = {text, len, parts, n_parts, WHERE_TOP, NULL, NULL, content, result};
	GMarkupParseContext *ctx;
	GError *local = NULL;
	const char *bad;
	gboolean ok;

	result->steps = g_ptr_array_new_with_free_func(step_free);
	if (len > CTI_SCENARIO_MAX_BYTES) {
		g_set_error(error, CTI_SCENARIO_ERROR, CTI_SCENARIO_ERROR_LIMIT,
		            "line 1, column 1: the scenario is larger than %d bytes",
		            CTI_SCENARIO_MAX_BYTES);
		return NULL;
	}
	if (!g_utf8_validate_len(text, len, &bad)) {
		int line = 1, col = 1;

		for (const char *p = text; p < bad; p = g_utf8_next_char(p), col++)
			if (*p == '\n') {
				line++;
				col = 0;
			}
		set_error_at(error, CTI_SCENARIO_ERROR_SYNTAX, line, col,
		             "not UTF-8 text (or a NUL byte)");
		return NULL;
	}
	ctx = g_markup_parse_context_new(&scenario_parser, G_MARKUP_TREAT_CDATA_AS_TEXT, &sp, NULL);
	ok = g_markup_parse_context_parse(ctx, text, (gssize)len, &local) &&
	     g_markup_parse_context_end_parse(ctx, &local);
	if (ok && sp.where != WHERE_DONE) {
		ok = FALSE;
		local = g_error_new(CTI_SCENARIO_ERROR, CTI_SCENARIO_ERROR_SYNTAX,
		                    "line 1, column 1: no <Response> element");
	}
	if (!ok)
		markup_error(ctx, local, error);
	g_markup_parse_context_free(ctx);
	return ok ? g_steal_pointer(&result) : NULL;
}

/* scenario_check_runnable - see scenario.h */
gboolean scenario_check_runnable(const CtiScenario *scenario, const CtiScenarioPart *parts,
                                 gsize n_parts, GError **error)
{
	for (guint i = 0; i < scenario->steps->len; i++) {
		const CtiStep *step = g_ptr_array_index(scenario->steps, i);

		if (step->kind == CTI_STEP_DIAL) {
			set_error_at(error, CTI_SCENARIO_ERROR_UNSUPPORTED, step->line,
			             step->column,
			             "<Dial> is not supported: a scenario cannot dial out on this "
			             "gateway (send a separate request)");
			return FALSE;
		}
		if ((step->kind == CTI_STEP_PLAY || step->kind == CTI_STEP_FAX) &&
		    step->part >= 0 && (gsize)step->part < n_parts &&
		    parts[step->part].is_request) {
			set_error_at(error, CTI_SCENARIO_ERROR_PART, step->line, step->column,
			             "<%s> names '%.100s', the request part, which is never media",
			             scenario_step_name(step->kind), step->text);
			return FALSE;
		}
	}
	return TRUE;
}

/* part_matches - REF is "cid:ID" (URL-encoded, RFC 2392) or a file name */
static gboolean part_matches(const char *ref, const CtiScenarioPart *part, gboolean fold)
{
	if (g_ascii_strncasecmp(ref, "cid:", 4) == 0) {
		g_autofree char *cid = g_uri_unescape_string(ref + 4, NULL);

		return cid != NULL && part->content_id != NULL &&
		       (fold ? g_ascii_strcasecmp(cid, part->content_id) == 0
		             : strcmp(cid, part->content_id) == 0);
	}
	if (part->filename == NULL)
		return FALSE;
	return fold ? g_ascii_strcasecmp(ref, part->filename) == 0
	            : strcmp(ref, part->filename) == 0;
}

/* scenario_part_lookup - exact match first, then ASCII case-insensitive */
int scenario_part_lookup(const char *ref, const CtiScenarioPart *parts, gsize n_parts)
{
	if (ref == NULL || *ref == '\0')
		return -1;
	for (int fold = 0; fold < 2; fold++)
		for (gsize i = 0; i < n_parts; i++)
			if (part_matches(ref, &parts[i], fold))
				return (int)i;
	return -1;
}

/* scenario_step_describe - "N Verb key=value ..." for the notification */
char *scenario_step_describe(const CtiStep *step, guint number)
{
	const char *name = scenario_step_name(step->kind);

	switch (step->kind) {
	case CTI_STEP_DIAL:
		return g_strdup_printf("%u %s %s timeout=%d", number, name, step->text,
		                       step->timeout);
	case CTI_STEP_PLAY:
		return g_strdup_printf("%u %s %s loop=%d", number, name, step->text, step->loop);
	case CTI_STEP_SAY:
		return g_strdup_printf("%u %s language=%s chars=%ld", number, name,
		                       step->language ? step->language : "default",
		                       g_utf8_strlen(step->text, -1));
	case CTI_STEP_PAUSE:
		return g_strdup_printf("%u %s length=%d", number, name, step->length);
	case CTI_STEP_HANGUP:
		return g_strdup_printf("%u %s", number, name);
	case CTI_STEP_FAX:
		return g_strdup_printf("%u %s %s resolution=%s", number, name, step->text,
		                       step->fine ? "fine" : "standard");
	}
	return g_strdup_printf("%u ?", number);
}
