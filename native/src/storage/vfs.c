/* vfs: every layer is a full copy of its parent with the layer applied on top; a container root is one more
 * copy. Slow and large, but it works on any file system. Layout: vfs/dir/<id>. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../image/fsutil.h"
#include "../utils.h"
#include "driver.h"

static int vfs_preflight(const char *home, be_error_t *err) {
  (void)home;
  (void)err;
  return 0;
}

static char *staging_name(const char *id) { return be_xasprintf("dir/.staging-%s", id); }

static int vfs_layer_begin(be_storage *s, const char *id, const char *parent, int *dirfd, be_error_t *err) {
  if (mkdirat(s->home_fd, "dir", 0700) < 0 && errno != EEXIST) return be_make_error(err, errno, "mkdir `%s/dir`", s->home);
  cleanup_free char *stage = staging_name(id);
  if (img_remove_tree_at(s->home_fd, stage, err) < 0) return -1;
  if (mkdirat(s->home_fd, stage, 0755) < 0) return be_make_error(err, errno, "mkdir `%s/%s`", s->home, stage);
  cleanup_close int fd = openat(s->home_fd, stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return be_make_error(err, errno, "open `%s/%s`", s->home, stage);
  if (parent) {
    cleanup_free char *pdir = be_xasprintf("dir/%s", parent);
    cleanup_close int pfd = openat(s->home_fd, pdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0) return be_make_error(err, errno, "open parent layer `%s/%s`", s->home, pdir);
    if (img_copy_tree(pfd, fd, err) < 0) return be_error_wrap(err, "copy parent layer %.12s", parent);
  }
  *dirfd = fd;
  fd = -1; /* be_steal would leave 0, a valid fd, for cleanup_close */
  return 0;
}

static int vfs_layer_commit(be_storage *s, const char *id, be_error_t *err) {
  cleanup_free char *stage = staging_name(id);
  cleanup_free char *final = be_xasprintf("dir/%s", id);
  if (renameat(s->home_fd, stage, s->home_fd, final) < 0) return be_make_error(err, errno, "rename `%s` to `%s`", stage, final);
  return 0;
}

static void vfs_layer_abort(be_storage *s, const char *id) {
  cleanup_free char *stage = staging_name(id);
  be_error_t e = NULL;
  img_remove_tree_at(s->home_fd, stage, &e);
  be_error_release(&e);
}

static bool vfs_layer_exists(be_storage *s, const char *id) {
  cleanup_free char *p = be_xasprintf("dir/%s", id);
  return faccessat(s->home_fd, p, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static int vfs_layer_remove(be_storage *s, const char *id, be_error_t *err) {
  cleanup_free char *p = be_xasprintf("dir/%s", id);
  return img_remove_tree_at(s->home_fd, p, err);
}

static int vfs_container_create(be_storage *s, const char *cid, const char *top, char **rootfs, be_error_t *err) {
  cleanup_free char *name = be_xasprintf("c-%s", cid);
  int fd;
  if (vfs_layer_begin(s, name, top, &fd, err) < 0) return -1;
  close(fd);
  if (vfs_layer_commit(s, name, err) < 0) return -1;
  *rootfs = be_xasprintf("%s/dir/%s", s->home, name);
  return 0;
}

static int vfs_container_unmount(be_storage *s, const char *cid, be_error_t *err) {
  (void)s;
  (void)cid;
  (void)err;
  return 0;
}

static int vfs_container_remove(be_storage *s, const char *cid, be_error_t *err) {
  cleanup_free char *p = be_xasprintf("dir/c-%s", cid);
  return img_remove_tree_at(s->home_fd, p, err);
}

const be_storage_driver be_storage_vfs = {
    .name = "vfs",
    .whiteouts = IMG_WHITEOUT_APPLY,
    .allow_devices = true,
    .preflight = vfs_preflight,
    .layer_begin = vfs_layer_begin,
    .layer_commit = vfs_layer_commit,
    .layer_abort = vfs_layer_abort,
    .layer_exists = vfs_layer_exists,
    .layer_remove = vfs_layer_remove,
    .container_create = vfs_container_create,
    .container_unmount = vfs_container_unmount,
    .container_remove = vfs_container_remove,
};
