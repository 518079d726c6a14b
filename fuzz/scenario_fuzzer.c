/* scenario_fuzzer - libFuzzer target for scenario_parse().
 *
 * Any input either fails with an error in CTI_SCENARIO_ERROR whose message
 * starts "line L, column C: ", is short and has no control characters (it
 * goes into an SMTP reply), or parses into at most CTI_SCENARIO_MAX_STEPS
 * steps whose part references point into the part list and whose values are
 * in range.  A crash, a leak or a broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const CtiScenarioPart parts[] = {
    {"voice@x", "a.wav"},
    {NULL, "doc.pdf"},
    {"t@x", NULL},
};

static void check_error(const GError *error)
{
	int line, col;

	if (!error || error->domain != CTI_SCENARIO_ERROR || strlen(error->message) > 400 ||
	    sscanf(error->message, "line %d, column %d: ", &line, &col) != 2 || line < 1 || col < 1)
		abort();
	for (const char *p = error->message; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
}

static void check_step(const CtiStep *st)
{
	switch (st->kind) {
	case CTI_STEP_PLAY:
	case CTI_STEP_FAX:
		if (st->part < 0 || st->part >= (int)G_N_ELEMENTS(parts))
			abort();
		break;
	case CTI_STEP_DIAL:
		if (!st->text || !*st->text || st->timeout < 5 || st->timeout > 600)
			abort();
		break;
	case CTI_STEP_SAY:
		if (!st->text || !*st->text || strlen(st->text) > CTI_SCENARIO_MAX_TEXT)
			abort();
		break;
	case CTI_STEP_PAUSE:
		if (st->length < 1 || st->length > 600)
			abort();
		break;
	case CTI_STEP_HANGUP:
		break;
	}
	g_free(scenario_step_describe(st, 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GError *error = NULL;
	CtiScenario *s =
	    scenario_parse((const char *)data, size, parts, G_N_ELEMENTS(parts), &error);

	if (!s) {
		check_error(error);
		g_error_free(error);
		return 0;
	}
	if (s->steps->len > CTI_SCENARIO_MAX_STEPS)
		abort();
	for (guint i = 0; i < s->steps->len; i++)
		check_step(g_ptr_array_index(s->steps, i));
	scenario_free(s);
	return 0;
}
