/* Container state: one JSON file per container under --root, written atomically. Status is never stored: it is
 * derived from the process (pid + start time, so a reused pid is not mistaken for the container) and from the
 * exec fifo (present between create and start). */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "utils.h"

const char *be_status_name(be_status s) {
  switch (s) {
  case BE_CREATING: return "creating";
  case BE_CREATED: return "created";
  case BE_RUNNING: return "running";
  case BE_STOPPED: return "stopped";
  }
  return "unknown";
}

char *be_state_dir(const char *root, const char *id) { return be_xasprintf("%s/%s", root ? root : BE_DEFAULT_ROOT, id); }

unsigned long long be_proc_start_time(pid_t pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  char *text = NULL;
  if (be_read_file(path, &text, NULL, NULL) < 0)
    return 0;
  /* comm (field 2) may contain spaces and parentheses: count fields after the last ')'. */
  char *p = strrchr(text, ')');
  unsigned long long st = 0;
  if (p) {
    p++;
    for (int field = 3; field < 22 && p; field++)
      p = strchr(p + 1, ' ');
    if (p)
      st = strtoull(p + 1, NULL, 10);
    /* A zombie is stopped for our purposes: its program has exited. */
    char *state = strrchr(text, ')') + 2;
    if (*state == 'Z' || *state == 'X')
      st = 0;
  }
  free(text);
  return st;
}

bool be_state_alive(const be_state *s) {
  return s->pid > 0 && s->start_time && be_proc_start_time(s->pid) == s->start_time;
}

int be_state_write(const char *root, const be_state *s, be_error_t *err) {
  be_buf b = {0};
  be_buf_puts(&b, "{\"id\":");
  be_buf_json_string(&b, s->id);
  be_buf_printf(&b, ",\"pid\":%d,\"startTime\":%llu,\"bundle\":", (int)s->pid, s->start_time);
  be_buf_json_string(&b, s->bundle);
  be_buf_puts(&b, ",\"rootfs\":");
  be_buf_json_string(&b, s->root_path);
  be_buf_puts(&b, ",\"created\":");
  be_buf_json_string(&b, s->created);
  be_buf_puts(&b, ",\"cgroupPath\":");
  be_buf_json_string(&b, s->cgroup_path ? s->cgroup_path : "");
  be_buf_puts(&b, ",\"seccompCache\":");
  be_buf_json_string(&b, s->seccomp_cache ? s->seccomp_cache : "");
  be_buf_printf(&b, ",\"init\":%s,\"userns\":%s,\"annotations\":%s}\n", s->init ? "true" : "false",
                s->userns ? "true" : "false", s->annotations_json ? s->annotations_json : "{}");
  cleanup_free char *dir = be_state_dir(root, s->id);
  cleanup_free char *path = be_xasprintf("%s/state.json", dir);
  int rc = be_write_file_atomic(path, b.data, b.len, 0600, err);
  free(b.data);
  return rc;
}

static char *str_field(yajl_val t, const char *key) {
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(t, path, yajl_t_string);
  return v ? be_xstrdup(YAJL_GET_STRING(v)) : NULL;
}

static void gen_value(be_buf *b, yajl_val v) {
  if (YAJL_IS_STRING(v)) {
    be_buf_json_string(b, YAJL_GET_STRING(v));
  } else if (YAJL_IS_OBJECT(v)) {
    be_buf_add(b, "{", 1);
    for (size_t i = 0; i < v->u.object.len; i++) {
      if (i)
        be_buf_add(b, ",", 1);
      be_buf_json_string(b, v->u.object.keys[i]);
      be_buf_add(b, ":", 1);
      gen_value(b, v->u.object.values[i]);
    }
    be_buf_add(b, "}", 1);
  } else {
    be_buf_puts(b, "null");
  }
}

int be_state_read(const char *root, const char *id, be_state *s, be_error_t *err) {
  memset(s, 0, sizeof(*s));
  if (be_validate_id(id, err) < 0)
    return -1;
  cleanup_free char *dir = be_state_dir(root, id);
  cleanup_free char *path = be_xasprintf("%s/state.json", dir);
  cleanup_free char *text = NULL;
  if (be_read_file(path, &text, NULL, err) < 0) {
    if ((*err)->status == ENOENT) {
      be_error_release(err);
      return be_make_error(err, 0, "container `%s` does not exist under `%s`", id, root ? root : BE_DEFAULT_ROOT);
    }
    return -1;
  }
  char ebuf[128];
  yajl_val t = yajl_tree_parse(text, ebuf, sizeof(ebuf));
  if (!t)
    return be_make_error(err, 0, "read `%s`: not valid JSON; `delete --force %s` removes it", path, id);
  s->id = str_field(t, "id");
  s->bundle = str_field(t, "bundle");
  s->root_path = str_field(t, "rootfs");
  s->created = str_field(t, "created");
  s->cgroup_path = str_field(t, "cgroupPath");
  s->seccomp_cache = str_field(t, "seccompCache");
  const char *pp[] = {"pid", NULL}, *sp[] = {"startTime", NULL}, *ip[] = {"init", NULL}, *up[] = {"userns", NULL},
             *ap[] = {"annotations", NULL};
  yajl_val v;
  if ((v = yajl_tree_get(t, pp, yajl_t_number)))
    s->pid = (pid_t)strtol(v->u.number.r, NULL, 10);
  if ((v = yajl_tree_get(t, sp, yajl_t_number)))
    s->start_time = strtoull(v->u.number.r, NULL, 10);
  s->init = yajl_tree_get(t, ip, yajl_t_true) != NULL;
  s->userns = yajl_tree_get(t, up, yajl_t_true) != NULL;
  be_buf ab = {0};
  if ((v = yajl_tree_get(t, ap, yajl_t_object)))
    gen_value(&ab, v);
  s->annotations_json = ab.data ? ab.data : be_xstrdup("{}");
  yajl_tree_free(t);
  if (!s->id || !s->bundle) {
    be_state_clear(s);
    return be_make_error(err, 0, "read `%s`: incomplete state; `delete --force %s` removes it", path, id);
  }
  cleanup_free char *fifo = be_xasprintf("%s/exec.fifo", dir);
  if (!be_state_alive(s))
    s->status = BE_STOPPED;
  else if (be_path_exists(fifo))
    s->status = BE_CREATED;
  else
    s->status = BE_RUNNING;
  return 0;
}

void be_state_clear(be_state *s) {
  free(s->id);
  free(s->bundle);
  free(s->root_path);
  free(s->cgroup_path);
  free(s->created);
  free(s->annotations_json);
  free(s->seccomp_cache);
  memset(s, 0, sizeof(*s));
}

int be_container_state(const char *root, const char *id, be_state *out, be_error_t *err) {
  return be_state_read(root, id, out, err);
}

int be_container_state_json(const char *root, const char *id, char **json, be_error_t *err) {
  be_state s;
  if (be_state_read(root, id, &s, err) < 0)
    return -1;
  be_buf b = {0};
  be_buf_puts(&b, "{\"ociVersion\":\"1.0.2\",\"id\":");
  be_buf_json_string(&b, s.id);
  be_buf_printf(&b, ",\"pid\":%d,\"status\":\"%s\",\"bundle\":", s.status == BE_STOPPED ? 0 : (int)s.pid,
                be_status_name(s.status));
  be_buf_json_string(&b, s.bundle);
  be_buf_puts(&b, ",\"rootfs\":");
  be_buf_json_string(&b, s.root_path);
  be_buf_puts(&b, ",\"created\":");
  be_buf_json_string(&b, s.created);
  be_buf_printf(&b, ",\"annotations\":%s}", s.annotations_json);
  be_state_clear(&s);
  *json = b.data;
  return 0;
}

int be_container_list(const char *root, char ***ids, be_error_t *err) {
  const char *r = root ? root : BE_DEFAULT_ROOT;
  size_t n = 0;
  char **v = be_xmalloc0(sizeof(char *));
  DIR *d = opendir(r);
  if (!d) {
    if (errno == ENOENT) {
      *ids = v;
      return 0;
    }
    free(v);
    return be_make_error(err, errno, "open `%s`", r);
  }
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.' || strcmp(de->d_name, "seccomp") == 0)
      continue;
    char *p = be_xasprintf("%s/%s/state.json", r, de->d_name);
    bool has = be_path_exists(p);
    free(p);
    if (!has)
      continue;
    v = realloc(v, sizeof(char *) * (n + 2));
    v[n++] = be_xstrdup(de->d_name);
    v[n] = NULL;
  }
  closedir(d);
  *ids = v;
  return 0;
}
