/* Capabilities: names ↔ numbers, and applying the five sets to the current process. */
#ifndef BE_CAPS_H
#define BE_CAPS_H

#include <stdint.h>

#include "error.h"
#include "oci-config.h"

/* Highest capability this binary knows (CAP_CHECKPOINT_RESTORE = 40). */
#define BE_CAP_LAST 40

/* Sets bounding (drops the rest), then keeps caps across setuid, changes uid/gid, and sets effective, permitted,
 * inheritable and ambient. Order follows runc: bounding must be dropped while CAP_SETPCAP is still held. */
int be_caps_apply(const uint64_t caps[BE_CAP_SETS], uint32_t uid, uint32_t gid, const gid_t *gids, size_t ngids,
                  be_error_t *err);
/* Reads the current process's five sets (for exec to copy them from the container's init). */
int be_caps_read_pid(int pid, uint64_t caps[BE_CAP_SETS], be_error_t *err);

#endif
