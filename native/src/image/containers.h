/* Engine container records under <data-root>/containers/<name>/: the image, the top layer the root stands on
 * (gc keeps it), and the storage driver's writable root. */
#ifndef BE_IMG_CONTAINERS_H
#define BE_IMG_CONTAINERS_H

#include "store.h"

/* Creates container `name`'s root from image `ref` and mounts it; *rootfs is malloc'ed. out (optional)
 * receives the image record. Refuses an existing name. */
int be_croot_create(be_store *st, const char *name, const char *ref, char **rootfs, be_image_rec *out, be_error_t *err);
/* Unmounts and deletes the root and the record; a missing container is not an error when missing_ok. */
int be_croot_remove(be_store *st, const char *name, bool missing_ok, be_error_t *err);
/* Unmounts (keeps the writable layer). */
int be_croot_unmount(be_store *st, const char *name, be_error_t *err);
/* Names of all containers (NULL-terminated, malloc'ed). */
char **be_croot_list(be_store *st);

#endif
