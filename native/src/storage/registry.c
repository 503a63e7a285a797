/* The table of storage drivers and opening a driver's home directory. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../utils.h"
#include "driver.h"

static const be_storage_driver *const drivers[] = {&be_storage_overlay2, &be_storage_vfs, &be_storage_devicemapper};

const be_storage_driver *be_storage_driver_find(const char *name) {
  for (size_t i = 0; i < sizeof drivers / sizeof *drivers; i++)
    if (strcmp(drivers[i]->name, name) == 0) return drivers[i];
  return NULL;
}

int be_storage_open(const be_storage_driver *d, const char *data_root, be_storage *out, be_error_t *err) {
  memset(out, 0, sizeof *out);
  out->home_fd = -1;
  out->driver = d;
  out->home = be_xasprintf("%s/%s", data_root, d->name);
  if (be_mkdir_p(out->home, 0700, err) < 0) return -1;
  out->home_fd = open(out->home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (out->home_fd < 0) return be_make_error(err, errno, "open `%s`", out->home);
  return 0;
}

void be_storage_close(be_storage *s) {
  if (s->home_fd >= 0) close(s->home_fd);
  free(s->home);
  free(s->dm_pool);
  s->home = s->dm_pool = NULL;
  s->home_fd = -1;
}
