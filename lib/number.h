/* number - telephone number normalisation, shared by request and routing.
 *
 * "+49 (30) 123-45.67/8" becomes "+493012345678": spaces, dashes, dots,
 * parentheses and slashes are separators and are dropped; one leading '+'
 * is kept; everything else must be a digit; 1..CTI_NUMBER_MAX_DIGITS digits.
 * Errors are in CTI_NUMBER_ERROR and name the offending character (escaped)
 * and its 1-based position.
 */
#ifndef MAILCTI_NUMBER_H
#define MAILCTI_NUMBER_H

#include <glib.h>

#define CTI_NUMBER_MAX_DIGITS 20

#define CTI_NUMBER_ERROR (number_error_quark())
typedef enum {
	CTI_NUMBER_ERROR_EMPTY,  /* no digits */
	CTI_NUMBER_ERROR_CHAR,   /* a character that is neither digit nor separator */
	CTI_NUMBER_ERROR_LENGTH, /* more than CTI_NUMBER_MAX_DIGITS digits */
} CtiNumberError;
GQuark number_error_quark(void);

/* number_normalise - strip separators from IN; *OUT (transfer full) or FALSE + error */
gboolean number_normalise(const char *in, char **out, GError **error);
/* number_is_digits - TRUE if S is 1..max_len ASCII digits */
gboolean number_is_digits(const char *s, gsize max_len);
/* number_escape_char - printable form of byte C for an error text: 'x', \n, \x01 (transfer full) */
char *number_escape_char(unsigned char c);

#endif
