/* steps - parse the Steps text of a control frame, and convert its media.
 *
 * Parsing is strict: an unknown verb, a missing argument, an out-of-range
 * number or a prompt outside a gather is an error naming the line.
 * Preparing runs in a worker thread (cti-media.c): it reads the named files
 * (bounded by CTI_MEDIA_MAX_INPUT), converts them with the lib/media-*.c
 * handlers into SPOOL_DIR and loads the audio into memory, so that the SIP
 * loop only ever copies samples.  A step owns everything it points to.
 */
#include "steps.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"

static void step_free(gpointer data)
{
	Step *s = data;

	g_free(s->arg);
	g_free(s->language);
	g_clear_pointer(&s->prompts, g_ptr_array_unref);
	g_free(s->pcm);
	g_free(s->tiff);
	g_free(s);
}

const char *steps_name(StepKind kind)
{
	switch (kind) {
	case STEP_PLAY:
		return "play";
	case STEP_SAY:
		return "say";
	case STEP_PAUSE:
		return "pause";
	case STEP_GATHER:
		return "gather";
	case STEP_RECORD:
		return "record";
	case STEP_FAX:
		return "fax";
	}
	return "?";
}

/* parse_number - a number in [MIN, MAX] */
static gboolean parse_number(const char *word, double min, double max, double *out)
{
	char *end;
	double v;

	if (word == NULL)
		return FALSE;
	v = g_ascii_strtod(word, &end);
	if (end == word || *end != '\0' || !(v >= min && v <= max))
		return FALSE;
	*out = v;
	return TRUE;
}

/* take_option - "NAME=VALUE" at *REST: the value (transfer full), REST moved past it */
static char *take_option(const char **rest, const char *name)
{
	gsize n = strlen(name);
	const char *p = *rest;
	const char *end;

	if (strncmp(p, name, n) != 0 || p[n] != '=')
		return NULL;
	end = strchr(p + n + 1, ' ');
	if (end == NULL)
		return NULL;
	*rest = end + 1;
	while (**rest == ' ')
		(*rest)++;
	return g_strndup(p + n + 1, end - (p + n + 1));
}

static Step *parse_media(StepKind kind, const char *rest, GError **error)
{
	g_autofree char *opt = NULL;
	Step *s = g_new0(Step, 1);
	double loop = 1;

	s->kind = kind;
	s->loop = 1;
	if (kind == STEP_PLAY && (opt = take_option(&rest, "loop")) != NULL) {
		if (!parse_number(opt, 1, STEPS_MAX_LOOP, &loop) || loop != (guint)loop) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			            "loop must be 1 to %d", STEPS_MAX_LOOP);
			step_free(s);
			return NULL;
		}
		s->loop = (guint)loop;
	}
	if (kind == STEP_SAY && (opt = take_option(&rest, "lang")) != NULL)
		s->language = g_steal_pointer(&opt);
	if (*rest == '\0') {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s needs %s",
		            steps_name(kind), kind == STEP_SAY ? "a text" : "a file");
		step_free(s);
		return NULL;
	}
	if (kind != STEP_SAY && !g_path_is_absolute(rest)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		            "%s needs an absolute path", steps_name(kind));
		step_free(s);
		return NULL;
	}
	s->arg = g_strdup(rest);
	return s;
}

static Step *parse_numbers(StepKind kind, const char *rest, GError **error)
{
	g_auto(GStrv) w = g_strsplit(rest, " ", -1);
	Step *s = g_new0(Step, 1);
	double digits = 0;
	gboolean ok;

	s->kind = kind;
	if (kind == STEP_GATHER) {
		ok = g_strv_length(w) == 2 && parse_number(w[0], 1, 32, &digits) &&
		     digits == (guint)digits && parse_number(w[1], 0.5, 600, &s->seconds);
		s->digits = (guint)digits;
		s->prompts = g_ptr_array_new_with_free_func(step_free);
	} else {
		ok = g_strv_length(w) == 1 &&
		     parse_number(w[0], 0.02, STEPS_MAX_SECONDS, &s->seconds);
	}
	if (!ok) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s needs %s",
		            steps_name(kind),
		            kind == STEP_GATHER ? "DIGITS (1-32) and TIMEOUT (0.5-600 s)"
		                                : "SECONDS (0.02-3600)");
		step_free(s);
		return NULL;
	}
	return s;
}

static Step *parse_line(const char *line, GError **error)
{
	static const struct {
		const char *verb;
		StepKind kind;
	} verbs[] = {{"play", STEP_PLAY},     {"say", STEP_SAY},       {"pause", STEP_PAUSE},
	             {"gather", STEP_GATHER}, {"record", STEP_RECORD}, {"fax", STEP_FAX}};
	const char *sp = strchr(line, ' ');
	gsize n = sp ? (gsize)(sp - line) : strlen(line);
	const char *rest = sp ? sp + 1 : "";

	while (*rest == ' ')
		rest++;
	for (gsize i = 0; i < G_N_ELEMENTS(verbs); i++) {
		if (strlen(verbs[i].verb) != n || strncmp(line, verbs[i].verb, n) != 0)
			continue;
		switch (verbs[i].kind) {
		case STEP_PLAY:
		case STEP_SAY:
		case STEP_FAX:
			return parse_media(verbs[i].kind, rest, error);
		case STEP_PAUSE:
		case STEP_GATHER:
		case STEP_RECORD:
			return parse_numbers(verbs[i].kind, rest, error);
		}
	}
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "unknown step \"%.*s\"", (int)n,
	            line);
	return NULL;
}

GPtrArray *steps_parse(const char *text, GError **error)
{
	g_autoptr(GPtrArray) steps = g_ptr_array_new_with_free_func(step_free);
	g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);

	for (guint i = 0; lines[i]; i++) {
		gboolean nested = lines[i][0] == ' ' || lines[i][0] == '\t';
		const char *line = g_strstrip(lines[i]);
		Step *parent = steps->len ? g_ptr_array_index(steps, steps->len - 1) : NULL;
		Step *s;

		if (*line == '\0')
			continue;
		s = parse_line(line, error);
		if (s != NULL && nested &&
		    (parent == NULL || parent->kind != STEP_GATHER ||
		     (s->kind != STEP_PLAY && s->kind != STEP_SAY) ||
		     parent->prompts->len >= STEPS_MAX_PROMPTS)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			            "an indented step must be a play or say prompt of a gather");
			step_free(s);
			s = NULL;
		}
		if (s == NULL) {
			g_prefix_error(error, "step line %u: ", i + 1);
			return NULL;
		}
		g_ptr_array_add(nested ? parent->prompts : steps, s);
		if (steps->len > STEPS_MAX) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			            "more than %d steps", STEPS_MAX);
			return NULL;
		}
	}
	if (steps->len == 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "no steps");
		return NULL;
	}
	return g_steal_pointer(&steps);
}

/* load_file - FILE's bytes, at most CTI_MEDIA_MAX_INPUT */
static GBytes *load_file(const char *path, GError **error)
{
	GStatBuf st;
	char *data;
	gsize len;

	if (g_stat(path, &st) != 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", path,
		            g_strerror(errno));
		return NULL;
	}
	if (st.st_size > CTI_MEDIA_MAX_INPUT) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_LIMIT,
		            "%s: larger than %d bytes", path, CTI_MEDIA_MAX_INPUT);
		return NULL;
	}
	if (!g_file_get_contents(path, &data, &len, error))
		return NULL;
	return g_bytes_new_take(data, len);
}

/* load_pcm - read the 8 kHz mono WAV at PATH into S */
static gboolean load_pcm(Step *s, const char *path, GError **error)
{
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	sf_count_t got;

	if (sf == NULL || info.samplerate != CTI_MEDIA_RATE || info.channels != 1) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_CONVERT,
		            "%s: not 8 kHz mono: %s", path, sf_strerror(sf));
		if (sf)
			sf_close(sf);
		return FALSE;
	}
	s->pcm = g_new0(gint16, info.frames + 1);
	got = sf_readf_short(sf, s->pcm, info.frames);
	sf_close(sf);
	s->samples = got > 0 ? (gsize)got : 0;
	return TRUE;
}

static gboolean prepare_one(Step *s, const char *spool_dir, const char *name, GError **error)
{
	g_autofree char *out = NULL;
	g_autoptr(GBytes) data = NULL;
	g_autoptr(CtiMedia) m = NULL;

	switch (s->kind) {
	case STEP_PAUSE:
	case STEP_RECORD:
		return TRUE;
	case STEP_GATHER:
		for (guint i = 0; i < s->prompts->len; i++) {
			g_autofree char *sub = g_strdup_printf("%s-%u", name, i + 1);

			if (!prepare_one(g_ptr_array_index(s->prompts, i), spool_dir, sub, error))
				return FALSE;
		}
		return TRUE;
	case STEP_SAY:
		out = g_strdup_printf("%s/%s.wav", spool_dir, name);
		m = media_speech_synth(s->arg, s->language, NULL, out, error);
		return m != NULL && load_pcm(s, out, error);
	case STEP_PLAY:
		out = g_strdup_printf("%s/%s.wav", spool_dir, name);
		data = load_file(s->arg, error);
		m = data ? media_voice_convert(data, NULL, s->arg, out, error) : NULL;
		return m != NULL && load_pcm(s, out, error);
	case STEP_FAX:
		out = g_strdup_printf("%s/%s.tif", spool_dir, name);
		data = load_file(s->arg, error);
		m = data ? media_fax_convert(data, NULL, s->arg, TRUE, out, error) : NULL;
		if (m == NULL)
			return FALSE;
		s->tiff = g_steal_pointer(&out);
		s->pages = m->pages;
		return TRUE;
	}
	return FALSE;
}

gboolean steps_prepare(GPtrArray *steps, const char *spool_dir, const char *session, GError **error)
{
	for (guint i = 0; i < steps->len; i++) {
		Step *s = g_ptr_array_index(steps, i);
		g_autofree char *name = g_strdup_printf("%s-%u", session, i + 1);

		if (!prepare_one(s, spool_dir, name, error)) {
			g_prefix_error(error, "step %u (%s): ", i + 1, steps_name(s->kind));
			return FALSE;
		}
	}
	return TRUE;
}

void steps_cleanup(const char *spool_dir, const char *session)
{
	g_autoptr(GDir) dir = g_dir_open(spool_dir, 0, NULL);
	g_autofree char *prefix = g_strdup_printf("%s-", session);
	const char *name;

	while (dir && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = NULL;

		if (!g_str_has_prefix(name, prefix) || strstr(name, "-rec") != NULL)
			continue;
		path = g_build_filename(spool_dir, name, NULL);
		g_unlink(path);
	}
}
