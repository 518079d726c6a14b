/* request_fuzzer - libFuzzer target for request_parse() and request_format().
 *
 * Any input either fails with an error that is short and free of control
 * characters, or parses into a request whose canonical text parses again to
 * the same canonical text.  A crash, a leak or a broken invariant aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const GError *error)
{
	if (!error || error->domain != CTI_REQUEST_ERROR || strlen(error->message) > 200)
		abort();
	for (const char *p = error->message; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GError *error = NULL;
	CtiRequest *req = request_parse((const char *)data, size, &error);
	char *text, *again;
	CtiRequest *req2;

	if (!req) {
		check_error(error);
		g_error_free(error);
		return 0;
	}
	text = request_format(req);
	req2 = request_parse(text, strlen(text), &error);
	if (!req2)
		abort();
	again = request_format(req2);
	if (strcmp(text, again) != 0)
		abort();
	g_free(again);
	g_free(text);
	request_free(req2);
	request_free(req);
	return 0;
}
