/* `berth-engine run IMAGE`: prepare the root with the storage driver, build the OCI config from the image
 * config + flags on top of the runtime's hardened default spec, create + start through runtime.h, tell
 * systemd READY=1 (NOTIFY_SOCKET) once the container process runs, wait, clean up. Also ps/stop/rm. */
#define _GNU_SOURCE
#include "engine-run.h"

#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../caps.h"
#include "../cgroups.h"
#include "../runtime.h"
#include "containers.h"
#include "engine-config.h"
#include "etc-files.h"
#include "fsutil.h"
#include "json.h"
#include "network.h"
#include "store.h"

struct run_flags {
  bool rm, read_only;
  const char *name, *network, *workdir, *user, *hostname;
  long long memory, pids, cpu_quota; /* cpu_quota: µs per 100000 µs period (--cpus) */
  char **env, **volumes, **publish, **env_files;
  size_t nenv, nvol, npub, nenv_files;
  be_rlimit *ulimits; /* --ulimit, in flag order (a later one of the same name wins) */
  size_t nulimits;
  be_store_opts so;
};

static int parse_size(const char *s, long long *out) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || v < 0) return -1;
  long long mul = 1;
  switch (*end) {
  case 0: break;
  case 'b': case 'B': mul = 1; end++; break;
  case 'k': case 'K': mul = 1024; end++; break;
  case 'm': case 'M': mul = 1024 * 1024; end++; break;
  case 'g': case 'G': mul = 1024LL * 1024 * 1024; end++; break;
  default: return -1;
  }
  if (*end == 'b' || *end == 'B') end++;
  if (*end) return -1;
  *out = (long long)(v * (double)mul);
  return 0;
}

/* --cpus N (decimal, like Docker's NanoCPUs): quota in µs per 100 ms period. The kernel's minimum quota is 1 ms,
 * so 0.01 is the smallest; more CPUs than the host has is allowed (the quota then never binds). */
#define CPU_PERIOD 100000
static int parse_cpus(const char *s, long long *quota) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno || !(v >= 0.01) || v > 10000) return -1;
  *quota = (long long)(v * CPU_PERIOD + 0.5);
  return 0;
}

/* --ulimit NAME=SOFT[:HARD] with Docker's names (go-units ParseUlimit): HARD defaults to SOFT; -1 or
 * `unlimited` is RLIM_INFINITY; SOFT above HARD is refused, as is a nofile above the kernel's fs.nr_open
 * (setrlimit would fail with EPERM only when the container starts). */
static const struct {
  const char *name;
  int resource;
} ulimit_names[] = {
    {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},         {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},
    {"locks", RLIMIT_LOCKS},       {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},     {"nproc", RLIMIT_NPROC},     {"rss", RLIMIT_RSS},         {"rtprio", RLIMIT_RTPRIO},
    {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING}, {"stack", RLIMIT_STACK},
};

static int parse_ulimit_value(const char *s, size_t n, uint64_t *out) {
  if ((n == 2 && !strncmp(s, "-1", 2)) || (n == 9 && !strncmp(s, "unlimited", 9))) {
    *out = RLIM_INFINITY;
    return 0;
  }
  if (n == 0 || n > 20) return -1;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10) return -1;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  *out = v;
  return 0;
}

static int parse_ulimit(const char *spec, be_rlimit *out, be_error_t *err) {
  const char *eq = strchr(spec, '=');
  if (!eq) return be_make_error(err, 0, "--ulimit `%s`: use NAME=SOFT[:HARD], e.g. nofile=4096:8192", spec);
  size_t nl = (size_t)(eq - spec);
  out->resource = -1;
  for (size_t i = 0; i < sizeof ulimit_names / sizeof *ulimit_names; i++)
    if (strlen(ulimit_names[i].name) == nl && !strncmp(ulimit_names[i].name, spec, nl)) out->resource = ulimit_names[i].resource;
  if (out->resource < 0)
    return be_make_error(err, 0, "--ulimit `%s`: unknown limit `%.*s`; use one of core, cpu, data, fsize, locks, memlock, msgqueue, "
                                 "nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack", spec, (int)nl, spec);
  const char *soft = eq + 1, *colon = strchr(soft, ':');
  size_t ns = colon ? (size_t)(colon - soft) : strlen(soft);
  if (parse_ulimit_value(soft, ns, &out->soft) < 0 || (colon && parse_ulimit_value(colon + 1, strlen(colon + 1), &out->hard) < 0))
    return be_make_error(err, 0, "--ulimit `%s`: SOFT and HARD are whole numbers, or -1/unlimited", spec);
  if (!colon) out->hard = out->soft;
  if (out->soft > out->hard) return be_make_error(err, 0, "--ulimit `%s`: the soft limit is above the hard limit", spec);
  if (out->resource == RLIMIT_NOFILE) {
    cleanup_free char *nr = NULL;
    size_t len;
    long max;
    if (be_read_file("/proc/sys/fs/nr_open", &nr, &len, NULL) == 0 && (nr[strcspn(nr, "\n")] = 0, be_parse_long(nr, &max) == 0) &&
        out->hard > (uint64_t)max)
      return be_make_error(err, 0, "--ulimit `%s`: nofile cannot exceed the kernel's fs.nr_open (%ld)", spec, max);
  }
  struct rlimit own;
  uint64_t caps[BE_CAP_SETS];
  be_error_t e = NULL;
  /* Raising a hard limit needs CAP_SYS_RESOURCE (setrlimit(2)); an engine without it (itself in a container
   * that dropped it) can only give what it has. */
  if (getrlimit(out->resource, &own) == 0 && (rlim_t)out->hard > own.rlim_max && be_caps_read_pid(getpid(), caps, &e) == 0 &&
      !(caps[BE_CAP_EFFECTIVE] & (1ULL << CAP_SYS_RESOURCE)))
    return be_make_error(err, 0, "--ulimit `%s`: above the engine's own hard limit (%llu), which it cannot raise without CAP_SYS_RESOURCE",
                         spec, (unsigned long long)own.rlim_max);
  be_error_release(&e);
  return 0;
}

/* The image's defaults (the runtime spec's RLIMIT_NOFILE 1024) replaced per resource by --ulimit. */
static void apply_ulimits(be_config *cfg, const be_rlimit *u, size_t n) {
  be_process *p = &cfg->process;
  for (size_t i = 0; i < n; i++) {
    size_t k = 0;
    while (k < p->nrlimits && p->rlimits[k].resource != u[i].resource) k++;
    if (k == p->nrlimits) p->rlimits = realloc(p->rlimits, (++p->nrlimits + 1) * sizeof *p->rlimits);
    p->rlimits[k] = u[i];
  }
}

static void push(char ***v, size_t *n, const char *s) {
  *v = realloc(*v, (*n + 2) * sizeof **v);
  (*v)[(*n)++] = be_xstrdup(s);
  (*v)[*n] = NULL;
}

/* KEY=VALUE list with later entries replacing earlier ones of the same key. */
static void env_set(char ***v, size_t *n, const char *kv) {
  const char *eq = strchr(kv, '=');
  size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
  for (size_t i = 0; i < *n; i++)
    if (strncmp((*v)[i], kv, klen) == 0 && (*v)[i][klen] == '=') {
      free((*v)[i]);
      (*v)[i] = eq ? be_xstrdup(kv) : be_xasprintf("%s=%s", kv, getenv(kv) ? getenv(kv) : "");
      return;
    }
  if (eq) push(v, n, kv);
  else {
    cleanup_free char *full = be_xasprintf("%s=%s", kv, getenv(kv) ? getenv(kv) : "");
    push(v, n, full);
  }
}

static void strv_from_json(yajl_val arr, char ***v, size_t *n) {
  for (size_t i = 0; i < ij_len(arr); i++) {
    yajl_val s = ij_at(arr, i);
    if (s && YAJL_IS_STRING(s)) push(v, n, YAJL_GET_STRING(s));
  }
}

/* --env-file PATH, docker's format: one KEY=VALUE a line (the value verbatim, no quotes or expansion), `#`
 * comments and blank lines ignored, a bare KEY takes the engine's own value (skipped when unset). Appends
 * KEY=VALUE entries; a bad line is an error naming PATH:LINE. */
static int read_env_file(const char *path, char ***v, size_t *n, be_error_t *err) {
  cleanup_free char *text = NULL;
  size_t len;
  if (be_read_file(path, &text, &len, NULL) < 0) return be_make_error(err, errno, "--env-file `%s`: cannot read it", path);
  if (memchr(text, 0, len)) return be_make_error(err, 0, "--env-file `%s`: holds a NUL byte; give a text file", path);
  size_t lineno = 0;
  for (char *line = text, *next; line && *line; line = next) {
    lineno++;
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    size_t l = strlen(line);
    if (l && line[l - 1] == '\r') line[--l] = 0;
    if (lineno == 1 && !strncmp(line, "\xef\xbb\xbf", 3)) line += 3; /* UTF-8 byte order mark */
    while (*line == ' ' || *line == '\t') line++;
    if (!*line || *line == '#') continue;
    char *eq = strchr(line, '=');
    size_t klen = eq ? (size_t)(eq - line) : strlen(line);
    if (!eq)
      while (klen && (line[klen - 1] == ' ' || line[klen - 1] == '\t')) line[--klen] = 0;
    if (klen == 0) return be_make_error(err, 0, "%s:%zu: no variable name before `=`; write KEY=VALUE", path, lineno);
    for (size_t i = 0; i < klen; i++)
      if (line[i] == ' ' || line[i] == '\t')
        return be_make_error(err, 0, "%s:%zu: variable name `%.*s` contains whitespace; write KEY=VALUE", path, lineno,
                             (int)klen, line);
    if (eq) push(v, n, line);
    else if (getenv(line)) {
      cleanup_free char *kv = be_xasprintf("%s=%s", line, getenv(line));
      push(v, n, kv);
    }
  }
  return 0;
}

/* user: "uid[:gid]" numbers, or names looked up in the image's /etc/passwd and /etc/group. */
static int resolve_user(const char *rootfs, const char *user, uint32_t *uid, uint32_t *gid, be_error_t *err) {
  *uid = *gid = 0;
  if (!user || !*user) return 0;
  cleanup_free char *u = be_xstrdup(user);
  char *g = strchr(u, ':');
  if (g) *g++ = 0;
  long v;
  bool uid_numeric = be_parse_long(u, &v) == 0;
  if (uid_numeric) *uid = (uint32_t)v;
  bool gid_set = false;
  cleanup_free char *pw = be_xasprintf("%s/etc/passwd", rootfs);
  cleanup_free char *text = NULL;
  size_t len;
  if (!uid_numeric || !g) {
    if (be_read_file(pw, &text, &len, NULL) == 0) {
      for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *f[4] = {0};
        char *p = l;
        for (int i = 0; i < 4 && p; i++) {
          f[i] = p;
          p = strchr(p, ':');
          if (p) *p++ = 0;
        }
        if (!f[3]) continue;
        if ((uid_numeric && (uint32_t)atol(f[2]) == *uid) || (!uid_numeric && strcmp(f[0], u) == 0)) {
          *uid = (uint32_t)atol(f[2]);
          *gid = (uint32_t)atol(f[3]);
          gid_set = true;
          uid_numeric = true;
          break;
        }
      }
    }
    if (!uid_numeric) return be_make_error(err, 0, "user `%s` is not in the image's /etc/passwd; give a numeric uid", u);
  }
  if (g) {
    if (be_parse_long(g, &v) == 0) *gid = (uint32_t)v;
    else return be_make_error(err, 0, "group `%s`: give a numeric gid", g);
  } else if (!gid_set) {
    *gid = 0;
  }
  return 0;
}

static int add_volume(be_config *cfg, const char *spec, be_error_t *err) {
  cleanup_free char *s = be_xstrdup(spec);
  char *dst = strchr(s, ':');
  if (!dst || s[0] != '/') return be_make_error(err, 0, "-v `%s`: use /host/path:/container/path[:ro]", spec);
  *dst++ = 0;
  char *opt = strchr(dst, ':');
  if (opt) *opt++ = 0;
  if (dst[0] != '/') return be_make_error(err, 0, "-v `%s`: the container path must be absolute", spec);
  if (opt && strcmp(opt, "ro") && strcmp(opt, "rw")) return be_make_error(err, 0, "-v `%s`: options are ro or rw", spec);
  struct stat sb;
  if (stat(s, &sb) < 0) return be_make_error(err, errno, "-v `%s`: host path `%s`", spec, s);
  be_config_add_bind(cfg, s, dst, opt && !strcmp(opt, "ro") ? MS_RDONLY : 0, true);
  return 0;
}

static void drop_namespace(be_config *cfg, int type) {
  size_t k = 0;
  for (size_t i = 0; i < cfg->nnamespaces; i++) {
    if (cfg->namespaces[i].type == type) {
      free(cfg->namespaces[i].path);
      continue;
    }
    cfg->namespaces[k++] = cfg->namespaces[i];
  }
  cfg->nnamespaces = k;
}

/* Builds the runtime config: the runtime's default spec (podman's caps, masked paths, Docker's seccomp),
 * then the image's Entrypoint/Cmd/Env/WorkingDir/User, then the flags. */
static int build_config(const struct run_flags *f, const char *rootfs, const char *bundle, yajl_val image_config,
                        char **cmd, be_config **out, be_error_t *err) {
  cleanup_free char *spec = be_spec_default_json(false);
  be_config *cfg = NULL;
  if (be_config_parse(spec, strlen(spec), bundle, &cfg, err) < 0) return be_error_wrap(err, "default spec");
  yajl_val ic = ij_get(image_config, "config");
  char **args = NULL, **env = NULL;
  size_t na = 0, ne = 0;
  strv_from_json(ij_get(ic, "Entrypoint"), &args, &na);
  if (cmd && cmd[0])
    for (size_t i = 0; cmd[i]; i++) push(&args, &na, cmd[i]);
  else strv_from_json(ij_get(ic, "Cmd"), &args, &na);
  if (na == 0) {
    be_config_free(cfg);
    return be_make_error(err, 0, "the image has no Entrypoint or Cmd: give a command after the image name");
  }
  push(&env, &ne, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  yajl_val ienv = ij_get(ic, "Env");
  for (size_t i = 0; i < ij_len(ienv); i++)
    if (YAJL_IS_STRING(ij_at(ienv, i))) env_set(&env, &ne, YAJL_GET_STRING(ij_at(ienv, i)));
  cleanup_free char *host = be_xasprintf("HOSTNAME=%s", f->hostname);
  env_set(&env, &ne, host);
  /* Docker's order: every --env-file (in flag order), then -e, so -e wins. */
  for (size_t i = 0; i < f->nenv_files; i++) {
    char **fe = NULL;
    size_t nfe = 0;
    if (read_env_file(f->env_files[i], &fe, &nfe, err) < 0) {
      be_strv_free(fe);
      be_strv_free(args);
      be_strv_free(env);
      be_config_free(cfg);
      return -1;
    }
    for (size_t k = 0; k < nfe; k++) env_set(&env, &ne, fe[k]);
    be_strv_free(fe);
  }
  for (size_t i = 0; i < f->nenv; i++) env_set(&env, &ne, f->env[i]);
  be_strv_free(cfg->process.args);
  be_strv_free(cfg->process.env);
  cfg->process.args = args;
  cfg->process.env = env;
  cfg->process.terminal = false;
  const char *wd = f->workdir ? f->workdir : ij_get_str(ic, "WorkingDir");
  free(cfg->process.cwd);
  cfg->process.cwd = be_xstrdup(wd && *wd ? wd : "/");
  const char *user = f->user ? f->user : ij_get_str(ic, "User");
  if (resolve_user(rootfs, user, &cfg->process.uid, &cfg->process.gid, err) < 0) {
    be_config_free(cfg);
    return -1;
  }
  free(cfg->root_path);
  cfg->root_path = be_xstrdup(rootfs);
  cfg->root_readonly = f->read_only;
  free(cfg->hostname);
  cfg->hostname = strndup(f->hostname, 63);
  for (size_t i = 0; i < f->nvol; i++)
    if (add_volume(cfg, f->volumes[i], err) < 0) {
      be_config_free(cfg);
      return -1;
    }
  apply_ulimits(cfg, f->ulimits, f->nulimits);
  if (f->memory > 0) {
    cfg->has_resources = true;
    cfg->resources.has_memory_limit = true;
    cfg->resources.memory_limit = f->memory;
  }
  if (f->pids > 0) {
    cfg->has_resources = true;
    cfg->resources.has_pids_limit = true;
    cfg->resources.pids_limit = f->pids;
  }
  if (f->cpu_quota > 0) {
    cfg->has_resources = true;
    cfg->resources.has_cpu_quota = cfg->resources.has_cpu_period = true;
    cfg->resources.cpu_quota = f->cpu_quota;
    cfg->resources.cpu_period = CPU_PERIOD;
  }
  if (!strcmp(f->network, "host")) drop_namespace(cfg, CLONE_NEWNET);
  *out = cfg;
  return 0;
}

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET (path or @abstract). */
static void notify_systemd(const char *msg) {
  const char *path = getenv("NOTIFY_SOCKET");
  if (!path || !*path || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) return;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  strcpy(sa.sun_path, path);
  if (sa.sun_path[0] == '@') sa.sun_path[0] = 0;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
  sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
  close(fd);
}

static volatile pid_t forward_pid;
static void forward_signal(int sig) {
  if (forward_pid > 0) kill(forward_pid, sig);
}

static void random_name(char *buf, size_t n) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(buf, n, "c%08lx%04x", (unsigned long)(ts.tv_nsec ^ ts.tv_sec), (unsigned)getpid() & 0xffff);
}

static int write_status(be_store *st, const char *name, const char *status) {
  cleanup_free char *p = be_xasprintf("containers/%s/status", name);
  return img_write_file_at(st->root_fd, p, status, strlen(status), NULL);
}

static int engine_run(const be_global *g, int argc, char **argv, be_error_t *err) {
  static const struct option opts[] = {
      {"rm", no_argument, NULL, 'R'},          {"name", required_argument, NULL, 'n'},
      {"memory", required_argument, NULL, 'm'}, {"pids", required_argument, NULL, 'P'},
      {"pids-limit", required_argument, NULL, 'P'}, {"env", required_argument, NULL, 'e'},
      {"volume", required_argument, NULL, 'v'}, {"publish", required_argument, NULL, 'p'},
      {"read-only", no_argument, NULL, 'r'},    {"network", required_argument, NULL, 'N'},
      {"net", required_argument, NULL, 'N'},    {"workdir", required_argument, NULL, 'w'},
      {"user", required_argument, NULL, 'u'},   {"hostname", required_argument, NULL, 'h'},
      {"data-root", required_argument, NULL, 'D'}, {"storage-driver", required_argument, NULL, 'S'},
      {"dm-pool", required_argument, NULL, 'M'}, {"allow-loopback", no_argument, NULL, 'L'},
      {"env-file", required_argument, NULL, 'E'}, {"cpus", required_argument, NULL, 'C'},
      {"ulimit", required_argument, NULL, 'U'},   {NULL, 0, NULL, 0}};
  struct run_flags f = {.network = "none"};
  if (be_engine_store_defaults(g, &f.so, err) < 0) return -1;
  int c, rc = -1;
  while ((c = getopt_long(argc, argv, "+e:v:p:m:w:u:", opts, NULL)) != -1) {
    switch (c) {
    case 'R': f.rm = true; break;
    case 'n': f.name = optarg; break;
    case 'm':
      if (parse_size(optarg, &f.memory) < 0) return be_make_error(err, 0, "--memory `%s`: use bytes or a k/m/g suffix", optarg);
      break;
    case 'P': {
      long v;
      if (be_parse_long(optarg, &v) < 0 || v <= 0) return be_make_error(err, 0, "--pids `%s`: give a positive number", optarg);
      f.pids = v;
      break;
    }
    case 'e': push(&f.env, &f.nenv, optarg); break;
    case 'C':
      if (parse_cpus(optarg, &f.cpu_quota) < 0)
        return be_make_error(err, 0, "--cpus `%s`: give a decimal number of CPUs from 0.01 (e.g. 0.5 or 2)", optarg);
      break;
    case 'E': push(&f.env_files, &f.nenv_files, optarg); break;
    case 'U':
      f.ulimits = realloc(f.ulimits, (f.nulimits + 1) * sizeof *f.ulimits);
      if (parse_ulimit(optarg, &f.ulimits[f.nulimits], err) < 0) {
        free(f.ulimits);
        return -1;
      }
      f.nulimits++;
      break;
    case 'v': push(&f.volumes, &f.nvol, optarg); break;
    case 'p': push(&f.publish, &f.npub, optarg); break;
    case 'r': f.read_only = true; break;
    case 'N': f.network = optarg; break;
    case 'w': f.workdir = optarg; break;
    case 'u': f.user = optarg; break;
    case 'h': f.hostname = optarg; break;
    case 'D': f.so.data_root = optarg; break;
    case 'S': f.so.driver = strcmp(optarg, "auto") ? optarg : NULL; break;
    case 'M': f.so.dm_pool = optarg; break;
    case 'L': f.so.allow_loopback = true; break;
    default: return be_make_error(err, 0, "run: unknown option `%s`; see `berth-engine run --help`", argv[optind - 1]);
    }
  }
  if (optind >= argc) return be_make_error(err, 0, "run: name an image (berth-engine run [OPTIONS] IMAGE [CMD...])");
  if (strcmp(f.network, "none") && strcmp(f.network, "host") && strcmp(f.network, "bridge"))
    return be_make_error(err, 0, "--network `%s`: use none, host or bridge", f.network);
  if (f.npub && strcmp(f.network, "bridge")) return be_make_error(err, 0, "-p needs --network bridge");
  be_port ports[64];
  if (f.npub > 64) return be_make_error(err, 0, "-p: at most 64 published ports");
  for (size_t i = 0; i < f.npub; i++)
    if (be_net_parse_publish(f.publish[i], &ports[i], err) < 0) return -1;
  bool bridge = !strcmp(f.network, "bridge");
  char ip[16] = "";
  const char *image = argv[optind];
  char **cmd = argv + optind + 1;
  char namebuf[32];
  if (!f.name) {
    random_name(namebuf, sizeof namebuf);
    f.name = namebuf;
  }
  if (!f.hostname) f.hostname = f.name;
  be_store st;
  if (be_store_open(&f.so, &st, err) < 0) {
    be_store_close(&st);
    return -1;
  }
  cleanup_free char *rootfs = NULL;
  be_image_rec img = {0};
  be_config *cfg = NULL;
  yajl_val iconf = NULL;
  bool created = false;
  const char *rt_root = g->root;
  if (be_croot_create(&st, f.name, image, &rootfs, &img, err) < 0) goto out;
  created = true;
  {
    cleanup_free char *cpath = be_xasprintf("images/%s/config.json", img.id);
    iconf = ij_parse_file(st.root_fd, cpath, 8u << 20, err);
    if (!iconf) goto out;
  }
  cleanup_free char *bundle = be_xasprintf("%s/containers/%s", st.root, f.name);
  if (build_config(&f, rootfs, bundle, iconf, cmd, &cfg, err) < 0) goto out;
  if (bridge && be_net_allocate(&st, f.name, ip, err) < 0) goto out;
  if (be_etc_files_add(cfg, bundle, f.network, cfg->hostname, ip, err) < 0) goto out;
  write_status(&st, f.name, "created");
  be_store_unlock(&st);
  /* Stale runtime state of an earlier container with this name (killed engine) would block create. */
  be_error_t e = NULL;
  be_container_delete(rt_root, f.name, true, &e);
  be_error_release(&e);
  be_run_opts ro = {.root = rt_root, .id = f.name, .bundle = bundle, .init = true};
  if (be_container_create(&ro, cfg, err) < 0) goto relock;
  be_state s;
  if (be_container_state(rt_root, f.name, &s, err) < 0) goto relock;
  pid_t pid = s.pid;
  be_state_clear(&s);
  if (bridge && be_net_attach(f.name, pid, ip, ports, f.npub, err) < 0) {
    be_net_detach(f.name);
    be_container_delete(rt_root, f.name, true, &e);
    be_error_release(&e);
    goto relock;
  }
  forward_pid = pid;
  struct sigaction sa = {.sa_handler = forward_signal, .sa_flags = SA_RESTART};
  int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) sigaction(sigs[i], &sa, NULL);
  if (be_container_start(rt_root, f.name, err) < 0) {
    be_container_delete(rt_root, f.name, true, &e);
    be_error_release(&e);
    goto relock;
  }
  {
    cleanup_free char *ready = be_xasprintf("READY=1\nMAINPID=%d\nSTATUS=container %s running", (int)getpid(), f.name);
    notify_systemd(ready);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  forward_pid = 0;
  rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  notify_systemd("STOPPING=1");
  be_container_delete(rt_root, f.name, true, &e);
  be_error_release(&e);
relock:
  if (bridge) be_net_detach(f.name);
  be_store_lock(&st, NULL);
  if (bridge && created) {
    cleanup_free char *ipfile = be_xasprintf("containers/%s/ip", f.name);
    unlinkat(st.root_fd, ipfile, 0);
  }
out:
  if (created) {
    be_error_t e2 = NULL;
    if (f.rm || rc < 0) be_croot_remove(&st, f.name, true, &e2);
    else {
      be_croot_unmount(&st, f.name, &e2);
      char buf[32];
      snprintf(buf, sizeof buf, "exited %d", rc);
      write_status(&st, f.name, buf);
    }
    be_error_release(&e2);
  }
  if (iconf) yajl_tree_free(iconf);
  be_config_free(cfg);
  be_image_rec_clear(&img);
  be_store_close(&st);
  be_strv_free(f.env);
  be_strv_free(f.env_files);
  be_strv_free(f.volumes);
  be_strv_free(f.publish);
  free(f.ulimits);
  return rc;
}

int be_cmd_run_dispatch(const be_global *g, int argc, char **argv, be_error_t *err) {
  /* The OCI runtime's `run` always names a bundle (runc defaults it to the cwd: a config.json there). */
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--bundle") || !strcmp(argv[i], "-b") || !strncmp(argv[i], "--bundle=", 9)) return be_cmd_run(g, argc, argv, err);
    if (argv[i][0] != '-') break;
  }
  if (argc == 2 && argv[1][0] != '-' && be_path_exists("config.json")) return be_cmd_run(g, argc, argv, err);
  return engine_run(g, argc, argv, err);
}

/* Takes --data-root/--storage-driver from anywhere in argv (compacting it) and opens the store. */
static int open_store_from(const be_global *g, int *argc, char **argv, be_store *st, int *first, be_error_t *err) {
  be_store_opts so;
  if (be_engine_store_defaults(g, &so, err) < 0) return -1;
  int k = 1;
  for (int i = 1; i < *argc; i++) {
    if (!strcmp(argv[i], "--data-root") && i + 1 < *argc) so.data_root = argv[++i];
    else if (!strcmp(argv[i], "--storage-driver") && i + 1 < *argc) so.driver = strcmp(argv[++i], "auto") ? argv[i] : NULL;
    else if (!strcmp(argv[i], "--dm-pool") && i + 1 < *argc) so.dm_pool = argv[++i];
    else if (!strcmp(argv[i], "--allow-loopback")) so.allow_loopback = true;
    else argv[k++] = argv[i];
  }
  *argc = k;
  *first = 1;
  if (be_store_open(&so, st, err) < 0) {
    be_store_close(st);
    return -1;
  }
  return 0;
}

int be_cmd_ps(const be_global *g, int argc, char **argv, be_error_t *err) {
  be_store st;
  int i;
  if (open_store_from(g, &argc, argv, &st, &i, err) < 0) return -1;
  bool all = false, json = false;
  for (; i < argc; i++) {
    if (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--all")) all = true;
    else if (!strcmp(argv[i], "--json")) json = true;
    else {
      be_store_close(&st);
      return be_make_error(err, 0, "ps: unknown option `%s`", argv[i]);
    }
  }
  char **names = be_croot_list(&st);
  be_buf b = {0};
  if (json) be_buf_puts(&b, "[");
  else be_buf_printf(&b, "%-24s %-12s %-10s %s\n", "NAME", "IMAGE", "PID", "STATUS");
  bool first = true;
  for (size_t k = 0; names[k]; k++) {
    be_state s;
    be_error_t e = NULL;
    bool running = be_container_state(g->root, names[k], &s, &e) == 0 && s.status == BE_RUNNING;
    pid_t pid = running ? s.pid : 0;
    if (!e) be_state_clear(&s);
    be_error_release(&e);
    cleanup_free char *ip = be_xasprintf("containers/%s/image", names[k]);
    cleanup_free char *sp = be_xasprintf("containers/%s/status", names[k]);
    cleanup_free char *image = img_read_file_at(st.root_fd, ip, 128, NULL);
    cleanup_free char *status = img_read_file_at(st.root_fd, sp, 128, NULL);
    const char *shown = running ? "running" : status && strncmp(status, "exited", 6) == 0 ? status : "stopped";
    if (!running && !all) continue;
    if (json) {
      be_buf_printf(&b, "%s{\"name\":", first ? "" : ",");
      be_buf_json_string(&b, names[k]);
      be_buf_printf(&b, ",\"image\":\"sha256:%s\",\"pid\":%d,\"status\":", image ? image : "", (int)pid);
      be_buf_json_string(&b, shown);
      be_buf_puts(&b, "}");
    } else {
      be_buf_printf(&b, "%-24s %-12.12s %-10d %s\n", names[k], image ? image : "", (int)pid, shown);
    }
    first = false;
  }
  if (json) be_buf_puts(&b, "]\n");
  fwrite(b.data, 1, b.len, stdout);
  free(b.data);
  be_strv_free(names);
  be_store_close(&st);
  return 0;
}

static bool still_running(const char *root, const char *name) {
  be_state s;
  be_error_t e = NULL;
  if (be_container_state(root, name, &s, &e) < 0) {
    be_error_release(&e);
    return false;
  }
  bool r = s.status == BE_RUNNING || s.status == BE_CREATED;
  be_state_clear(&s);
  return r;
}

int be_cmd_stop(const be_global *g, int argc, char **argv, be_error_t *err) {
  long grace = 10;
  char **names = be_xmalloc0((size_t)argc * sizeof *names);
  size_t nn = 0;
  for (int i = 1; i < argc; i++) {
    if ((!strcmp(argv[i], "-t") || !strcmp(argv[i], "--time")) && i + 1 < argc) {
      if (be_parse_long(argv[++i], &grace) < 0 || grace < 0) {
        free(names);
        return be_make_error(err, 0, "stop: -t needs seconds");
      }
    } else if ((!strcmp(argv[i], "--data-root") || !strcmp(argv[i], "--storage-driver")) && i + 1 < argc) {
      i++; /* stop talks to the runtime only */
    } else if (argv[i][0] == '-') {
      free(names);
      return be_make_error(err, 0, "stop: unknown option `%s`", argv[i]);
    } else {
      names[nn++] = argv[i];
    }
  }
  if (nn == 0) {
    free(names);
    return be_make_error(err, 0, "stop: name a container");
  }
  for (size_t n = 0; n < nn; n++) {
    const char *name = names[n];
    if (be_validate_id(name, err) < 0) {
      free(names);
      return -1;
    }
    if (!still_running(g->root, name)) continue;
    /* SIGTERM to the container's init, then SIGKILL to everything in its cgroup after the grace period. */
    be_error_t e = NULL;
    be_container_kill(g->root, name, SIGTERM, false, &e);
    be_error_release(&e);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
      if (!still_running(g->root, name)) break;
      clock_gettime(CLOCK_MONOTONIC, &now);
      long long ms = (long long)(now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
      if (ms >= grace * 1000) {
        be_container_kill(g->root, name, SIGKILL, true, &e);
        be_error_release(&e);
        break;
      }
      struct timespec ts = {0, 20 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
    for (int k = 0; k < 500 && still_running(g->root, name); k++) {
      struct timespec ts = {0, 10 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
    printf("%s\n", name);
  }
  free(names);
  return 0;
}

int be_cmd_rm(const be_global *g, int argc, char **argv, be_error_t *err) {
  be_store st;
  int i;
  if (open_store_from(g, &argc, argv, &st, &i, err) < 0) return -1;
  bool force = false;
  if (i < argc && (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--force"))) force = true, i++;
  int rc = 0;
  if (i >= argc) rc = be_make_error(err, 0, "rm: name a container");
  for (; rc == 0 && i < argc; i++) {
    if (still_running(g->root, argv[i])) {
      if (!force) {
        rc = be_make_error(err, EBUSY, "rm `%s`: the container is running; `berth-engine stop %s` first, or rm -f", argv[i], argv[i]);
        break;
      }
      be_error_t e = NULL;
      be_container_delete(g->root, argv[i], true, &e);
      be_error_release(&e);
    }
    rc = be_croot_remove(&st, argv[i], false, err);
    if (rc == 0) printf("%s\n", argv[i]);
  }
  be_store_close(&st);
  return rc;
}

/* `selftest`: the health check `berth apply` runs after installing or switching the engine. No image: a
 * throwaway root (DATA_ROOT/tmp/selftest-PID) gets this very binary bind-mounted read-only at /berth-engine, which
 * then runs as the container process through the same path as `run` (build_config: the hardened default spec,
 * a read-only root, network none, a memory, pids and cpu limit) and checks from inside what the defaults promise.
 * The storage driver's preflight runs on opening the store. Prints one line; a failure is one line on stderr. */
#define SELFTEST_MEMORY (64LL << 20)
#define SELFTEST_PIDS 16

/* The container side: `berth-engine selftest --inside CAPEFF_HEX`; writes "ok" or the reason to /out/result. */
static int selftest_inside(const char *want_capeff) {
  char reason[256] = "";
  cleanup_free char *status = NULL;
  size_t len;
  if (getpid() != 1) snprintf(reason, sizeof reason, "the container process is pid %d, not 1 (no pid namespace)", (int)getpid());
  else if (be_read_file("/proc/self/status", &status, &len, NULL) < 0) snprintf(reason, sizeof reason, "cannot read /proc/self/status in the container");
  if (!*reason) {
    const char *sc = strstr(status, "\nSeccomp:\t"), *nnp = strstr(status, "\nNoNewPrivs:\t"), *ce = strstr(status, "\nCapEff:\t");
    unsigned long long capeff = ce ? strtoull(ce + 9, NULL, 16) : ~0ULL;
    if (!sc || sc[10] != '2') snprintf(reason, sizeof reason, "seccomp mode is %c in the container, want 2 (filter)", sc ? sc[10] : '?');
    else if (!nnp || nnp[13] != '1') snprintf(reason, sizeof reason, "no_new_privs is not set in the container");
    else if (capeff != strtoull(want_capeff, NULL, 16))
      snprintf(reason, sizeof reason, "effective capabilities are %016llx in the container, want %s", capeff, want_capeff);
  }
  if (!*reason) {
    int fd = open("/selftest-write-probe", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0 || errno != EROFS) snprintf(reason, sizeof reason, "writing to the read-only root %s", fd >= 0 ? "succeeded" : strerror(errno));
    if (fd >= 0) close(fd);
  }
  if (!*reason) {
    /* The bind-mounted binary is this running program (open for write says ETXTBSY), so ask the mount. */
    struct statvfs sv;
    if (statvfs("/berth-engine", &sv) < 0 || !(sv.f_flag & ST_RDONLY)) snprintf(reason, sizeof reason, "the read-only bind mount /berth-engine is writable");
  }
  if (!*reason) {
    char host[65] = "";
    gethostname(host, sizeof host - 1);
    cleanup_free char *net = NULL;
    if (strcmp(host, "berth-selftest")) snprintf(reason, sizeof reason, "hostname is `%s` in the container (no UTS namespace)", host);
    else if (be_read_file("/proc/net/dev", &net, &len, NULL) < 0) snprintf(reason, sizeof reason, "cannot read /proc/net/dev in the container");
    else {
      int ifaces = 0;
      for (char *l = strchr(net, '\n'); l && (l = strchr(l + 1, '\n'));) ifaces += l[1] != 0;
      if (ifaces != 1 || !strstr(net, "lo:")) snprintf(reason, sizeof reason, "network none should leave only lo, found %d interfaces", ifaces);
    }
  }
  const char *res = *reason ? reason : "ok";
  int fd = open("/out/result", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) { /* not in the selftest container (e.g. run by hand): say it on stderr */
    fprintf(stderr, "berth-engine selftest --inside: %s\n", res);
    return *reason ? 1 : 0;
  }
  be_write_all(fd, res, strlen(res));
  close(fd);
  return *reason ? 1 : 0;
}

static char *read_trimmed(const char *path) {
  cleanup_free char *s = NULL;
  size_t len;
  if (be_read_file(path, &s, &len, NULL) < 0) return NULL;
  while (len && (s[len - 1] == '\n' || s[len - 1] == ' ')) s[--len] = 0;
  return be_xstrdup(s);
}

/* Whether resource limits can be set here: not when the v1 controllers are mounted read-only (a host that is
 * itself a container without cgroup delegation; the runtime then refuses limits, see cgroup-v1.c). */
static bool selftest_limits_possible(be_cgroup_mode mode) {
  if (mode == BE_CGROUP_V2) return true;
  static const char *const need[] = {"/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu"};
  for (size_t i = 0; i < sizeof need / sizeof *need; i++) {
    struct statvfs sv;
    if (statvfs(need[i], &sv) == 0 && (sv.f_flag & ST_RDONLY)) return false;
  }
  return true;
}

/* The container's cgroup seen from the host: memory and pids limits (when set), and the pid inside it. */
static int selftest_check_cgroup(const char *cgpath, pid_t pid, be_cgroup_mode mode, bool limits, be_error_t *err) {
  bool v2 = mode == BE_CGROUP_V2;
  cleanup_free char *mem = be_xasprintf(v2 ? "/sys/fs/cgroup%s/memory.max" : "/sys/fs/cgroup/memory%s/memory.limit_in_bytes", cgpath);
  cleanup_free char *pids = be_xasprintf(v2 ? "/sys/fs/cgroup%s/pids.max" : "/sys/fs/cgroup/pids%s/pids.max", cgpath);
  /* Without limits (read-only v1 controllers) the container's cgroup exists only in the writable trees. */
  cleanup_free char *procs = be_xasprintf(v2 ? "/sys/fs/cgroup%s/cgroup.procs"
                                          : limits ? "/sys/fs/cgroup/pids%s/cgroup.procs"
                                          : mode == BE_CGROUP_HYBRID ? "/sys/fs/cgroup/unified%s/cgroup.procs"
                                                                     : "/sys/fs/cgroup/systemd%s/cgroup.procs",
                                          cgpath);
  cleanup_free char *m = read_trimmed(mem), *p = read_trimmed(pids), *pr = read_trimmed(procs);
  if (limits && (!m || atoll(m) != SELFTEST_MEMORY))
    return be_make_error(err, 0, "memory limit: `%s` is `%s`, want %lld", mem, m ? m : "missing", SELFTEST_MEMORY);
  if (limits && (!p || atoll(p) != SELFTEST_PIDS))
    return be_make_error(err, 0, "pids limit: `%s` is `%s`, want %d", pids, p ? p : "missing", SELFTEST_PIDS);
  char want[32];
  snprintf(want, sizeof want, "%d", (int)pid);
  bool found = false;
  for (char *save = NULL, *l = pr ? strtok_r(pr, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) found |= !strcmp(l, want);
  if (!found) return be_make_error(err, 0, "the container process %d is not in `%s`", (int)pid, procs);
  return 0;
}

static int selftest_run(const be_global *g, be_store *st, struct run_flags *f, const char *dir, be_error_t *err) {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return be_make_error(err, errno, "readlink /proc/self/exe");
  exe[n] = 0;
  if (strstr(exe, " (deleted)")) return be_make_error(err, 0, "the engine binary `%s` was replaced while running; run selftest again", exe);
  cleanup_free char *rootfs = be_xasprintf("%s/rootfs", dir), *out = be_xasprintf("%s/out", dir);
  cleanup_free char *target = be_xasprintf("%s/berth-engine", rootfs);
  static const char *const dirs[] = {"proc", "sys", "dev", "tmp", "out"};
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
    cleanup_free char *d = be_xasprintf("%s/%s", rootfs, dirs[i]);
    if (be_mkdir_p(d, 0755, err) < 0) return -1;
  }
  if (be_mkdir_p(out, 0700, err) < 0 || be_write_file(target, "", 0, 0755, err) < 0) return -1;
  cleanup_free char *vol_exe = be_xasprintf("%s:/berth-engine:ro", exe), *vol_out = be_xasprintf("%s:/out", out);
  push(&f->volumes, &f->nvol, vol_exe);
  push(&f->volumes, &f->nvol, vol_out);
  f->read_only = true;
  f->network = "none";
  f->hostname = "berth-selftest";
  bool limits = selftest_limits_possible(be_cgroup_detect());
  if (limits) {
    f->memory = SELFTEST_MEMORY;
    f->pids = SELFTEST_PIDS;
    f->cpu_quota = CPU_PERIOD / 2;
  }
  /* The capability set is the default spec's, whatever it is in this build. */
  char *cmd[] = {"/berth-engine", "selftest", "--inside", "0", NULL};
  be_config *cfg = NULL;
  if (build_config(f, rootfs, dir, NULL, cmd, &cfg, err) < 0) return -1;
  char capeff[32];
  snprintf(capeff, sizeof capeff, "%016llx", (unsigned long long)cfg->process.caps[BE_CAP_EFFECTIVE]);
  free(cfg->process.args[3]);
  cfg->process.args[3] = be_xstrdup(capeff);
  be_store_unlock(st);
  be_error_t e = NULL;
  be_container_delete(g->root, f->name, true, &e);
  be_error_release(&e);
  be_run_opts ro = {.root = g->root, .id = f->name, .bundle = dir, .init = false};
  int rc = be_container_create(&ro, cfg, err);
  be_config_free(cfg);
  if (rc < 0) return be_error_wrap(err, "create the selftest container");
  be_state s;
  pid_t pid = 0;
  if ((rc = be_container_state(g->root, f->name, &s, err)) == 0) {
    pid = s.pid;
    rc = selftest_check_cgroup(s.cgroup_path ? s.cgroup_path : "", pid, be_cgroup_detect(), limits, err);
    be_state_clear(&s);
  }
  if (rc == 0) rc = be_container_start(g->root, f->name, err);
  if (rc == 0) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    cleanup_free char *resf = be_xasprintf("%s/result", out);
    cleanup_free char *res = read_trimmed(resf);
    if (!res) rc = be_make_error(err, 0, "the container process ended (%s %d) without a result", WIFEXITED(status) ? "exit" : "signal",
                                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    else if (strcmp(res, "ok")) rc = be_make_error(err, 0, "%s", res);
    else if (!WIFEXITED(status) || WEXITSTATUS(status)) rc = be_make_error(err, 0, "the container process ended with status %d", status);
  }
  be_container_delete(g->root, f->name, true, &e);
  be_error_release(&e);
  return rc;
}

int be_cmd_selftest(const be_global *g, int argc, char **argv, be_error_t *err) {
  if (argc == 3 && !strcmp(argv[1], "--inside")) return selftest_inside(argv[2]);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  static const struct option opts[] = {
      {"data-root", required_argument, NULL, 'D'}, {"storage-driver", required_argument, NULL, 'S'},
      {"dm-pool", required_argument, NULL, 'M'},   {"allow-loopback", no_argument, NULL, 'L'},
      {NULL, 0, NULL, 0}};
  struct run_flags f = {.network = "none"};
  if (be_engine_store_defaults(g, &f.so, err) < 0) return be_error_wrap(err, "selftest");
  int c;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
    switch (c) {
    case 'D': f.so.data_root = optarg; break;
    case 'S': f.so.driver = strcmp(optarg, "auto") ? optarg : NULL; break;
    case 'M': f.so.dm_pool = optarg; break;
    case 'L': f.so.allow_loopback = true; break;
    default: return be_make_error(err, 0, "selftest: unknown option `%s`; use [--data-root DIR] [--storage-driver D]", argv[optind - 1]);
    }
  }
  if (optind < argc) return be_make_error(err, 0, "selftest: unexpected argument `%s`", argv[optind]);
  char name[48];
  snprintf(name, sizeof name, "berth-selftest-%d", (int)getpid());
  f.name = name;
  be_store st;
  if (be_store_open(&f.so, &st, err) < 0) {
    be_store_close(&st);
    return be_error_wrap(err, "selftest: storage driver preflight");
  }
  cleanup_free char *driver = be_xstrdup(st.storage.driver->name);
  cleanup_free char *dir = be_xasprintf("%s/tmp/%s", st.root, name);
  be_error_t e = NULL;
  be_rm_rf(dir, &e);
  be_error_release(&e);
  int rc = be_mkdir_p(dir, 0700, err);
  if (rc == 0) rc = selftest_run(g, &st, &f, dir, err);
  be_rm_rf(dir, &e);
  be_error_release(&e);
  be_store_close(&st);
  be_strv_free(f.volumes);
  if (rc < 0) return be_error_wrap(err, "selftest (%s, cgroup %s)", driver, be_cgroup_mode_name(be_cgroup_detect()));
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long long ms = (long long)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  be_cgroup_mode mode = be_cgroup_detect();
  printf("berth-engine selftest: ok (%s, cgroup %s%s, %lld ms)\n", driver, be_cgroup_mode_name(mode),
         selftest_limits_possible(mode) ? "" : ", limits not checked: cgroup controllers read-only", ms);
  return 0;
}
