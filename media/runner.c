/* runner - the steps of a running call, driven by the RTP clock.
 *
 * audio.c asks for 160 samples every 20 ms (runner_tick) and hands over
 * what it hears (runner_heard) and the digits it detects (runner_digit).
 * Time inside a step is counted in packets, so pauses, timeouts and
 * recording limits follow the audio actually sent.  Each step ends with one
 * result text (the "done" event's Result lines) and, for gather, record and
 * fax, an event of its own (digits, recorded, fax).
 */
#include "call-private.h"

#include <sndfile.h>
#include <string.h>

#include "log.h"

static void enter_step(Call *call);

static Step *current(Call *call)
{
	return call->step < call->steps->len ? g_ptr_array_index(call->steps, call->step) : NULL;
}

static gboolean elapsed(Call *call, double seconds)
{
	return call->ticks * CALL_PTIME >= seconds * 1000;
}

/* end_step - record RESULT (taken) for the current step and go on to the next */
static void end_step(Call *call, char *result)
{
	log_info("session %s: step %u: %s", call->id, call->step + 1, result);
	g_ptr_array_add(call->results, result);
	call->step++;
	enter_step(call);
}

static void enter_step(Call *call)
{
	Step *s = current(call);
	g_autofree char *n = NULL;
	g_autoptr(GError) error = NULL;

	if (s == NULL) {
		call_steps_done(call);
		return;
	}
	call->pos = 0;
	call->loops = 0;
	call->prompt = 0;
	call->ticks = 0;
	call->prompts_done = s->kind != STEP_GATHER || s->prompts->len == 0;
	g_string_truncate(call->digits, 0);
	n = g_strdup_printf("%u", call->step + 1);
	call_emit(call, "step", "Step", n, "Kind", steps_name(s->kind), NULL);
	if (s->kind == STEP_RECORD)
		call->rec = g_array_sized_new(FALSE, FALSE, sizeof(gint16), 8000);
	if (s->kind == STEP_FAX && !fax_step_begin(call, s, &error))
		end_step(call, g_strdup_printf("fax failed: %s", error->message));
}

void runner_begin(Call *call)
{
	call->state = CALL_RUNNING;
	call->start_pending = FALSE;
	call->step = 0;
	enter_step(call);
}

/* play - copy S's audio into OUT from call->pos; TRUE when S has played all its loops */
static gboolean play(Call *call, const Step *s, gint16 *out)
{
	gsize filled = 0;

	while (filled < CALL_SAMPLES) {
		gsize k = MIN(CALL_SAMPLES - filled, s->samples - call->pos);

		memcpy(out + filled, s->pcm + call->pos, k * sizeof(gint16));
		filled += k;
		call->pos += k;
		if (call->pos < s->samples)
			continue;
		call->pos = 0;
		if (++call->loops >= s->loop)
			return TRUE; /* the rest of OUT stays silent */
	}
	return FALSE;
}

static char *gather_result(Call *call, const char *why)
{
	call_emit(call, "digits", "Digits", call->digits->str, "Reason", why, NULL);
	return g_strdup_printf("gather %s (%s)", call->digits->len ? call->digits->str : "-", why);
}

static void gather_tick(Call *call, Step *s, gint16 *out)
{
	if (!call->prompts_done) {
		Step *p = g_ptr_array_index(s->prompts, call->prompt);

		if (play(call, p, out)) {
			call->loops = 0;
			if (++call->prompt >= s->prompts->len)
				call->prompts_done = TRUE;
		}
		return;
	}
	if (++call->ticks, elapsed(call, s->seconds))
		end_step(call, gather_result(call, "timeout"));
}

/* record_save - write the recording as an 8 kHz mono WAV; the result text (transfer full) */
static char *record_save(Call *call)
{
	g_autofree char *path =
	    g_strdup_printf("%s/%s-rec-%u.wav", call->spool_dir, call->id, call->step + 1);
	g_autofree char *secs = NULL;
	SF_INFO info = {
	    .samplerate = 8000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	double seconds = call->rec->len / 8000.0;

	if (sf == NULL || sf_writef_short(sf, (gint16 *)call->rec->data, call->rec->len) !=
	                      (sf_count_t)call->rec->len) {
		log_warning("session %s: cannot write %s: %s", call->id, path, sf_strerror(sf));
		if (sf)
			sf_close(sf);
		g_clear_pointer(&call->rec, g_array_unref);
		return g_strdup_printf("record failed: cannot write %s", path);
	}
	sf_close(sf);
	g_clear_pointer(&call->rec, g_array_unref);
	secs = g_strdup_printf("%.2f", seconds);
	call_emit(call, "recorded", "File", path, "Seconds", secs, NULL);
	return g_strdup_printf("record %s %ss", path, secs);
}

void runner_tick(Call *call, gint16 *out)
{
	Step *s = call->state == CALL_RUNNING ? current(call) : NULL;

	memset(out, 0, CALL_SAMPLES * sizeof(gint16));
	if (s == NULL)
		return;
	switch (s->kind) {
	case STEP_PLAY:
	case STEP_SAY:
		if (play(call, s, out))
			end_step(call, g_strdup_printf("%s ok %.2fs", steps_name(s->kind),
			                               (double)s->samples * s->loop / 8000));
		return;
	case STEP_PAUSE:
		if (++call->ticks, elapsed(call, s->seconds))
			end_step(call, g_strdup_printf("pause ok %.2fs", s->seconds));
		return;
	case STEP_GATHER:
		gather_tick(call, s, out);
		return;
	case STEP_RECORD:
		if (++call->ticks, elapsed(call, s->seconds))
			end_step(call, record_save(call));
		return;
	case STEP_FAX:
		fax_step_tick(call, out);
		if (call->fax_done)
			end_step(call, fax_step_end(call, s));
		return;
	}
}

void runner_heard(Call *call, const gint16 *pcm, gsize n)
{
	Step *s = call->state == CALL_RUNNING ? current(call) : NULL;

	if (s == NULL)
		return;
	if (s->kind == STEP_RECORD && call->rec) {
		gsize room = (gsize)(s->seconds * 8000) - MIN(call->rec->len, s->seconds * 8000);

		g_array_append_vals(call->rec, pcm, MIN(n, room));
	} else if (s->kind == STEP_FAX && call->fax) {
		fax_step_heard(call, pcm, n);
	}
}

void runner_digit(Call *call, char digit, const char *how)
{
	Step *s = call->state == CALL_RUNNING ? current(call) : NULL;

	log_info("session %s: digit %c (%s)", call->id, digit, how);
	if (s == NULL)
		return;
	if (s->kind == STEP_RECORD && digit == '#') {
		end_step(call, record_save(call));
	} else if (s->kind == STEP_GATHER) {
		call->prompts_done = TRUE; /* a key stops the prompt (barge-in) */
		call->ticks = 0;           /* and restarts the timeout between digits */
		g_string_append_c(call->digits, digit);
		if (call->digits->len >= s->digits)
			end_step(call, gather_result(call, "complete"));
	}
}

void runner_abort(Call *call, const char *why)
{
	Step *s = current(call);

	if (s == NULL)
		return;
	switch (s->kind) {
	case STEP_RECORD:
		g_ptr_array_add(call->results, record_save(call));
		break;
	case STEP_GATHER:
		g_ptr_array_add(call->results, gather_result(call, why));
		break;
	case STEP_FAX:
		g_ptr_array_add(call->results, fax_step_end(call, s));
		break;
	case STEP_PLAY:
	case STEP_SAY:
	case STEP_PAUSE:
		g_ptr_array_add(call->results,
		                g_strdup_printf("%s interrupted (%s)", steps_name(s->kind), why));
		break;
	}
	call->step = call->steps->len;
}
