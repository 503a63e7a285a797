/* Storage drivers behind one small table of function pointers (after crun's cgroup backends). A driver keeps
 * layers (keyed by chain ID, hex) and container roots (keyed by container ID) under its own directory
 * `<data-root>/<driver name>/`. */
#ifndef BE_STORAGE_DRIVER_H
#define BE_STORAGE_DRIVER_H

#include <stdbool.h>

#include "../error.h"
#include "../image/extract.h"

typedef struct be_storage {
  const struct be_storage_driver *driver;
  char *home;  /* <data-root>/<driver name> */
  int home_fd;
  bool allow_loopback; /* devicemapper: a loop-file pool is acceptable (tests only) */
  char *dm_pool;       /* devicemapper: VG/thinpool to use */
} be_storage;

typedef struct be_storage_driver {
  const char *name;
  enum img_whiteout_mode whiteouts;
  bool allow_devices; /* device nodes in layers (overlay2 and vfs: yes; the kernel decides at open time) */
  /* Checks that the driver can work on this host; the message says why not and what to do. */
  int (*preflight)(const char *home, be_error_t *err);
  /* Starts layer `id` on top of `parent` (NULL for a base layer); *dirfd receives the directory to extract
   * into (owned by the caller). Nothing is visible under `id` until layer_commit. */
  int (*layer_begin)(be_storage *s, const char *id, const char *parent, int *dirfd, be_error_t *err);
  int (*layer_commit)(be_storage *s, const char *id, be_error_t *err);
  void (*layer_abort)(be_storage *s, const char *id);
  bool (*layer_exists)(be_storage *s, const char *id);
  int (*layer_remove)(be_storage *s, const char *id, be_error_t *err);
  /* Creates container `cid`'s writable root on top of layer `top` and mounts it; *rootfs is malloc'ed. */
  int (*container_create)(be_storage *s, const char *cid, const char *top, char **rootfs, be_error_t *err);
  int (*container_unmount)(be_storage *s, const char *cid, be_error_t *err);
  int (*container_remove)(be_storage *s, const char *cid, be_error_t *err);
} be_storage_driver;

extern const be_storage_driver be_storage_vfs, be_storage_overlay2, be_storage_devicemapper;

const be_storage_driver *be_storage_driver_find(const char *name);
/* Opens the driver's home below data_root (created when missing). */
int be_storage_open(const be_storage_driver *d, const char *data_root, be_storage *out, be_error_t *err);
void be_storage_close(be_storage *s);
/* devicemapper direct-lvm setup on DEVICE: pv, vg, thin pool + autoextend profile; *pool_out = "VG/thinpool". */
int be_dm_setup(const char *device, const char *vg, bool allow_loopback, char **pool_out, be_error_t *err);

#endif
