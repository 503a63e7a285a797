/* Small helpers shared by every file. */
#include "utils.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void be_freep(void *p) { free(*(void **)p); }
void be_closep(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}
void be_fclosep(void *f) {
  FILE **fp = f;
  if (*fp)
    fclose(*fp);
}
void be_strv_free(char **v) {
  if (!v)
    return;
  for (char **p = v; *p; p++)
    free(*p);
  free(v);
}
void be_strvfreep(void *p) { be_strv_free(*(char ***)p); }
size_t be_strv_len(char *const *v) {
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

void *be_xmalloc0(size_t n) {
  void *p = calloc(1, n ? n : 1);
  if (!p) {
    fputs("berth-engine: out of memory\n", stderr);
    abort();
  }
  return p;
}
char *be_xstrdup(const char *s) {
  if (!s)
    return NULL;
  char *r = strdup(s);
  if (!r) {
    fputs("berth-engine: out of memory\n", stderr);
    abort();
  }
  return r;
}
char *be_xasprintf(const char *fmt, ...) {
  char *r;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&r, fmt, ap);
  va_end(ap);
  if (n < 0) {
    fputs("berth-engine: out of memory\n", stderr);
    abort();
  }
  return r;
}

int be_read_fd(int fd, const char *what, char **out, size_t *len, be_error_t *err) {
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  if (!buf)
    return be_make_error(err, ENOMEM, "read `%s`", what);
  for (;;) {
    if (n + 1 >= cap) {
      cap *= 2;
      char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        return be_make_error(err, ENOMEM, "read `%s`", what);
      }
      buf = nb;
    }
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      return be_make_error(err, e, "read `%s`", what);
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  *out = buf;
  if (len)
    *len = n;
  return 0;
}

int be_read_file(const char *path, char **out, size_t *len, be_error_t *err) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return be_make_error(err, errno, "open `%s`", path);
  return be_read_fd(fd, path, out, len, err);
}

int be_write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

int be_write_file(const char *path, const void *data, size_t len, mode_t mode, be_error_t *err) {
  cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return be_make_error(err, errno, "open `%s`", path);
  if (be_write_all(fd, data, len) < 0)
    return be_make_error(err, errno, "write `%s`", path);
  return 0;
}

int be_write_existing(const char *path, const char *data, be_error_t *err) {
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return be_make_error(err, errno, "open `%s`", path);
  if (be_write_all(fd, data, strlen(data)) < 0)
    return be_make_error(err, errno, "write `%s` to `%s`", data, path);
  return 0;
}

int be_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, be_error_t *err) {
  cleanup_free char *tmp = be_xasprintf("%s.tmp.%d", path, (int)getpid());
  if (be_write_file(tmp, data, len, mode, err) < 0)
    return -1;
  if (rename(tmp, path) < 0) {
    int e = errno;
    unlink(tmp);
    return be_make_error(err, e, "rename `%s` to `%s`", tmp, path);
  }
  return 0;
}

int be_mkdir_p(const char *path, mode_t mode, be_error_t *err) {
  cleanup_free char *p = be_xstrdup(path);
  size_t n = strlen(p);
  for (size_t i = 1; i <= n; i++) {
    if (p[i] == '/' || p[i] == '\0') {
      char c = p[i];
      p[i] = '\0';
      if (mkdir(p, mode) < 0 && errno != EEXIST)
        return be_make_error(err, errno, "mkdir `%s`", p);
      p[i] = c;
    }
  }
  return 0;
}

static int rm_rf_at(int parent, const char *name, dev_t dev, be_error_t *err) {
  struct stat st;
  if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : be_make_error(err, errno, "stat `%s`", name);
  if (S_ISDIR(st.st_mode)) {
    if (st.st_dev != dev)
      return be_make_error(err, EXDEV, "remove `%s`: a mount point", name);
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      return be_make_error(err, errno, "open `%s`", name);
    DIR *d = fdopendir(fd);
    if (!d) {
      close(fd);
      return be_make_error(err, errno, "opendir `%s`", name);
    }
    struct dirent *de;
    int ret = 0;
    while ((de = readdir(d)) != NULL) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
        continue;
      if (rm_rf_at(dirfd(d), de->d_name, dev, err) < 0) {
        ret = -1;
        break;
      }
    }
    closedir(d);
    if (ret < 0)
      return be_error_wrap(err, "remove `%s`", name);
    if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
      return be_make_error(err, errno, "rmdir `%s`", name);
    return 0;
  }
  if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
    return be_make_error(err, errno, "unlink `%s`", name);
  return 0;
}

int be_rm_rf(const char *path, be_error_t *err) {
  struct stat st;
  if (lstat(path, &st) < 0)
    return errno == ENOENT ? 0 : be_make_error(err, errno, "stat `%s`", path);
  return rm_rf_at(AT_FDCWD, path, st.st_dev, err);
}

bool be_path_exists(const char *path) { return access(path, F_OK) == 0; }

int be_parse_long(const char *s, long *out) {
  if (!s || !*s)
    return -1;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end)
    return -1;
  *out = v;
  return 0;
}

int be_validate_id(const char *id, be_error_t *err) {
  size_t n = id ? strlen(id) : 0;
  if (n == 0 || n > 128)
    return be_make_error(err, 0, "container ID `%s`: must be 1 to 128 characters", id ? id : "");
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              (i > 0 && (c == '_' || c == '.' || c == '-'));
    if (!ok)
      return be_make_error(err, 0, "container ID `%s`: use letters, digits, `_`, `.` and `-` (not first)", id);
  }
  return 0;
}

void be_buf_add(be_buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *nd = realloc(b->data, cap);
    if (!nd) {
      fputs("berth-engine: out of memory\n", stderr);
      abort();
    }
    b->data = nd;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}
void be_buf_puts(be_buf *b, const char *s) { be_buf_add(b, s, strlen(s)); }
void be_buf_printf(be_buf *b, const char *fmt, ...) {
  char *s;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0)
    abort();
  be_buf_add(b, s, (size_t)n);
  free(s);
}
void be_buf_json_string(be_buf *b, const char *s) {
  be_buf_add(b, "\"", 1);
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      be_buf_add(b, e, 2);
    } else if (c < 0x20) {
      be_buf_printf(b, "\\u%04x", c);
    } else {
      be_buf_add(b, (const char *)&c, 1);
    }
  }
  be_buf_add(b, "\"", 1);
}

uint64_t be_fnv1a64(const void *data, size_t len, uint64_t seed) {
  uint64_t h = seed ? seed : 0xcbf29ce484222325ULL;
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}
