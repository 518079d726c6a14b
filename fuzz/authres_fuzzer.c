/* authres_fuzzer - libFuzzer target for the Authentication-Results parser.
 *
 * Any input either fails with a short error in CTI_AUTHRES_ERROR, or parses
 * into an authserv-id and at most CTI_AUTHRES_MAX_RESULTS results of at most
 * CTI_AUTHRES_MAX_PROPS properties, every string non-NULL, method and result
 * lower case.  A crash, a leak or a broken invariant aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_lower(const char *s)
{
	for (; *s; s++)
		if (g_ascii_isupper(*s))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	GError *error = NULL;
	CtiAuthres *ar = authres_parse((const char *)data, (gssize)size, &error);

	if (!ar) {
		if (!error || error->domain != CTI_AUTHRES_ERROR || strlen(error->message) > 200)
			abort();
		g_error_free(error);
		return 0;
	}
	if (!ar->authserv_id || !*ar->authserv_id || ar->results->len > CTI_AUTHRES_MAX_RESULTS)
		abort();
	for (guint i = 0; i < ar->results->len; i++) {
		const CtiAuthresResult *r = ar->results->pdata[i];
		if (!r->method || !r->result || r->props->len > CTI_AUTHRES_MAX_PROPS)
			abort();
		check_lower(r->method);
		check_lower(r->result);
		for (guint j = 0; j < r->props->len; j++) {
			const CtiAuthresProp *p = r->props->pdata[j];
			if (!p->ptype || !p->property || !p->value)
				abort();
		}
	}
	authres_free(ar);
	return 0;
}
