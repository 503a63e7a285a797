/* `berth-engine image load|ls|inspect|rm|prune|unpack-layer`: parse flags, call one store function each. */
#define _GNU_SOURCE
#include "image-cmd.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>

#include "containers.h"
#include "engine-config.h"
#include "extract.h"
#include "fsutil.h"
#include "json.h"
#include "load.h"
#include "store.h"

static const char usage[] =
    "usage: berth-engine image [--data-root DIR] [--storage-driver overlay2|vfs|devicemapper] COMMAND\n"
    "  load [--tag NAME] PATH      OCI layout dir, oci-archive tar or docker-save tar\n"
    "  ls [--json] [--quiet]       loaded images\n"
    "  inspect IMAGE               JSON: id, names, layers, driver, config\n"
    "  rm IMAGE...                 remove images, then their unreferenced layers\n"
    "  prune                       remove layers no image uses\n"
    "  mount IMAGE NAME            prepare a writable root for NAME from IMAGE and print its path\n"
    "  umount NAME                 unmount and delete NAME's root\n"
    "  unpack-layer [--whiteouts overlay|apply] [--no-devices] BLOB DIR   extract one layer (testing)\n";

/* Options shared by every engine command; the rest of argv is left from *optind_out. */
static int parse_store_opts(const be_global *g, int argc, char **argv, be_store_opts *so, int *optind_out, be_error_t *err) {
  if (be_engine_store_defaults(g, so, err) < 0) return -1;
  int i = 1;
  while (i < argc && strncmp(argv[i], "--", 2) == 0) {
    const char *a = argv[i];
    const char *v = NULL;
    const char *names[] = {"--data-root", "--storage-driver", "--dm-pool"};
    int which = -1;
    for (int k = 0; k < 3; k++) {
      size_t l = strlen(names[k]);
      if (strncmp(a, names[k], l) == 0 && (a[l] == 0 || a[l] == '=')) {
        which = k;
        v = a[l] == '=' ? a + l + 1 : (i + 1 < argc ? argv[++i] : NULL);
      }
    }
    if (strcmp(a, "--allow-loopback") == 0) {
      so->allow_loopback = true;
      i++;
      continue;
    }
    if (which < 0) break;
    if (!v) return be_make_error(err, 0, "%s needs a value", names[which]);
    if (which == 0) so->data_root = v;
    else if (which == 1) so->driver = strcmp(v, "auto") ? v : NULL;
    else so->dm_pool = v;
    i++;
  }
  *optind_out = i;
  return 0;
}

static int cmd_unpack_layer(int argc, char **argv, be_error_t *err) {
  struct img_extract_opts xo = {.whiteouts = IMG_WHITEOUT_OVERLAY, .allow_devices = 1};
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--whiteouts") == 0 && i + 1 < argc) {
      const char *m = argv[++i];
      if (strcmp(m, "overlay") == 0) xo.whiteouts = IMG_WHITEOUT_OVERLAY;
      else if (strcmp(m, "apply") == 0) xo.whiteouts = IMG_WHITEOUT_APPLY;
      else return be_make_error(err, 0, "--whiteouts: use overlay or apply, not `%s`", m);
    } else if (strcmp(argv[i], "--no-devices") == 0) {
      xo.allow_devices = 0;
    } else {
      return be_make_error(err, 0, "image unpack-layer: unknown option `%s`", argv[i]);
    }
  }
  if (argc - i != 2) return be_make_error(err, 0, "image unpack-layer: needs BLOB and DIR");
  cleanup_close int fd = strcmp(argv[i], "-") == 0 ? dup(0) : open(argv[i], O_RDONLY | O_CLOEXEC);
  if (fd < 0) return be_make_error(err, errno, "open `%s`", argv[i]);
  cleanup_close int dfd = open(argv[i + 1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return be_make_error(err, errno, "open `%s`", argv[i + 1]);
  img_stream *s = img_stream_open(fd, NULL, 0, err);
  if (!s) return -1;
  struct img_extract_result res;
  int rc = img_extract(dfd, s, &xo, &res, err);
  img_stream_close(s);
  if (rc < 0) return be_error_wrap(err, "unpack `%s`", argv[i]);
  printf("{\"digest\":\"sha256:%s\",\"diff_id\":\"sha256:%s\",\"entries\":%llu,\"tar_bytes\":%llu}\n", res.blob_hex, res.diff_hex,
         (unsigned long long)res.entries, (unsigned long long)res.tar_bytes);
  return 0;
}

static void print_json_strv(be_buf *b, char *const *v) {
  be_buf_puts(b, "[");
  for (size_t i = 0; v && v[i]; i++) {
    if (i) be_buf_puts(b, ",");
    be_buf_json_string(b, v[i]);
  }
  be_buf_puts(b, "]");
}

static int cmd_ls(be_store *st, int argc, char **argv, be_error_t *err) {
  bool json = false, quiet = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json")) json = true;
    else if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q")) quiet = true;
    else return be_make_error(err, 0, "image ls: unknown option `%s`", argv[i]);
  }
  be_image_rec *all;
  size_t n;
  if (be_store_list_images(st, &all, &n, err) < 0) return -1;
  be_buf b = {0};
  if (json) be_buf_puts(&b, "[");
  else if (!quiet) be_buf_printf(&b, "%-40s %-12s %6s %10s\n", "NAME", "ID", "LAYERS", "SIZE");
  for (size_t i = 0; i < n; i++) {
    size_t nl = be_strv_len(all[i].layers);
    if (json) {
      be_buf_printf(&b, "%s{\"id\":\"sha256:%s\",\"names\":", i ? "," : "", all[i].id);
      print_json_strv(&b, all[i].names);
      be_buf_printf(&b, ",\"layers\":%zu,\"size\":%lld}", nl, all[i].size);
    } else if (quiet) {
      be_buf_printf(&b, "%s\n", all[i].id);
    } else {
      const char *name = all[i].names[0] ? all[i].names[0] : "<none>";
      be_buf_printf(&b, "%-40s %-12.12s %6zu %9.1fM\n", name, all[i].id, nl, (double)all[i].size / 1048576.0);
    }
    be_image_rec_clear(&all[i]);
  }
  free(all);
  if (json) be_buf_puts(&b, "]\n");
  if (b.data) fwrite(b.data, 1, b.len, stdout);
  free(b.data);
  return 0;
}

static int cmd_inspect(be_store *st, int argc, char **argv, be_error_t *err) {
  if (argc < 2) return be_make_error(err, 0, "image inspect: name an image");
  be_buf b = {0};
  be_buf_puts(&b, "[");
  for (int i = 1; i < argc; i++) {
    be_image_rec r;
    if (be_store_find_image(st, argv[i], &r, err) < 0) {
      free(b.data);
      return -1;
    }
    cleanup_free char *cpath = be_xasprintf("images/%s/config.json", r.id);
    cleanup_free char *config = img_read_file_at(st->root_fd, cpath, 8u << 20, NULL);
    be_buf_printf(&b, "%s{\"id\":\"sha256:%s\",\"names\":", i > 1 ? "," : "", r.id);
    print_json_strv(&b, r.names);
    be_buf_printf(&b, ",\"driver\":\"%s\",\"size\":%lld,\"layers\":[", st->storage.driver->name, r.size);
    for (size_t j = 0; r.layers[j]; j++) {
      cleanup_free char *dp = be_xasprintf("layers/%s/diff_id", r.layers[j]);
      cleanup_free char *diff = img_read_file_at(st->root_fd, dp, 128, NULL);
      be_buf_printf(&b, "%s{\"chain_id\":\"sha256:%s\",\"diff_id\":\"sha256:%s\"}", j ? "," : "", r.layers[j], diff ? diff : "");
    }
    be_buf_printf(&b, "],\"config\":%s}", config && *config ? config : "null");
    be_image_rec_clear(&r);
  }
  be_buf_puts(&b, "]\n");
  fwrite(b.data, 1, b.len, stdout);
  free(b.data);
  return 0;
}

static int gc(be_store *st, bool report, be_error_t *err) {
  /* Containers keep their image's layers: containers/<name>/top holds the chain id. */
  char **keep = be_xmalloc0(sizeof *keep);
  size_t nk = 0;
  int dfd = openat(st->root_fd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!d && dfd >= 0) close(dfd);
  if (d) {
    struct dirent *de;
    while ((de = readdir(d))) {
      if (de->d_name[0] == '.') continue;
      cleanup_free char *p = be_xasprintf("containers/%s/top", de->d_name);
      char *top = img_read_file_at(st->root_fd, p, 128, NULL);
      if (!top) continue;
      keep = realloc(keep, (nk + 2) * sizeof *keep);
      keep[nk++] = top;
      keep[nk] = NULL;
    }
    closedir(d);
  }
  size_t removed;
  int rc = be_store_gc(st, keep, &removed, err);
  be_strv_free(keep);
  if (rc == 0 && report) printf("removed %zu unused layer%s\n", removed, removed == 1 ? "" : "s");
  return rc;
}

static int cmd_rm(be_store *st, int argc, char **argv, be_error_t *err) {
  if (argc < 2) return be_make_error(err, 0, "image rm: name an image");
  for (int i = 1; i < argc; i++) {
    be_image_rec r;
    if (be_store_find_image(st, argv[i], &r, err) < 0) return -1;
    int rc = be_store_remove_image(st, r.id, err);
    if (rc == 0) printf("Deleted: sha256:%s\n", r.id);
    be_image_rec_clear(&r);
    if (rc < 0) return -1;
  }
  return gc(st, false, err);
}

int be_cmd_image(const be_global *g, int argc, char **argv, be_error_t *err) {
  be_store_opts so = {0};
  int i = 1;
  if (parse_store_opts(g, argc, argv, &so, &i, err) < 0) return -1;
  if (i >= argc || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
    fputs(usage, i >= argc ? stderr : stdout);
    return i >= argc ? 2 : 0;
  }
  const char *sub = argv[i];
  if (!strcmp(sub, "unpack-layer")) return cmd_unpack_layer(argc - i, argv + i, err);
  if (strcmp(sub, "load") && strcmp(sub, "ls") && strcmp(sub, "list") && strcmp(sub, "inspect") && strcmp(sub, "rm") &&
      strcmp(sub, "prune") && strcmp(sub, "mount") && strcmp(sub, "umount"))
    return be_make_error(err, 0, "image: unknown command `%s`; run `berth-engine image --help`", sub);
  be_store st;
  if (be_store_open(&so, &st, err) < 0) {
    be_store_close(&st);
    return -1;
  }
  int rc;
  int sargc = argc - i;
  char **sargv = argv + i;
  if (!strcmp(sub, "load")) {
    be_load_opts lo = {.report = stdout};
    int k = 1;
    for (; k < sargc && sargv[k][0] == '-'; k++) {
      if (!strcmp(sargv[k], "--tag") && k + 1 < sargc) lo.tag = sargv[++k];
      else if (!strcmp(sargv[k], "-i") || !strcmp(sargv[k], "--input")) continue;
      else {
        be_store_close(&st);
        return be_make_error(err, 0, "image load: unknown option `%s`", sargv[k]);
      }
    }
    if (k != sargc - 1) rc = be_make_error(err, 0, "image load: give exactly one PATH");
    else {
      lo.path = sargv[k];
      rc = be_image_load(&st, &lo, err);
    }
  } else if (!strcmp(sub, "ls") || !strcmp(sub, "list")) {
    rc = cmd_ls(&st, sargc, sargv, err);
  } else if (!strcmp(sub, "inspect")) {
    rc = cmd_inspect(&st, sargc, sargv, err);
  } else if (!strcmp(sub, "mount")) {
    cleanup_free char *rootfs = NULL;
    if (sargc != 3) rc = be_make_error(err, 0, "image mount: needs IMAGE and NAME");
    else if ((rc = be_croot_create(&st, sargv[2], sargv[1], &rootfs, NULL, err)) == 0) printf("%s\n", rootfs);
  } else if (!strcmp(sub, "umount")) {
    rc = sargc != 2 ? be_make_error(err, 0, "image umount: needs NAME") : be_croot_remove(&st, sargv[1], false, err);
  } else if (!strcmp(sub, "rm")) {
    rc = cmd_rm(&st, sargc, sargv, err);
  } else {
    rc = gc(&st, true, err);
  }
  be_store_close(&st);
  return rc;
}
