/* overlay2 internals exposed for the unit tests and the deep-image code. */
#ifndef BE_STORAGE_OVERLAY2_H
#define BE_STORAGE_OVERLAY2_H

#include <stdbool.h>

#include "driver.h"

/* Builds the legacy mount(2) option string; refuses one longer than a page (the kernel would cut it). */
int be_overlay_legacy_options(const char *lower, const char *upper, const char *work, char **out, be_error_t *err);
/* Mounts overlayfs at target; lower is "l/A:l/B" relative to the driver home, nearest layer first. */
int be_overlay_mount(be_storage *s, const char *lower, const char *upper, const char *work, const char *target,
                     bool force_legacy, be_error_t *err);

#endif
