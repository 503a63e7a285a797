/* devicemapper (direct-lvm): placeholder until the thin-pool implementation lands; refuses in preflight. */
#define _GNU_SOURCE
#include <string.h>

#include "../utils.h"
#include "driver.h"

static int dm_preflight(const char *home, be_error_t *err) {
  (void)home;
  return be_make_error(err, 0, "storage driver devicemapper is not available in this build; use overlay2 or vfs");
}

const be_storage_driver be_storage_devicemapper = {
    .name = "devicemapper",
    .whiteouts = IMG_WHITEOUT_APPLY,
    .allow_devices = true,
    .preflight = dm_preflight,
};
