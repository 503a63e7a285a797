/* The engine's data root (default /var/lib/berth-engine): which storage driver it was set up with, the
 * content-addressed layer records shared between images, image records and their names.
 *   driver                         the recorded storage driver name
 *   layers/<chain id hex>/         diff_id, parent (chain id hex or empty), size
 *   images/<config digest hex>/    config.json, manifest.json, layers (chain ids, base first), names
 *   <driver>/                      the driver's own files
 *   tmp/                           staging for loads */
#ifndef BE_IMG_STORE_H
#define BE_IMG_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "../storage/driver.h"
#include "img-error.h"

#define BE_DEFAULT_DATA_ROOT "/var/lib/berth-engine"

typedef struct be_store {
  char *root;
  int root_fd;
  int lock_fd;
  be_storage storage;
} be_store;

typedef struct be_store_opts {
  const char *data_root;      /* NULL = BE_DEFAULT_DATA_ROOT */
  const char *driver;         /* NULL = the recorded one, else overlay2 when it passes preflight, else vfs */
  bool allow_loopback;
  const char *dm_pool;
} be_store_opts;

/* Opens (and locks) the data root; refuses a driver different from the recorded one. */
int be_store_open(const be_store_opts *o, be_store *st, be_error_t *err);
void be_store_close(be_store *st);
/* Releases / retakes the data root lock (a foreground `run` must not hold it while the container runs). */
void be_store_unlock(be_store *st);
int be_store_lock(be_store *st, be_error_t *err);

typedef struct be_image_rec {
  char id[65];     /* config digest hex */
  char **layers;   /* chain ids, base first (NULL-terminated) */
  char **names;    /* NULL-terminated */
  long long size;  /* sum of uncompressed layer sizes */
  long long created_unix;
} be_image_rec;

void be_image_rec_clear(be_image_rec *r);
/* All images (malloc'ed array). */
int be_store_list_images(be_store *st, be_image_rec **out, size_t *n, be_error_t *err);
/* Finds an image by name (adds ":latest" when no tag), full ID, "sha256:ID" or a unique ID prefix (>= 4). */
int be_store_find_image(be_store *st, const char *ref, be_image_rec *out, be_error_t *err);
/* Adds a name to image id, taking it from any other image that had it. */
int be_store_tag(be_store *st, const char *id, const char *name, be_error_t *err);
/* Removes the image record (not its layers: see be_store_gc). */
int be_store_remove_image(be_store *st, const char *id, be_error_t *err);
/* Removes layers no image (and no container in `keep`, chain ids) refers to; returns how many went. */
int be_store_gc(be_store *st, char *const *keep, size_t *removed, be_error_t *err);
bool be_store_layer_exists(be_store *st, const char *chain);
/* Records a committed layer. */
int be_store_add_layer(be_store *st, const char *chain, const char *diff_hex, const char *parent, unsigned long long size,
                       be_error_t *err);
int be_store_remove_layer(be_store *st, const char *chain, be_error_t *err);
/* "name" → "name:latest" unless it has a tag or digest. */
char *be_store_normalize_name(const char *name);

#endif
