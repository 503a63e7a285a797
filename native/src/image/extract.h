/* Safe extraction of one layer tar into a directory. Every archive is treated as hostile: no `..`, no
 * absolute names, nothing written through a symlink that leaves the root, no duplicate or over-long names,
 * device nodes only when the storage driver allows them. OCI whiteouts become overlayfs whiteouts (overlay2)
 * or are applied to the tree below (vfs, devicemapper: the directory already holds the parent layers). */
#ifndef BE_IMG_EXTRACT_H
#define BE_IMG_EXTRACT_H

#include <stdint.h>

#include "img-error.h"
#include "stream.h"

enum img_whiteout_mode {
  IMG_WHITEOUT_OVERLAY, /* .wh.NAME → char 0/0 NAME; .wh..wh..opq → trusted.overlay.opaque=y */
  IMG_WHITEOUT_APPLY,   /* .wh.NAME → remove NAME; .wh..wh..opq → empty the directory of older content */
};

struct img_extract_opts {
  enum img_whiteout_mode whiteouts;
  int allow_devices;
};

struct img_extract_result {
  char blob_hex[65]; /* sha256 of the blob as read (compressed) */
  char diff_hex[65]; /* sha256 of the uncompressed tar: the OCI diff_id */
  uint64_t entries, tar_bytes;
};

/* Extracts the tar in s into rootfd (an open directory). */
int img_extract(int rootfd, img_stream *s, const struct img_extract_opts *o, struct img_extract_result *res, be_error_t *err);
/* Normalises an archive path: strips "./" and empty components; rejects absolute paths, `..` and over-long
 * names. "" is the root itself. Returns a malloc'ed string or NULL with the reason in err. */
char *img_normalize_path(const char *path, be_error_t *err);

#endif
