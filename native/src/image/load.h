/* `image load`: OCI image layouts (directories), oci-archive tars and `docker save` tars. Every blob is
 * verified (manifest and config by digest, layers by digest and diff_id); a failure leaves nothing behind. */
#ifndef BE_IMG_LOAD_H
#define BE_IMG_LOAD_H

#include <stdio.h>

#include "store.h"

typedef struct be_load_opts {
  const char *path;
  const char *tag; /* extra name for the (single) image loaded, or NULL */
  FILE *report;    /* "Loaded image: NAME" lines (stdout), or NULL */
} be_load_opts;

int be_image_load(be_store *st, const be_load_opts *o, be_error_t *err);

#endif
