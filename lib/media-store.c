/* media-store - where converted media live until their job ends.
 *
 * Files are "<media_dir>/<job-id>-<step>.<ext>": the job id is checked to be
 * safe in a file name, so a name can never leave the directory.  ctid owns
 * the directory; pbx-sim's voice unit reads the files by name.  Writers
 * create "<name>.tmp" and rename it, so readers never see a partial file.
 * media_store_cleanup() removes a job's files when the job ends.  Failures:
 * the directory cannot be created, read or written (CTI_MEDIA_ERROR_STORE).
 */
#include "media-private.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

G_DEFINE_QUARK(cti - media - error - quark, media_error)

/* media_new - an empty CtiMedia */
CtiMedia *media_new(const char *format)
{
	CtiMedia *media = g_new0(CtiMedia, 1);

	media->format = g_strdup(format);
	return media;
}

/* media_free - free a CtiMedia */
void media_free(CtiMedia *media)
{
	if (media == NULL)
		return;
	g_free(media->path);
	g_free(media->format);
	g_free(media->checksum);
	g_free(media);
}

/* media_deadline - the end of the conversion time budget */
MediaDeadline media_deadline(void)
{
	return g_get_monotonic_time() + (gint64)CTI_MEDIA_TIMEOUT_MS * 1000;
}

/* media_deadline_passed - has the budget run out? */
gboolean media_deadline_passed(MediaDeadline deadline, const char *what, GError **error)
{
	if (g_get_monotonic_time() <= deadline)
		return FALSE;
	g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_LIMIT, "%s took longer than %d s", what,
	            CTI_MEDIA_TIMEOUT_MS / 1000);
	return TRUE;
}

/* media_tmp_path - OUT_PATH + ".tmp" */
char *media_tmp_path(const char *out_path)
{
	return g_strconcat(out_path, ".tmp", NULL);
}

/* media_finish_file - move the finished file into place and checksum it */
gboolean media_finish_file(CtiMedia *media, const char *tmp_path, const char *out_path,
                           GError **error)
{
	g_autofree char *data = NULL;
	g_autofree char *sum = NULL;
	gsize len;

	if (g_rename(tmp_path, out_path) != 0) {
		int err = errno;

		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_STORE, "cannot rename %s: %s",
		            tmp_path, g_strerror(err));
		g_unlink(tmp_path);
		return FALSE;
	}
	if (!g_file_get_contents(out_path, &data, &len, error)) {
		g_prefix_error(error, "media store: ");
		(*error)->domain = CTI_MEDIA_ERROR;
		(*error)->code = CTI_MEDIA_ERROR_STORE;
		return FALSE;
	}
	sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
	g_free(media->checksum);
	media->checksum = g_strconcat("sha256:", sum, NULL);
	g_free(media->path);
	media->path = g_strdup(out_path);
	return TRUE;
}

/* job_id_safe - letters, digits, '-' and '_', 1..64 of them */
static gboolean job_id_safe(const char *job_id)
{
	gsize n = job_id ? strlen(job_id) : 0;

	if (n == 0 || n > 64)
		return FALSE;
	for (gsize i = 0; i < n; i++)
		if (!g_ascii_isalnum(job_id[i]) && job_id[i] != '-' && job_id[i] != '_')
			return FALSE;
	return TRUE;
}

/* media_store_path - the file name of one job step's medium */
char *media_store_path(const char *media_dir, const char *job_id, guint step, const char *ext)
{
	g_autofree char *base = NULL;

	if (!job_id_safe(job_id) || ext == NULL || strchr(ext, '/') != NULL)
		return NULL;
	base = g_strdup_printf("%s-%02u.%s", job_id, step, ext);
	return g_build_filename(media_dir, base, NULL);
}

/* media_store_prepare - mkdir -p MEDIA_DIR */
gboolean media_store_prepare(const char *media_dir, GError **error)
{
	if (g_mkdir_with_parents(media_dir, 0755) == 0)
		return TRUE;
	g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_STORE,
	            "cannot create media store %s: %s", media_dir, g_strerror(errno));
	return FALSE;
}

/* media_store_cleanup - unlink "<job-id>-*" (finished or temporary) */
int media_store_cleanup(const char *media_dir, const char *job_id, GError **error)
{
	g_autoptr(GDir) dir = NULL;
	g_autofree char *prefix = NULL;
	const char *name;
	int removed = 0;

	if (!job_id_safe(job_id)) {
		g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_STORE, "unsafe job id");
		return -1;
	}
	dir = g_dir_open(media_dir, 0, error);
	if (dir == NULL) {
		g_prefix_error(error, "media store: ");
		(*error)->domain = CTI_MEDIA_ERROR;
		(*error)->code = CTI_MEDIA_ERROR_STORE;
		return -1;
	}
	prefix = g_strconcat(job_id, "-", NULL);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = NULL;

		const char *rest;

		if (!g_str_has_prefix(name, prefix))
			continue;
		/* "<job>-<digits>.<ext>": another job's id may start with this one's */
		rest = name + strlen(prefix);
		if (strspn(rest, "0123456789") == 0 || rest[strspn(rest, "0123456789")] != '.')
			continue;
		path = g_build_filename(media_dir, name, NULL);
		if (g_unlink(path) != 0 && errno != ENOENT) {
			g_set_error(error, CTI_MEDIA_ERROR, CTI_MEDIA_ERROR_STORE,
			            "cannot remove %s: %s", path, g_strerror(errno));
			return -1;
		}
		removed++;
	}
	return removed;
}
