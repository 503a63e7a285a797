/* Image loading (see load.h). Formats:
 *  - OCI image layout (image-spec v1.1 "image-layout.md"): oci-layout, index.json, blobs/sha256/<hex>;
 *  - oci-archive: the same as an uncompressed tar;
 *  - docker save: manifest.json [{Config, RepoTags, Layers}] with config and layer tars by path.
 * Archive members are read in place (pread on the archive) after indexing the tar once: no copy to disk. */
#define _GNU_SOURCE
#include "load.h"

#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>

#include "digest.h"
#include "extract.h"
#include "fsutil.h"
#include "json.h"
#include "stream.h"
#include "tar.h"

#define JSON_MAX (8u << 20)

struct member {
  char *path;
  char *link; /* symlink target (normalised, archive-relative), or NULL */
  uint64_t off, size;
};

struct source {
  int dirfd;   /* layout directory, or -1 */
  int tarfd;   /* archive, or -1 */
  struct member *m;
  size_t n;
  const char *label;
};

static void source_clear(struct source *s) {
  if (s->dirfd >= 0) close(s->dirfd);
  if (s->tarfd >= 0) close(s->tarfd);
  for (size_t i = 0; i < s->n; i++) {
    free(s->m[i].path);
    free(s->m[i].link);
  }
  free(s->m);
}

static int index_archive(struct source *src, be_error_t *err) {
  img_stream *s = img_stream_open(src->tarfd, NULL, 0, err);
  if (!s) return -1;
  int rc = -1;
  img_tar *t = NULL;
  if (img_stream_compression(s) != IMG_PLAIN) {
    img_err(err, 0, "load `%s`: the archive is compressed; decompress it first (gunzip / unzstd) and load the .tar",
            src->label);
    goto out;
  }
  t = img_tar_new(s, err);
  if (!t) goto out;
  for (;;) {
    struct img_tar_entry *e;
    int r = img_tar_next(t, &e, err);
    if (r < 0) goto out;
    if (r == 0) break;
    if (e->kind != IMG_TAR_FILE && e->kind != IMG_TAR_SYMLINK && e->kind != IMG_TAR_HARDLINK) continue;
    char *p = img_normalize_path(e->path, err);
    if (!p) goto out;
    struct member m = {.path = p, .off = img_stream_out_bytes(s), .size = e->size};
    if (e->kind != IMG_TAR_FILE) {
      /* Symlinks (docker save dedupes layers that way) resolve against the member's directory. */
      cleanup_free char *joined = NULL;
      if (e->kind == IMG_TAR_SYMLINK && e->linkpath[0] != '/') {
        cleanup_free char *dir = be_xstrdup(p);
        char *sl = strrchr(dir, '/');
        if (sl) *sl = 0;
        else dir[0] = 0;
        joined = be_xasprintf("%s%s%s", dir, *dir ? "/" : "", e->linkpath);
      } else {
        joined = be_xstrdup(e->linkpath);
      }
      /* Collapse "a/../b" by hand: normalisation rejects `..`. */
      char *parts[512];
      size_t np = 0;
      for (char *save = NULL, *c = strtok_r(joined, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (!strcmp(c, ".")) continue;
        if (!strcmp(c, "..")) {
          if (np) np--;
          continue;
        }
        if (np < 512) parts[np++] = c;
      }
      be_buf b = {0};
      for (size_t i = 0; i < np; i++) {
        if (i) be_buf_puts(&b, "/");
        be_buf_puts(&b, parts[i]);
      }
      m.link = b.data ? b.data : be_xstrdup("");
    }
    struct member *nm = realloc(src->m, (src->n + 1) * sizeof *nm);
    if (!nm) {
      free(m.path);
      free(m.link);
      img_err(err, ENOMEM, "index `%s`", src->label);
      goto out;
    }
    src->m = nm;
    src->m[src->n++] = m;
  }
  rc = 0;
out:
  img_tar_free(t);
  img_stream_close(s);
  return rc < 0 ? img_err_wrap(err, "read archive `%s`", src->label) : 0;
}

static const struct member *find_member(const struct source *src, const char *path) {
  cleanup_free char *norm = img_normalize_path(path, NULL);
  if (!norm) return NULL;
  for (int hops = 0; hops < 16; hops++) {
    const struct member *hit = NULL;
    for (size_t i = 0; i < src->n; i++)
      if (strcmp(src->m[i].path, norm) == 0) hit = &src->m[i];
    if (!hit || !hit->link) return hit;
    free(norm);
    norm = be_xstrdup(hit->link);
  }
  return NULL;
}

static bool source_has(const struct source *src, const char *path) {
  if (src->dirfd >= 0) return faccessat(src->dirfd, path, F_OK, 0) == 0;
  return find_member(src, path) != NULL;
}

/* Opens a blob as a stream (file in the layout dir, or a member of the archive). */
static img_stream *source_stream(struct source *src, const char *path, int *fd_out, be_error_t *err) {
  *fd_out = -1;
  cleanup_free char *norm = img_normalize_path(path, err);
  if (!norm) return NULL;
  if (src->dirfd >= 0) {
    /* A blob path must stay inside the layout: resolve its directory beneath it. */
    char *sl = strrchr(norm, '/');
    cleanup_free char *dir = strndup(norm, sl ? (size_t)(sl - norm) : 0);
    cleanup_close int dfd = img_open_dir_beneath(src->dirfd, dir, 0);
    if (dfd < 0) return img_err(err, errno, "open `%s` in `%s`", path, src->label), NULL;
    int fd = openat(dfd, sl ? sl + 1 : norm, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return img_err(err, errno, "open `%s` in `%s`", path, src->label), NULL;
    img_stream *s = img_stream_open(fd, NULL, 0, err);
    if (!s) close(fd);
    else *fd_out = fd;
    return s;
  }
  const struct member *m = find_member(src, norm);
  if (!m) return img_err(err, ENOENT, "open `%s` in `%s`", path, src->label), NULL;
  return img_stream_open_range(src->tarfd, m->off, m->size, err);
}

/* Reads a small blob whole (JSON), checking its sha256 when want_hex is set; *hex_out gets the digest. */
static char *source_read(struct source *src, const char *path, const char *want_hex, char hex_out[65], be_error_t *err) {
  int fd;
  img_stream *s = source_stream(src, path, &fd, err);
  if (!s) return NULL;
  be_buf b = {0};
  char buf[65536];
  ssize_t r = 0;
  /* Plain reads: a JSON blob must not be decompressed (it never starts with a compression magic anyway). */
  while ((r = img_stream_read(s, buf, sizeof buf, err)) > 0) {
    if (b.len + (size_t)r > JSON_MAX) {
      r = img_err(err, 0, "read `%s` in `%s`: larger than %u bytes", path, src->label, JSON_MAX);
      break;
    }
    be_buf_add(&b, buf, (size_t)r);
  }
  char blob_hex[65], diff_hex[65];
  if (r == 0 && img_stream_finish(s, blob_hex, diff_hex, err) < 0) r = -1;
  bool compressed = img_stream_compression(s) != IMG_PLAIN;
  img_stream_close(s);
  if (fd >= 0) close(fd);
  if (r < 0) {
    free(b.data);
    return NULL;
  }
  if (compressed) {
    free(b.data);
    return img_err(err, 0, "read `%s` in `%s`: expected JSON, found compressed data", path, src->label), NULL;
  }
  if (want_hex && strcmp(blob_hex, want_hex) != 0) {
    free(b.data);
    return img_err(err, 0, "verify `%s` in `%s`: sha256 is %s, the manifest says %s; the image is corrupt or was tampered with",
                   path, src->label, blob_hex, want_hex),
           NULL;
  }
  if (hex_out) memcpy(hex_out, blob_hex, 65);
  be_buf_add(&b, "", 1);
  if (memchr(b.data, 0, b.len - 1)) {
    free(b.data);
    return img_err(err, 0, "read `%s` in `%s`: NUL byte in JSON", path, src->label), NULL;
  }
  return b.data;
}

static yajl_val source_json(struct source *src, const char *path, const char *want_hex, char hex_out[65], be_error_t *err) {
  cleanup_free char *text = source_read(src, path, want_hex, hex_out, err);
  if (!text) return NULL;
  return ij_parse(text, path, err);
}

/* ChainID(n) = sha256(ChainID(n-1) + " " + DiffID(n)) (image-spec config.md "Layer ChainID"). */
static void chain_id(const char *parent_hex, const char *diff_hex, char out[65]) {
  if (!parent_hex) {
    memcpy(out, diff_hex, 65);
    return;
  }
  char buf[200];
  int n = snprintf(buf, sizeof buf, "sha256:%s sha256:%s", parent_hex, diff_hex);
  img_sha256 *h = img_sha256_new();
  img_sha256_update(h, buf, (size_t)n);
  img_sha256_final(h, out);
}

struct layer_ref {
  char *path;          /* blob path in the source */
  char want_blob[65];  /* expected blob digest, "" when unknown (docker save layer.tar) */
  char diff[65];       /* expected diff_id from the config */
};

/* An image of the archive whose layers are in and verified, recorded only once every image of the archive is. */
struct pending {
  char id[65];
  char *config, *manifest;
  char (*chains)[65];
  size_t n;
  char **names;
};

/* What a load did so far: undone as a whole when any image of the archive fails, so a multi-image archive
 * (docker save of several images, an OCI index with several manifests) is stored entirely or not at all. */
struct loaded {
  char **new_layers; /* chain ids created by this load: removed again if it fails */
  size_t n;
  struct pending *img;
  size_t nimg;
};

static void add_pending(struct loaded *ld, const char *id, const char *config, const char *manifest, char (*chains)[65], size_t n,
                        char *const *names) {
  ld->img = realloc(ld->img, (ld->nimg + 1) * sizeof *ld->img);
  struct pending *p = &ld->img[ld->nimg++];
  snprintf(p->id, sizeof p->id, "%s", id);
  p->config = be_xstrdup(config);
  p->manifest = be_xstrdup(manifest);
  p->chains = be_xmalloc0((n + 1) * sizeof *p->chains);
  memcpy(p->chains, chains, n * sizeof *chains);
  p->n = n;
  p->names = be_xmalloc0(sizeof *p->names);
  for (size_t i = 0, k = 0; names && names[i]; i++) {
    p->names = realloc(p->names, (k + 2) * sizeof *p->names);
    p->names[k++] = be_xstrdup(names[i]);
    p->names[k] = NULL;
  }
}

static int import_layers(be_store *st, struct source *src, struct layer_ref *refs, size_t n, char (*chains)[65],
                         struct loaded *ld, be_error_t *err) {
  const be_storage_driver *d = st->storage.driver;
  struct img_extract_opts xo = {.whiteouts = d->whiteouts, .allow_devices = d->allow_devices};
  for (size_t i = 0; i < n; i++) {
    chain_id(i ? chains[i - 1] : NULL, refs[i].diff, chains[i]);
    if (be_store_layer_exists(st, chains[i])) continue;
    int dirfd;
    if (d->layer_begin(&st->storage, chains[i], i ? chains[i - 1] : NULL, &dirfd, err) < 0)
      return img_err_wrap(err, "prepare layer %zu (%.12s)", i + 1, refs[i].diff);
    int fd;
    img_stream *s = source_stream(src, refs[i].path, &fd, err);
    struct img_extract_result res;
    int rc = s ? img_extract(dirfd, s, &xo, &res, err) : -1;
    close(dirfd);
    if (s) img_stream_close(s);
    if (fd >= 0) close(fd);
    if (rc == 0 && refs[i].want_blob[0] && strcmp(res.blob_hex, refs[i].want_blob) != 0)
      rc = img_err(err, 0, "blob sha256 is %s, the manifest says %s; the image is corrupt or was tampered with", res.blob_hex,
                   refs[i].want_blob);
    if (rc == 0 && strcmp(res.diff_hex, refs[i].diff) != 0)
      rc = img_err(err, 0, "uncompressed sha256 is %s, the config's diff_id says %s; the image is corrupt or was tampered with",
                   res.diff_hex, refs[i].diff);
    if (rc == 0) rc = d->layer_commit(&st->storage, chains[i], err);
    if (rc < 0) {
      d->layer_abort(&st->storage, chains[i]);
      return img_err_wrap(err, "layer %zu of %zu (`%s`)", i + 1, n, refs[i].path);
    }
    ld->new_layers = realloc(ld->new_layers, (ld->n + 1) * sizeof *ld->new_layers);
    ld->new_layers[ld->n++] = be_xstrdup(chains[i]);
    if (be_store_add_layer(st, chains[i], res.diff_hex, i ? chains[i - 1] : NULL, res.tar_bytes, err) < 0) return -1;
  }
  return 0;
}

/* Writes images/<id>/ (config.json, manifest.json, layers, empty names) through tmp/ + rename; *created says
 * whether this call made it (an image already stored, or twice in one archive, is left as it is). */
static int record_image(be_store *st, const char *id, const char *config_text, const char *manifest_text, char (*chains)[65],
                        size_t n, bool *created, be_error_t *err) {
  cleanup_free char *final = be_xasprintf("images/%s", id);
  *created = false;
  if (faccessat(st->root_fd, final, F_OK, 0) != 0) {
    cleanup_free char *stage = be_xasprintf("tmp/image-%s", id);
    if (img_remove_tree_at(st->root_fd, stage, err) < 0) return -1;
    if (mkdirat(st->root_fd, stage, 0700) < 0) return img_err(err, errno, "mkdir `%s/%s`", st->root, stage);
    cleanup_close int dfd = openat(st->root_fd, stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return img_err(err, errno, "open `%s/%s`", st->root, stage);
    be_buf b = {0};
    for (size_t i = 0; i < n; i++) {
      be_buf_puts(&b, chains[i]);
      be_buf_puts(&b, "\n");
    }
    int rc = img_write_file_at(dfd, "config.json", config_text, strlen(config_text), err);
    if (rc == 0) rc = img_write_file_at(dfd, "manifest.json", manifest_text, strlen(manifest_text), err);
    if (rc == 0) rc = img_write_file_at(dfd, "layers", b.data ? b.data : "", b.len, err);
    if (rc == 0) rc = img_write_file_at(dfd, "names", "", 0, err);
    free(b.data);
    if (rc < 0) return -1;
    if (renameat(st->root_fd, stage, st->root_fd, final) < 0) return img_err(err, errno, "rename `%s` to `%s`", stage, final);
    *created = true;
  }
  return 0;
}

/* The commit of a load whose every image verified: records all images, then names them. A record that fails
 * takes back the images this load created (the caller removes the new layers). */
static int commit_loaded(be_store *st, struct loaded *ld, FILE *report, be_error_t *err) {
  bool *created = be_xmalloc0((ld->nimg + 1) * sizeof *created);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < ld->nimg; i++)
    rc = record_image(st, ld->img[i].id, ld->img[i].config, ld->img[i].manifest, ld->img[i].chains, ld->img[i].n, &created[i], err);
  for (size_t i = 0; rc < 0 && i < ld->nimg; i++)
    if (created[i]) {
      be_error_t e = NULL;
      be_store_remove_image(st, ld->img[i].id, &e);
      be_error_release(&e);
    }
  free(created);
  for (size_t i = 0; rc == 0 && i < ld->nimg; i++) {
    for (size_t k = 0; rc == 0 && ld->img[i].names[k]; k++) {
      rc = be_store_tag(st, ld->img[i].id, ld->img[i].names[k], err);
      if (rc == 0 && report) fprintf(report, "Loaded image: %s\n", ld->img[i].names[k]);
    }
    if (rc == 0 && report) fprintf(report, "Loaded image ID: sha256:%s\n", ld->img[i].id);
  }
  return rc;
}

static bool layer_media_ok(const char *mt) {
  if (!mt) return true;
  static const char *const ok[] = {"application/vnd.oci.image.layer.v1.tar",
                                   "application/vnd.oci.image.layer.v1.tar+gzip",
                                   "application/vnd.oci.image.layer.v1.tar+zstd",
                                   "application/vnd.oci.image.layer.nondistributable.v1.tar",
                                   "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                                   "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
                                   "application/vnd.docker.image.rootfs.diff.tar.gzip",
                                   "application/vnd.docker.image.rootfs.diff.tar"};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
    if (strcmp(mt, ok[i]) == 0) return true;
  return false;
}

/* Reads config.rootfs.diff_ids (hex) into diffs; n must match the manifest's layer count. */
static int config_diff_ids(yajl_val config, size_t n, struct layer_ref *refs, const char *label, be_error_t *err) {
  yajl_val rootfs = ij_get(config, "rootfs");
  yajl_val ids = ij_get(rootfs, "diff_ids");
  if (!ids || !YAJL_IS_ARRAY(ids)) return img_err(err, 0, "image config in `%s` has no rootfs.diff_ids", label);
  if (ij_len(ids) != n)
    return img_err(err, 0, "image in `%s`: the manifest lists %zu layers but the config has %zu diff_ids", label, n, ij_len(ids));
  for (size_t i = 0; i < n; i++) {
    yajl_val v = ij_at(ids, i);
    if (!v || !YAJL_IS_STRING(v) || !img_digest_parse(YAJL_GET_STRING(v), refs[i].diff))
      return img_err(err, 0, "image config in `%s`: diff_id %zu is not a sha256 digest", label, i + 1);
  }
  return 0;
}

static void cleanup_loaded(be_store *st, struct loaded *ld) {
  for (size_t i = ld->n; i-- > 0;) {
    be_error_t e = NULL;
    be_store_remove_layer(st, ld->new_layers[i], &e);
    be_error_release(&e);
  }
}

static void free_refs(struct layer_ref *refs, size_t n) {
  for (size_t i = 0; i < n; i++) free(refs[i].path);
  free(refs);
}

static char *default_name(const struct source *src, const char *ref) {
  if (!ref) return NULL;
  if (strchr(ref, '/') || strchr(ref, ':')) return be_xstrdup(ref);
  cleanup_free char *copy = be_xstrdup(src->label);
  size_t l = strlen(copy);
  while (l > 1 && copy[l - 1] == '/') copy[--l] = 0;
  char *base = basename(copy);
  char *dot = strstr(base, ".tar");
  if (dot) *dot = 0;
  return be_xasprintf("%s:%s", base, ref);
}

/* Reads the image config at cpath (verified against want_hex when known; got_hex, when given, gets its digest)
 * and returns n layer refs holding its rootfs.diff_ids; NULL on error. */
static struct layer_ref *read_config(struct source *src, const char *cpath, const char *want_hex, char got_hex[65], size_t n,
                                     char **ctext, be_error_t *err) {
  *ctext = source_read(src, cpath, want_hex, got_hex, err);
  if (!*ctext) return NULL;
  ij_auto yajl_val config = ij_parse(*ctext, cpath, err);
  struct layer_ref *refs = be_xmalloc0((n + 1) * sizeof *refs);
  if (!config || config_diff_ids(config, n, refs, src->label, err) < 0) {
    free_refs(refs, n);
    free(*ctext);
    *ctext = NULL;
    return NULL;
  }
  return refs;
}

/* Imports the layers of refs (paths filled by the format) and queues the image for the commit. */
static int queue_image(be_store *st, struct source *src, struct loaded *ld, struct layer_ref *refs, size_t n, const char *id,
                       const char *ctext, const char *mtext, char *const *names, be_error_t *err) {
  char(*chains)[65] = be_xmalloc0((n + 1) * sizeof *chains);
  int rc = import_layers(st, src, refs, n, chains, ld, err);
  if (rc == 0) add_pending(ld, id, ctext, mtext, chains, n, names);
  free(chains);
  return rc;
}

static int load_oci_manifest(be_store *st, struct source *src, const char *digest, const char *ref_name, const be_load_opts *o,
                             struct loaded *ld, be_error_t *err) {
  char mhex[65], chex[65];
  if (!img_digest_parse(digest, mhex)) return img_err(err, 0, "manifest digest `%s` in `%s` is not sha256", digest, src->label);
  cleanup_free char *mpath = be_xasprintf("blobs/sha256/%s", mhex);
  cleanup_free char *mtext = source_read(src, mpath, mhex, NULL, err);
  if (!mtext) return -1;
  ij_auto yajl_val m = ij_parse(mtext, mpath, err);
  if (!m) return -1;
  const char *cdigest = ij_get_str(ij_get(m, "config"), "digest");
  if (!cdigest || !img_digest_parse(cdigest, chex)) return img_err(err, 0, "manifest %.12s in `%s` has no sha256 config digest", mhex, src->label);
  cleanup_free char *cpath = be_xasprintf("blobs/sha256/%s", chex);
  yajl_val layers = ij_get(m, "layers");
  size_t n = ij_len(layers);
  cleanup_free char *ctext = NULL;
  struct layer_ref *refs = read_config(src, cpath, chex, NULL, n, &ctext, err);
  if (!refs) return -1;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    yajl_val l = ij_at(layers, i);
    const char *mt = ij_get_str(l, "mediaType");
    if (!layer_media_ok(mt)) rc = img_err(err, 0, "layer %zu in `%s` has media type `%s`, which berth-engine cannot unpack", i + 1, src->label, mt);
    else if (!img_digest_parse(ij_get_str(l, "digest"), refs[i].want_blob))
      rc = img_err(err, 0, "layer %zu in `%s` has no sha256 digest", i + 1, src->label);
    else refs[i].path = be_xasprintf("blobs/sha256/%s", refs[i].want_blob);
  }
  cleanup_free char *name = o->tag ? be_xstrdup(o->tag) : default_name(src, ref_name);
  char *names[2] = {name, NULL};
  if (rc == 0) rc = queue_image(st, src, ld, refs, n, chex, ctext, mtext, names, err);
  free_refs(refs, n);
  return rc;
}

/* OCI index: every image manifest (nested indexes pick linux/amd64 entries). */
static int load_oci_index(be_store *st, struct source *src, yajl_val index, const be_load_opts *o, struct loaded *ld,
                          int depth, be_error_t *err) {
  if (depth > 4) return img_err(err, 0, "`%s`: image indexes nested too deeply", src->label);
  yajl_val ms = ij_get(index, "manifests");
  if (ij_len(ms) == 0) return img_err(err, 0, "`%s`: index.json lists no manifests", src->label);
  for (size_t i = 0; i < ij_len(ms); i++) {
    yajl_val d = ij_at(ms, i);
    const char *mt = ij_get_str(d, "mediaType");
    const char *digest = ij_get_str(d, "digest");
    yajl_val ann = ij_get(d, "annotations");
    const char *ref = ij_get_str(ann, "io.containerd.image.name");
    if (!ref) ref = ij_get_str(ann, "org.opencontainers.image.ref.name");
    if (mt && (strstr(mt, "image.index") || strstr(mt, "manifest.list"))) {
      yajl_val plat = ij_get(d, "platform");
      const char *arch = ij_get_str(plat, "architecture");
      if (depth > 0 && arch && strcmp(arch, "amd64") != 0) continue;
      char hex[65];
      if (!img_digest_parse(digest, hex)) return img_err(err, 0, "`%s`: index digest `%s` is not sha256", src->label, digest ? digest : "");
      cleanup_free char *p = be_xasprintf("blobs/sha256/%s", hex);
      ij_auto yajl_val sub = source_json(src, p, hex, NULL, err);
      if (!sub || load_oci_index(st, src, sub, o, ld, depth + 1, err) < 0) return -1;
      continue;
    }
    if (depth > 0) {
      const char *arch = ij_get_str(ij_get(d, "platform"), "architecture");
      if (arch && strcmp(arch, "amd64") != 0) continue;
    }
    if (load_oci_manifest(st, src, digest ? digest : "", ref, o, ld, err) < 0) return -1;
  }
  return 0;
}

static int load_docker(be_store *st, struct source *src, const be_load_opts *o, struct loaded *ld, be_error_t *err) {
  ij_auto yajl_val list = source_json(src, "manifest.json", NULL, NULL, err);
  if (!list) return -1;
  if (!YAJL_IS_ARRAY(list) || ij_len(list) == 0) return img_err(err, 0, "`%s`: manifest.json is not a non-empty array", src->label);
  for (size_t k = 0; k < ij_len(list); k++) {
    yajl_val e = ij_at(list, k);
    const char *cpath = ij_get_str(e, "Config");
    if (!cpath) return img_err(err, 0, "`%s`: manifest.json entry %zu has no Config", src->label, k + 1);
    /* The config's name is its digest ("<hex>.json", or "blobs/sha256/<hex>" since Docker 25). */
    char want[65] = "", got[65];
    const char *base = strrchr(cpath, '/') ? strrchr(cpath, '/') + 1 : cpath;
    char tmp[80];
    snprintf(tmp, sizeof tmp, "sha256:%.64s", base);
    if (strlen(base) >= 64) img_digest_parse(tmp, want);
    yajl_val layers = ij_get(e, "Layers");
    size_t n = ij_len(layers);
    cleanup_free char *ctext = NULL;
    struct layer_ref *refs = read_config(src, cpath, want[0] ? want : NULL, got, n, &ctext, err);
    if (!refs) return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
      yajl_val l = ij_at(layers, i);
      if (!l || !YAJL_IS_STRING(l)) rc = img_err(err, 0, "`%s`: layer %zu is not a path", src->label, i + 1);
      else {
        refs[i].path = be_xstrdup(YAJL_GET_STRING(l));
        const char *lb = strrchr(refs[i].path, '/') ? strrchr(refs[i].path, '/') + 1 : refs[i].path;
        snprintf(tmp, sizeof tmp, "sha256:%.64s", lb);
        if (strncmp(refs[i].path, "blobs/sha256/", 13) == 0 && strlen(lb) == 64) img_digest_parse(tmp, refs[i].want_blob);
      }
    }
    be_buf mb = {0};
    be_buf_printf(&mb, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
                       "\"config\":{\"digest\":\"sha256:%s\"},\"layers\":[",
                  got);
    for (size_t i = 0; i < n; i++) be_buf_printf(&mb, "%s{\"digest\":\"sha256:%s\"}", i ? "," : "", refs[i].diff);
    be_buf_puts(&mb, "]}");
    be_buf_add(&mb, "", 1);
    yajl_val tags = ij_get(e, "RepoTags");
    size_t nt = ij_len(tags);
    char **names = be_xmalloc0((nt + 2) * sizeof *names);
    size_t nn = 0;
    if (o->tag) names[nn++] = be_xstrdup(o->tag);
    for (size_t i = 0; i < nt; i++)
      if (ij_at(tags, i) && YAJL_IS_STRING(ij_at(tags, i))) names[nn++] = be_xstrdup(YAJL_GET_STRING(ij_at(tags, i)));
    if (rc == 0) rc = queue_image(st, src, ld, refs, n, got, ctext, mb.data, names, err);
    be_strv_free(names);
    free(mb.data);
    free_refs(refs, n);
    if (rc < 0) return -1;
  }
  return 0;
}

int be_image_load(be_store *st, const be_load_opts *o, be_error_t *err) {
  struct source src = {.dirfd = -1, .tarfd = -1, .label = o->path};
  struct loaded ld = {0};
  struct stat sb;
  int rc = -1;
  if (stat(o->path, &sb) < 0) {
    img_err(err, errno, "load `%s`", o->path);
    goto out;
  }
  if (S_ISDIR(sb.st_mode)) {
    src.dirfd = open(o->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (src.dirfd < 0) {
      img_err(err, errno, "open `%s`", o->path);
      goto out;
    }
  } else {
    src.tarfd = open(o->path, O_RDONLY | O_CLOEXEC);
    if (src.tarfd < 0) {
      img_err(err, errno, "open `%s`", o->path);
      goto out;
    }
    if (index_archive(&src, err) < 0) goto out;
  }
  if (source_has(&src, "index.json")) {
    ij_auto yajl_val index = source_json(&src, "index.json", NULL, NULL, err);
    if (!index) goto out;
    rc = load_oci_index(st, &src, index, o, &ld, 0, err);
  } else if (source_has(&src, "manifest.json")) {
    rc = load_docker(st, &src, o, &ld, err);
  } else {
    img_err(err, 0, "load `%s`: neither an OCI image layout (index.json) nor a docker save archive (manifest.json)", o->path);
  }
  if (rc == 0) rc = commit_loaded(st, &ld, o->report, err);
out:
  if (rc < 0) {
    cleanup_loaded(st, &ld);
    img_err_wrap(err, "load `%s`", o->path);
  }
  for (size_t i = 0; i < ld.n; i++) free(ld.new_layers[i]);
  free(ld.new_layers);
  for (size_t i = 0; i < ld.nimg; i++) {
    free(ld.img[i].config);
    free(ld.img[i].manifest);
    free(ld.img[i].chains);
    be_strv_free(ld.img[i].names);
  }
  free(ld.img);
  source_clear(&src);
  return rc;
}
