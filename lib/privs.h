/* privs - becoming the unprivileged user a program is configured to run as. */
#ifndef MAILCTI_PRIVS_H
#define MAILCTI_PRIVS_H

#include <glib.h>

/* privs_become - when running as root and USER is set, become USER (its
 * group and supplementary groups) for good; FALSE + ERROR when USER does not
 * exist or cannot be become.  Whenever the process does not (or no longer)
 * run as root, files it creates are kept from other users (umask 027): the
 * databases and spool files are 0640, 0750 at most. */
gboolean privs_become(const char *user, GError **error);

#endif
