/* submit-bench - ctid's SUBMIT rate as its live jobs grow (P4 of bench/README.md).
 *
 *   submit-bench SOCKET CLIENTS MARK...
 *
 * CLIENTS threads SUBMIT jobs over ctid's ipc socket (one connection per job,
 * as cti-milter does), every job due a day ahead (Not-Before), so that each one
 * stays live.  At each MARK (ascending job counts) the program stops, prints
 *   mark n=<MARK> rate=<jobs/s> window=<jobs> errors=<count>
 * where rate is over the last window of jobs before the mark (a tenth of the
 * mark, at least 500), and waits for a line on stdin (the harness reads ctid's
 * RSS meanwhile).  Exit 1 with a reason on stderr when ctid cannot be reached;
 * refused jobs are counted in errors.  Links the built lib for the ipc codec.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc.h"

#define BENCH_TIMEOUT_MS 30000

typedef struct {
	const char *socket;
	char *request;
	char *message;
	gint next;     /* the next job index to take */
	gint done;     /* jobs answered */
	gint target;   /* submit up to this many */
	gint window_at; /* the job count the rate window starts at */
	gint errors;
	gint64 window_start; /* monotonic us when done reached window_at */
	char *first_error;
	GMutex lock;
	GCond cond;
} Bench;

static void bench_submit_one(Bench *b, int i)
{
	g_autoptr(CtiIpcFrame) req = ipc_frame_new("SUBMIT");
	g_autoptr(CtiIpcFrame) reply = NULL;
	g_autoptr(GError) error = NULL;

	ipc_frame_add(req, "Request", b->request);
	ipc_frame_addf(req, "Sender", "bench%d@bench.example", i % 100);
	ipc_frame_add(req, "Recipient", "call@bench.example");
	ipc_frame_addf(req, "Message-Id", "<submit-bench.%d.%d@bench.example>", (int)getpid(), i);
	ipc_frame_set_body(req, g_bytes_new_static(b->message, strlen(b->message)));
	reply = ipc_call(b->socket, req, BENCH_TIMEOUT_MS, &error);
	if (reply != NULL && strcmp(reply->verb, "OK") == 0)
		return;
	g_atomic_int_inc(&b->errors);
	g_mutex_lock(&b->lock);
	if (b->first_error == NULL)
		b->first_error = g_strdup(error ? error->message
		                                : ipc_frame_get(reply, "Reason") ? ipc_frame_get(reply, "Reason")
		                                                                 : reply->verb);
	g_mutex_unlock(&b->lock);
}

static gpointer bench_client(gpointer data)
{
	Bench *b = data;

	for (;;) {
		int i;

		g_mutex_lock(&b->lock);
		while (b->next >= b->target && b->target >= 0)
			g_cond_wait(&b->cond, &b->lock);
		if (b->target < 0) {
			g_mutex_unlock(&b->lock);
			return NULL;
		}
		i = b->next++;
		g_mutex_unlock(&b->lock);
		bench_submit_one(b, i);
		g_mutex_lock(&b->lock);
		b->done++;
		if (b->done == b->window_at)
			b->window_start = g_get_monotonic_time();
		g_cond_broadcast(&b->cond);
		g_mutex_unlock(&b->lock);
	}
}

int main(int argc, char **argv)
{
	Bench b = {0};
	g_autoptr(GPtrArray) threads = g_ptr_array_new();
	char due[32], line[64];
	time_t t = time(NULL) + 86400;
	int clients;

	if (argc < 4) {
		fprintf(stderr, "usage: submit-bench SOCKET CLIENTS MARK...\n");
		return 2;
	}
	b.socket = argv[1];
	clients = atoi(argv[2]);
	strftime(due, sizeof due, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	b.request = g_strdup_printf("Action: connect\nSource: 2001\nDestination: 0312345678\n"
	                            "Notify: no\nMonitor-Time: 120\nTrigger: system\n"
	                            "Not-Before: %s\n",
	                            due);
	b.message = g_strdup_printf("From: <bench@bench.example>\r\nTo: <call@bench.example>\r\n"
	                            "Subject: submit-bench\r\nMIME-Version: 1.0\r\n"
	                            "Content-Type: application/x-cti\r\n\r\n%s",
	                            b.request);
	g_mutex_init(&b.lock);
	g_cond_init(&b.cond);
	for (int c = 0; c < clients; c++)
		g_ptr_array_add(threads, g_thread_new("submit", bench_client, &b));
	for (int m = 3; m < argc; m++) {
		int mark = atoi(argv[m]);
		int window = MAX(mark / 10, 500);
		gint64 end;

		g_mutex_lock(&b.lock);
		b.window_at = MAX(mark - window, b.done);
		window = mark - b.window_at;
		b.window_start = g_get_monotonic_time();
		b.target = mark;
		g_cond_broadcast(&b.cond);
		while (b.done < mark)
			g_cond_wait(&b.cond, &b.lock);
		end = g_get_monotonic_time();
		g_mutex_unlock(&b.lock);
		if (b.errors == b.done) {
			fprintf(stderr, "submit-bench: every SUBMIT failed: %s\n",
			        b.first_error ? b.first_error : "?");
			return 1;
		}
		printf("mark n=%d rate=%.1f window=%d errors=%d\n", mark,
		       window * 1e6 / (double)MAX(end - b.window_start, 1), window, b.errors);
		fflush(stdout);
		if (m + 1 < argc && fgets(line, sizeof line, stdin) == NULL)
			break;
	}
	g_mutex_lock(&b.lock);
	b.target = -1;
	g_cond_broadcast(&b.cond);
	g_mutex_unlock(&b.lock);
	for (guint i = 0; i < threads->len; i++)
		g_thread_join(threads->pdata[i]);
	if (b.first_error != NULL)
		fprintf(stderr, "submit-bench: first error: %s\n", b.first_error);
	return 0;
}
