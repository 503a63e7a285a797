/* File-system helpers (see fsutil.h). */
#define _GNU_SOURCE
#include "fsutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static int openat2_missing;

/* openat2(2) arrived in Linux 5.6; ENOSYS means an older kernel, so walk by hand with O_NOFOLLOW and refuse
 * every symlink on the way (stricter than RESOLVE_BENEATH, which follows symlinks that stay inside). */
static int open_walk_nofollow(int rootfd, const char *path, int create) {
  int cur = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cur < 0) return -1;
  char buf[4097];
  if (strlen(path) >= sizeof buf) {
    close(cur);
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(buf, path);
  for (char *save = NULL, *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
    int next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && errno == ENOENT && create) {
      if (mkdirat(cur, c, 0755) < 0 && errno != EEXIST) {
        int e = errno;
        close(cur);
        errno = e;
        return -1;
      }
      next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    int e = errno;
    close(cur);
    if (next < 0) {
      errno = e == ELOOP ? EXDEV : e;
      return -1;
    }
    cur = next;
  }
  return cur;
}

static int open_beneath(int rootfd, const char *path) {
  if (!openat2_missing) {
    struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    int fd = (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS) return fd;
    openat2_missing = 1;
  }
  return open_walk_nofollow(rootfd, path, 0);
}

int img_open_dir_beneath(int rootfd, const char *path, int create) {
  int fd = open_beneath(rootfd, path);
  if (fd >= 0 || errno != ENOENT || !create) return fd;
  if (openat2_missing) return open_walk_nofollow(rootfd, path, 1);
  /* Create the missing components one at a time, each resolved beneath the root again. */
  size_t len = strlen(path);
  char buf[4097];
  if (len >= sizeof buf) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(buf, path, len + 1);
  for (size_t i = 0; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != 0) continue;
    char saved = buf[i];
    buf[i] = 0;
    char *slash = strrchr(buf, '/');
    const char *base = slash ? slash + 1 : buf;
    int pfd;
    if (slash) {
      *slash = 0;
      pfd = open_beneath(rootfd, buf);
      *slash = '/';
    } else {
      pfd = open_beneath(rootfd, "");
    }
    if (pfd < 0) return -1;
    if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST) {
      int e = errno;
      close(pfd);
      errno = e;
      return -1;
    }
    close(pfd);
    buf[i] = saved;
  }
  return open_beneath(rootfd, path);
}

int img_each_entry(int dfd, const char *rel, int depth, img_entry_fn fn, void *arg, be_error_t *err) {
  const char *shown = rel ? (*rel ? rel : "/") : "directory tree";
  if (depth > 2048) return img_err(err, ELOOP, "`%s`: nested too deeply", shown);
  int dup_fd = dup(dfd);
  DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  if (!d) {
    int e = errno;
    if (dup_fd >= 0) close(dup_fd);
    return img_err(err, e, "opendir `%s`", shown);
  }
  struct dirent *de;
  int rc = 0;
  while (rc == 0 && (de = readdir(d)) != NULL) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    img_autofree char *path = NULL;
    if (rel && asprintf(&path, "%s%s%s", rel, *rel ? "/" : "", de->d_name) < 0) rc = img_err(err, ENOMEM, "list `%s`", shown);
    else rc = fn(arg, dfd, de, path, depth, err);
  }
  closedir(d);
  return rc;
}

static int remove_entry(void *arg, int dfd, const struct dirent *de, const char *path, int depth, be_error_t *err) {
  (void)arg, (void)path;
  if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
    int cfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (cfd >= 0) {
      int rc = img_each_entry(cfd, NULL, depth + 1, remove_entry, NULL, err);
      close(cfd);
      if (rc < 0) return rc;
      if (unlinkat(dfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT) return img_err(err, errno, "rmdir `%s`", de->d_name);
      return 0;
    }
    if (errno != ENOTDIR && errno != ELOOP) return img_err(err, errno, "open `%s`", de->d_name);
  }
  if (unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT) return img_err(err, errno, "unlink `%s`", de->d_name);
  return 0;
}

int img_remove_tree_at(int dirfd, const char *name, be_error_t *err) {
  if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return 0;
  if (errno != EISDIR && errno != EPERM) return img_err(err, errno, "unlink `%s`", name);
  img_autoclose int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return img_err(err, errno, "open `%s`", name);
  if (img_each_entry(fd, NULL, 0, remove_entry, NULL, err) < 0) return img_err_wrap(err, "remove `%s`", name);
  if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) return img_err(err, errno, "rmdir `%s`", name);
  return 0;
}

static int copy_xattrs(int srcdir, const char *name, int dstdir, be_error_t *err) {
  char sp[64], dp[64];
  snprintf(sp, sizeof sp, "/proc/self/fd/%d/", srcdir);
  snprintf(dp, sizeof dp, "/proc/self/fd/%d/", dstdir);
  img_autofree char *spath = NULL, *dpath = NULL;
  if (asprintf(&spath, "%s%s", sp, name) < 0 || asprintf(&dpath, "%s%s", dp, name) < 0)
    return img_err(err, ENOMEM, "copy xattrs");
  char list[65536];
  ssize_t n = llistxattr(spath, list, sizeof list);
  if (n < 0) return (errno == ENOTSUP || errno == EOPNOTSUPP) ? 0 : img_err(err, errno, "llistxattr `%s`", name);
  for (char *k = list; k < list + n; k += strlen(k) + 1) {
    char val[65536];
    ssize_t vl = lgetxattr(spath, k, val, sizeof val);
    if (vl < 0) return img_err(err, errno, "lgetxattr `%s` %s", name, k);
    if (lsetxattr(dpath, k, val, (size_t)vl, 0) < 0) return img_err(err, errno, "lsetxattr `%s` %s", name, k);
  }
  return 0;
}

struct inode_map {
  dev_t dev;
  ino_t ino;
  int dirfd_unused;
  char *path; /* relative to the copy root */
};

struct copy_ctx {
  int dst_root;
  struct inode_map *links;
  size_t n_links, cap_links;
  char *buf;
};

static int copy_dir(struct copy_ctx *c, int sfd, int dfd, const char *rel, be_error_t *err, int depth);

static int copy_entry(struct copy_ctx *c, int sfd, int dfd, const char *name, const char *rel, be_error_t *err, int depth) {
  struct stat st;
  if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return img_err(err, errno, "stat `%s`", rel);
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
    for (size_t i = 0; i < c->n_links; i++)
      if (c->links[i].dev == st.st_dev && c->links[i].ino == st.st_ino) {
        if (linkat(c->dst_root, c->links[i].path, dfd, name, 0) < 0) return img_err(err, errno, "link `%s`", rel);
        return 0;
      }
    if (c->n_links == c->cap_links) {
      size_t nc = c->cap_links ? c->cap_links * 2 : 64;
      struct inode_map *nl = realloc(c->links, nc * sizeof *nl);
      if (!nl) return img_err(err, ENOMEM, "copy `%s`", rel);
      c->links = nl;
      c->cap_links = nc;
    }
    c->links[c->n_links++] = (struct inode_map){st.st_dev, st.st_ino, -1, strdup(rel)};
  }
  if (S_ISDIR(st.st_mode)) {
    if (mkdirat(dfd, name, 0700) < 0 && errno != EEXIST) return img_err(err, errno, "mkdir `%s`", rel);
    img_autoclose int s2 = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    img_autoclose int d2 = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (s2 < 0 || d2 < 0) return img_err(err, errno, "open `%s`", rel);
    if (copy_dir(c, s2, d2, rel, err, depth + 1) < 0) return -1;
  } else if (S_ISREG(st.st_mode)) {
    img_autoclose int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    img_autoclose int out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (in < 0 || out < 0) return img_err(err, errno, "open `%s`", rel);
    for (;;) {
      /* copy_file_range shares extents on file systems that can (btrfs, xfs reflink) and copies in-kernel
       * elsewhere. */
      ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
        n = read(in, c->buf, 1 << 20);
        if (n > 0 && write(out, c->buf, (size_t)n) != n) return img_err(err, errno, "write `%s`", rel);
      }
      if (n < 0) return img_err(err, errno, "copy `%s`", rel);
      if (n == 0) break;
    }
  } else if (S_ISLNK(st.st_mode)) {
    char target[4097];
    ssize_t n = readlinkat(sfd, name, target, sizeof target - 1);
    if (n < 0) return img_err(err, errno, "readlink `%s`", rel);
    target[n] = 0;
    if (symlinkat(target, dfd, name) < 0) return img_err(err, errno, "symlink `%s`", rel);
  } else {
    if (mknodat(dfd, name, st.st_mode & S_IFMT, st.st_rdev) < 0) return img_err(err, errno, "mknod `%s`", rel);
  }
  if (fchownat(dfd, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) return img_err(err, errno, "chown `%s`", rel);
  if (!S_ISLNK(st.st_mode) && fchmodat(dfd, name, st.st_mode & 07777, 0) < 0) return img_err(err, errno, "chmod `%s`", rel);
  if (copy_xattrs(sfd, name, dfd, err) < 0) return -1;
  struct timespec ts[2] = {st.st_atim, st.st_mtim};
  if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0) return img_err(err, errno, "set times of `%s`", rel);
  return 0;
}

struct copy_dir_arg {
  struct copy_ctx *c;
  int dfd;
};

static int copy_one(void *arg, int sfd, const struct dirent *de, const char *path, int depth, be_error_t *err) {
  struct copy_dir_arg *a = arg;
  return copy_entry(a->c, sfd, a->dfd, de->d_name, path, err, depth);
}

static int copy_dir(struct copy_ctx *c, int sfd, int dfd, const char *rel, be_error_t *err, int depth) {
  struct copy_dir_arg a = {c, dfd};
  return img_each_entry(sfd, rel, depth, copy_one, &a, err);
}

int img_copy_tree(int srcfd, int dstfd, be_error_t *err) {
  struct copy_ctx c = {.dst_root = dstfd, .buf = malloc(1 << 20)};
  if (!c.buf) return img_err(err, ENOMEM, "copy tree");
  int rc = copy_dir(&c, srcfd, dstfd, "", err, 0);
  struct stat st;
  if (rc == 0 && fstat(srcfd, &st) == 0) {
    if (fchown(dstfd, st.st_uid, st.st_gid) < 0 || fchmod(dstfd, st.st_mode & 07777) < 0)
      rc = img_err(err, errno, "set owner and mode of the copied root");
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    if (rc == 0) futimens(dstfd, ts);
  }
  for (size_t i = 0; i < c.n_links; i++) free(c.links[i].path);
  free(c.links);
  free(c.buf);
  return rc;
}

int img_mkdir_p(const char *path, mode_t mode, be_error_t *err) {
  char buf[4097];
  if (strlen(path) >= sizeof buf) return img_err(err, ENAMETOOLONG, "mkdir `%s`", path);
  strcpy(buf, path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, mode) < 0 && errno != EEXIST) return img_err(err, errno, "mkdir `%s`", buf);
    *p = '/';
  }
  if (mkdir(buf, mode) < 0 && errno != EEXIST) return img_err(err, errno, "mkdir `%s`", buf);
  return 0;
}

int img_write_file_at(int dirfd, const char *name, const void *data, size_t len, be_error_t *err) {
  char tmp[4200];
  const char *slash = strrchr(name, '/');
  int dlen = slash ? (int)(slash - name + 1) : 0;
  snprintf(tmp, sizeof tmp, "%.*s.%s.tmp%d", dlen, name, slash ? slash + 1 : name, (int)getpid());
  img_autoclose int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return img_err(err, errno, "create `%s`", tmp);
  const char *p = data;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return img_err(err, errno, "write `%s`", tmp);
    p += w;
    len -= (size_t)w;
  }
  if (renameat(dirfd, tmp, dirfd, name) < 0) return img_err(err, errno, "rename `%s` to `%s`", tmp, name);
  return 0;
}

char *img_read_file_at(int dirfd, const char *name, size_t max, size_t *len) {
  img_autoclose int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return NULL;
  char *buf = malloc(max + 1);
  if (!buf) return NULL;
  size_t got = 0;
  while (got < max) {
    ssize_t r = read(fd, buf + got, max - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      free(buf);
      return NULL;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  buf[got] = 0;
  if (len) *len = got;
  return buf;
}

int img_run_tool(char *const argv[], be_error_t *err) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) return be_make_error(err, errno, "pipe");
  pid_t pid = fork();
  if (pid < 0) return be_make_error(err, errno, "fork `%s`", argv[0]);
  if (pid == 0) {
    dup2(pipefd[1], 2);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) dup2(devnull, 1), dup2(devnull, 0);
    /* LVM warns about leaked fds otherwise; other tools ignore it. */
    setenv("LVM_SUPPRESS_FD_WARNINGS", "1", 1);
    /* Host tools come from the system directories, never from the caller's PATH (under npm, for one,
     * node_modules/.bin has an unrelated `nft`). */
    setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
    execvp(argv[0], argv);
    _exit(127);
  }
  close(pipefd[1]);
  char buf[4096];
  size_t len = 0;
  ssize_t r;
  while ((r = read(pipefd[0], buf + len, sizeof buf - 1 - len)) > 0) {
    len += (size_t)r;
    if (len >= sizeof buf - 1) len = 0; /* keep the tail */
  }
  buf[len] = 0;
  close(pipefd[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  be_buf cmd = {0};
  for (size_t i = 0; argv[i]; i++) {
    if (i) be_buf_puts(&cmd, " ");
    be_buf_puts(&cmd, argv[i]);
  }
  char *nl;
  while ((nl = strrchr(buf, '\n')) && nl[1] == 0) *nl = 0;
  int rc = be_make_error(err, 0, "`%s` failed (exit %d): %s", cmd.data, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                         *buf ? buf : "no output");
  free(cmd.data);
  return rc;
}
