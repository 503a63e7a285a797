/* overlay2: one directory per layer holding only that layer's changes; a container mounts them read-only
 * below its own upper dir. Layout (as Docker's overlay2):
 *   overlay2/<id>/diff        the layer's files (whiteouts as char 0/0, opaque dirs with trusted.overlay.opaque)
 *   overlay2/<id>/link        short name of the layer: overlay2/l/<short> -> ../<id>/diff
 *   overlay2/<id>/lower       parents as "l/<short>:l/<short>..." (nearest first)
 *   overlay2/c-<cid>/{diff,work,merged,lower}  a container
 * The short names keep the legacy mount option string under a page. Deep images use the new mount API:
 * fsconfig(2) "lowerdir+" (Linux 6.8) adds one layer per call with no page limit, up to overlayfs's 500. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <dirent.h>
#include <unistd.h>

#include "../image/fsutil.h"
#include "../utils.h"
#include "driver.h"
#include "overlay2.h"

#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#define OVL_MAX_STACK 500

static int ov2_preflight(const char *home, be_error_t *err) {
  cleanup_free char *fs = NULL;
  size_t len;
  if (be_read_file("/proc/filesystems", &fs, &len, err) < 0) return -1;
  if (!strstr(fs, "\toverlay\n"))
    return be_make_error(err, 0, "storage driver overlay2: the kernel has no overlay file system (not in /proc/filesystems); "
                                 "run `modprobe overlay` or use --storage-driver vfs");
  struct statfs sfs;
  if (statfs(home, &sfs) < 0) return be_make_error(err, errno, "statfs `%s`", home);
  if ((unsigned long)sfs.f_type == OVERLAYFS_SUPER_MAGIC)
    return be_make_error(err, 0, "storage driver overlay2: `%s` is itself on overlayfs, which cannot be an upper layer; "
                                 "put --data-root on a real file system (ext4, xfs) or use --storage-driver vfs", home);
  /* d_type: overlayfs needs it to find whiteouts (xfs made with ftype=0 lacks it). */
  cleanup_free char *probe = be_xasprintf("%s/.probe-%d", home, (int)getpid());
  if (mkdir(probe, 0700) < 0 && errno != EEXIST) return be_make_error(err, errno, "mkdir `%s`", probe);
  cleanup_free char *sub = be_xasprintf("%s/d", probe);
  mkdir(sub, 0700);
  bool dtype = false;
  DIR *d = opendir(probe);
  if (d) {
    struct dirent *de;
    while ((de = readdir(d)))
      if (strcmp(de->d_name, "d") == 0) dtype = de->d_type == DT_DIR;
    closedir(d);
  }
  int xattr_ok = setxattr(sub, "trusted.overlay.opaque", "y", 1, 0) == 0;
  int xerr = errno;
  rmdir(sub);
  rmdir(probe);
  if (!dtype)
    return be_make_error(err, 0, "storage driver overlay2: the file system of `%s` does not report d_type (xfs needs "
                                 "ftype=1); reformat it or use --storage-driver vfs", home);
  if (!xattr_ok)
    return be_make_error(err, xerr, "storage driver overlay2: cannot set trusted.* xattrs under `%s` (needed for opaque "
                                    "directories); use another file system or --storage-driver vfs", home);
  return 0;
}

static char *staging(const char *id) { return be_xasprintf(".staging-%s", id); }
static void ov2_layer_abort(be_storage *s, const char *id);

static int ov2_layer_begin(be_storage *s, const char *id, const char *parent, int *dirfd, be_error_t *err) {
  (void)parent;
  cleanup_free char *st = staging(id);
  if (img_remove_tree_at(s->home_fd, st, err) < 0) return -1;
  cleanup_free char *diff = be_xasprintf("%s/diff", st);
  if (mkdirat(s->home_fd, st, 0700) < 0 || mkdirat(s->home_fd, diff, 0755) < 0)
    return be_make_error(err, errno, "mkdir `%s/%s`", s->home, diff);
  int fd = openat(s->home_fd, diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return be_make_error(err, errno, "open `%s/%s`", s->home, diff);
  *dirfd = fd;
  return 0;
}

static void random_name(char *out, size_t n) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  unsigned char rnd[32];
  if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
    for (size_t i = 0; i < sizeof rnd; i++) rnd[i] = (unsigned char)(rand() ^ getpid());
  for (size_t i = 0; i + 1 < n && i < sizeof rnd; i++) out[i] = alphabet[rnd[i] & 31];
  out[n - 1] = 0;
}

/* Reads "<dir>/link" (the short name). */
static char *read_small(int dirfd, const char *path) {
  size_t len;
  char *s = img_read_file_at(dirfd, path, 65536, &len);
  if (s) {
    while (len && (s[len - 1] == '\n' || s[len - 1] == ' ')) s[--len] = 0;
  }
  return s;
}

/* The lower chain of a layer: its own link first, then its parents' (layer `id`'s "lower" file). */
static char *lower_chain(be_storage *s, const char *id, be_error_t *err) {
  cleanup_free char *lp = be_xasprintf("%s/link", id);
  cleanup_free char *lower_path = be_xasprintf("%s/lower", id);
  cleanup_free char *link = read_small(s->home_fd, lp);
  if (!link) return be_make_error(err, errno, "read `%s/%s`", s->home, lp), NULL;
  cleanup_free char *lower = read_small(s->home_fd, lower_path);
  return lower && *lower ? be_xasprintf("l/%s:%s", link, lower) : be_xasprintf("l/%s", link);
}

static int ov2_layer_commit_with_parent(be_storage *s, const char *id, const char *parent, be_error_t *err) {
  cleanup_free char *st = staging(id);
  char link[27];
  random_name(link, sizeof link);
  cleanup_free char *linkfile = be_xasprintf("%s/link", st);
  if (img_write_file_at(s->home_fd, linkfile, link, strlen(link), err) < 0) return -1;
  if (parent) {
    cleanup_free char *chain = lower_chain(s, parent, err);
    if (!chain) return -1;
    cleanup_free char *lowerfile = be_xasprintf("%s/lower", st);
    if (img_write_file_at(s->home_fd, lowerfile, chain, strlen(chain), err) < 0) return -1;
  }
  if (mkdirat(s->home_fd, "l", 0700) < 0 && errno != EEXIST) return be_make_error(err, errno, "mkdir `%s/l`", s->home);
  if (renameat(s->home_fd, st, s->home_fd, id) < 0) return be_make_error(err, errno, "rename `%s` to `%s`", st, id);
  cleanup_free char *target = be_xasprintf("../%s/diff", id);
  cleanup_free char *lname = be_xasprintf("l/%s", link);
  if (symlinkat(target, s->home_fd, lname) < 0) return be_make_error(err, errno, "symlink `%s/%s`", s->home, lname);
  return 0;
}

/* The parent is needed at commit for the lower file; layer_begin stores it in the staging dir. */
static int ov2_layer_begin_p(be_storage *s, const char *id, const char *parent, int *dirfd, be_error_t *err) {
  if (ov2_layer_begin(s, id, parent, dirfd, err) < 0) return -1;
  cleanup_free char *st = staging(id);
  cleanup_free char *pf = be_xasprintf("%s/parent", st);
  if (img_write_file_at(s->home_fd, pf, parent ? parent : "", parent ? strlen(parent) : 0, err) < 0) {
    close(*dirfd);
    ov2_layer_abort(s, id);
    return -1;
  }
  return 0;
}

static int ov2_layer_commit(be_storage *s, const char *id, be_error_t *err) {
  cleanup_free char *st = staging(id);
  cleanup_free char *pf = be_xasprintf("%s/parent", st);
  cleanup_free char *parent = read_small(s->home_fd, pf);
  return ov2_layer_commit_with_parent(s, id, parent && *parent ? parent : NULL, err);
}

static void ov2_layer_abort(be_storage *s, const char *id) {
  cleanup_free char *st = staging(id);
  be_error_t e = NULL;
  img_remove_tree_at(s->home_fd, st, &e);
  be_error_release(&e);
}

static bool ov2_layer_exists(be_storage *s, const char *id) {
  cleanup_free char *p = be_xasprintf("%s/link", id);
  return faccessat(s->home_fd, p, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static int ov2_layer_remove(be_storage *s, const char *id, be_error_t *err) {
  cleanup_free char *lp = be_xasprintf("%s/link", id);
  cleanup_free char *link = read_small(s->home_fd, lp);
  if (link && *link) {
    cleanup_free char *lname = be_xasprintf("l/%s", link);
    unlinkat(s->home_fd, lname, 0);
  }
  return img_remove_tree_at(s->home_fd, id, err);
}

int be_overlay_legacy_options(const char *lower, const char *upper, const char *work, char **out, be_error_t *err) {
  cleanup_free char *opts = be_xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
  /* mount(2) copies at most one page of option data (PAGE_SIZE incl. the NUL): a longer string is silently
   * cut, and overlayfs then mounts with the lowest layers missing. Refuse instead. */
  long page = sysconf(_SC_PAGESIZE);
  if ((long)strlen(opts) > page - 1)
    return be_make_error(err, 0, "mount overlay: the option string is %zu bytes and the kernel keeps only %ld, so layers "
                                 "would be silently dropped; this kernel lacks fsconfig lowerdir+ (Linux 6.8+) — use fewer "
                                 "layers (squash the image) or --storage-driver vfs",
                         strlen(opts), page - 1);
  *out = be_steal(opts);
  return 0;
}

static int count_layers(const char *lower) {
  int n = 1;
  for (const char *p = lower; *p; p++) n += *p == ':';
  return n;
}

/* The new mount API with one fsconfig "lowerdir+" per layer (Linux 6.8). Returns 1 when the kernel does not
 * know lowerdir+ (caller falls back to the legacy string), 0 on success. */
static int mount_new_api(be_storage *s, const char *lower, const char *upper, const char *work, const char *target,
                         be_error_t *err) {
  cleanup_close int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  if (fs < 0) return errno == ENOSYS ? 1 : be_make_error(err, errno, "fsopen overlay");
  /* "overlay" as the source, as mount(8) shows for legacy mounts (fsopen leaves it "none"). */
  syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", "overlay", 0);
  cleanup_free char *copy = be_xstrdup(lower);
  bool first = true;
  for (char *save = NULL, *l = strtok_r(copy, ":", &save); l; l = strtok_r(NULL, ":", &save)) {
    cleanup_free char *abs = be_xasprintf("%s/%s", s->home, l);
    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", abs, 0) < 0) {
      if (first && errno == EINVAL) return 1;
      return be_make_error(err, errno, "fsconfig overlay lowerdir+ `%s`", abs);
    }
    first = false;
  }
  if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0)
    return be_make_error(err, errno, "fsconfig overlay upperdir `%s`", upper);
  if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0)
    return be_make_error(err, errno, "fsconfig overlay workdir `%s`", work);
  if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return be_make_error(err, errno, "create overlay mount (fsconfig FSCONFIG_CMD_CREATE) with %d layers", count_layers(lower));
  cleanup_close int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
  if (mnt < 0) return be_make_error(err, errno, "fsmount overlay");
  if (syscall(SYS_move_mount, mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return be_make_error(err, errno, "move_mount overlay to `%s`", target);
  return 0;
}

static int mount_legacy(be_storage *s, const char *lower, const char *upper, const char *work, const char *target,
                        be_error_t *err) {
  cleanup_free char *opts = NULL;
  /* Relative lower paths (l/<short>) against the driver home keep the string short, as Docker does. */
  if (be_overlay_legacy_options(lower, upper, work, &opts, err) < 0) return -1;
  cleanup_close int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fchdir(s->home_fd) < 0) return be_make_error(err, errno, "chdir `%s`", s->home);
  int rc = mount("overlay", target, "overlay", 0, opts);
  int e = errno;
  if (cwd >= 0 && fchdir(cwd) < 0) { /* best effort: the mount result is what matters */ }
  if (rc < 0) return be_make_error(err, e, "mount overlay on `%s` (%d layers)", target, count_layers(lower));
  return 0;
}

int be_overlay_mount(be_storage *s, const char *lower, const char *upper, const char *work, const char *target,
                     bool force_legacy, be_error_t *err) {
  int n = count_layers(lower);
  if (n > OVL_MAX_STACK)
    return be_make_error(err, 0, "mount overlay: %d layers is more than overlayfs's limit of %d; squash the image", n,
                         OVL_MAX_STACK);
  if (!force_legacy) {
    int r = mount_new_api(s, lower, upper, work, target, err);
    if (r <= 0) return r;
  }
  return mount_legacy(s, lower, upper, work, target, err);
}

static int ov2_container_create(be_storage *s, const char *cid, const char *top, char **rootfs, be_error_t *err) {
  cleanup_free char *dir = be_xasprintf("c-%s", cid);
  if (mkdirat(s->home_fd, dir, 0700) < 0 && errno != EEXIST) return be_make_error(err, errno, "mkdir `%s/%s`", s->home, dir);
  static const char *const subs[] = {"diff", "work", "merged"};
  for (size_t i = 0; i < 3; i++) {
    cleanup_free char *p = be_xasprintf("%s/%s", dir, subs[i]);
    if (mkdirat(s->home_fd, p, 0755) < 0 && errno != EEXIST) return be_make_error(err, errno, "mkdir `%s/%s`", s->home, p);
  }
  cleanup_free char *lower = lower_chain(s, top, err);
  if (!lower) return -1;
  cleanup_free char *lowerfile = be_xasprintf("%s/lower", dir);
  if (img_write_file_at(s->home_fd, lowerfile, lower, strlen(lower), err) < 0) return -1;
  cleanup_free char *upper = be_xasprintf("%s/%s/diff", s->home, dir);
  cleanup_free char *work = be_xasprintf("%s/%s/work", s->home, dir);
  cleanup_free char *merged = be_xasprintf("%s/%s/merged", s->home, dir);
  const char *legacy = getenv("BERTH_ENGINE_OVERLAY_LEGACY"); /* tests: exercise the legacy path */
  if (be_overlay_mount(s, lower, upper, work, merged, legacy && *legacy == '1', err) < 0) return -1;
  *rootfs = be_steal(merged);
  return 0;
}

static int ov2_container_unmount(be_storage *s, const char *cid, be_error_t *err) {
  cleanup_free char *merged = be_xasprintf("%s/c-%s/merged", s->home, cid);
  if (umount2(merged, 0) < 0 && errno != EINVAL && errno != ENOENT) {
    if (errno != EBUSY || umount2(merged, MNT_DETACH) < 0) return be_make_error(err, errno, "umount `%s`", merged);
  }
  return 0;
}

static int ov2_container_remove(be_storage *s, const char *cid, be_error_t *err) {
  if (ov2_container_unmount(s, cid, err) < 0) return -1;
  cleanup_free char *dir = be_xasprintf("c-%s", cid);
  return img_remove_tree_at(s->home_fd, dir, err);
}

const be_storage_driver be_storage_overlay2 = {
    .name = "overlay2",
    .whiteouts = IMG_WHITEOUT_OVERLAY,
    .allow_devices = true,
    .preflight = ov2_preflight,
    .layer_begin = ov2_layer_begin_p,
    .layer_commit = ov2_layer_commit,
    .layer_abort = ov2_layer_abort,
    .layer_exists = ov2_layer_exists,
    .layer_remove = ov2_layer_remove,
    .container_create = ov2_container_create,
    .container_unmount = ov2_container_unmount,
    .container_remove = ov2_container_remove,
};
