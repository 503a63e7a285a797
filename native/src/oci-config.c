/* config.json → be_config, with yajl's tree API. Every object is checked against the keys berth-engine
 * supports: any other key with a non-empty value is refused with its JSON path, never ignored. */
#include "oci-config.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <yajl/yajl_tree.h>

#include "seccomp-filter.h"
#include "utils.h"

typedef struct ctx {
  be_error_t *err;
} ctx;

static int unsupported(be_error_t *err, const char *path) {
  return be_make_error(err, 0, "config.json: `%s` is not supported by berth-engine; remove it from the config", path);
}
static int bad_type(be_error_t *err, const char *path, const char *want) {
  return be_make_error(err, 0, "config.json: `%s` must be %s", path, want);
}

/* An unsupported key is tolerated only when it holds nothing (null, "", false, 0, {} or []): generators such as
 * podman write empty placeholders (e.g. "mountLabel": ""). */
static bool is_empty(yajl_val v) {
  if (v == NULL || YAJL_IS_NULL(v) || YAJL_IS_FALSE(v))
    return true;
  if (YAJL_IS_STRING(v))
    return YAJL_GET_STRING(v)[0] == '\0';
  if (YAJL_IS_OBJECT(v))
    return v->u.object.len == 0;
  if (YAJL_IS_ARRAY(v))
    return v->u.array.len == 0;
  if (YAJL_IS_NUMBER(v))
    return strcmp(v->u.number.r, "0") == 0;
  return false;
}

static int check_keys(yajl_val obj, const char *path, const char *const *known, be_error_t *err) {
  if (!YAJL_IS_OBJECT(obj))
    return bad_type(err, path, "an object");
  for (size_t i = 0; i < obj->u.object.len; i++) {
    const char *k = obj->u.object.keys[i];
    bool ok = false;
    for (const char *const *p = known; *p && !ok; p++)
      ok = strcmp(*p, k) == 0;
    if (!ok && !is_empty(obj->u.object.values[i])) {
      cleanup_free char *full = be_xasprintf("%s.%s", path, k);
      return unsupported(err, full);
    }
  }
  return 0;
}

static yajl_val get(yajl_val obj, const char *key) {
  if (!YAJL_IS_OBJECT(obj))
    return NULL;
  for (size_t i = 0; i < obj->u.object.len; i++)
    if (strcmp(obj->u.object.keys[i], key) == 0)
      return YAJL_IS_NULL(obj->u.object.values[i]) ? NULL : obj->u.object.values[i];
  return NULL;
}

static int get_string(yajl_val obj, const char *key, const char *path, char **out, be_error_t *err) {
  yajl_val v = get(obj, key);
  if (!v)
    return 0;
  if (!YAJL_IS_STRING(v)) {
    cleanup_free char *full = be_xasprintf("%s.%s", path, key);
    return bad_type(err, full, "a string");
  }
  *out = be_xstrdup(YAJL_GET_STRING(v));
  return 1;
}

static int get_bool(yajl_val obj, const char *key, const char *path, bool *out, be_error_t *err) {
  yajl_val v = get(obj, key);
  if (!v)
    return 0;
  if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v)) {
    cleanup_free char *full = be_xasprintf("%s.%s", path, key);
    return bad_type(err, full, "true or false");
  }
  *out = YAJL_IS_TRUE(v);
  return 1;
}

/* Numbers via their raw text: yajl's integer is a long long, but seccomp argument values and limits are u64. */
static int get_i64(yajl_val obj, const char *key, const char *path, int64_t *out, be_error_t *err) {
  yajl_val v = get(obj, key);
  if (!v)
    return 0;
  char *end;
  errno = 0;
  long long n = YAJL_IS_NUMBER(v) ? strtoll(v->u.number.r, &end, 10) : 0;
  if (!YAJL_IS_NUMBER(v) || errno || *end) {
    cleanup_free char *full = be_xasprintf("%s.%s", path, key);
    return bad_type(err, full, "an integer");
  }
  *out = n;
  return 1;
}

static int get_u64(yajl_val obj, const char *key, const char *path, uint64_t *out, be_error_t *err) {
  yajl_val v = get(obj, key);
  if (!v)
    return 0;
  char *end;
  errno = 0;
  unsigned long long n = YAJL_IS_NUMBER(v) && v->u.number.r[0] != '-' ? strtoull(v->u.number.r, &end, 10) : 0;
  if (!YAJL_IS_NUMBER(v) || v->u.number.r[0] == '-' || errno || *end) {
    cleanup_free char *full = be_xasprintf("%s.%s", path, key);
    return bad_type(err, full, "a non-negative integer");
  }
  *out = n;
  return 1;
}

static int get_u32(yajl_val obj, const char *key, const char *path, uint32_t *out, be_error_t *err) {
  uint64_t v = 0;
  int r = get_u64(obj, key, path, &v, err);
  if (r <= 0)
    return r;
  if (v > UINT32_MAX) {
    cleanup_free char *full = be_xasprintf("%s.%s", path, key);
    return bad_type(err, full, "a 32-bit unsigned integer");
  }
  *out = (uint32_t)v;
  return 1;
}

static int get_strv(yajl_val obj, const char *key, const char *path, char ***out, be_error_t *err) {
  yajl_val v = get(obj, key);
  if (!v)
    return 0;
  cleanup_free char *full = be_xasprintf("%s.%s", path, key);
  if (!YAJL_IS_ARRAY(v))
    return bad_type(err, full, "an array of strings");
  char **r = be_xmalloc0(sizeof(char *) * (v->u.array.len + 1));
  for (size_t i = 0; i < v->u.array.len; i++) {
    if (!YAJL_IS_STRING(v->u.array.values[i])) {
      be_strv_free(r);
      return bad_type(err, full, "an array of strings");
    }
    r[i] = be_xstrdup(YAJL_GET_STRING(v->u.array.values[i]));
  }
  be_strv_free(*out);
  *out = r;
  return 1;
}

static int parse_idmaps(yajl_val arr, const char *path, be_idmap **out, size_t *n, be_error_t *err) {
  if (!arr)
    return 0;
  if (!YAJL_IS_ARRAY(arr))
    return bad_type(err, path, "an array");
  *out = be_xmalloc0(sizeof(be_idmap) * (arr->u.array.len + 1));
  for (size_t i = 0; i < arr->u.array.len; i++) {
    yajl_val m = arr->u.array.values[i];
    cleanup_free char *p = be_xasprintf("%s[%zu]", path, i);
    static const char *const keys[] = {"containerID", "hostID", "size", NULL};
    if (check_keys(m, p, keys, err) < 0 || get_u32(m, "containerID", p, &(*out)[i].container_id, err) < 0 ||
        get_u32(m, "hostID", p, &(*out)[i].host_id, err) < 0 || get_u32(m, "size", p, &(*out)[i].size, err) < 0)
      return -1;
    (*n)++;
  }
  return 0;
}

static const struct {
  const char *name;
  int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},         {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},     {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},   {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_caps(yajl_val c, uint64_t caps[BE_CAP_SETS], be_error_t *err) {
  static const char *const keys[] = {"bounding", "effective", "inheritable", "permitted", "ambient", NULL};
  if (check_keys(c, "process.capabilities", keys, err) < 0)
    return -1;
  for (int s = 0; s < BE_CAP_SETS; s++) {
    yajl_val arr = get(c, keys[s]);
    caps[s] = 0;
    if (!arr)
      continue;
    cleanup_free char *p = be_xasprintf("process.capabilities.%s", keys[s]);
    if (!YAJL_IS_ARRAY(arr))
      return bad_type(err, p, "an array of capability names");
    for (size_t i = 0; i < arr->u.array.len; i++) {
      const char *name = YAJL_GET_STRING(arr->u.array.values[i]);
      int cap = name ? be_cap_from_name(name) : -1;
      if (cap < 0)
        return be_make_error(err, 0, "config.json: `%s[%zu]`: unknown capability `%s`; use names like CAP_CHOWN", p,
                             i, name ? name : "(not a string)");
      caps[s] |= 1ULL << cap;
    }
  }
  return 0;
}

static int parse_process_obj(yajl_val pv, const char *path, be_process *p, be_error_t *err) {
  static const char *const keys[] = {"terminal", "consoleSize", "user", "args", "env", "cwd", "capabilities",
                                     "rlimits", "noNewPrivileges", "oomScoreAdj", "apparmorProfile",
                                     "selinuxLabel", "commandLine", NULL};
  if (check_keys(pv, path, keys, err) < 0)
    return -1;
  cleanup_free char *ap = NULL, *sl = NULL;
  if (get_string(pv, "apparmorProfile", path, &ap, err) < 0 || get_string(pv, "selinuxLabel", path, &sl, err) < 0)
    return -1;
  /* No LSM support: a set profile or label would be silently ignored, so refuse it (empty ones are fine). */
  if (ap && *ap)
    return unsupported(err, "process.apparmorProfile");
  if (sl && *sl)
    return unsupported(err, "process.selinuxLabel");
  if (get(pv, "commandLine"))
    return unsupported(err, "process.commandLine");
  if (get_bool(pv, "terminal", path, &p->terminal, err) < 0 || get_bool(pv, "noNewPrivileges", path, &p->no_new_privileges, err) < 0)
    return -1;
  yajl_val cs = get(pv, "consoleSize");
  if (cs) {
    static const char *const ck[] = {"height", "width", NULL};
    uint32_t h = 0, w = 0;
    if (check_keys(cs, "process.consoleSize", ck, err) < 0 || get_u32(cs, "height", "process.consoleSize", &h, err) < 0 ||
        get_u32(cs, "width", "process.consoleSize", &w, err) < 0)
      return -1;
    p->console_height = h;
    p->console_width = w;
  }
  yajl_val u = get(pv, "user");
  if (u) {
    static const char *const uk[] = {"uid", "gid", "umask", "additionalGids", "username", NULL};
    if (check_keys(u, "process.user", uk, err) < 0 || get_u32(u, "uid", "process.user", &p->uid, err) < 0 ||
        get_u32(u, "gid", "process.user", &p->gid, err) < 0)
      return -1;
    int r = get_u32(u, "umask", "process.user", &p->umask, err);
    if (r < 0)
      return -1;
    p->has_umask = r > 0;
    yajl_val ag = get(u, "additionalGids");
    if (ag) {
      if (!YAJL_IS_ARRAY(ag))
        return bad_type(err, "process.user.additionalGids", "an array of integers");
      p->additional_gids = be_xmalloc0(sizeof(gid_t) * (ag->u.array.len + 1));
      for (size_t i = 0; i < ag->u.array.len; i++) {
        yajl_val g = ag->u.array.values[i];
        if (!YAJL_IS_INTEGER(g) || YAJL_GET_INTEGER(g) < 0 || YAJL_GET_INTEGER(g) > UINT32_MAX)
          return bad_type(err, "process.user.additionalGids", "an array of gids");
        p->additional_gids[p->nadditional_gids++] = (gid_t)YAJL_GET_INTEGER(g);
      }
    }
  }
  if (get_strv(pv, "args", path, &p->args, err) < 0 || get_strv(pv, "env", path, &p->env, err) < 0 ||
      get_string(pv, "cwd", path, &p->cwd, err) < 0)
    return -1;
  if (!p->args || !p->args[0])
    return be_make_error(err, 0, "config.json: `%s.args` must name the program to run", path);
  if (!p->cwd)
    p->cwd = be_xstrdup("/");
  if (p->cwd[0] != '/')
    return be_make_error(err, 0, "config.json: `%s.cwd` must be an absolute path, not `%s`", path, p->cwd);
  if (!p->env)
    p->env = be_xmalloc0(sizeof(char *));
  yajl_val caps = get(pv, "capabilities");
  if (caps && parse_caps(caps, p->caps, err) < 0)
    return -1;
  yajl_val rl = get(pv, "rlimits");
  if (rl) {
    if (!YAJL_IS_ARRAY(rl))
      return bad_type(err, "process.rlimits", "an array");
    p->rlimits = be_xmalloc0(sizeof(be_rlimit) * (rl->u.array.len + 1));
    for (size_t i = 0; i < rl->u.array.len; i++) {
      yajl_val r = rl->u.array.values[i];
      cleanup_free char *rp = be_xasprintf("process.rlimits[%zu]", i);
      static const char *const rk[] = {"type", "soft", "hard", NULL};
      cleanup_free char *type = NULL;
      be_rlimit *out = &p->rlimits[p->nrlimits];
      if (check_keys(r, rp, rk, err) < 0 || get_string(r, "type", rp, &type, err) < 0 ||
          get_u64(r, "soft", rp, &out->soft, err) < 0 || get_u64(r, "hard", rp, &out->hard, err) < 0)
        return -1;
      out->resource = -1;
      for (size_t k = 0; type && k < sizeof(rlimit_names) / sizeof(rlimit_names[0]); k++)
        if (strcmp(rlimit_names[k].name, type) == 0)
          out->resource = rlimit_names[k].resource;
      if (out->resource < 0)
        return be_make_error(err, 0, "config.json: `%s.type`: unknown rlimit `%s`", rp, type ? type : "");
      p->nrlimits++;
    }
  }
  int64_t oom = 0;
  int r = get_i64(pv, "oomScoreAdj", path, &oom, err);
  if (r < 0)
    return -1;
  if (r > 0 && (oom < -1000 || oom > 1000))
    return be_make_error(err, 0, "config.json: `%s.oomScoreAdj` must be between -1000 and 1000", path);
  p->has_oom_score_adj = r > 0;
  p->oom_score_adj = (int)oom;
  return 0;
}

/* Mount options: flags the runtime applies; anything else goes to the file system as data (mode=, size=, …),
 * where the kernel refuses what it does not know. Options that only other runtimes implement are refused. */
static const struct {
  const char *name;
  bool clear;
  unsigned long flag;
} mount_flags[] = {
    {"ro", false, MS_RDONLY},        {"rw", true, MS_RDONLY},        {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},       {"nodev", false, MS_NODEV},     {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},    {"exec", true, MS_NOEXEC},      {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS}, {"dirsync", false, MS_DIRSYNC}, {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},    {"nomand", true, MS_MANDLOCK},  {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},  {"diratime", true, MS_NODIRATIME}, {"nodiratime", false, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME}, {"norelatime", true, MS_RELATIME}, {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
};
static const struct {
  const char *name;
  unsigned long flag;
} propagation_flags[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC}, {"shared", MS_SHARED},
    {"rshared", MS_SHARED | MS_REC}, {"slave", MS_SLAVE},             {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};
static const char *const runtime_only_options[] = {"tmpcopyup", "notmpcopyup", "idmap", "ridmap", "rro", "rrw",
                                                   "copy-symlink", "nocopyup", "z", "Z", "U", "rnosuid", "rnodev",
                                                   "rnoexec", NULL};

int be_mount_options_parse(char *const *opts, be_mount *m, const char *path, be_error_t *err) {
  be_buf data = {0};
  for (size_t i = 0; opts && opts[i]; i++) {
    const char *o = opts[i];
    bool done = false;
    if (strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0) {
      m->bind = true;
      m->recursive_bind = o[0] == 'r';
      continue;
    }
    for (size_t k = 0; k < sizeof(mount_flags) / sizeof(mount_flags[0]) && !done; k++)
      if (strcmp(mount_flags[k].name, o) == 0) {
        if (mount_flags[k].clear)
          m->flags &= ~mount_flags[k].flag;
        else
          m->flags |= mount_flags[k].flag;
        done = true;
      }
    for (size_t k = 0; k < sizeof(propagation_flags) / sizeof(propagation_flags[0]) && !done; k++)
      if (strcmp(propagation_flags[k].name, o) == 0) {
        m->propagation = propagation_flags[k].flag;
        done = true;
      }
    for (size_t k = 0; runtime_only_options[k] && !done; k++)
      if (strcmp(runtime_only_options[k], o) == 0) {
        free(data.data);
        return be_make_error(err, 0, "config.json: `%s.options`: option `%s` is not supported by berth-engine; remove it", path, o);
      }
    if (done)
      continue;
    if (data.len)
      be_buf_add(&data, ",", 1);
    be_buf_puts(&data, o);
  }
  m->data = data.data;
  return 0;
}

static int parse_mounts(yajl_val arr, be_config *c, be_error_t *err) {
  if (!YAJL_IS_ARRAY(arr))
    return bad_type(err, "mounts", "an array");
  c->mounts = be_xmalloc0(sizeof(be_mount) * (arr->u.array.len + 1));
  for (size_t i = 0; i < arr->u.array.len; i++) {
    yajl_val mv = arr->u.array.values[i];
    cleanup_free char *p = be_xasprintf("mounts[%zu]", i);
    static const char *const keys[] = {"destination", "source", "type", "options", NULL};
    be_mount *m = &c->mounts[c->nmounts++];
    cleanup_strv char **opts = NULL;
    if (check_keys(mv, p, keys, err) < 0 || get_string(mv, "destination", p, &m->destination, err) < 0 ||
        get_string(mv, "source", p, &m->source, err) < 0 || get_string(mv, "type", p, &m->type, err) < 0 ||
        get_strv(mv, "options", p, &opts, err) < 0)
      return -1;
    if (!m->destination || m->destination[0] != '/')
      return be_make_error(err, 0, "config.json: `%s.destination` must be an absolute path", p);
    if (be_mount_options_parse(opts, m, p, err) < 0)
      return -1;
    if (m->type && strcmp(m->type, "bind") == 0)
      m->bind = true;
    if (!m->bind && !m->type)
      return be_make_error(err, 0, "config.json: `%s.type` is missing; give a file system type or the bind option", p);
    if (m->bind && !m->source)
      return be_make_error(err, 0, "config.json: `%s.source` is missing for a bind mount", p);
  }
  return 0;
}

static const struct {
  const char *name;
  int flag;
} ns_names[] = {
    {"mount", CLONE_NEWNS}, {"pid", CLONE_NEWPID},       {"network", CLONE_NEWNET}, {"uts", CLONE_NEWUTS},
    {"ipc", CLONE_NEWIPC},  {"user", CLONE_NEWUSER},     {"cgroup", CLONE_NEWCGROUP},
};

static int parse_namespaces(yajl_val arr, be_config *c, be_error_t *err) {
  if (!YAJL_IS_ARRAY(arr))
    return bad_type(err, "linux.namespaces", "an array");
  c->namespaces = be_xmalloc0(sizeof(be_namespace) * (arr->u.array.len + 1));
  for (size_t i = 0; i < arr->u.array.len; i++) {
    yajl_val nv = arr->u.array.values[i];
    cleanup_free char *p = be_xasprintf("linux.namespaces[%zu]", i);
    static const char *const keys[] = {"type", "path", NULL};
    cleanup_free char *type = NULL;
    be_namespace *ns = &c->namespaces[c->nnamespaces];
    if (check_keys(nv, p, keys, err) < 0 || get_string(nv, "type", p, &type, err) < 0 ||
        get_string(nv, "path", p, &ns->path, err) < 0)
      return -1;
    ns->type = 0;
    for (size_t k = 0; type && k < sizeof(ns_names) / sizeof(ns_names[0]); k++)
      if (strcmp(ns_names[k].name, type) == 0)
        ns->type = ns_names[k].flag;
    if (!ns->type)
      return be_make_error(err, 0, "config.json: `%s.type`: unknown namespace `%s`; use mount, pid, network, uts, ipc, user or cgroup", p, type ? type : "");
    for (size_t k = 0; k < c->nnamespaces; k++)
      if (c->namespaces[k].type == ns->type)
        return be_make_error(err, 0, "config.json: `%s`: namespace `%s` listed twice", p, type);
    c->nnamespaces++;
  }
  return 0;
}

static int parse_device_rules(yajl_val arr, be_resources *r, be_error_t *err) {
  if (!YAJL_IS_ARRAY(arr))
    return bad_type(err, "linux.resources.devices", "an array");
  r->devices = be_xmalloc0(sizeof(be_device_rule) * (arr->u.array.len + 1));
  for (size_t i = 0; i < arr->u.array.len; i++) {
    yajl_val dv = arr->u.array.values[i];
    cleanup_free char *p = be_xasprintf("linux.resources.devices[%zu]", i);
    static const char *const keys[] = {"allow", "type", "major", "minor", "access", NULL};
    be_device_rule *d = &r->devices[r->ndevices++];
    cleanup_free char *type = NULL, *access = NULL;
    d->major = d->minor = -1;
    if (check_keys(dv, p, keys, err) < 0 || get_bool(dv, "allow", p, &d->allow, err) < 0 ||
        get_string(dv, "type", p, &type, err) < 0 || get_i64(dv, "major", p, &d->major, err) < 0 ||
        get_i64(dv, "minor", p, &d->minor, err) < 0 || get_string(dv, "access", p, &access, err) < 0)
      return -1;
    d->type = type ? type[0] : 'a';
    if ((d->type != 'a' && d->type != 'b' && d->type != 'c') || (type && type[1]))
      return be_make_error(err, 0, "config.json: `%s.type` must be a, b or c", p);
    const char *a = access ? access : "rwm";
    if (strlen(a) > 3 || strspn(a, "rwm") != strlen(a))
      return be_make_error(err, 0, "config.json: `%s.access` must be letters from rwm", p);
    strcpy(d->access, a);
  }
  return 0;
}

static int parse_resources(yajl_val rv, be_config *c, be_error_t *err) {
  static const char *const keys[] = {"memory", "cpu", "pids", "devices", NULL};
  be_resources *r = &c->resources;
  if (check_keys(rv, "linux.resources", keys, err) < 0)
    return -1;
  c->has_resources = true;
  yajl_val m = get(rv, "memory");
  if (m) {
    static const char *const mk[] = {"limit", "reservation", "swap", "disableOOMKiller", NULL};
    int a, b, s;
    if (check_keys(m, "linux.resources.memory", mk, err) < 0 ||
        (a = get_i64(m, "limit", "linux.resources.memory", &r->memory_limit, err)) < 0 ||
        (b = get_i64(m, "reservation", "linux.resources.memory", &r->memory_reservation, err)) < 0 ||
        (s = get_i64(m, "swap", "linux.resources.memory", &r->memory_swap, err)) < 0)
      return -1;
    r->has_memory_limit = a > 0;
    r->has_memory_reservation = b > 0;
    r->has_memory_swap = s > 0;
  }
  yajl_val cpu = get(rv, "cpu");
  if (cpu) {
    static const char *const ck[] = {"shares", "quota", "period", "cpus", "mems", NULL};
    int a, b, d;
    if (check_keys(cpu, "linux.resources.cpu", ck, err) < 0 ||
        (a = get_u64(cpu, "shares", "linux.resources.cpu", &r->cpu_shares, err)) < 0 ||
        (b = get_i64(cpu, "quota", "linux.resources.cpu", &r->cpu_quota, err)) < 0 ||
        (d = get_u64(cpu, "period", "linux.resources.cpu", &r->cpu_period, err)) < 0 ||
        get_string(cpu, "cpus", "linux.resources.cpu", &r->cpus, err) < 0 ||
        get_string(cpu, "mems", "linux.resources.cpu", &r->mems, err) < 0)
      return -1;
    r->has_cpu_shares = a > 0;
    r->has_cpu_quota = b > 0;
    r->has_cpu_period = d > 0;
  }
  yajl_val pids = get(rv, "pids");
  if (pids) {
    static const char *const pk[] = {"limit", NULL};
    int a;
    if (check_keys(pids, "linux.resources.pids", pk, err) < 0 ||
        (a = get_i64(pids, "limit", "linux.resources.pids", &r->pids_limit, err)) < 0)
      return -1;
    r->has_pids_limit = a > 0;
  }
  yajl_val dev = get(rv, "devices");
  if (dev && parse_device_rules(dev, r, err) < 0)
    return -1;
  return 0;
}

static int parse_devices(yajl_val arr, be_config *c, be_error_t *err) {
  if (!YAJL_IS_ARRAY(arr))
    return bad_type(err, "linux.devices", "an array");
  c->devices = be_xmalloc0(sizeof(be_device) * (arr->u.array.len + 1));
  for (size_t i = 0; i < arr->u.array.len; i++) {
    yajl_val dv = arr->u.array.values[i];
    cleanup_free char *p = be_xasprintf("linux.devices[%zu]", i);
    static const char *const keys[] = {"path", "type", "major", "minor", "fileMode", "uid", "gid", NULL};
    be_device *d = &c->devices[c->ndevices++];
    cleanup_free char *type = NULL;
    if (check_keys(dv, p, keys, err) < 0 || get_string(dv, "path", p, &d->path, err) < 0 ||
        get_string(dv, "type", p, &type, err) < 0 || get_i64(dv, "major", p, &d->major, err) < 0 ||
        get_i64(dv, "minor", p, &d->minor, err) < 0 || get_u32(dv, "fileMode", p, &d->file_mode, err) < 0 ||
        get_u32(dv, "uid", p, &d->uid, err) < 0 || get_u32(dv, "gid", p, &d->gid, err) < 0)
      return -1;
    if (!d->path || d->path[0] != '/')
      return be_make_error(err, 0, "config.json: `%s.path` must be an absolute path", p);
    if (!type || strlen(type) != 1 || !strchr("cbup", type[0]))
      return be_make_error(err, 0, "config.json: `%s.type` must be c, b, u or p", p);
    d->type = type[0];
  }
  return 0;
}

static int parse_linux(yajl_val lv, be_config *c, be_error_t *err) {
  static const char *const keys[] = {"namespaces", "uidMappings", "gidMappings", "sysctl", "resources",
                                     "cgroupsPath", "seccomp", "maskedPaths", "readonlyPaths", "devices",
                                     "rootfsPropagation", "mountLabel", NULL};
  if (check_keys(lv, "linux", keys, err) < 0)
    return -1;
  yajl_val v;
  if ((v = get(lv, "namespaces")) && parse_namespaces(v, c, err) < 0)
    return -1;
  if (parse_idmaps(get(lv, "uidMappings"), "linux.uidMappings", &c->uid_mappings, &c->nuid_mappings, err) < 0 ||
      parse_idmaps(get(lv, "gidMappings"), "linux.gidMappings", &c->gid_mappings, &c->ngid_mappings, err) < 0)
    return -1;
  if ((v = get(lv, "sysctl"))) {
    if (!YAJL_IS_OBJECT(v))
      return bad_type(err, "linux.sysctl", "an object of strings");
    c->sysctl_keys = be_xmalloc0(sizeof(char *) * (v->u.object.len + 1));
    c->sysctl_values = be_xmalloc0(sizeof(char *) * (v->u.object.len + 1));
    for (size_t i = 0; i < v->u.object.len; i++) {
      const char *k = v->u.object.keys[i];
      if (!YAJL_IS_STRING(v->u.object.values[i]))
        return be_make_error(err, 0, "config.json: `linux.sysctl.%s` must be a string", k);
      if (strstr(k, "..") || strchr(k, '/') || k[0] == '.')
        return be_make_error(err, 0, "config.json: `linux.sysctl.%s`: not a sysctl name", k);
      c->sysctl_keys[i] = be_xstrdup(k);
      c->sysctl_values[i] = be_xstrdup(YAJL_GET_STRING(v->u.object.values[i]));
      c->nsysctl++;
    }
  }
  if ((v = get(lv, "resources")) && parse_resources(v, c, err) < 0)
    return -1;
  if (get_string(lv, "cgroupsPath", "linux", &c->cgroups_path, err) < 0)
    return -1;
  /* "slice:prefix:name" is the systemd cgroup manager's form, which berth-engine does not implement. */
  if (c->cgroups_path && c->cgroups_path[0] != '/' && strchr(c->cgroups_path, ':'))
    return be_make_error(err, 0, "config.json: `linux.cgroupsPath` `%s` is a systemd slice path; the systemd cgroup manager is not supported, give a path like /machine/NAME", c->cgroups_path);
  if (c->cgroups_path && (strstr(c->cgroups_path, "/../") || strncmp(c->cgroups_path, "../", 3) == 0 ||
                          (strlen(c->cgroups_path) >= 3 && strcmp(c->cgroups_path + strlen(c->cgroups_path) - 3, "/..") == 0)))
    return be_make_error(err, 0, "config.json: `linux.cgroupsPath` `%s` must not contain `..`", c->cgroups_path);
  if ((v = get(lv, "seccomp"))) {
    c->seccomp = be_xmalloc0(sizeof(be_seccomp));
    if (be_seccomp_parse(v, c->seccomp, err) < 0)
      return -1;
  }
  if (get_strv(lv, "maskedPaths", "linux", &c->masked_paths, err) < 0 ||
      get_strv(lv, "readonlyPaths", "linux", &c->readonly_paths, err) < 0)
    return -1;
  if ((v = get(lv, "devices")) && parse_devices(v, c, err) < 0)
    return -1;
  cleanup_free char *prop = NULL, *label = NULL;
  if (get_string(lv, "rootfsPropagation", "linux", &prop, err) < 0 || get_string(lv, "mountLabel", "linux", &label, err) < 0)
    return -1;
  if (label && *label)
    return unsupported(err, "linux.mountLabel");
  if (prop && *prop) {
    for (size_t k = 0; k < sizeof(propagation_flags) / sizeof(propagation_flags[0]); k++)
      if (strcmp(propagation_flags[k].name, prop) == 0)
        c->rootfs_propagation = propagation_flags[k].flag;
    if (!c->rootfs_propagation)
      return be_make_error(err, 0, "config.json: `linux.rootfsPropagation`: unknown value `%s`", prop);
  }
  return 0;
}

int be_config_parse(const char *json, size_t len, const char *bundle_dir, be_config **out, be_error_t *err) {
  (void)len;
  char errbuf[256] = "";
  yajl_val tree = yajl_tree_parse(json, errbuf, sizeof(errbuf));
  if (!tree) {
    errbuf[strcspn(errbuf, "\n")] = '\0';
    return be_make_error(err, 0, "config.json: not valid JSON: %s", errbuf);
  }
  be_config *c = be_xmalloc0(sizeof(*c));
  int rc = -1;
  char *rpath = NULL; /* before the first goto: a cleanup variable must be in scope at `out` */
  static const char *const keys[] = {"ociVersion", "root", "hostname", "domainname", "process", "mounts", "linux",
                                     "annotations", NULL};
  if (check_keys(tree, "config", keys, err) < 0)
    goto out;
  yajl_val root = get(tree, "root");
  if (!root) {
    be_make_error(err, 0, "config.json: `root.path` is missing; name the rootfs directory");
    goto out;
  }
  static const char *const rk[] = {"path", "readonly", NULL};
  if (check_keys(root, "root", rk, err) < 0 || get_string(root, "path", "root", &rpath, err) < 0 ||
      get_bool(root, "readonly", "root", &c->root_readonly, err) < 0)
    goto out;
  if (!rpath || !*rpath) {
    be_make_error(err, 0, "config.json: `root.path` is missing; name the rootfs directory");
    goto out;
  }
  if (rpath[0] == '/' || !bundle_dir) {
    c->root_path = be_xstrdup(rpath);
  } else {
    /* A bundle that does not exist (a config built in memory) keeps its path as given. */
    char resolved[PATH_MAX];
    c->root_path = be_xasprintf("%s/%s", realpath(bundle_dir, resolved) ? resolved : bundle_dir, rpath);
  }
  if (get_string(tree, "hostname", "config", &c->hostname, err) < 0 ||
      get_string(tree, "domainname", "config", &c->domainname, err) < 0)
    goto out;
  yajl_val pv = get(tree, "process");
  if (!pv) {
    be_make_error(err, 0, "config.json: `process` is missing; give at least process.args");
    goto out;
  }
  if (parse_process_obj(pv, "process", &c->process, err) < 0)
    goto out;
  yajl_val v;
  if ((v = get(tree, "mounts")) && parse_mounts(v, c, err) < 0)
    goto out;
  if ((v = get(tree, "linux")) && parse_linux(v, c, err) < 0)
    goto out;
  if ((v = get(tree, "annotations"))) {
    if (!YAJL_IS_OBJECT(v)) {
      bad_type(err, "annotations", "an object of strings");
      goto out;
    }
    c->annotation_keys = be_xmalloc0(sizeof(char *) * (v->u.object.len + 1));
    c->annotation_values = be_xmalloc0(sizeof(char *) * (v->u.object.len + 1));
    for (size_t i = 0; i < v->u.object.len; i++) {
      if (!YAJL_IS_STRING(v->u.object.values[i])) {
        be_make_error(err, 0, "config.json: `annotations.%s` must be a string", v->u.object.keys[i]);
        goto out;
      }
      c->annotation_keys[i] = be_xstrdup(v->u.object.keys[i]);
      c->annotation_values[i] = be_xstrdup(YAJL_GET_STRING(v->u.object.values[i]));
      c->nannotations++;
    }
  }
  if (c->hostname && *c->hostname && !be_config_has_namespace(c, CLONE_NEWUTS)) {
    be_make_error(err, 0, "config.json: `hostname` needs a new uts namespace; add {\"type\": \"uts\"} to linux.namespaces");
    goto out;
  }
  if ((c->nuid_mappings || c->ngid_mappings) && !be_config_has_namespace(c, CLONE_NEWUSER)) {
    be_make_error(err, 0, "config.json: `linux.uidMappings` needs a user namespace; add {\"type\": \"user\"} to linux.namespaces");
    goto out;
  }
  *out = c;
  c = NULL;
  rc = 0;
out:
  free(rpath);
  yajl_tree_free(tree);
  be_config_free(c);
  return rc;
}

int be_config_load(const char *bundle_dir, be_config **out, be_error_t *err) {
  cleanup_free char *path = be_xasprintf("%s/config.json", bundle_dir);
  cleanup_free char *text = NULL;
  size_t len;
  if (be_read_file(path, &text, &len, err) < 0)
    return be_error_wrap(err, "load bundle `%s`", bundle_dir);
  if (be_config_parse(text, len, bundle_dir, out, err) < 0)
    return be_error_wrap(err, "load `%s`", path);
  return 0;
}

int be_process_parse(const char *json, size_t len, be_process *out, be_error_t *err) {
  (void)len;
  char errbuf[256] = "";
  yajl_val tree = yajl_tree_parse(json, errbuf, sizeof(errbuf));
  if (!tree) {
    errbuf[strcspn(errbuf, "\n")] = '\0';
    return be_make_error(err, 0, "process.json: not valid JSON: %s", errbuf);
  }
  memset(out, 0, sizeof(*out));
  int rc = parse_process_obj(tree, "process", out, err);
  yajl_tree_free(tree);
  if (rc < 0)
    be_process_clear(out);
  return rc;
}

void be_process_clear(be_process *p) {
  if (!p)
    return;
  free(p->additional_gids);
  be_strv_free(p->args);
  be_strv_free(p->env);
  free(p->cwd);
  free(p->rlimits);
  memset(p, 0, sizeof(*p));
}

void be_config_add_bind(be_config *c, const char *source, const char *destination, unsigned long flags, bool recursive) {
  c->mounts = realloc(c->mounts, (c->nmounts + 1) * sizeof(*c->mounts));
  be_mount *m = &c->mounts[c->nmounts++];
  memset(m, 0, sizeof(*m));
  m->destination = be_xstrdup(destination);
  m->source = be_xstrdup(source);
  m->type = be_xstrdup("bind");
  m->bind = true;
  m->recursive_bind = recursive;
  m->propagation = MS_PRIVATE | (recursive ? MS_REC : 0);
  m->flags = flags;
}

void be_config_free(be_config *c) {
  if (!c)
    return;
  free(c->root_path);
  free(c->hostname);
  free(c->domainname);
  be_process_clear(&c->process);
  for (size_t i = 0; i < c->nmounts; i++) {
    free(c->mounts[i].destination);
    free(c->mounts[i].source);
    free(c->mounts[i].type);
    free(c->mounts[i].data);
  }
  free(c->mounts);
  for (size_t i = 0; i < c->nnamespaces; i++)
    free(c->namespaces[i].path);
  free(c->namespaces);
  free(c->uid_mappings);
  free(c->gid_mappings);
  be_strv_free(c->sysctl_keys);
  be_strv_free(c->sysctl_values);
  be_strv_free(c->masked_paths);
  be_strv_free(c->readonly_paths);
  free(c->resources.cpus);
  free(c->resources.mems);
  free(c->resources.devices);
  free(c->cgroups_path);
  if (c->seccomp) {
    be_seccomp_clear(c->seccomp);
    free(c->seccomp);
  }
  for (size_t i = 0; i < c->ndevices; i++)
    free(c->devices[i].path);
  free(c->devices);
  be_strv_free(c->annotation_keys);
  be_strv_free(c->annotation_values);
  free(c);
}

const char *be_config_annotation(const be_config *c, const char *key) {
  for (size_t i = 0; i < c->nannotations; i++)
    if (strcmp(c->annotation_keys[i], key) == 0)
      return c->annotation_values[i];
  return NULL;
}

bool be_config_has_namespace(const be_config *c, int type) {
  for (size_t i = 0; i < c->nnamespaces; i++)
    if (c->namespaces[i].type == type)
      return true;
  return false;
}
