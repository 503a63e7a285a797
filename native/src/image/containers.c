/* Engine container roots (see containers.h). */
#define _GNU_SOURCE
#include "containers.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"

int be_croot_create(be_store *st, const char *name, const char *ref, char **rootfs, be_image_rec *out, be_error_t *err) {
  if (be_validate_id(name, err) < 0) return -1;
  be_image_rec img;
  if (be_store_find_image(st, ref, &img, err) < 0) return -1;
  size_t n = be_strv_len(img.layers);
  int rc = -1;
  int dfd = -1;
  cleanup_free char *dir = be_xasprintf("containers/%s", name);
  if (n == 0) {
    img_err(err, 0, "image `%s` has no layers", ref);
    goto out;
  }
  if (mkdirat(st->root_fd, dir, 0700) < 0) {
    if (errno == EEXIST)
      img_err(err, 0, "container `%s` already exists; remove it with `berth-engine rm %s` or pick another --name", name, name);
    else img_err(err, errno, "mkdir `%s/%s`", st->root, dir);
    goto out;
  }
  dfd = openat(st->root_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const char *top = img.layers[n - 1];
  if (dfd < 0 || img_write_file_at(dfd, "top", top, strlen(top), err) < 0 ||
      img_write_file_at(dfd, "image", img.id, strlen(img.id), err) < 0) {
    if (dfd < 0) img_err(err, errno, "open `%s/%s`", st->root, dir);
    img_remove_tree_at(st->root_fd, dir, NULL);
    goto out;
  }
  if (st->storage.driver->container_create(&st->storage, name, top, rootfs, err) < 0) {
    be_error_t e = NULL;
    st->storage.driver->container_remove(&st->storage, name, &e);
    be_error_release(&e);
    img_remove_tree_at(st->root_fd, dir, NULL);
    img_err_wrap(err, "prepare the root of container `%s`", name);
    goto out;
  }
  img_write_file_at(dfd, "rootfs", *rootfs, strlen(*rootfs), NULL);
  rc = 0;
out:
  if (dfd >= 0) close(dfd);
  if (rc == 0 && out) *out = img;
  else be_image_rec_clear(&img);
  return rc;
}

int be_croot_unmount(be_store *st, const char *name, be_error_t *err) {
  if (be_validate_id(name, err) < 0) return -1;
  return st->storage.driver->container_unmount(&st->storage, name, err);
}

int be_croot_remove(be_store *st, const char *name, bool missing_ok, be_error_t *err) {
  if (be_validate_id(name, err) < 0) return -1;
  cleanup_free char *dir = be_xasprintf("containers/%s", name);
  if (faccessat(st->root_fd, dir, F_OK, 0) != 0) {
    if (missing_ok) return 0;
    return img_err(err, 0, "container `%s` not found; `berth-engine ps -a` lists them", name);
  }
  if (st->storage.driver->container_remove(&st->storage, name, err) < 0) return img_err_wrap(err, "remove container `%s`", name);
  return img_remove_tree_at(st->root_fd, dir, err);
}

char **be_croot_list(be_store *st) {
  char **v = be_xmalloc0(sizeof *v);
  size_t n = 0;
  int fd = openat(st->root_fd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0) close(fd);
    return v;
  }
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    v = realloc(v, (n + 2) * sizeof *v);
    v[n++] = be_xstrdup(de->d_name);
    v[n] = NULL;
  }
  closedir(d);
  return v;
}
