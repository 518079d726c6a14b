/* number - normalise telephone numbers given in requests and routes.
 *
 * Pure functions, no state.  The input is untrusted mail text: every byte is
 * classified, and the error for a bad one names it in escaped form with its
 * position, so that an SMTP reply never carries a raw control character.
 */
#include "number.h"

#include <string.h>

G_DEFINE_QUARK(mailcti - number - error, number_error)

/* number_escape_char - 'c' for printable ASCII, \n \r \t, else \xHH */
char *number_escape_char(unsigned char c)
{
	switch (c) {
	case '\n':
		return g_strdup("\\n");
	case '\r':
		return g_strdup("\\r");
	case '\t':
		return g_strdup("\\t");
	default:
		break;
	}
	if (c < 0x20 || c >= 0x7f)
		return g_strdup_printf("\\x%02x", c);
	return g_strdup_printf("'%c'", c);
}

static gboolean number_is_separator(char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/';
}

/* number_normalise - see number.h */
gboolean number_normalise(const char *in, char **out, GError **error)
{
	g_autoptr(GString) buf = g_string_new(NULL);
	gsize digits = 0;

	g_return_val_if_fail(in != NULL && out != NULL, FALSE);
	for (gsize i = 0; in[i]; i++) {
		unsigned char c = (unsigned char)in[i];

		if (g_ascii_isdigit(c)) {
			g_string_append_c(buf, (char)c);
			digits++;
		} else if (c == '+' && buf->len == 0) {
			g_string_append_c(buf, '+');
		} else if (!number_is_separator((char)c)) {
			g_autofree char *shown = number_escape_char(c);
			g_set_error(error, CTI_NUMBER_ERROR, CTI_NUMBER_ERROR_CHAR,
			            "invalid character %s at position %" G_GSIZE_FORMAT, shown,
			            i + 1);
			return FALSE;
		}
	}
	if (digits == 0) {
		g_set_error_literal(error, CTI_NUMBER_ERROR, CTI_NUMBER_ERROR_EMPTY, "no digits");
		return FALSE;
	}
	if (digits > CTI_NUMBER_MAX_DIGITS) {
		g_set_error(error, CTI_NUMBER_ERROR, CTI_NUMBER_ERROR_LENGTH,
		            "%" G_GSIZE_FORMAT " digits, at most %d allowed", digits,
		            CTI_NUMBER_MAX_DIGITS);
		return FALSE;
	}
	*out = g_string_free(g_steal_pointer(&buf), FALSE);
	return TRUE;
}

/* number_is_digits - 1..MAX_LEN ASCII digits and nothing else */
gboolean number_is_digits(const char *s, gsize max_len)
{
	gsize n = s ? strlen(s) : 0;

	if (n == 0 || n > max_len)
		return FALSE;
	for (gsize i = 0; i < n; i++)
		if (!g_ascii_isdigit(s[i]))
			return FALSE;
	return TRUE;
}
