/* The data root: driver record, layer and image records, names, garbage collection (see store.h). */
#define _GNU_SOURCE
#include "store.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "json.h"

static char *trim(char *s) {
  if (!s) return s;
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == ' ')) s[--n] = 0;
  return s;
}

static int choose_driver(const char *root, const char *want, const be_storage_driver **out, be_error_t *err) {
  if (want) {
    const be_storage_driver *d = be_storage_driver_find(want);
    if (!d) return img_err(err, 0, "storage driver `%s` is unknown; use overlay2, vfs or devicemapper", want);
    cleanup_free char *home = be_xasprintf("%s/%s", root, d->name);
    if (be_mkdir_p(home, 0700, err) < 0) return -1;
    if (d->preflight(home, err) < 0) return -1;
    *out = d;
    return 0;
  }
  cleanup_free char *home = be_xasprintf("%s/overlay2", root);
  if (be_mkdir_p(home, 0700, err) < 0) return -1;
  be_error_t e = NULL;
  if (be_storage_overlay2.preflight(home, &e) == 0) {
    *out = &be_storage_overlay2;
    return 0;
  }
  be_error_release(&e);
  rmdir(home);
  *out = &be_storage_vfs;
  return 0;
}

int be_store_open(const be_store_opts *o, be_store *st, be_error_t *err) {
  memset(st, 0, sizeof *st);
  st->root_fd = st->lock_fd = -1;
  st->storage.home_fd = -1;
  st->root = be_xstrdup(o->data_root ? o->data_root : BE_DEFAULT_DATA_ROOT);
  if (be_mkdir_p(st->root, 0700, err) < 0) return img_err_wrap(err, "open data root");
  st->root_fd = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (st->root_fd < 0) return img_err(err, errno, "open data root `%s`", st->root);
  st->lock_fd = openat(st->root_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (st->lock_fd < 0) return img_err(err, errno, "open `%s/lock`", st->root);
  /* One engine command at a time changes the store (loads, removals, gc). */
  if (flock(st->lock_fd, LOCK_EX) < 0) return img_err(err, errno, "lock `%s/lock`", st->root);
  static const char *const dirs[] = {"layers", "images", "tmp", "containers"};
  for (size_t i = 0; i < 4; i++)
    if (mkdirat(st->root_fd, dirs[i], 0700) < 0 && errno != EEXIST) return img_err(err, errno, "mkdir `%s/%s`", st->root, dirs[i]);
  cleanup_free char *recorded = trim(img_read_file_at(st->root_fd, "driver", 256, NULL));
  const be_storage_driver *d = NULL;
  if (recorded && *recorded) {
    if (o->driver && strcmp(o->driver, recorded) != 0)
      return img_err(err, 0,
                     "data root `%s` holds images and containers of storage driver `%s`; starting with `%s` would hide "
                     "them. Use --storage-driver %s, or give --data-root another directory for %s",
                     st->root, recorded, o->driver, recorded, o->driver);
    d = be_storage_driver_find(recorded);
    if (!d) return img_err(err, 0, "data root `%s` records unknown storage driver `%s`", st->root, recorded);
    cleanup_free char *home = be_xasprintf("%s/%s", st->root, d->name);
    if (d->preflight(home, err) < 0) return -1;
  } else {
    if (choose_driver(st->root, o->driver, &d, err) < 0) return -1;
    if (img_write_file_at(st->root_fd, "driver", d->name, strlen(d->name), err) < 0) return -1;
  }
  if (be_storage_open(d, st->root, &st->storage, err) < 0) return -1;
  st->storage.allow_loopback = o->allow_loopback;
  if (o->dm_pool) st->storage.dm_pool = be_xstrdup(o->dm_pool);
  return 0;
}

void be_store_unlock(be_store *st) {
  if (st->lock_fd >= 0) flock(st->lock_fd, LOCK_UN);
}

int be_store_lock(be_store *st, be_error_t *err) {
  if (st->lock_fd >= 0 && flock(st->lock_fd, LOCK_EX) < 0) return img_err(err, errno, "lock `%s/lock`", st->root);
  return 0;
}

void be_store_close(be_store *st) {
  be_storage_close(&st->storage);
  if (st->lock_fd >= 0) close(st->lock_fd);
  if (st->root_fd >= 0) close(st->root_fd);
  free(st->root);
  memset(st, 0, sizeof *st);
  st->root_fd = st->lock_fd = -1;
}

char *be_store_normalize_name(const char *name) {
  const char *slash = strrchr(name, '/');
  const char *last = slash ? slash + 1 : name;
  if (strchr(last, ':') || strchr(name, '@')) return be_xstrdup(name);
  return be_xasprintf("%s:latest", name);
}

static char **read_lines(int dirfd, const char *path) {
  cleanup_free char *s = img_read_file_at(dirfd, path, 1 << 20, NULL);
  size_t n = 0;
  char **v = be_xmalloc0(sizeof *v);
  if (!s) return v;
  for (char *save = NULL, *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    if (!*l) continue;
    char **nv = realloc(v, (n + 2) * sizeof *nv);
    if (!nv) break;
    v = nv;
    v[n++] = be_xstrdup(l);
    v[n] = NULL;
  }
  return v;
}

static int write_lines(int dirfd, const char *path, char *const *v, be_error_t *err) {
  be_buf b = {0};
  for (size_t i = 0; v && v[i]; i++) {
    be_buf_puts(&b, v[i]);
    be_buf_puts(&b, "\n");
  }
  int rc = img_write_file_at(dirfd, path, b.data ? b.data : "", b.len, err);
  free(b.data);
  return rc;
}

void be_image_rec_clear(be_image_rec *r) {
  be_strv_free(r->layers);
  be_strv_free(r->names);
  r->layers = r->names = NULL;
}

static int load_image(be_store *st, const char *id, be_image_rec *r) {
  memset(r, 0, sizeof *r);
  snprintf(r->id, sizeof r->id, "%s", id);
  cleanup_free char *dir = be_xasprintf("images/%s", id);
  cleanup_close int dfd = openat(st->root_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return -1;
  r->layers = read_lines(dfd, "layers");
  r->names = read_lines(dfd, "names");
  for (size_t i = 0; r->layers[i]; i++) {
    cleanup_free char *p = be_xasprintf("layers/%s/size", r->layers[i]);
    cleanup_free char *sz = img_read_file_at(st->root_fd, p, 64, NULL);
    if (sz) r->size += atoll(sz);
  }
  struct stat sb;
  if (fstatat(dfd, "config.json", &sb, 0) == 0) r->created_unix = sb.st_mtime;
  return 0;
}

int be_store_list_images(be_store *st, be_image_rec **out, size_t *n, be_error_t *err) {
  *out = NULL;
  *n = 0;
  cleanup_close int dfd = openat(st->root_fd, "images", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return img_err(err, errno, "open `%s/images`", st->root);
  DIR *d = fdopendir(dfd);
  if (!d) return img_err(err, errno, "opendir `%s/images`", st->root);
  dfd = -1;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strlen(de->d_name) != 64) continue;
    be_image_rec *nv = realloc(*out, (*n + 1) * sizeof *nv);
    if (!nv) break;
    *out = nv;
    if (load_image(st, de->d_name, &(*out)[*n]) == 0) (*n)++;
  }
  closedir(d);
  return 0;
}

int be_store_find_image(be_store *st, const char *ref, be_image_rec *out, be_error_t *err) {
  be_image_rec *all;
  size_t n;
  if (be_store_list_images(st, &all, &n, err) < 0) return -1;
  cleanup_free char *norm = be_store_normalize_name(ref);
  const char *idref = strncmp(ref, "sha256:", 7) == 0 ? ref + 7 : ref;
  int found = -1, matches = 0;
  for (size_t i = 0; i < n && found < 0; i++)
    for (size_t j = 0; all[i].names[j]; j++) {
      /* docker.io/ and docker.io/library/ are implied, as with docker and podman. */
      const char *nm = all[i].names[j];
      const char *shorter[] = {nm, strncmp(nm, "docker.io/", 10) == 0 ? nm + 10 : NULL,
                               strncmp(nm, "docker.io/library/", 18) == 0 ? nm + 18 : NULL};
      for (size_t k = 0; k < 3; k++)
        if (shorter[k] && (strcmp(shorter[k], norm) == 0 || strcmp(shorter[k], ref) == 0)) found = (int)i;
    }
  if (found < 0 && strlen(idref) >= 4)
    for (size_t i = 0; i < n; i++)
      if (strncmp(all[i].id, idref, strlen(idref)) == 0) found = (int)i, matches++;
  int rc = 0;
  if (found < 0) rc = img_err(err, 0, "image `%s` not found; `berth-engine image ls` lists the loaded ones", ref);
  else if (matches > 1) rc = img_err(err, 0, "image ID prefix `%s` matches %d images; give more digits", ref, matches);
  for (size_t i = 0; i < n; i++) {
    if (rc == 0 && (int)i == found) out[0] = all[i];
    else be_image_rec_clear(&all[i]);
  }
  free(all);
  return rc;
}

int be_store_tag(be_store *st, const char *id, const char *name, be_error_t *err) {
  cleanup_free char *norm = be_store_normalize_name(name);
  be_image_rec *all;
  size_t n;
  if (be_store_list_images(st, &all, &n, err) < 0) return -1;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    size_t k = 0, had = 0;
    for (size_t j = 0; all[i].names[j]; j++) {
      if (strcmp(all[i].names[j], norm) == 0) {
        had = 1;
        if (strcmp(all[i].id, id) != 0) {
          free(all[i].names[j]);
          continue;
        }
      }
      all[i].names[k++] = all[i].names[j];
    }
    all[i].names[k] = NULL;
    bool mine = strcmp(all[i].id, id) == 0;
    if (mine && !had) {
      char **nv = realloc(all[i].names, (k + 2) * sizeof *nv);
      if (!nv) {
        rc = img_err(err, ENOMEM, "tag");
        break;
      }
      all[i].names = nv;
      nv[k] = be_xstrdup(norm);
      nv[k + 1] = NULL;
    }
    if (mine || had) {
      cleanup_free char *p = be_xasprintf("images/%s/names", all[i].id);
      rc = write_lines(st->root_fd, p, all[i].names, err);
    }
  }
  for (size_t i = 0; i < n; i++) be_image_rec_clear(&all[i]);
  free(all);
  return rc;
}

int be_store_remove_image(be_store *st, const char *id, be_error_t *err) {
  cleanup_free char *p = be_xasprintf("images/%s", id);
  return img_remove_tree_at(st->root_fd, p, err);
}

bool be_store_layer_exists(be_store *st, const char *chain) {
  cleanup_free char *p = be_xasprintf("layers/%s/diff_id", chain);
  return faccessat(st->root_fd, p, F_OK, 0) == 0 && st->storage.driver->layer_exists(&st->storage, chain);
}

int be_store_add_layer(be_store *st, const char *chain, const char *diff_hex, const char *parent, unsigned long long size,
                       be_error_t *err) {
  cleanup_free char *stage = be_xasprintf("tmp/layer-%s", chain);
  if (img_remove_tree_at(st->root_fd, stage, err) < 0) return -1;
  if (mkdirat(st->root_fd, stage, 0700) < 0) return img_err(err, errno, "mkdir `%s/%s`", st->root, stage);
  cleanup_close int dfd = openat(st->root_fd, stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return img_err(err, errno, "open `%s/%s`", st->root, stage);
  char sz[32];
  snprintf(sz, sizeof sz, "%llu", size);
  if (img_write_file_at(dfd, "diff_id", diff_hex, strlen(diff_hex), err) < 0 ||
      img_write_file_at(dfd, "parent", parent ? parent : "", parent ? strlen(parent) : 0, err) < 0 ||
      img_write_file_at(dfd, "size", sz, strlen(sz), err) < 0)
    return -1;
  cleanup_free char *final = be_xasprintf("layers/%s", chain);
  img_remove_tree_at(st->root_fd, final, err);
  if (renameat(st->root_fd, stage, st->root_fd, final) < 0) return img_err(err, errno, "rename `%s` to `%s`", stage, final);
  return 0;
}

int be_store_remove_layer(be_store *st, const char *chain, be_error_t *err) {
  /* Record first: a layer without record is garbage that a later gc finds through the driver. */
  cleanup_free char *p = be_xasprintf("layers/%s", chain);
  if (img_remove_tree_at(st->root_fd, p, err) < 0) return -1;
  return st->storage.driver->layer_remove(&st->storage, chain, err);
}

static bool in_list(char *const *v, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i], s) == 0) return true;
  return false;
}

int be_store_gc(be_store *st, char *const *keep, size_t *removed, be_error_t *err) {
  *removed = 0;
  be_image_rec *all;
  size_t n;
  if (be_store_list_images(st, &all, &n, err) < 0) return -1;
  /* Referenced: every layer of every image, the layers containers stand on, and their ancestors. */
  char **refs = NULL;
  size_t nrefs = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; all[i].layers[j]; j++) {
      refs = realloc(refs, (nrefs + 1) * sizeof *refs);
      refs[nrefs++] = be_xstrdup(all[i].layers[j]);
    }
  for (size_t i = 0; keep && keep[i]; i++) {
    cleanup_free char *cur = be_xstrdup(keep[i]);
    while (cur && *cur && !in_list(refs, nrefs, cur)) {
      refs = realloc(refs, (nrefs + 1) * sizeof *refs);
      refs[nrefs++] = be_xstrdup(cur);
      cleanup_free char *pp = be_xasprintf("layers/%s/parent", cur);
      char *parent = trim(img_read_file_at(st->root_fd, pp, 128, NULL));
      free(cur);
      cur = parent;
    }
  }
  for (size_t i = 0; i < n; i++) be_image_rec_clear(&all[i]);
  free(all);
  int rc = 0;
  cleanup_close int dfd = openat(st->root_fd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!d) rc = img_err(err, errno, "open `%s/layers`", st->root);
  else {
    dfd = -1;
    struct dirent *de;
    char **victims = NULL;
    size_t nv = 0;
    while ((de = readdir(d)))
      if (strlen(de->d_name) == 64 && !in_list(refs, nrefs, de->d_name)) {
        victims = realloc(victims, (nv + 1) * sizeof *victims);
        victims[nv++] = be_xstrdup(de->d_name);
      }
    closedir(d);
    for (size_t i = 0; i < nv; i++) {
      if (rc == 0 && be_store_remove_layer(st, victims[i], err) < 0) rc = -1;
      else if (rc == 0) (*removed)++;
      free(victims[i]);
    }
    free(victims);
  }
  for (size_t i = 0; i < nrefs; i++) free(refs[i]);
  free(refs);
  return rc;
}
