/* Seccomp: linux.seccomp → libseccomp → cached BPF → seccomp(2). crun recompiles the profile on every start,
 * which is its largest single cost (about 14 ms with Docker's profile); here the BPF is compiled once per
 * profile and later starts only read a file and make one syscall. */
#include "seccomp-filter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "utils.h"

static const struct {
  const char *name;
  uint32_t action;
} actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL},       {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS}, {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},  {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},     {"SCMP_ACT_LOG", SCMP_ACT_LOG},
};
static const struct {
  const char *name;
  int op;
} ops[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};
static const struct {
  const char *name;
  unsigned flag;
} filter_flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
};

static yajl_val get(yajl_val obj, const char *key) {
  for (size_t i = 0; YAJL_IS_OBJECT(obj) && i < obj->u.object.len; i++)
    if (strcmp(obj->u.object.keys[i], key) == 0)
      return YAJL_IS_NULL(obj->u.object.values[i]) ? NULL : obj->u.object.values[i];
  return NULL;
}

static int check_keys(yajl_val obj, const char *path, const char *const *known, be_error_t *err) {
  if (!YAJL_IS_OBJECT(obj))
    return be_make_error(err, 0, "config.json: `%s` must be an object", path);
  for (size_t i = 0; i < obj->u.object.len; i++) {
    bool ok = false;
    for (const char *const *k = known; *k && !ok; k++)
      ok = strcmp(*k, obj->u.object.keys[i]) == 0;
    yajl_val v = obj->u.object.values[i];
    bool empty = YAJL_IS_NULL(v) || (YAJL_IS_STRING(v) && !*YAJL_GET_STRING(v)) ||
                 (YAJL_IS_ARRAY(v) && v->u.array.len == 0) || (YAJL_IS_OBJECT(v) && v->u.object.len == 0);
    if (!ok && !empty)
      return be_make_error(err, 0, "config.json: `%s.%s` is not supported by berth-engine; remove it from the config",
                           path, obj->u.object.keys[i]);
  }
  return 0;
}

static int parse_action(yajl_val v, const char *path, uint32_t *out, be_error_t *err) {
  const char *s = v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
  for (size_t i = 0; s && i < sizeof(actions) / sizeof(actions[0]); i++)
    if (strcmp(actions[i].name, s) == 0) {
      *out = actions[i].action;
      return 0;
    }
  return be_make_error(err, 0, "config.json: `%s`: unsupported seccomp action `%s`; use SCMP_ACT_ALLOW, _ERRNO, _KILL, _KILL_PROCESS, _TRAP, _TRACE or _LOG",
                       path, s ? s : "(missing)");
}

static int parse_u64(yajl_val v, uint64_t *out) {
  if (!v || !YAJL_IS_NUMBER(v) || v->u.number.r[0] == '-')
    return -1;
  char *end;
  errno = 0;
  *out = strtoull(v->u.number.r, &end, 10);
  return errno || *end ? -1 : 0;
}

static char **strv_from(yajl_val arr) {
  char **r = be_xmalloc0(sizeof(char *) * (arr->u.array.len + 1));
  for (size_t i = 0; i < arr->u.array.len; i++) {
    if (!YAJL_IS_STRING(arr->u.array.values[i])) {
      be_strv_free(r);
      return NULL;
    }
    r[i] = be_xstrdup(YAJL_GET_STRING(arr->u.array.values[i]));
  }
  return r;
}

int be_seccomp_parse(yajl_val v, be_seccomp *s, be_error_t *err) {
  static const char *const keys[] = {"defaultAction", "defaultErrnoRet", "architectures", "flags", "syscalls", NULL};
  if (check_keys(v, "linux.seccomp", keys, err) < 0)
    return -1;
  if (parse_action(get(v, "defaultAction"), "linux.seccomp.defaultAction", &s->default_action, err) < 0)
    return -1;
  s->default_errno = -1;
  uint64_t n;
  yajl_val de = get(v, "defaultErrnoRet");
  if (de) {
    if (parse_u64(de, &n) < 0 || n > 4095)
      return be_make_error(err, 0, "config.json: `linux.seccomp.defaultErrnoRet` must be an errno number");
    s->default_errno = (int)n;
  }
  yajl_val archs = get(v, "architectures");
  s->architectures = be_xmalloc0(sizeof(char *));
  if (archs) {
    be_strv_free(s->architectures);
    if (!YAJL_IS_ARRAY(archs) || !(s->architectures = strv_from(archs)))
      return be_make_error(err, 0, "config.json: `linux.seccomp.architectures` must be an array of SCMP_ARCH_* names");
    for (size_t i = 0; s->architectures[i]; i++) {
      const char *a = s->architectures[i];
      if (strncmp(a, "SCMP_ARCH_", 10) != 0)
        return be_make_error(err, 0, "config.json: `linux.seccomp.architectures[%zu]`: `%s` is not an SCMP_ARCH_* name", i, a);
      char lower[32];
      size_t k = 0;
      for (const char *p = a + 10; *p && k + 1 < sizeof(lower); p++)
        lower[k++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
      lower[k] = '\0';
      if (seccomp_arch_resolve_name(lower) == 0)
        return be_make_error(err, 0, "config.json: `linux.seccomp.architectures[%zu]`: unknown architecture `%s`", i, a);
    }
  }
  yajl_val flags = get(v, "flags");
  s->flags = be_xmalloc0(sizeof(char *));
  if (flags) {
    be_strv_free(s->flags);
    if (!YAJL_IS_ARRAY(flags) || !(s->flags = strv_from(flags)))
      return be_make_error(err, 0, "config.json: `linux.seccomp.flags` must be an array of SECCOMP_FILTER_FLAG_* names");
    for (size_t i = 0; s->flags[i]; i++) {
      bool ok = false;
      for (size_t k = 0; k < sizeof(filter_flags) / sizeof(filter_flags[0]); k++)
        ok |= strcmp(filter_flags[k].name, s->flags[i]) == 0;
      if (!ok)
        return be_make_error(err, 0, "config.json: `linux.seccomp.flags[%zu]`: unsupported flag `%s`", i, s->flags[i]);
    }
  }
  yajl_val sc = get(v, "syscalls");
  if (sc) {
    if (!YAJL_IS_ARRAY(sc))
      return be_make_error(err, 0, "config.json: `linux.seccomp.syscalls` must be an array");
    s->rules = be_xmalloc0(sizeof(be_seccomp_rule) * (sc->u.array.len + 1));
    for (size_t i = 0; i < sc->u.array.len; i++) {
      yajl_val r = sc->u.array.values[i];
      char path[64];
      snprintf(path, sizeof(path), "linux.seccomp.syscalls[%zu]", i);
      static const char *const rk[] = {"names", "action", "errnoRet", "args", NULL};
      if (check_keys(r, path, rk, err) < 0)
        return -1;
      be_seccomp_rule *rule = &s->rules[s->nrules++];
      rule->errno_ret = -1;
      yajl_val names = get(r, "names");
      if (!names || !YAJL_IS_ARRAY(names) || !(rule->names = strv_from(names)))
        return be_make_error(err, 0, "config.json: `%s.names` must be an array of syscall names", path);
      char apath[80];
      snprintf(apath, sizeof(apath), "%s.action", path);
      if (parse_action(get(r, "action"), apath, &rule->action, err) < 0)
        return -1;
      yajl_val er = get(r, "errnoRet");
      if (er) {
        if (parse_u64(er, &n) < 0 || n > 4095)
          return be_make_error(err, 0, "config.json: `%s.errnoRet` must be an errno number", path);
        rule->errno_ret = (int)n;
      }
      yajl_val args = get(r, "args");
      if (args) {
        if (!YAJL_IS_ARRAY(args) || args->u.array.len > 6)
          return be_make_error(err, 0, "config.json: `%s.args` must be an array of at most 6 conditions", path);
        rule->args = be_xmalloc0(sizeof(be_seccomp_arg) * (args->u.array.len + 1));
        for (size_t k = 0; k < args->u.array.len; k++) {
          yajl_val a = args->u.array.values[k];
          char ap[96];
          snprintf(ap, sizeof(ap), "%s.args[%zu]", path, k);
          static const char *const ak[] = {"index", "value", "valueTwo", "op", NULL};
          if (check_keys(a, ap, ak, err) < 0)
            return -1;
          be_seccomp_arg *arg = &rule->args[rule->nargs++];
          uint64_t idx;
          if (parse_u64(get(a, "index"), &idx) < 0 || idx > 5)
            return be_make_error(err, 0, "config.json: `%s.index` must be 0 to 5", ap);
          arg->index = (unsigned)idx;
          if (parse_u64(get(a, "value"), &arg->value) < 0)
            return be_make_error(err, 0, "config.json: `%s.value` must be a non-negative integer", ap);
          if (get(a, "valueTwo") && parse_u64(get(a, "valueTwo"), &arg->value_two) < 0)
            return be_make_error(err, 0, "config.json: `%s.valueTwo` must be a non-negative integer", ap);
          yajl_val op = get(a, "op");
          const char *ops_ = op && YAJL_IS_STRING(op) ? YAJL_GET_STRING(op) : "";
          arg->op = 0;
          for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++)
            if (strcmp(ops[o].name, ops_) == 0)
              arg->op = ops[o].op;
          if (!arg->op)
            return be_make_error(err, 0, "config.json: `%s.op`: unknown comparison `%s`", ap, ops_);
        }
      }
    }
  }
  char *canon = be_seccomp_canonical(s);
  const struct scmp_version *ver = seccomp_version();
  char vbuf[64];
  snprintf(vbuf, sizeof(vbuf), "libseccomp %u.%u.%u", ver->major, ver->minor, ver->micro);
  s->hash = be_fnv1a64(canon, strlen(canon), be_fnv1a64(vbuf, strlen(vbuf), 0));
  free(canon);
  return 0;
}

void be_seccomp_clear(be_seccomp *s) {
  be_strv_free(s->architectures);
  be_strv_free(s->flags);
  for (size_t i = 0; i < s->nrules; i++) {
    be_strv_free(s->rules[i].names);
    free(s->rules[i].args);
  }
  free(s->rules);
  memset(s, 0, sizeof(*s));
}

char *be_seccomp_canonical(const be_seccomp *s) {
  be_buf b = {0};
  be_buf_printf(&b, "default %u %d\n", s->default_action, s->default_errno);
  for (size_t i = 0; s->architectures && s->architectures[i]; i++)
    be_buf_printf(&b, "arch %s\n", s->architectures[i]);
  for (size_t i = 0; s->flags && s->flags[i]; i++)
    be_buf_printf(&b, "flag %s\n", s->flags[i]);
  for (size_t i = 0; i < s->nrules; i++) {
    const be_seccomp_rule *r = &s->rules[i];
    be_buf_printf(&b, "rule %u %d", r->action, r->errno_ret);
    for (size_t k = 0; r->names[k]; k++)
      be_buf_printf(&b, " %s", r->names[k]);
    for (size_t k = 0; k < r->nargs; k++)
      be_buf_printf(&b, " [%u %d %llu %llu]", r->args[k].index, r->args[k].op, (unsigned long long)r->args[k].value,
                    (unsigned long long)r->args[k].value_two);
    be_buf_add(&b, "\n", 1);
  }
  return b.data ? b.data : be_xstrdup("");
}

static uint32_t with_errno(uint32_t action, int errno_ret) {
  if (action == SCMP_ACT_ERRNO(0))
    return SCMP_ACT_ERRNO(errno_ret < 0 ? EPERM : (uint16_t)errno_ret);
  if (action == SCMP_ACT_TRACE(0))
    return SCMP_ACT_TRACE(errno_ret < 0 ? EPERM : (uint16_t)errno_ret);
  return action;
}

int be_seccomp_compile(const be_seccomp *s, const char *path, be_error_t *err) {
  uint32_t def = with_errno(s->default_action, s->default_errno);
  scmp_filter_ctx ctx = seccomp_init(def);
  if (!ctx)
    return be_make_error(err, ENOMEM, "seccomp_init");
  int rc = -1, r;
  cleanup_free char *tmp = be_xasprintf("%s.tmp.%d", path, (int)getpid());
  int fd = -1;
  /* The kernel only needs the BPF; libseccomp's own no_new_privs handling is ours to do. */
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  for (size_t i = 0; s->architectures && s->architectures[i]; i++) {
    char lower[32];
    size_t k = 0;
    for (const char *p = s->architectures[i] + 10; *p && k + 1 < sizeof(lower); p++)
      lower[k++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
    lower[k] = '\0';
    uint32_t arch = seccomp_arch_resolve_name(lower);
    r = seccomp_arch_add(ctx, arch);
    if (r < 0 && r != -EEXIST) {
      be_make_error(err, -r, "seccomp_arch_add %s", s->architectures[i]);
      goto out;
    }
  }
  for (size_t i = 0; i < s->nrules; i++) {
    const be_seccomp_rule *rule = &s->rules[i];
    uint32_t action = with_errno(rule->action, rule->errno_ret);
    if (action == def)
      continue; /* libseccomp refuses rules that repeat the default action */
    struct scmp_arg_cmp cmps[6];
    for (size_t k = 0; k < rule->nargs; k++)
      cmps[k] = (struct scmp_arg_cmp){.arg = rule->args[k].index, .op = (enum scmp_compare)rule->args[k].op,
                                      .datum_a = rule->args[k].value, .datum_b = rule->args[k].value_two};
    for (size_t k = 0; rule->names[k]; k++) {
      int nr = seccomp_syscall_resolve_name(rule->names[k]);
      /* Names unknown to libseccomp (newer syscalls, other architectures) are skipped, as runc and crun do: a
       * profile lists syscalls for many kernels and architectures. */
      if (nr == __NR_SCMP_ERROR)
        continue;
      r = seccomp_rule_add_array(ctx, action, nr, (unsigned)rule->nargs, cmps);
      if (r < 0) {
        be_make_error(err, -r, "seccomp_rule_add `%s` (linux.seccomp.syscalls[%zu])", rule->names[k], i);
        goto out;
      }
    }
  }
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    be_make_error(err, errno, "open `%s`", tmp);
    goto out;
  }
  r = seccomp_export_bpf(ctx, fd);
  if (r < 0) {
    be_make_error(err, -r, "seccomp_export_bpf `%s`", tmp);
    goto out;
  }
  if (close(fd) < 0) {
    fd = -1;
    be_make_error(err, errno, "close `%s`", tmp);
    goto out;
  }
  fd = -1;
  if (rename(tmp, path) < 0) {
    be_make_error(err, errno, "rename `%s` to `%s`", tmp, path);
    goto out;
  }
  rc = 0;
out:
  if (fd >= 0)
    close(fd);
  if (rc < 0)
    unlink(tmp);
  seccomp_release(ctx);
  return rc;
}

int be_seccomp_prepare(const be_seccomp *s, const char *cache_dir, char **bpf_path, be_error_t *err) {
  char *path = be_xasprintf("%s/%016llx.bpf", cache_dir, (unsigned long long)s->hash);
  if (access(path, R_OK) == 0) {
    *bpf_path = path;
    return 0;
  }
  if (be_mkdir_p(cache_dir, 0700, err) < 0 || be_seccomp_compile(s, path, err) < 0) {
    free(path);
    return be_error_wrap(err, "compile seccomp profile");
  }
  *bpf_path = path;
  return 0;
}

int be_seccomp_read(const char *path, void **prog, unsigned short *len, be_error_t *err) {
  char *data = NULL;
  size_t n = 0;
  if (be_read_file(path, &data, &n, err) < 0)
    return -1;
  if (n == 0 || n % sizeof(struct sock_filter) != 0 || n / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    free(data);
    return be_make_error(err, 0, "read seccomp cache `%s`: not a BPF program; delete it to recompile", path);
  }
  *prog = data;
  *len = (unsigned short)(n / sizeof(struct sock_filter));
  return 0;
}

unsigned be_seccomp_flags(const be_seccomp *s) {
  unsigned f = 0;
  for (size_t i = 0; s->flags && s->flags[i]; i++)
    for (size_t k = 0; k < sizeof(filter_flags) / sizeof(filter_flags[0]); k++)
      if (strcmp(filter_flags[k].name, s->flags[i]) == 0)
        f |= filter_flags[k].flag;
  return f;
}

int be_seccomp_load(const be_seccomp *s, void *prog, unsigned short len, be_error_t *err) {
  struct sock_fprog fprog = {.len = len, .filter = prog};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, be_seccomp_flags(s), &fprog) < 0)
    return be_make_error(err, errno, "seccomp SECCOMP_SET_MODE_FILTER");
  return 0;
}
