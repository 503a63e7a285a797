/* /etc/berth/engine.json and the BERTH_ENGINE_* environment (see engine-config.h). */
#define _GNU_SOURCE
#include "engine-config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"

/* The file is read once per process; its strings live as long as the process (the options point into them). */
static yajl_val config_tree;

static int config_error(be_error_t *err, const char *path, const char *fmt, const char *a, const char *b) {
  cleanup_free char *msg = be_xasprintf(fmt, a, b);
  return be_make_error(err, 0, "engine config `%s`: %s", path, msg);
}

static int load_file(const char *path, bool required, be_store_opts *so, be_error_t *err) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT && !required) return 0;
    return be_make_error(err, errno, "engine config `%s`: cannot open it", path);
  }
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20))
    return be_make_error(err, 0, "engine config `%s`: not a regular file of at most 1 MiB", path);
  cleanup_free char *text = NULL;
  size_t len;
  if (be_read_fd(fd, path, &text, &len, err) < 0) return -1;
  if (memchr(text, 0, len)) return be_make_error(err, 0, "engine config `%s`: NUL byte; not JSON", path);
  char ebuf[256] = "";
  yajl_val v = yajl_tree_parse(text, ebuf, sizeof ebuf);
  if (!v) {
    char *o = ebuf; /* yajl's message spans lines with padding: one line, single spaces */
    for (char *p = ebuf; *p; p++)
      if (!((*p == ' ' || *p == '\n') && (o == ebuf || o[-1] == ' '))) *o++ = *p == '\n' ? ' ' : *p;
    *o = 0;
    return be_make_error(err, 0, "engine config `%s`: not valid JSON: %s", path, *ebuf ? ebuf : "parse error");
  }
  config_tree = v;
  if (!YAJL_IS_OBJECT(v)) return be_make_error(err, 0, "engine config `%s`: must be a JSON object", path);
  const char *driver = NULL;
  for (size_t i = 0; i < v->u.object.len; i++) {
    const char *k = v->u.object.keys[i];
    yajl_val val = v->u.object.values[i];
    if (!strcmp(k, "version") || !strcmp(k, "logs")) continue; /* berth's bookkeeping; journald settings */
    bool is_driver = !strcmp(k, "driver") || !strcmp(k, "storageDriver");
    if (!is_driver && strcmp(k, "dataRoot") && strcmp(k, "pool"))
      return config_error(err, path, "unknown key `%s`; known: version, driver (or storageDriver), dataRoot, pool, logs%s", k, "");
    if (!YAJL_IS_STRING(val)) return config_error(err, path, "`%s` must be a string%s", k, "");
    const char *s = YAJL_GET_STRING(val);
    if (is_driver) {
      if (strcmp(s, "overlay2") && strcmp(s, "vfs") && strcmp(s, "devicemapper") && strcmp(s, "auto"))
        return config_error(err, path, "`%s`: `%s` is not a storage driver; use overlay2, vfs, devicemapper or auto", k, s);
      if (driver && strcmp(driver, s))
        return config_error(err, path, "`driver` and `storageDriver` disagree (`%s` vs `%s`); keep one", driver, s);
      driver = s;
    } else if (!strcmp(k, "dataRoot")) {
      if (s[0] != '/') return config_error(err, path, "`dataRoot` `%s` must be an absolute path%s", s, "");
      so->data_root = s;
    } else {
      if (!strchr(s, '/')) return config_error(err, path, "`pool` `%s`: use VG/POOL%s", s, "");
      so->dm_pool = s;
    }
  }
  if (driver && strcmp(driver, "auto")) so->driver = driver; /* auto: the engine's preflight picks */
  return 0;
}

int be_engine_store_defaults(const be_global *g, be_store_opts *so, be_error_t *err) {
  if (config_tree) {
    yajl_tree_free(config_tree);
    config_tree = NULL;
  }
  memset(so, 0, sizeof *so);
  const char *path = g && g->config ? g->config : BE_ENGINE_CONFIG_DEFAULT;
  if (load_file(path, g && g->config, so, err) < 0) return -1;
  const char *dr = getenv("BERTH_ENGINE_DATA_ROOT"), *drv = getenv("BERTH_ENGINE_STORAGE_DRIVER");
  if (dr && *dr) so->data_root = dr;
  if (drv && *drv) so->driver = strcmp(drv, "auto") ? drv : NULL;
  return 0;
}
