/* media-plan - turn a request mail into converted media and an ordered plan.
 *
 * The GMimeMessage (or the file it is read from) is the caller's; the plan
 * owns its steps and strings, the media store owns the files.  The scenario
 * is parsed again here (the milter already checked it) because ctid trusts
 * nothing it did not write.  Step files are numbered from 1 in plan order.
 * Failures: no such scenario part, a bad scenario, unconvertible media
 * (permanent, CTI_SCENARIO_ERROR / CTI_MEDIA_ERROR / CTI_PARTS_ERROR with the
 * part named); the store or the spool file (temporary).
 */
#include "media-plan.h"

#include <fcntl.h>
#include <string.h>

#include "media.h"
#include "parts.h"
#include "scenario.h"

typedef struct {
	GMimeMessage *message;
	GPtrArray *parts;
	const char *media_dir;
	const char *job_id;
	CtiMediaPlan *plan;
} PlanBuild;

static void plan_step_free(gpointer data)
{
	CtiPlanStep *st = data;

	g_free(st->file);
	g_free(st->path);
	g_free(st->checksum);
	g_free(st->number);
	g_free(st->describe);
	g_free(st);
}

/* media_plan_free - free the plan */
void media_plan_free(CtiMediaPlan *plan)
{
	if (plan == NULL)
		return;
	g_ptr_array_unref(plan->steps);
	g_free(plan);
}

static CtiPlanStep *plan_add(PlanBuild *b, CtiPlanKind kind)
{
	CtiPlanStep *st = g_new0(CtiPlanStep, 1);

	st->kind = kind;
	st->loop = 1;
	g_ptr_array_add(b->plan->steps, st);
	return st;
}

/* plan_take_media - record the converted file M in ST */
static void plan_take_media(CtiPlanStep *st, CtiMedia *m)
{
	st->path = g_strdup(m->path);
	st->file = g_path_get_basename(m->path);
	st->checksum = g_strdup(m->checksum);
	st->seconds = m->duration;
	st->pages = m->pages;
}

/* plan_out_path - the store path of the next step, or NULL + error */
static char *plan_out_path(PlanBuild *b, const char *ext, GError **error)
{
	char *path = media_store_path(b->media_dir, b->job_id, b->plan->steps->len + 1, ext);

	if (path == NULL)
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_STORE,
		            "job id '%s' unusable in a file name", b->job_id);
	return path;
}

/* plan_convert - convert PART as KIND (voice, fax, text) into a new step */
static CtiPlanStep *plan_convert(PlanBuild *b, const CtiPart *part, CtiPartKind kind,
                                 const char *language, const char *voice, gboolean fine,
                                 GError **error)
{
	g_autofree char *out = plan_out_path(b, kind == CTI_PART_FAX ? "tif" : "wav", error);
	g_autoptr(CtiMedia) m = NULL;
	g_autoptr(GBytes) data = NULL;
	g_autofree char *text = NULL;
	g_autofree char *what = parts_describe(part);

	if (out == NULL)
		return NULL;
	if (kind == CTI_PART_TEXT) {
		if ((text = parts_text(part, CTI_SCENARIO_MAX_TEXT * 16, error)) != NULL)
			m = media_speech_synth(text, language ? language : part->language, voice,
			                       out, error);
	} else if ((data = parts_content(part, CTI_MEDIA_MAX_INPUT, error)) != NULL) {
		m = kind == CTI_PART_FAX
		        ? media_fax_convert(data, part->content_type, part->filename, fine, out,
		                            error)
		        : media_voice_convert(data, part->content_type, part->filename, out, error);
	}
	if (m == NULL) {
		g_prefix_error(error, "%s: ", what);
		return NULL;
	}
	CtiPlanStep *st = plan_add(b, kind == CTI_PART_FAX ? CTI_PLAN_FAX : CTI_PLAN_PLAY);
	plan_take_media(st, m);
	st->describe =
	    kind == CTI_PART_FAX
	        ? g_strdup_printf("%u Fax %s %u pages %s", b->plan->steps->len, what, st->pages,
	                          fine ? "fine" : "standard")
	        : g_strdup_printf("%u %s %s %.2f s", b->plan->steps->len,
	                          kind == CTI_PART_TEXT ? "Say" : "Play", what, st->seconds);
	return st;
}

/* plan_say - synthesise a <Say> text */
static CtiPlanStep *plan_say(PlanBuild *b, const CtiStep *step, GError **error)
{
	g_autofree char *out = plan_out_path(b, "wav", error);
	g_autoptr(CtiMedia) m = NULL;
	CtiPlanStep *st;

	if (out == NULL ||
	    (m = media_speech_synth(step->text, step->language, step->voice, out, error)) == NULL)
		return NULL;
	st = plan_add(b, CTI_PLAN_PLAY);
	plan_take_media(st, m);
	st->describe = g_strdup_printf("%u Say %s %.2f s", b->plan->steps->len,
	                               step->language ? step->language : "en", st->seconds);
	return st;
}

/* plan_step - one scenario step into the plan */
static gboolean plan_step(PlanBuild *b, const CtiStep *step, GError **error)
{
	CtiPlanStep *st = NULL;

	switch (step->kind) {
	case CTI_STEP_PLAY:
		st = plan_convert(b, g_ptr_array_index(b->parts, step->part), CTI_PART_VOICE, NULL,
		                  NULL, TRUE, error);
		break;
	case CTI_STEP_SAY:
		st = plan_say(b, step, error);
		break;
	case CTI_STEP_FAX:
		st = plan_convert(b, g_ptr_array_index(b->parts, step->part), CTI_PART_FAX, NULL,
		                  NULL, step->fine, error);
		break;
	case CTI_STEP_PAUSE:
		st = plan_add(b, CTI_PLAN_PAUSE);
		st->seconds = step->length;
		st->describe = g_strdup_printf("%u Pause %d s", b->plan->steps->len, step->length);
		break;
	case CTI_STEP_DIAL:
		st = plan_add(b, CTI_PLAN_DIAL);
		st->number = g_strdup(step->text);
		st->timeout = step->timeout;
		st->describe = g_strdup_printf("%u Dial %s", b->plan->steps->len, step->text);
		break;
	case CTI_STEP_HANGUP:
		st = plan_add(b, CTI_PLAN_HANGUP);
		st->describe = g_strdup_printf("%u Hangup", b->plan->steps->len);
		break;
	}
	if (st == NULL) {
		g_prefix_error(error, "scenario line %d: ", step->line);
		return FALSE;
	}
	if (step->kind == CTI_STEP_PLAY || step->kind == CTI_STEP_SAY)
		st->loop = step->loop;
	return TRUE;
}

/* plan_scenario - the steps of the scenario part REQ names */
static gboolean plan_scenario(PlanBuild *b, const CtiRequest *req, GError **error)
{
	const CtiPart *part = parts_lookup(b->parts, req->scenario);
	g_autofree CtiScenarioPart *refs = parts_scenario_refs(b->parts);
	g_autoptr(CtiScenario) scenario = NULL;
	g_autofree char *text = NULL;

	if (part == NULL) {
		g_set_error(error, CTI_SCENARIO_ERROR, CTI_SCENARIO_ERROR_PART,
		            "Scenario: part '%.100s' is not in this mail", req->scenario);
		return FALSE;
	}
	if ((text = parts_text(part, CTI_SCENARIO_MAX_BYTES, error)) == NULL ||
	    (scenario = scenario_parse(text, strlen(text), refs, b->parts->len, error)) == NULL ||
	    !scenario_check_runnable(scenario, refs, b->parts->len, error))
		return FALSE;
	for (guint i = 0; i < scenario->steps->len; i++) {
		const CtiStep *step = g_ptr_array_index(scenario->steps, i);

		if (!plan_step(b, step, error))
			return FALSE;
		if (step->kind == CTI_STEP_HANGUP)
			break; /* TwiML: nothing after <Hangup/> runs */
	}
	return TRUE;
}

/* plan_parts - no scenario: every voice, text and fax part in mail order */
static gboolean plan_parts(PlanBuild *b, GError **error)
{
	for (guint i = 0; i < b->parts->len; i++) {
		const CtiPart *part = g_ptr_array_index(b->parts, i);

		switch (part->kind) {
		case CTI_PART_VOICE:
		case CTI_PART_TEXT:
		case CTI_PART_FAX:
			if (plan_convert(b, part, part->kind, NULL, NULL, TRUE, error) == NULL)
				return FALSE;
			break;
		case CTI_PART_OTHER:
		case CTI_PART_REQUEST:
		case CTI_PART_SCENARIO:
			break;
		}
	}
	return TRUE;
}

static double plan_total(const CtiMediaPlan *plan)
{
	double total = 0;

	for (guint i = 0; i < plan->steps->len; i++) {
		const CtiPlanStep *st = g_ptr_array_index(plan->steps, i);

		switch (st->kind) {
		case CTI_PLAN_PLAY:
			total += st->seconds * MAX(st->loop, 1);
			break;
		case CTI_PLAN_PAUSE:
			total += st->seconds;
			break;
		case CTI_PLAN_DIAL:
			total += st->timeout;
			break;
		case CTI_PLAN_HANGUP:
		case CTI_PLAN_FAX:
			break;
		}
	}
	return total;
}

/* media_plan_build - convert and sequence */
CtiMediaPlan *media_plan_build(GMimeMessage *message, const CtiRequest *req, const char *media_dir,
                               const char *job_id, GError **error)
{
	g_autoptr(CtiMediaPlan) plan = g_new0(CtiMediaPlan, 1);
	g_autoptr(GPtrArray) parts = parts_list(message, error);
	PlanBuild b = {message, parts, media_dir, job_id, plan};

	plan->steps = g_ptr_array_new_with_free_func(plan_step_free);
	if (parts == NULL || !media_store_prepare(media_dir, error))
		return NULL;
	if (!(req->scenario != NULL ? plan_scenario(&b, req, error) : plan_parts(&b, error)))
		return NULL;
	plan->total_seconds = plan_total(plan);
	return g_steal_pointer(&plan);
}

/* media_plan_build_file - parse MESSAGE_PATH with GMime, then build */
CtiMediaPlan *media_plan_build_file(const char *message_path, const CtiRequest *req,
                                    const char *media_dir, const char *job_id, GError **error)
{
	GMimeStream *stream = g_mime_stream_fs_open(message_path, O_RDONLY, 0, error);
	GMimeParser *parser;
	GMimeMessage *message;
	CtiMediaPlan *plan = NULL;

	if (stream == NULL) {
		g_prefix_error(error, "cannot open %s: ", message_path);
		return NULL;
	}
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_persist_stream(parser, TRUE);
	message = g_mime_parser_construct_message(parser, NULL);
	if (message == NULL)
		g_set_error(error, CTI_PARTS_ERROR, CTI_PARTS_ERROR_STRUCTURE, "%s is not a mail",
		            message_path);
	else
		plan = media_plan_build(message, req, media_dir, job_id, error);
	g_clear_object(&message);
	g_object_unref(parser);
	g_object_unref(stream);
	return plan;
}

/* media_plan_describe - copies of the Step: lines */
GPtrArray *media_plan_describe(const CtiMediaPlan *plan)
{
	GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < plan->steps->len; i++)
		g_ptr_array_add(
		    lines, g_strdup(((CtiPlanStep *)g_ptr_array_index(plan->steps, i))->describe));
	return lines;
}
