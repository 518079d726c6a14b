/* csta-private - internals shared by csta.c and csta-xml.c only. */
#ifndef MAILCTI_CSTA_PRIVATE_H
#define MAILCTI_CSTA_PRIVATE_H

#include "csta.h"

/* csta_device_text - a DeviceID's text, or an ExtendedDeviceID's
 * deviceIdentifier / a RedirectionDeviceID's numberDialed; NULL for
 * notKnown, restricted, notRequired or an absent NODE (transfer none) */
const char *csta_device_text(const CstaNode *node);

#endif
