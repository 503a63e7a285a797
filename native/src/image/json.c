/* JSON helpers over yajl_tree (see json.h). */
#define _GNU_SOURCE
#include "json.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

yajl_val ij_parse(const char *text, const char *what, be_error_t *err) {
  char ebuf[256] = "";
  yajl_val v = yajl_tree_parse(text, ebuf, sizeof ebuf);
  if (!v) {
    char *nl = strchr(ebuf, '\n');
    if (nl) *nl = 0;
    img_err(err, 0, "parse `%s` as JSON: %s", what, *ebuf ? ebuf : "invalid JSON");
  }
  return v;
}

yajl_val ij_parse_file(int dirfd, const char *path, size_t max_bytes, be_error_t *err) {
  img_autoclose int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return img_err(err, errno, "open `%s`", path), NULL;
  struct stat st;
  if (fstat(fd, &st) < 0) return img_err(err, errno, "stat `%s`", path), NULL;
  if (!S_ISREG(st.st_mode)) return img_err(err, 0, "read `%s`: not a regular file", path), NULL;
  if ((size_t)st.st_size > max_bytes)
    return img_err(err, 0, "read `%s`: %lld bytes is more than the %zu allowed", path, (long long)st.st_size, max_bytes), NULL;
  img_autofree char *buf = NULL;
  size_t len;
  if (be_read_fd(fd, path, &buf, &len, err) < 0) return NULL;
  if (memchr(buf, 0, len)) return img_err(err, 0, "read `%s`: NUL byte in JSON", path), NULL;
  return ij_parse(buf, path, err);
}

yajl_val ij_get(yajl_val obj, const char *key) {
  if (!obj || !YAJL_IS_OBJECT(obj)) return NULL;
  for (size_t i = 0; i < obj->u.object.len; i++)
    if (strcmp(obj->u.object.keys[i], key) == 0) return obj->u.object.values[i];
  return NULL;
}

const char *ij_get_str(yajl_val obj, const char *key) {
  yajl_val v = ij_get(obj, key);
  return v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

size_t ij_len(yajl_val arr) { return arr && YAJL_IS_ARRAY(arr) ? arr->u.array.len : 0; }

yajl_val ij_at(yajl_val arr, size_t i) { return i < ij_len(arr) ? arr->u.array.values[i] : NULL; }
