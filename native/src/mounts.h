/* The container's root file system, bubblewrap style: the config becomes a list of operations (plan, pure),
 * applied in one place (apply) under the rootfs, then pivot_root, then the masked and read-only paths. */
#ifndef BE_MOUNTS_H
#define BE_MOUNTS_H

#include <stdbool.h>

#include "error.h"
#include "oci-config.h"

typedef enum be_mount_op_kind {
  BE_OP_MOUNT,     /* mount(source, dest, type, flags, data) */
  BE_OP_BIND,      /* bind (recursive or not), then remount for flags */
  BE_OP_CGROUP,    /* /sys/fs/cgroup: cgroup2 on v2, tmpfs + per-hierarchy binds of the container's cgroup on v1 */
  BE_OP_DEVICE,    /* mknod (or bind the host's node inside a user namespace) */
  BE_OP_SYMLINK,   /* /dev/fd → /proc/self/fd, … */
  BE_OP_MASK,      /* after pivot: /dev/null over a file, read-only empty tmpfs over a directory */
  BE_OP_READONLY,  /* after pivot: bind onto itself, remount read-only */
  BE_OP_ROOT_RO,   /* after pivot: remount / read-only */
} be_mount_op_kind;
const char *be_mount_op_kind_name(be_mount_op_kind k);

typedef struct be_mount_op {
  be_mount_op_kind kind;
  const char *source, *dest, *type, *data; /* borrowed from the config or static strings */
  unsigned long flags, propagation;
  bool recursive;
  const be_device *device;
} be_mount_op;

typedef struct be_rootfs_plan {
  be_mount_op *ops;
  size_t n;
  const char *rootfs;
  unsigned long root_propagation;
  bool userns;
  bool v2; /* cgroup v2 host */
  const char *cgroup_path;
} be_rootfs_plan;

int be_rootfs_plan_build(const be_config *c, const char *cgroup_path, bool userns, bool cgroup_v2, be_rootfs_plan *plan,
                         be_error_t *err);
void be_rootfs_plan_free(be_rootfs_plan *plan);
/* Before pivot_root: propagation, the rootfs bind, every mount and device under it. */
int be_rootfs_apply_mounts(const be_rootfs_plan *plan, be_error_t *err);
/* pivot_root into the rootfs (or move + chroot with no_pivot) and detach the old root. */
int be_rootfs_pivot(const char *rootfs, bool no_pivot, be_error_t *err);
/* After pivot_root (and sysctl): masked paths, read-only paths, read-only root. */
int be_rootfs_apply_finish(const be_rootfs_plan *plan, be_error_t *err);

#endif
