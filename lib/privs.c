/* privs - see privs.h.  Root keeps its umask (a test stack run as root shares
 * files with other users through it); an unprivileged process tightens its
 * own, so a database never ends up world-readable. */
#include "privs.h"

#include <errno.h>
#include <gio/gio.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

/* privs_become - see privs.h */
gboolean privs_become(const char *user, GError **error)
{
	struct passwd *pw;

	if (geteuid() == 0 && user != NULL && user[0] != '\0') {
		pw = getpwnam(user);
		if (pw == NULL) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			            "user %s does not exist", user);
			return FALSE;
		}
		if (setgid(pw->pw_gid) != 0 || initgroups(pw->pw_name, pw->pw_gid) != 0 ||
		    setuid(pw->pw_uid) != 0) {
			g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			            "cannot become %s: %s", user, g_strerror(errno));
			return FALSE;
		}
	}
	if (geteuid() != 0)
		umask(umask(0) | 027);
	return TRUE;
}
