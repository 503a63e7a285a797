/* Safe layer extraction (see extract.h). Every name is resolved with img_open_dir_beneath (openat2
 * RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS): a parent path that leaves the root through an earlier symlink
 * fails with EXDEV, and the last component is always created with O_EXCL / O_NOFOLLOW semantics, so no
 * write ever follows a symlink. */
#define _GNU_SOURCE
#include "extract.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "fsutil.h"
#include "tar.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define WH_META ".wh..wh."

/* A string set with a flag per key: 1 = named by an entry of this layer, 2 = only a parent of one. */
struct pathset {
  char **keys;
  unsigned char *flags;
  size_t cap, n;
};

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static size_t set_slot(const struct pathset *ps, const char *k) {
  size_t i = hash_str(k) & (ps->cap - 1);
  while (ps->keys[i] && strcmp(ps->keys[i], k) != 0) i = (i + 1) & (ps->cap - 1);
  return i;
}

static int set_get(const struct pathset *ps, const char *k) {
  if (!ps->cap) return 0;
  size_t i = set_slot(ps, k);
  return ps->keys[i] ? ps->flags[i] : 0;
}

static int set_put(struct pathset *ps, const char *k, int flag) {
  if ((ps->n + 1) * 2 > ps->cap) {
    struct pathset nps = {.cap = ps->cap ? ps->cap * 2 : 1024};
    nps.keys = calloc(nps.cap, sizeof *nps.keys);
    nps.flags = calloc(nps.cap, 1);
    if (!nps.keys || !nps.flags) {
      free(nps.keys);
      free(nps.flags);
      return -1;
    }
    for (size_t i = 0; i < ps->cap; i++)
      if (ps->keys[i]) {
        size_t j = set_slot(&nps, ps->keys[i]);
        nps.keys[j] = ps->keys[i];
        nps.flags[j] = ps->flags[i];
      }
    nps.n = ps->n;
    free(ps->keys);
    free(ps->flags);
    *ps = nps;
  }
  size_t i = set_slot(ps, k);
  if (ps->keys[i]) {
    if (flag < ps->flags[i]) ps->flags[i] = (unsigned char)flag;
    return 0;
  }
  if (!(ps->keys[i] = strdup(k))) return -1;
  ps->flags[i] = (unsigned char)flag;
  ps->n++;
  return 0;
}

static void set_free(struct pathset *ps) {
  for (size_t i = 0; i < ps->cap; i++) free(ps->keys[i]);
  free(ps->keys);
  free(ps->flags);
}

struct dir_time {
  char *path;
  struct timespec mtime;
};

struct ctx {
  int rootfd;
  const struct img_extract_opts *o;
  struct pathset seen;
  struct dir_time *dirs;
  size_t n_dirs, cap_dirs;
  /* The parent directory of the previous entry stays open: tar entries come grouped by directory. */
  char *cached_parent;
  int cached_fd;
  char *buf;
};

char *img_normalize_path(const char *path, be_error_t *err) {
  size_t len = strlen(path);
  if (len > IMG_TAR_PATH_MAX) return img_err(err, 0, "`%.64s...`: name is %zu bytes, over the %d allowed", path, len, IMG_TAR_PATH_MAX), NULL;
  if (path[0] == '/') return img_err(err, 0, "`%s`: absolute path in a layer", path), NULL;
  char *out = malloc(len + 1);
  if (!out) return img_err(err, ENOMEM, "normalise `%s`", path), NULL;
  size_t o = 0;
  const char *p = path;
  while (*p) {
    const char *slash = strchr(p, '/');
    size_t clen = slash ? (size_t)(slash - p) : strlen(p);
    if (clen == 2 && p[0] == '.' && p[1] == '.') {
      free(out);
      return img_err(err, 0, "`%s`: `..` in a layer path", path), NULL;
    }
    if (clen > IMG_TAR_NAME_MAX) {
      free(out);
      return img_err(err, 0, "`%.64s...`: a component is %zu bytes, over the %d allowed", path, clen, IMG_TAR_NAME_MAX), NULL;
    }
    if (clen > 0 && !(clen == 1 && p[0] == '.')) {
      if (o) out[o++] = '/';
      memcpy(out + o, p, clen);
      o += clen;
    }
    p += clen;
    if (*p == '/') p++;
  }
  out[o] = 0;
  return out;
}

/* Opens the parent directory of `rel` (creating missing ones); *base points at the last component. */
static int open_parent(struct ctx *c, const char *rel, const char **base, be_error_t *err) {
  const char *slash = strrchr(rel, '/');
  size_t plen = slash ? (size_t)(slash - rel) : 0;
  *base = slash ? slash + 1 : rel;
  if (c->cached_parent && strlen(c->cached_parent) == plen && memcmp(c->cached_parent, rel, plen) == 0) return c->cached_fd;
  char parent[IMG_TAR_PATH_MAX + 1];
  memcpy(parent, rel, plen);
  parent[plen] = 0;
  int fd = img_open_dir_beneath(c->rootfd, parent, 1);
  if (fd < 0) {
    if (errno == EXDEV || errno == ELOOP)
      return img_err(err, 0, "`%s`: its directory `%s` resolves outside the layer root through a symlink", rel, parent);
    if (errno == ENOTDIR) return img_err(err, 0, "`%s`: `%s` is not a directory", rel, parent);
    return img_err(err, errno, "open directory `%s`", parent);
  }
  /* Parents count as touched by this layer (for opaque directories under vfs/devicemapper). */
  for (char *p = parent; *p; p++)
    if (*p == '/') {
      *p = 0;
      set_put(&c->seen, parent, 2);
      *p = '/';
    }
  if (plen) set_put(&c->seen, parent, 2);
  if (c->cached_fd >= 0) close(c->cached_fd);
  free(c->cached_parent);
  c->cached_parent = strdup(parent);
  c->cached_fd = fd;
  return fd;
}

/* A relative symlink target must not climb above the layer root from where the link sits. Absolute targets
 * are resolved against the container's root at run time and are fine. */
static int check_symlink(const char *rel, const char *target, be_error_t *err) {
  if (!*target) return img_err(err, 0, "`%s`: symlink with an empty target", rel);
  if (strlen(target) >= IMG_TAR_PATH_MAX) return img_err(err, 0, "`%s`: symlink target is too long", rel);
  if (target[0] == '/') return 0;
  long depth = 0;
  for (const char *p = rel; *p; p++) depth += *p == '/';
  for (const char *p = target; *p;) {
    const char *slash = strchr(p, '/');
    size_t clen = slash ? (size_t)(slash - p) : strlen(p);
    if (clen == 2 && p[0] == '.' && p[1] == '.') {
      if (--depth < 0) return img_err(err, 0, "`%s`: symlink to `%s` points outside the layer root", rel, target);
    } else if (clen > 0 && !(clen == 1 && p[0] == '.')) {
      depth++;
    }
    p += clen;
    if (*p == '/') p++;
  }
  return 0;
}

static int check_xattr(const char *rel, const char *name, be_error_t *err) {
  /* trusted.overlay.* would let a layer forge overlayfs metadata (opaque, redirect, metacopy); trusted.* and
   * other namespaces have no business in an image. */
  if (strncmp(name, "user.", 5) == 0 || strncmp(name, "security.", 9) == 0 || strcmp(name, "system.posix_acl_access") == 0 ||
      strcmp(name, "system.posix_acl_default") == 0)
    return 0;
  return img_err(err, 0, "`%s`: xattr `%s` is not allowed in a layer", rel, name);
}

static int set_xattrs(int pfd, const char *base, const char *rel, const struct img_tar_entry *e, be_error_t *err) {
  for (size_t i = 0; i < e->n_xattrs; i++) {
    char path[IMG_TAR_NAME_MAX + 64];
    snprintf(path, sizeof path, "/proc/self/fd/%d/%s", pfd, base);
    if (lsetxattr(path, e->xattrs[i].name, e->xattrs[i].value, e->xattrs[i].len, 0) < 0)
      return img_err(err, errno, "lsetxattr `%s` %s", rel, e->xattrs[i].name);
  }
  return 0;
}

static int apply_meta(struct ctx *c, int pfd, const char *base, const char *rel, const struct img_tar_entry *e, be_error_t *err) {
  (void)c;
  if (fchownat(pfd, base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0) return img_err(err, errno, "lchown `%s`", rel);
  /* chmod after chown: chown clears setuid/setgid bits. */
  if (e->kind != IMG_TAR_SYMLINK && fchmodat(pfd, base, e->mode, 0) < 0) return img_err(err, errno, "chmod `%s`", rel);
  if (set_xattrs(pfd, base, rel, e, err) < 0) return -1;
  struct timespec ts[2] = {{e->mtime, e->mtime_nsec}, {e->mtime, e->mtime_nsec}};
  if (e->kind == IMG_TAR_DIR) {
    /* Directory times are set last: creating children changes them. */
    if (c->n_dirs == c->cap_dirs) {
      size_t nc = c->cap_dirs ? c->cap_dirs * 2 : 256;
      struct dir_time *nd = realloc(c->dirs, nc * sizeof *nd);
      if (!nd) return img_err(err, ENOMEM, "extract `%s`", rel);
      c->dirs = nd;
      c->cap_dirs = nc;
    }
    c->dirs[c->n_dirs++] = (struct dir_time){strdup(rel), ts[1]};
    return 0;
  }
  if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0) return img_err(err, errno, "set times of `%s`", rel);
  return 0;
}

/* Everything in directory dfd (path rel) that this layer did not create goes away (opaque, vfs mode). */
static int empty_older_entry(void *arg, int dfd, const struct dirent *de, const char *path, int depth, be_error_t *err) {
  struct ctx *c = arg;
  if (!set_get(&c->seen, path)) return img_remove_tree_at(dfd, de->d_name, err);
  if (de->d_type != DT_DIR) return 0;
  img_autoclose int cfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (cfd < 0) return img_err(err, errno, "open `%s`", path);
  return img_each_entry(cfd, path, depth + 1, empty_older_entry, c, err);
}

static int do_whiteout(struct ctx *c, const char *rel, int pfd, const char *base, be_error_t *err) {
  size_t dlen = (size_t)(base - rel);
  char dir[IMG_TAR_PATH_MAX + 1];
  memcpy(dir, rel, dlen ? dlen - 1 : 0);
  dir[dlen ? dlen - 1 : 0] = 0;
  if (strcmp(base, WH_OPAQUE) == 0) {
    if (c->o->whiteouts == IMG_WHITEOUT_OVERLAY) {
      if (fsetxattr(pfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
        return img_err(err, errno, "mark `%s` opaque (setxattr trusted.overlay.opaque)", *dir ? dir : "/");
      return 0;
    }
    return img_each_entry(pfd, dir, 0, empty_older_entry, c, err);
  }
  if (strncmp(base, WH_META, strlen(WH_META)) == 0) return 0; /* aufs bookkeeping (.wh..wh.plnk etc.) */
  const char *name = base + strlen(WH_PREFIX);
  if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
    return img_err(err, 0, "`%s`: whiteout without a valid name", rel);
  img_autofree char *target = NULL;
  if (asprintf(&target, "%s%s", dir, *dir ? "/" : "") < 0 || !target) return img_err(err, ENOMEM, "whiteout");
  img_autofree char *full = NULL;
  if (asprintf(&full, "%s%s", target, name) < 0) return img_err(err, ENOMEM, "whiteout");
  if (set_get(&c->seen, full) == 1) return img_err(err, 0, "`%s`: whiteout of `%s`, which the same layer also creates", rel, full);
  if (set_put(&c->seen, full, 1) < 0) return img_err(err, ENOMEM, "whiteout");
  if (c->o->whiteouts == IMG_WHITEOUT_OVERLAY) {
    /* overlayfs(5): a whiteout is a character device with 0/0 device number. */
    if (mknodat(pfd, name, S_IFCHR | 0, makedev(0, 0)) < 0) return img_err(err, errno, "mknod whiteout `%s`", full);
    return 0;
  }
  if (img_remove_tree_at(pfd, name, err) < 0) return img_err_wrap(err, "apply whiteout `%s`", rel);
  return 0;
}

static int prepare_slot(int pfd, const char *base, const char *rel, int want_dir, be_error_t *err) {
  struct stat st;
  if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return 0;
    return img_err(err, errno, "stat `%s`", rel);
  }
  if (want_dir && S_ISDIR(st.st_mode)) return 1;
  if (img_remove_tree_at(pfd, base, err) < 0) return img_err_wrap(err, "replace `%s`", rel);
  return 0;
}

static int extract_entry(struct ctx *c, img_tar *t, struct img_tar_entry *e, be_error_t *err) {
  img_autofree char *rel = img_normalize_path(e->path, err);
  if (!rel) return -1;
  if (!*rel) {
    if (e->kind != IMG_TAR_DIR) return img_err(err, 0, "`%s`: the layer root must be a directory", e->path);
    if (set_get(&c->seen, "") == 1) return img_err(err, 0, "`%s`: duplicate entry for the layer root", e->path);
    set_put(&c->seen, "", 1);
    if (fchown(c->rootfd, e->uid, e->gid) < 0 || fchmod(c->rootfd, e->mode) < 0) return img_err(err, errno, "set owner and mode of the layer root");
    if (c->n_dirs == c->cap_dirs) {
      size_t nc = c->cap_dirs ? c->cap_dirs * 2 : 256;
      struct dir_time *nd = realloc(c->dirs, nc * sizeof *nd);
      if (!nd) return img_err(err, ENOMEM, "extract");
      c->dirs = nd;
      c->cap_dirs = nc;
    }
    c->dirs[c->n_dirs++] = (struct dir_time){strdup(""), {e->mtime, e->mtime_nsec}};
    return 0;
  }
  const char *base;
  int pfd = open_parent(c, rel, &base, err);
  if (pfd < 0) return -1;
  if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0) return do_whiteout(c, rel, pfd, base, err);
  if (set_get(&c->seen, rel) == 1) return img_err(err, 0, "`%s`: duplicate entry in one layer", rel);
  if (set_put(&c->seen, rel, 1) < 0) return img_err(err, ENOMEM, "extract `%s`", rel);
  for (size_t i = 0; i < e->n_xattrs; i++)
    if (check_xattr(rel, e->xattrs[i].name, err) < 0) return -1;

  switch (e->kind) {
  case IMG_TAR_DIR: {
    int exists = prepare_slot(pfd, base, rel, 1, err);
    if (exists < 0) return -1;
    if (!exists && mkdirat(pfd, base, 0700) < 0) return img_err(err, errno, "mkdir `%s`", rel);
    break;
  }
  case IMG_TAR_FILE: {
    if (prepare_slot(pfd, base, rel, 0, err) < 0) return -1;
    img_autoclose int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return img_err(err, errno, "create `%s`", rel);
    for (;;) {
      ssize_t n = img_tar_read(t, c->buf, 1 << 20, err);
      if (n < 0) return -1;
      if (n == 0) break;
      for (ssize_t off = 0; off < n;) {
        ssize_t w = write(fd, c->buf + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return img_err(err, errno, "write `%s`", rel);
        off += w;
      }
    }
    break;
  }
  case IMG_TAR_SYMLINK:
    if (check_symlink(rel, e->linkpath, err) < 0) return -1;
    if (prepare_slot(pfd, base, rel, 0, err) < 0) return -1;
    if (symlinkat(e->linkpath, pfd, base) < 0) return img_err(err, errno, "symlink `%s`", rel);
    break;
  case IMG_TAR_HARDLINK: {
    img_autofree char *trel = img_normalize_path(e->linkpath, err);
    if (!trel) return img_err_wrap(err, "hardlink `%s`", rel);
    if (!*trel) return img_err(err, 0, "`%s`: hardlink to the layer root", rel);
    const char *tslash = strrchr(trel, '/');
    const char *tbase = tslash ? tslash + 1 : trel;
    img_autofree char *tparent = strndup(trel, tslash ? (size_t)(tslash - trel) : 0);
    img_autoclose int tfd = img_open_dir_beneath(c->rootfd, tparent ? tparent : "", 0);
    if (tfd < 0) {
      if (errno == EXDEV || errno == ELOOP) return img_err(err, 0, "`%s`: hardlink target `%s` resolves outside the layer root", rel, trel);
      return img_err(err, errno, "`%s`: hardlink target `%s`", rel, trel);
    }
    struct stat st;
    if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0) return img_err(err, errno, "`%s`: hardlink target `%s`", rel, trel);
    if (S_ISDIR(st.st_mode)) return img_err(err, 0, "`%s`: hardlink to directory `%s`", rel, trel);
    if (strcmp(trel, rel) == 0) return img_err(err, 0, "`%s`: hardlink to itself", rel);
    if (prepare_slot(pfd, base, rel, 0, err) < 0) return -1;
    if (linkat(tfd, tbase, pfd, base, 0) < 0) return img_err(err, errno, "link `%s` to `%s`", rel, trel);
    return 0; /* same inode: its metadata came with the first name */
  }
  case IMG_TAR_CHAR:
  case IMG_TAR_BLOCK:
  case IMG_TAR_FIFO: {
    if (e->kind != IMG_TAR_FIFO && !c->o->allow_devices)
      return img_err(err, 0, "`%s`: device node (%s %u:%u) not allowed by this storage driver", rel, img_tar_kind_name(e->kind),
                     e->devmajor, e->devminor);
    if (prepare_slot(pfd, base, rel, 0, err) < 0) return -1;
    mode_t type = e->kind == IMG_TAR_CHAR ? S_IFCHR : e->kind == IMG_TAR_BLOCK ? S_IFBLK : S_IFIFO;
    if (mknodat(pfd, base, type | 0600, makedev(e->devmajor, e->devminor)) < 0) return img_err(err, errno, "mknod `%s`", rel);
    break;
  }
  }
  return apply_meta(c, pfd, base, rel, e, err);
}

static int set_dir_times(struct ctx *c, be_error_t *err) {
  for (size_t i = c->n_dirs; i-- > 0;) {
    img_autoclose int fd = img_open_dir_beneath(c->rootfd, c->dirs[i].path, 0);
    if (fd < 0) continue; /* removed again by a later entry of the same layer */
    struct timespec ts[2] = {c->dirs[i].mtime, c->dirs[i].mtime};
    if (futimens(fd, ts) < 0) return img_err(err, errno, "set times of `%s`", c->dirs[i].path);
  }
  return 0;
}

int img_extract(int rootfd, img_stream *s, const struct img_extract_opts *o, struct img_extract_result *res, be_error_t *err) {
  struct ctx c = {.rootfd = rootfd, .o = o, .cached_fd = -1, .buf = malloc(1 << 20)};
  img_tar *t = img_tar_new(s, err);
  int rc = -1;
  if (!c.buf || !t) {
    img_err(err, ENOMEM, "extract layer");
    goto out;
  }
  memset(res, 0, sizeof *res);
  for (;;) {
    struct img_tar_entry *e;
    int r = img_tar_next(t, &e, err);
    if (r < 0) goto out;
    if (r == 0) break;
    if (extract_entry(&c, t, e, err) < 0) goto out;
    res->entries++;
  }
  if (set_dir_times(&c, err) < 0) goto out;
  if (img_stream_finish(s, res->blob_hex, res->diff_hex, err) < 0) goto out;
  res->tar_bytes = img_stream_out_bytes(s);
  rc = 0;
out:
  img_tar_free(t);
  set_free(&c.seen);
  for (size_t i = 0; i < c.n_dirs; i++) free(c.dirs[i].path);
  free(c.dirs);
  if (c.cached_fd >= 0) close(c.cached_fd);
  free(c.cached_parent);
  free(c.buf);
  return rc;
}
