/* Small helpers shared by every file: cleanup attributes (after crun's utils.h), file I/O with be_error_t. */
#ifndef BE_UTILS_H
#define BE_UTILS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

void be_freep(void *p);
void be_closep(int *fd);
void be_fclosep(void *f);
void be_strvfreep(void *p);
#define cleanup_free __attribute__((cleanup(be_freep)))
#define cleanup_close __attribute__((cleanup(be_closep)))
#define cleanup_file __attribute__((cleanup(be_fclosep)))
#define cleanup_strv __attribute__((cleanup(be_strvfreep)))

/* Returns the value and sets the variable to its "empty" value, so a cleanup attribute does not release it. */
#define be_steal(p) ({ __typeof__(p) _v = (p); (p) = 0; _v; })

void *be_xmalloc0(size_t n);
char *be_xstrdup(const char *s);
char *be_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void be_strv_free(char **v);
size_t be_strv_len(char *const *v);

/* Reads a whole file (NUL-terminated, *len without the NUL). */
int be_read_file(const char *path, char **out, size_t *len, be_error_t *err);
int be_read_fd(int fd, const char *what, char **out, size_t *len, be_error_t *err);
/* Writes data to path (O_WRONLY|O_CREAT|O_TRUNC, mode). */
int be_write_file(const char *path, const void *data, size_t len, mode_t mode, be_error_t *err);
/* Writes to an existing file without O_CREAT/O_TRUNC (cgroup, /proc files). */
int be_write_existing(const char *path, const char *data, be_error_t *err);
/* Writes via a temporary file and rename(2), so readers never see a partial file. */
int be_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, be_error_t *err);
int be_write_all(int fd, const void *data, size_t len);
int be_mkdir_p(const char *path, mode_t mode, be_error_t *err);
/* rm -rf that stays on one file system and does not follow symlinks. */
int be_rm_rf(const char *path, be_error_t *err);
bool be_path_exists(const char *path);
/* Parses a decimal integer; returns -1 on junk. */
int be_parse_long(const char *s, long *out);
/* Container IDs: [A-Za-z0-9][A-Za-z0-9_.-]{0,127}, so an ID is always safe as a path element. */
int be_validate_id(const char *id, be_error_t *err);

/* JSON string escaping into a growing buffer (for state output). */
typedef struct be_buf {
  char *data;
  size_t len, cap;
} be_buf;
void be_buf_add(be_buf *b, const char *s, size_t n);
void be_buf_puts(be_buf *b, const char *s);
void be_buf_printf(be_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void be_buf_json_string(be_buf *b, const char *s);

/* 64-bit FNV-1a, used for cache keys (not for security: the cache lives under the root-only --root). */
uint64_t be_fnv1a64(const void *data, size_t len, uint64_t seed);

#endif
