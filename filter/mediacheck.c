/* mediacheck - validate a request's scenario and media parts in the milter.
 *
 * With a Scenario: field, the named part is parsed (lib/scenario) against the
 * mail's parts (lib/parts) and every step's medium is probed: <Play> a voice
 * part, <Fax> a TIFF/PDF part, <Say> a speech voice for its language.
 * Without one, every voice, text and fax part of the mail is probed, as ctid
 * will play them in mail order.  Probing reads a part's decoded bytes (bounded
 * by CTI_MEDIA_MAX_INPUT) and only its headers are interpreted; nothing is
 * converted here, so SMTP is not held up by a conversion.  The message and
 * request are borrowed.  Failures map to FILTER_ERROR_REQUEST (550), except a
 * read error on the spool (FILTER_ERROR_TEMP, 451).
 */
#include "mediacheck.h"

#include "media.h"
#include "parts.h"
#include "reply.h"

/* mediacheck_fail - restate ERROR as a FILTER_ERROR with context */
static gboolean mediacheck_fail(GError *in, const char *context, GError **error)
{
	gboolean temp = in->domain == CTI_PARTS_ERROR && in->code == CTI_PARTS_ERROR_READ;

	g_set_error(error, FILTER_ERROR, temp ? FILTER_ERROR_TEMP : FILTER_ERROR_REQUEST, "%s%s",
	            context, in->message);
	g_error_free(in);
	return FALSE;
}

/* mediacheck_part - probe PART as the medium of KIND (voice, fax, text) */
static gboolean mediacheck_part(const CtiPart *part, CtiPartKind kind, GError **error)
{
	g_autofree char *what = parts_describe(part);
	g_autofree char *context = g_strdup_printf("%s: ", what);
	g_autoptr(CtiMedia) media = NULL;
	g_autoptr(GBytes) data = NULL;
	g_autofree char *text = NULL;
	GError *local = NULL;

	switch (kind) {
	case CTI_PART_VOICE:
		if ((data = parts_content(part, CTI_MEDIA_MAX_INPUT, &local)) != NULL)
			media = media_voice_probe(data, part->content_type, part->filename, &local);
		break;
	case CTI_PART_FAX:
		if ((data = parts_content(part, CTI_MEDIA_MAX_INPUT, &local)) != NULL)
			media = media_fax_probe(data, part->content_type, part->filename, &local);
		break;
	case CTI_PART_TEXT:
		if ((text = parts_text(part, CTI_SCENARIO_MAX_TEXT * 16, &local)) != NULL &&
		    media_speech_probe(part->language, NULL, &local))
			return TRUE;
		break;
	case CTI_PART_OTHER:
	case CTI_PART_REQUEST:
	case CTI_PART_SCENARIO:
		return TRUE;
	}
	if (local != NULL)
		return mediacheck_fail(local, context, error);
	return TRUE;
}

/* mediacheck_step - the medium one scenario step needs */
static gboolean mediacheck_step(const CtiStep *step, GPtrArray *parts, GError **error)
{
	g_autofree char *context =
	    g_strdup_printf("scenario: line %d, column %d: <%s>: ", step->line, step->column,
	                    scenario_step_name(step->kind));
	GError *local = NULL;

	switch (step->kind) {
	case CTI_STEP_PLAY:
		if (!mediacheck_part(g_ptr_array_index(parts, step->part), CTI_PART_VOICE, &local))
			return mediacheck_fail(local, context, error);
		return TRUE;
	case CTI_STEP_FAX:
		if (!mediacheck_part(g_ptr_array_index(parts, step->part), CTI_PART_FAX, &local))
			return mediacheck_fail(local, context, error);
		return TRUE;
	case CTI_STEP_SAY:
		if (!media_speech_probe(step->language, step->voice, &local))
			return mediacheck_fail(local, context, error);
		return TRUE;
	case CTI_STEP_DIAL:
	case CTI_STEP_PAUSE:
	case CTI_STEP_HANGUP:
		return TRUE;
	}
	return TRUE;
}

/* mediacheck_scenario - parse the part REQ->scenario names and check its steps */
static gboolean mediacheck_scenario(const CtiRequest *req, GPtrArray *parts, GError **error)
{
	const CtiPart *part = parts_lookup(parts, req->scenario);
	g_autofree CtiScenarioPart *refs = parts_scenario_refs(parts);
	g_autoptr(CtiScenario) scenario = NULL;
	g_autofree char *text = NULL;
	GError *local = NULL;

	if (part == NULL) {
		g_set_error(error, FILTER_ERROR, FILTER_ERROR_REQUEST,
		            "Scenario: part '%.100s' is not in this mail", req->scenario);
		return FALSE;
	}
	text = parts_text(part, CTI_SCENARIO_MAX_BYTES, &local);
	if (text == NULL)
		return mediacheck_fail(local, "scenario: ", error);
	scenario = scenario_parse(text, strlen(text), refs, parts->len, &local);
	if (scenario == NULL || !scenario_check_runnable(scenario, refs, parts->len, &local))
		return mediacheck_fail(local, "scenario: ", error);
	for (guint i = 0; i < scenario->steps->len; i++)
		if (!mediacheck_step(g_ptr_array_index(scenario->steps, i), parts, error))
			return FALSE;
	return TRUE;
}

/* mediacheck_message - scenario steps, or else every media part */
gboolean mediacheck_message(GMimeMessage *message, const CtiRequest *req, GError **error)
{
	g_autoptr(GPtrArray) parts = NULL;
	GError *local = NULL;

	parts = parts_list(message, &local);
	if (parts == NULL)
		return mediacheck_fail(local, "", error);
	if (req->scenario != NULL)
		return mediacheck_scenario(req, parts, error);
	for (guint i = 0; i < parts->len; i++) {
		const CtiPart *part = g_ptr_array_index(parts, i);

		if (!mediacheck_part(part, part->kind, error))
			return FALSE;
	}
	return TRUE;
}
