/* fax.h - the fax receiver's view of a TIFF file (TIFF Class F check). */
#pragma once

#include <glib.h>

typedef struct {
	guint pages;
	guint width;       /* ImageWidth of the first page, pixels */
	guint compression; /* TIFF Compression tag of the first page (3 = CCITT G3) */
	gboolean fine;     /* YResolution of the first page >= 150 dpi */
	gsize size;        /* file size, bytes */
	double duration;   /* simulated transmission time, seconds */
	char *checksum;    /* "sha256:<hex>" of the whole file */
} FaxInfo;

/* fax_is_tiff_name - TRUE when MESSAGE ends in .tif or .tiff (any case) */
gboolean fax_is_tiff_name(const char *message);
gboolean fax_probe(const char *path, FaxInfo *info, GError **error);
void fax_info_clear(FaxInfo *info);
