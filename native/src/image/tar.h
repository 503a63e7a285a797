/* Tar reader: ustar, pax (path, linkpath, size, uid, gid, mtime, SCHILY.xattr.*) and GNU long names
 * ('L'/'K'). Pure parsing over an img_stream; what to do with entries is extract.c's job. */
#ifndef BE_IMG_TAR_H
#define BE_IMG_TAR_H

#include <stdint.h>
#include <sys/types.h>

#include "img-error.h"
#include "stream.h"

#define IMG_TAR_PATH_MAX 4096
#define IMG_TAR_NAME_MAX 255
#define IMG_TAR_META_MAX (1u << 20) /* pax / long-name payload limit */
#define IMG_TAR_XATTR_MAX 64

enum img_tar_kind { IMG_TAR_FILE, IMG_TAR_HARDLINK, IMG_TAR_SYMLINK, IMG_TAR_CHAR, IMG_TAR_BLOCK, IMG_TAR_DIR, IMG_TAR_FIFO };

struct img_xattr {
  char *name;
  char *value;
  size_t len;
};

struct img_tar_entry {
  enum img_tar_kind kind;
  char *path;     /* as stored in the archive (not yet normalised) */
  char *linkpath; /* symlink target or hardlink source, else NULL */
  uint64_t size;  /* data bytes that follow (regular files only) */
  uint32_t mode;  /* permission bits incl. setuid/setgid/sticky */
  uint32_t uid, gid;
  int64_t mtime;
  long mtime_nsec;
  uint32_t devmajor, devminor;
  struct img_xattr xattrs[IMG_TAR_XATTR_MAX];
  size_t n_xattrs;
};

typedef struct img_tar img_tar;

img_tar *img_tar_new(img_stream *s, be_error_t *err);
/* 1: *e holds the next entry (valid until the next call); 0: end of archive; < 0: error. */
int img_tar_next(img_tar *t, struct img_tar_entry **e, be_error_t *err);
/* Reads the current entry's data; returns bytes read, 0 at its end. */
ssize_t img_tar_read(img_tar *t, void *buf, size_t n, be_error_t *err);
void img_tar_free(img_tar *t);
const char *img_tar_kind_name(enum img_tar_kind k);

#endif
