/* `berth-engine storage dm-setup [--vg NAME] [--allow-loopback] DEVICE`: parse flags, call be_dm_setup. */
#define _GNU_SOURCE
#include "storage-cmd.h"

#include <stdio.h>
#include <string.h>

#include "../utils.h"
#include "driver.h"

int be_cmd_storage(const be_global *g, int argc, char **argv, be_error_t *err) {
  (void)g;
  if (argc < 2 || strcmp(argv[1], "dm-setup") != 0)
    return be_make_error(err, 0, "usage: berth-engine storage dm-setup [--vg NAME] [--allow-loopback] DEVICE");
  const char *vg = "berth", *device = NULL;
  bool loop = false;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--vg") && i + 1 < argc) vg = argv[++i];
    else if (!strcmp(argv[i], "--allow-loopback")) loop = true;
    else if (argv[i][0] != '-' && !device) device = argv[i];
    else return be_make_error(err, 0, "storage dm-setup: unexpected `%s`", argv[i]);
  }
  if (!device) return be_make_error(err, 0, "storage dm-setup: name the block device for the thin pool");
  cleanup_free char *pool = NULL;
  if (be_dm_setup(device, vg, loop, &pool, err) < 0) return be_error_wrap(err, "set up a thin pool on `%s`", device);
  printf("%s\n", pool);
  return 0;
}
