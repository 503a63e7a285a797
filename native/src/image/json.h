/* Helpers over yajl's tree API (the engine's JSON library) for manifests, configs and index files. */
#ifndef BE_IMG_JSON_H
#define BE_IMG_JSON_H

#include <stddef.h>
#include <yajl/yajl_tree.h>

#include "img-error.h"

/* Reads and parses a whole file below dirfd (at most max_bytes, no symlink as last component). */
yajl_val ij_parse_file(int dirfd, const char *path, size_t max_bytes, be_error_t *err);
yajl_val ij_parse(const char *text, const char *what, be_error_t *err);
static inline void ij_freep(yajl_val *v) {
  if (*v) yajl_tree_free(*v);
}
#define ij_auto __attribute__((cleanup(ij_freep)))

/* Member `key` of an object (NULL when absent or v is not an object). */
yajl_val ij_get(yajl_val obj, const char *key);
/* String member, NULL when absent or not a string. */
const char *ij_get_str(yajl_val obj, const char *key);
size_t ij_len(yajl_val arr);
yajl_val ij_at(yajl_val arr, size_t i);

#endif
