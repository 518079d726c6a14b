/* filter-private - internals shared by the filter modules only.
 *
 * GMime 3.2 declares no g_autoptr cleanups; these are for the GObject
 * types the filter modules hold in locals.
 */
#ifndef MAILCTI_FILTER_PRIVATE_H
#define MAILCTI_FILTER_PRIVATE_H

#include <gmime/gmime.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeContentType, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeContentDisposition, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeFilter, g_object_unref)

#endif
