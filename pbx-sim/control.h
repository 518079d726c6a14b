/* control.h - the operator/test control socket and its one-shot client. */
#pragma once

#include <glib.h>

gboolean control_listen(const char *path, GError **error);
void control_shutdown(void);
char *control_execute(const char *line);
int control_client(const char *path, int argc, char **argv);
