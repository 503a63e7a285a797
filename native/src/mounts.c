/* The container's root file system: plan (pure: config → operations), then apply. Mount targets are opened
 * with openat2(RESOLVE_IN_ROOT), so a symlink in the image cannot send a mount outside the rootfs; the mount is
 * then made on /proc/self/fd/N, as runc does. */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cgroups.h"
#include "utils.h"

const char *be_mount_op_kind_name(be_mount_op_kind k) {
  static const char *const names[] = {"mount", "bind", "cgroup", "device", "symlink", "mask", "readonly", "root-ro"};
  return k <= BE_OP_ROOT_RO ? names[k] : "?";
}

static const be_device default_devices[] = {
    {"/dev/null", 'c', 1, 3, 0666, 0, 0},    {"/dev/zero", 'c', 1, 5, 0666, 0, 0},
    {"/dev/full", 'c', 1, 7, 0666, 0, 0},    {"/dev/random", 'c', 1, 8, 0666, 0, 0},
    {"/dev/urandom", 'c', 1, 9, 0666, 0, 0}, {"/dev/tty", 'c', 5, 0, 0666, 0, 0},
};
static const char *const default_links[][2] = {
    {"/proc/self/fd", "/dev/fd"},     {"/proc/self/fd/0", "/dev/stdin"}, {"/proc/self/fd/1", "/dev/stdout"},
    {"/proc/self/fd/2", "/dev/stderr"}, {"pts/ptmx", "/dev/ptmx"},
};

static void add(be_rootfs_plan *p, be_mount_op op) {
  p->ops = realloc(p->ops, sizeof(be_mount_op) * (p->n + 1));
  if (!p->ops)
    abort();
  p->ops[p->n++] = op;
}

int be_rootfs_plan_build(const be_config *c, const char *cgroup_path, bool userns, bool cgroup_v2, be_rootfs_plan *p,
                         be_error_t *err) {
  memset(p, 0, sizeof(*p));
  p->rootfs = c->root_path;
  p->root_propagation = c->rootfs_propagation ? c->rootfs_propagation : (MS_SLAVE | MS_REC);
  p->userns = userns;
  p->v2 = cgroup_v2;
  p->cgroup_path = cgroup_path;
  bool dev_tmpfs = false;
  for (size_t i = 0; i < c->nmounts; i++) {
    const be_mount *m = &c->mounts[i];
    if (strstr(m->destination, "/../") || strcmp(m->destination + strlen(m->destination) - (strlen(m->destination) >= 3 ? 3 : 0), "/..") == 0) {
      be_rootfs_plan_free(p);
      return be_make_error(err, 0, "config.json: `mounts[%zu].destination` `%s` must not contain `..`", i, m->destination);
    }
    be_mount_op op = {.source = m->source, .dest = m->destination, .type = m->type, .data = m->data,
                      .flags = m->flags, .propagation = m->propagation, .recursive = m->recursive_bind};
    if (m->bind)
      op.kind = BE_OP_BIND;
    else if (strcmp(m->type, "cgroup") == 0 || strcmp(m->type, "cgroup2") == 0)
      op.kind = BE_OP_CGROUP;
    else
      op.kind = BE_OP_MOUNT;
    if (strcmp(m->destination, "/dev") == 0 && !m->bind)
      dev_tmpfs = true;
    add(p, op);
  }
  /* The standard devices exist only when the runtime makes /dev (runc and crun do the same). */
  if (dev_tmpfs) {
    for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++)
      add(p, (be_mount_op){.kind = BE_OP_DEVICE, .dest = default_devices[i].path, .device = &default_devices[i]});
    for (size_t i = 0; i < sizeof(default_links) / sizeof(default_links[0]); i++)
      add(p, (be_mount_op){.kind = BE_OP_SYMLINK, .source = default_links[i][0], .dest = default_links[i][1]});
  }
  for (size_t i = 0; i < c->ndevices; i++)
    add(p, (be_mount_op){.kind = BE_OP_DEVICE, .dest = c->devices[i].path, .device = &c->devices[i]});
  for (size_t i = 0; c->masked_paths && c->masked_paths[i]; i++)
    add(p, (be_mount_op){.kind = BE_OP_MASK, .dest = c->masked_paths[i]});
  for (size_t i = 0; c->readonly_paths && c->readonly_paths[i]; i++)
    add(p, (be_mount_op){.kind = BE_OP_READONLY, .dest = c->readonly_paths[i]});
  if (c->root_readonly)
    add(p, (be_mount_op){.kind = BE_OP_ROOT_RO, .dest = "/"});
  return 0;
}

void be_rootfs_plan_free(be_rootfs_plan *p) {
  free(p->ops);
  p->ops = NULL;
  p->n = 0;
}

/* Opens (O_PATH) dest inside root, creating missing parents as directories and the last element as a directory
 * or an empty file. */
static int open_in_root_at_depth(int rootfd, const char *dest, int create, int depth, be_error_t *err);
static int open_in_root(int rootfd, const char *dest, int create /* 0 no, 1 dir, 2 file */, be_error_t *err) {
  return open_in_root_at_depth(rootfd, dest, create, 0, err);
}

static int open_in_root_at_depth(int rootfd, const char *dest, int create, int depth, be_error_t *err) {
  struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  const char *rel = dest;
  while (*rel == '/')
    rel++;
  if (!*rel)
    return (int)fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
  int fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
  if (fd >= 0 || errno != ENOENT || !create)
    return fd >= 0 ? fd : be_make_error(err, errno, "open `%s` in the rootfs", dest);
  cleanup_free char *path = be_xstrdup(rel);
  size_t len = strlen(path);
  for (size_t i = 0; i <= len; i++) {
    if (path[i] != '/' && path[i] != '\0')
      continue;
    char saved = path[i];
    path[i] = '\0';
    bool last = saved == '\0';
    int probe = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
    if (probe >= 0) {
      close(probe);
    } else if (errno == ENOENT) {
      char *slash = strrchr(path, '/');
      const char *name = slash ? slash + 1 : path;
      int parent;
      if (slash) {
        *slash = '\0';
        parent = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        *slash = '/';
      } else {
        parent = (int)fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
      }
      if (parent < 0)
        return be_make_error(err, errno, "open parent of `%s` in the rootfs", dest);
      /* O_PATH fds cannot be used with mkdirat/openat to create; reopen as a directory. */
      char proc[64];
      snprintf(proc, sizeof(proc), "/proc/self/fd/%d", parent);
      int dirfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      close(parent);
      if (dirfd < 0)
        return be_make_error(err, errno, "open parent of `%s` in the rootfs", dest);
      int rc;
      if (last && create == 2) {
        rc = openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (rc >= 0)
          close(rc);
      } else {
        rc = mkdirat(dirfd, name, 0755);
      }
      int e = errno;
      struct stat lst;
      if (rc < 0 && e == EEXIST && fstatat(dirfd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode)) {
        /* A symlink dangling inside the root (an image's /etc/resolv.conf → ../run/systemd/resolve/stub-resolv.conf):
         * make what it points to, still inside the root, as runc does through securejoin. */
        char link[PATH_MAX];
        ssize_t n = readlinkat(dirfd, name, link, sizeof(link) - 1);
        close(dirfd);
        if (n <= 0 || depth >= 40)
          return be_make_error(err, n <= 0 ? errno : ELOOP, "follow the symlink `%s` in the rootfs", path);
        link[n] = '\0';
        *(char *)name = '\0'; /* path is now the link's directory, with a trailing slash (or empty) */
        cleanup_free char *next = be_xasprintf("%s%s%s%s", link[0] == '/' ? "" : path, link, last ? "" : "/", last ? "" : path + i + 1);
        return open_in_root_at_depth(rootfd, next, create, depth + 1, err);
      }
      close(dirfd);
      if (rc < 0 && e != EEXIST)
        return be_make_error(err, e, "create `%s` in the rootfs", path);
    } else {
      return be_make_error(err, errno, "open `%s` in the rootfs", path);
    }
    path[i] = saved;
  }
  fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
  if (fd < 0)
    return be_make_error(err, errno, "open `%s` in the rootfs", dest);
  return fd;
}

/* Flags the kernel keeps locked on a bind mount (in a user namespace it refuses to drop them on remount). */
static unsigned long locked_flags(const char *path) {
  struct statvfs st;
  if (statvfs(path, &st) < 0)
    return 0;
  unsigned long f = 0;
  if (st.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) f |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) f |= MS_RELATIME;
  if (st.f_flag & ST_RDONLY) f |= MS_RDONLY;
  return f;
}

static int bind_remount(const char *target, unsigned long flags, be_error_t *err) {
  unsigned long f = (flags | locked_flags(target)) & ~(unsigned long)MS_REC;
  if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | f, NULL) < 0)
    return be_make_error(err, errno, "remount `%s`", target);
  return 0;
}

/* Flags and propagation are changed on the mount itself: the fd we mounted on still names the directory
 * underneath, so reopen the destination to reach the new mount. */
static int remount_at(int rootfd, const char *dest, unsigned long flags, unsigned long propagation, be_error_t *err) {
  if (!flags && !propagation)
    return 0;
  cleanup_close int fd = open_in_root(rootfd, dest, 0, err);
  if (fd < 0)
    return -1;
  char target[64];
  snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
  if (flags && bind_remount(target, flags, err) < 0)
    return be_error_wrap(err, "remount `%s`", dest);
  if (propagation && mount(NULL, target, NULL, propagation, NULL) < 0)
    return be_make_error(err, errno, "set propagation of `%s`", dest);
  return 0;
}

static int apply_cgroup(const be_rootfs_plan *p, const be_mount_op *op, int rootfd, be_error_t *err) {
  cleanup_close int fd = open_in_root(rootfd, op->dest, 1, err);
  if (fd < 0)
    return -1;
  char target[64];
  snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
  unsigned long flags = op->flags & ~(unsigned long)MS_RDONLY;
  if (p->v2) {
    if (mount("cgroup2", target, "cgroup2", op->flags, NULL) < 0)
      return be_make_error(err, errno, "mount cgroup2 on `%s`", op->dest);
    return 0;
  }
  /* v1/hybrid: a tmpfs with one directory per hierarchy, each a bind of the container's own cgroup. */
  if (mount("tmpfs", target, "tmpfs", flags, "mode=755") < 0)
    return be_make_error(err, errno, "mount tmpfs on `%s`", op->dest);
  cleanup_strv char **mps = NULL;
  if (be_cgroup_mountpoints(&mps, err) < 0)
    return -1;
  for (size_t i = 0; mps[i]; i++) {
    const char *name = strrchr(mps[i], '/') + 1;
    cleanup_free char *src = be_xasprintf("%s%s", mps[i], p->cgroup_path);
    if (!be_path_exists(src))
      continue; /* a read-only hierarchy the container was left out of (cgroup-v1.c): never show the parent's */
    cleanup_free char *dst = be_xasprintf("%s/%s", op->dest, name);
    cleanup_close int dfd = open_in_root(rootfd, dst, 1, err);
    if (dfd < 0)
      return -1;
    char dt[64];
    snprintf(dt, sizeof(dt), "/proc/self/fd/%d", dfd);
    if (mount(src, dt, NULL, MS_BIND, NULL) < 0)
      return be_make_error(err, errno, "bind `%s` on `%s`", src, dst);
    if (remount_at(rootfd, dst, op->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, err) < 0)
      return -1;
  }
  if (op->flags & MS_RDONLY) {
    cleanup_close int again = open_in_root(rootfd, op->dest, 0, err);
    if (again < 0)
      return -1;
    snprintf(target, sizeof(target), "/proc/self/fd/%d", again);
    if (mount(NULL, target, NULL, MS_REMOUNT | flags | MS_RDONLY, "mode=755") < 0)
      return be_make_error(err, errno, "remount `%s` read-only", op->dest);
  }
  return 0;
}

static int apply_device(const be_rootfs_plan *p, const be_mount_op *op, int rootfd, be_error_t *err) {
  const be_device *d = op->device;
  if (p->userns) {
    /* mknod is not allowed in a user namespace: bind the host's node onto an empty file instead. */
    cleanup_close int fd = open_in_root(rootfd, d->path, 2, err);
    if (fd < 0)
      return -1;
    char target[64];
    snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
    if (mount(d->path, target, NULL, MS_BIND, NULL) < 0)
      return be_make_error(err, errno, "bind device `%s`", d->path);
    return 0;
  }
  cleanup_free char *parent_path = be_xstrdup(d->path);
  char *slash = strrchr(parent_path, '/');
  *slash = '\0';
  cleanup_close int parent = open_in_root(rootfd, *parent_path ? parent_path : "/", 1, err);
  if (parent < 0)
    return -1;
  char proc[64];
  snprintf(proc, sizeof(proc), "/proc/self/fd/%d", parent);
  cleanup_close int dirfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return be_make_error(err, errno, "open `%s` in the rootfs", parent_path);
  mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
  mode_t perm = d->file_mode ? (d->file_mode & 07777) : 0666;
  unlinkat(dirfd, slash + 1, 0);
  if (mknodat(dirfd, slash + 1, type | perm, makedev((unsigned)d->major, (unsigned)d->minor)) < 0)
    return be_make_error(err, errno, "mknod `%s`", d->path);
  if (fchmodat(dirfd, slash + 1, perm, 0) < 0) /* mknod's mode is filtered by the umask */
    return be_make_error(err, errno, "chmod `%s`", d->path);
  if (fchownat(dirfd, slash + 1, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return be_make_error(err, errno, "chown `%s`", d->path);
  return 0;
}

static int apply_op(const be_rootfs_plan *p, const be_mount_op *op, int rootfd, be_error_t *err) {
  switch (op->kind) {
  case BE_OP_CGROUP:
    return apply_cgroup(p, op, rootfd, err);
  case BE_OP_DEVICE:
    return apply_device(p, op, rootfd, err);
  case BE_OP_SYMLINK: {
    cleanup_close int dev = open_in_root(rootfd, "/dev", 1, err);
    if (dev < 0)
      return -1;
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dev);
    cleanup_close int dirfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0 || (symlinkat(op->source, dirfd, strrchr(op->dest, '/') + 1) < 0 && errno != EEXIST))
      return be_make_error(err, errno, "symlink `%s` → `%s`", op->dest, op->source);
    return 0;
  }
  case BE_OP_BIND: {
    struct stat st;
    if (stat(op->source, &st) < 0)
      return be_make_error(err, errno, "bind mount source `%s`", op->source);
    cleanup_close int fd = open_in_root(rootfd, op->dest, S_ISDIR(st.st_mode) ? 1 : 2, err);
    if (fd < 0)
      return -1;
    char target[64];
    snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
    if (mount(op->source, target, NULL, MS_BIND | (op->recursive ? MS_REC : 0), NULL) < 0)
      return be_make_error(err, errno, "bind `%s` on `%s`", op->source, op->dest);
    return remount_at(rootfd, op->dest, op->flags & ~(unsigned long)MS_REMOUNT, op->propagation, err);
  }
  case BE_OP_MOUNT: {
    cleanup_close int fd = open_in_root(rootfd, op->dest, 1, err);
    if (fd < 0)
      return -1;
    char target[64];
    snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
    if (mount(op->source ? op->source : op->type, target, op->type, op->flags, op->data) < 0) {
      int e = errno;
      /* sysfs needs a network namespace of our own (or real root); otherwise bind the host's, read-only. */
      if (strcmp(op->type, "sysfs") == 0 && (e == EPERM || e == EBUSY)) {
        if (mount("/sys", target, NULL, MS_BIND | MS_REC, NULL) == 0 && bind_remount(target, op->flags | MS_RDONLY, err) == 0)
          return 0;
      }
      return be_make_error(err, e, "mount %s on `%s`%s%s", op->type, op->dest, op->data ? " with " : "",
                           op->data ? op->data : "");
    }
    return remount_at(rootfd, op->dest, 0, op->propagation, err);
  }
  case BE_OP_MASK: {
    struct stat st;
    if (lstat(op->dest, &st) < 0)
      return errno == ENOENT ? 0 : be_make_error(err, errno, "stat masked path `%s`", op->dest);
    if (S_ISDIR(st.st_mode)) {
      if (mount("tmpfs", op->dest, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0k,mode=555") < 0)
        return be_make_error(err, errno, "mask `%s` with an empty tmpfs", op->dest);
    } else if (mount("/dev/null", op->dest, NULL, MS_BIND, NULL) < 0) {
      return be_make_error(err, errno, "mask `%s` with /dev/null", op->dest);
    }
    return 0;
  }
  case BE_OP_READONLY: {
    if (mount(op->dest, op->dest, NULL, MS_BIND | MS_REC, NULL) < 0)
      return errno == ENOENT ? 0 : be_make_error(err, errno, "bind read-only path `%s`", op->dest);
    return bind_remount(op->dest, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, err);
  }
  case BE_OP_ROOT_RO:
    return bind_remount("/", MS_RDONLY, err);
  }
  return be_make_error(err, 0, "unknown mount operation %d", (int)op->kind);
}

static bool after_pivot(be_mount_op_kind k) { return k == BE_OP_MASK || k == BE_OP_READONLY || k == BE_OP_ROOT_RO; }

int be_rootfs_apply_mounts(const be_rootfs_plan *p, be_error_t *err) {
  /* Nothing we mount may propagate back to the host. */
  if (mount(NULL, "/", NULL, p->root_propagation, NULL) < 0)
    return be_make_error(err, errno, "make / %s", (p->root_propagation & MS_SHARED) ? "shared" : "slave");
  /* pivot_root needs the new root to be a mount point. */
  if (mount(p->rootfs, p->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return be_make_error(err, errno, "bind rootfs `%s`", p->rootfs);
  cleanup_close int rootfd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return be_make_error(err, errno, "open rootfs `%s`", p->rootfs);
  for (size_t i = 0; i < p->n; i++) {
    if (after_pivot(p->ops[i].kind))
      continue;
    if (apply_op(p, &p->ops[i], rootfd, err) < 0)
      return be_error_wrap(err, "set up the rootfs (%s `%s`)", be_mount_op_kind_name(p->ops[i].kind), p->ops[i].dest);
  }
  return 0;
}

int be_rootfs_pivot(const char *rootfs, bool no_pivot, be_error_t *err) {
  if (chdir(rootfs) < 0)
    return be_make_error(err, errno, "chdir `%s`", rootfs);
  if (no_pivot) {
    if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
      return be_make_error(err, errno, "move `%s` to /", rootfs);
    if (chroot(".") < 0)
      return be_make_error(err, errno, "chroot `%s`", rootfs);
  } else {
    /* pivot_root(".", ".") stacks the old root on top of the new one; unmounting "." then drops it without
     * needing a directory for it inside the container (the trick runc and lxc use). */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
      return be_make_error(err, errno, "pivot_root into `%s`", rootfs);
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
      return be_make_error(err, errno, "make the old root a slave");
    if (umount2(".", MNT_DETACH) < 0)
      return be_make_error(err, errno, "detach the old root");
  }
  if (chdir("/") < 0)
    return be_make_error(err, errno, "chdir /");
  return 0;
}

int be_rootfs_apply_finish(const be_rootfs_plan *p, be_error_t *err) {
  for (size_t i = 0; i < p->n; i++) {
    if (!after_pivot(p->ops[i].kind))
      continue;
    if (apply_op(p, &p->ops[i], -1, err) < 0)
      return -1;
  }
  return 0;
}
