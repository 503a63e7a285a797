/* The OCI runtime CLI: flags → one call into runtime.h per command (flag names follow runc and crun, since
 * podman/conmon pass them). */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci-config.h"
#include "runtime.h"
#include "utils.h"

#define BE_VERSION "0.1.0"

enum {
  OPT_BUNDLE = 256, OPT_CONSOLE, OPT_PIDFILE, OPT_NOPIVOT, OPT_NOKEYRING, OPT_PRESERVE, OPT_INIT, OPT_DETACH,
  OPT_FORCE, OPT_ALL, OPT_PROCESS, OPT_TTY, OPT_CWD, OPT_ENV, OPT_QUIET, OPT_ROOTLESS, OPT_FORMAT, OPT_USER,
  OPT_CAP, OPT_NNP, OPT_IGNORED, OPT_IGNORED_ARG,
};

static const struct option create_opts[] = {
    {"bundle", required_argument, NULL, 'b'},
    {"console-socket", required_argument, NULL, OPT_CONSOLE},
    {"pid-file", required_argument, NULL, OPT_PIDFILE},
    {"no-pivot", no_argument, NULL, OPT_NOPIVOT},
    {"no-new-keyring", no_argument, NULL, OPT_NOKEYRING},
    {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
    {"init", no_argument, NULL, OPT_INIT},
    {"detach", no_argument, NULL, 'd'},
    {"keep", no_argument, NULL, OPT_IGNORED},
    {"no-subreaper", no_argument, NULL, OPT_IGNORED},
    {NULL, 0, NULL, 0}};

static int one_id(int argc, char **argv, const char *usage, const char **id, be_error_t *err) {
  if (optind >= argc)
    return be_make_error(err, 0, "%s: missing container ID; usage: berth-engine %s", argv[0], usage);
  *id = argv[optind++];
  return be_validate_id(*id, err);
}

static int parse_create(int argc, char **argv, be_run_opts *o, const char *usage, be_error_t *err) {
  int c;
  o->bundle = ".";
  while ((c = getopt_long(argc, argv, "+b:d", create_opts, NULL)) != -1) {
    switch (c) {
    case 'b': o->bundle = optarg; break;
    case OPT_CONSOLE: o->console_socket = optarg; break;
    case OPT_PIDFILE: o->pid_file = optarg; break;
    case OPT_NOPIVOT: o->no_pivot = true; break;
    case OPT_NOKEYRING: o->no_new_keyring = true; break;
    case OPT_PRESERVE: {
      long n;
      if (be_parse_long(optarg, &n) < 0 || n < 0 || n > 1000)
        return be_make_error(err, 0, "%s: --preserve-fds `%s`: give a number of fds", argv[0], optarg);
      o->preserve_fds = (int)n;
      o->preserve_fds_set = true;
      break;
    }
    case OPT_INIT: o->init = true; break;
    case 'd': o->detach = true; break;
    case OPT_IGNORED: break;
    default: return be_make_error(err, 0, "%s: unknown option `%s`; usage: berth-engine %s", argv[0], argv[optind - 1], usage);
    }
  }
  if (one_id(argc, argv, usage, &o->id, err) < 0)
    return -1;
  if (optind < argc)
    return be_make_error(err, 0, "%s: unexpected argument `%s`; usage: berth-engine %s", argv[0], argv[optind], usage);
  return 0;
}

/* The systemd cgroup manager (transient scopes over D-Bus) is not implemented: say so instead of placing the
 * container somewhere the caller did not ask for. */
static int refuse_systemd_cgroup(const be_global *g, be_error_t *err) {
  if (g->systemd_cgroup)
    return be_make_error(err, 0, "--systemd-cgroup: the systemd cgroup manager is not supported; use cgroupfs (podman: --cgroup-manager cgroupfs)");
  return 0;
}

int be_cmd_create(const be_global *g, int argc, char **argv, be_error_t *err) {
  be_run_opts o = {.root = g->root};
  if (refuse_systemd_cgroup(g, err) < 0)
    return -1;
  if (parse_create(argc, argv, &o, "create --bundle DIR [--console-socket S] [--pid-file F] ID", err) < 0)
    return -1;
  be_config *cfg = NULL;
  if (be_config_load(o.bundle, &cfg, err) < 0)
    return -1;
  int rc = be_container_create(&o, cfg, err);
  be_config_free(cfg);
  return rc < 0 ? -1 : 0;
}

int be_cmd_run(const be_global *g, int argc, char **argv, be_error_t *err) {
  be_run_opts o = {.root = g->root};
  if (refuse_systemd_cgroup(g, err) < 0)
    return -1;
  if (parse_create(argc, argv, &o, "run --bundle DIR [--detach] [--init] ID", err) < 0)
    return -1;
  be_config *cfg = NULL;
  if (be_config_load(o.bundle, &cfg, err) < 0)
    return -1;
  int status = 0;
  int rc = be_container_run(&o, cfg, &status, err);
  be_config_free(cfg);
  return rc < 0 ? -1 : status;
}

static int no_flags(int argc, char **argv, const char *usage, const char **id, be_error_t *err) {
  static const struct option none[] = {{NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "+", none, NULL)) != -1)
    return be_make_error(err, 0, "%s: unknown option `%s`; usage: berth-engine %s", argv[0], argv[optind - 1], usage);
  if (one_id(argc, argv, usage, id, err) < 0)
    return -1;
  return 0;
}

int be_cmd_start(const be_global *g, int argc, char **argv, be_error_t *err) {
  const char *id = NULL;
  if (no_flags(argc, argv, "start ID", &id, err) < 0)
    return -1;
  return be_container_start(g->root, id, err) < 0 ? -1 : 0;
}

int be_cmd_state(const be_global *g, int argc, char **argv, be_error_t *err) {
  const char *id = NULL;
  if (no_flags(argc, argv, "state ID", &id, err) < 0)
    return -1;
  cleanup_free char *json = NULL;
  if (be_container_state_json(g->root, id, &json, err) < 0)
    return -1;
  fputs(json, stdout);
  fputc('\n', stdout);
  return 0;
}

int be_cmd_kill(const be_global *g, int argc, char **argv, be_error_t *err) {
  static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
  bool all = false;
  int c;
  while ((c = getopt_long(argc, argv, "+a", opts, NULL)) != -1) {
    if (c == 'a')
      all = true;
    else
      return be_make_error(err, 0, "kill: unknown option `%s`; usage: berth-engine kill [--all] ID [SIGNAL]", argv[optind - 1]);
  }
  const char *id = NULL;
  if (one_id(argc, argv, "kill [--all] ID [SIGNAL]", &id, err) < 0)
    return -1;
  int sig = SIGTERM;
  if (optind < argc) {
    sig = be_signal_parse(argv[optind]);
    if (sig < 0)
      return be_make_error(err, 0, "kill: unknown signal `%s`; give a name like TERM or a number", argv[optind]);
  }
  return be_container_kill(g->root, id, sig, all, err) < 0 ? -1 : 0;
}

int be_cmd_delete(const be_global *g, int argc, char **argv, be_error_t *err) {
  static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
  bool force = false;
  int c;
  while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
    if (c == 'f')
      force = true;
    else
      return be_make_error(err, 0, "delete: unknown option `%s`; usage: berth-engine delete [--force] ID", argv[optind - 1]);
  }
  const char *id = NULL;
  if (one_id(argc, argv, "delete [--force] ID", &id, err) < 0)
    return -1;
  return be_container_delete(g->root, id, force, err) < 0 ? -1 : 0;
}

int be_cmd_exec(const be_global *g, int argc, char **argv, be_error_t *err) {
  static const struct option opts[] = {
      {"process", required_argument, NULL, 'p'}, {"tty", no_argument, NULL, 't'},
      {"detach", no_argument, NULL, 'd'},         {"console-socket", required_argument, NULL, OPT_CONSOLE},
      {"pid-file", required_argument, NULL, OPT_PIDFILE}, {"cwd", required_argument, NULL, OPT_CWD},
      {"env", required_argument, NULL, 'e'},      {"user", required_argument, NULL, 'u'},
      {"preserve-fds", required_argument, NULL, OPT_PRESERVE}, {"no-new-privs", no_argument, NULL, OPT_NNP},
      {"cap", required_argument, NULL, OPT_CAP},  {NULL, 0, NULL, 0}};
  static const char *usage = "exec [--process FILE | [--tty] [--cwd DIR] [--env K=V] [--user UID[:GID]] ID CMD...] ID";
  be_run_opts o = {.root = g->root};
  const char *process_file = NULL, *cwd = NULL, *user = NULL;
  bool tty = false;
  cleanup_strv char **env = be_xmalloc0(sizeof(char *));
  size_t nenv = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+p:tde:u:", opts, NULL)) != -1) {
    switch (c) {
    case 'p': process_file = optarg; break;
    case 't': tty = true; break;
    case 'd': o.detach = true; break;
    case OPT_CONSOLE: o.console_socket = optarg; break;
    case OPT_PIDFILE: o.pid_file = optarg; break;
    case OPT_CWD: cwd = optarg; break;
    case 'u': user = optarg; break;
    case OPT_NNP: break; /* exec always inherits the container's no_new_privs */
    case OPT_CAP: return be_make_error(err, 0, "exec: --cap is not supported: exec runs with the container's capabilities");
    case OPT_PRESERVE: {
      long n;
      if (be_parse_long(optarg, &n) < 0 || n < 0 || n > 1000)
        return be_make_error(err, 0, "exec: --preserve-fds `%s`: give a number of fds", optarg);
      o.preserve_fds = (int)n;
      o.preserve_fds_set = true;
      break;
    }
    case 'e':
      env = realloc(env, sizeof(char *) * (nenv + 2));
      env[nenv++] = be_xstrdup(optarg);
      env[nenv] = NULL;
      break;
    default: return be_make_error(err, 0, "exec: unknown option `%s`; usage: berth-engine %s", argv[optind - 1], usage);
    }
  }
  if (one_id(argc, argv, usage, &o.id, err) < 0)
    return -1;

  be_process proc = {0};
  if (process_file) {
    cleanup_free char *text = NULL;
    size_t len;
    if (be_read_file(process_file, &text, &len, err) < 0)
      return -1;
    if (be_process_parse(text, len, &proc, err) < 0)
      return be_error_wrap(err, "exec: parse --process `%s`", process_file);
  } else {
    if (optind >= argc)
      return be_make_error(err, 0, "exec: give a command after the ID or --process FILE; usage: berth-engine %s", usage);
    size_t n = (size_t)(argc - optind);
    proc.args = be_xmalloc0(sizeof(char *) * (n + 1));
    for (size_t i = 0; i < n; i++)
      proc.args[i] = be_xstrdup(argv[optind + (int)i]);
    proc.env = be_steal(env);
    proc.cwd = be_xstrdup(cwd ? cwd : "/");
    proc.terminal = tty;
    proc.caps[0] = UINT64_MAX; /* marker: inherit the container's capabilities and no_new_privs */
    if (user) {
      unsigned long uid = 0, gid = 0;
      char *end;
      uid = strtoul(user, &end, 10);
      if (*end == ':')
        gid = strtoul(end + 1, &end, 10);
      if (*end)
        return be_make_error(err, 0, "exec: --user `%s`: give UID[:GID] as numbers", user);
      proc.uid = (uint32_t)uid;
      proc.gid = (uint32_t)gid;
    }
  }
  int status = 0;
  int rc = be_container_exec(&o, &proc, &status, err);
  be_process_clear(&proc);
  return rc < 0 ? -1 : status;
}

int be_cmd_list(const be_global *g, int argc, char **argv, be_error_t *err) {
  static const struct option opts[] = {{"quiet", no_argument, NULL, 'q'}, {"format", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
  bool quiet = false, json = false;
  int c;
  while ((c = getopt_long(argc, argv, "+qf:", opts, NULL)) != -1) {
    if (c == 'q')
      quiet = true;
    else if (c == 'f')
      json = strcmp(optarg, "json") == 0;
    else
      return be_make_error(err, 0, "list: unknown option `%s`; usage: berth-engine list [--quiet] [--format json]", argv[optind - 1]);
  }
  cleanup_strv char **ids = NULL;
  if (be_container_list(g->root, &ids, err) < 0)
    return -1;
  if (json)
    fputc('[', stdout);
  else if (!quiet)
    printf("%-24s %-8s %-10s %s\n", "ID", "PID", "STATUS", "BUNDLE");
  for (size_t i = 0; ids[i]; i++) {
    if (quiet) {
      puts(ids[i]);
      continue;
    }
    if (json) {
      cleanup_free char *s = NULL;
      be_error_t e2 = NULL;
      if (be_container_state_json(g->root, ids[i], &s, &e2) == 0)
        printf("%s%s", i ? "," : "", s);
      be_error_release(&e2);
      continue;
    }
    be_state st = {0};
    be_error_t e2 = NULL;
    if (be_container_state(g->root, ids[i], &st, &e2) == 0)
      printf("%-24s %-8d %-10s %s\n", st.id, (int)st.pid, be_status_name(st.status), st.bundle);
    be_error_release(&e2);
    be_state_clear(&st);
  }
  if (json)
    puts("]");
  return 0;
}

int be_cmd_spec(const be_global *g, int argc, char **argv, be_error_t *err) {
  (void)g;
  static const struct option opts[] = {{"bundle", required_argument, NULL, 'b'}, {"rootless", no_argument, NULL, OPT_ROOTLESS}, {NULL, 0, NULL, 0}};
  const char *bundle = ".";
  bool rootless = false;
  int c;
  while ((c = getopt_long(argc, argv, "+b:", opts, NULL)) != -1) {
    if (c == 'b')
      bundle = optarg;
    else if (c == OPT_ROOTLESS)
      rootless = true;
    else
      return be_make_error(err, 0, "spec: unknown option `%s`; usage: berth-engine spec [--bundle DIR] [--rootless]", argv[optind - 1]);
  }
  cleanup_free char *path = be_xasprintf("%s/config.json", bundle);
  if (be_path_exists(path))
    return be_make_error(err, EEXIST, "spec: write `%s`; remove it first", path);
  cleanup_free char *json = be_spec_default_json(rootless);
  return be_write_file(path, json, strlen(json), 0644, err) < 0 ? -1 : 0;
}

int be_cmd_features(const be_global *g, int argc, char **argv, be_error_t *err) {
  (void)g; (void)argc; (void)argv; (void)err;
  puts("{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.1.0\","
       "\"hooks\":[],"
       "\"mountOptions\":[\"ro\",\"rw\",\"nosuid\",\"suid\",\"nodev\",\"dev\",\"noexec\",\"exec\",\"sync\",\"async\","
       "\"remount\",\"bind\",\"rbind\",\"private\",\"rprivate\",\"shared\",\"rshared\",\"slave\",\"rslave\","
       "\"unbindable\",\"runbindable\",\"relatime\",\"norelatime\",\"strictatime\",\"nostrictatime\",\"noatime\","
       "\"atime\",\"nodiratime\",\"diratime\",\"dirsync\",\"mand\",\"nomand\",\"tmpcopyup\"],"
       "\"linux\":{\"namespaces\":[\"cgroup\",\"ipc\",\"mount\",\"network\",\"pid\",\"user\",\"uts\"],"
       "\"cgroup\":{\"v1\":true,\"v2\":true,\"systemd\":false},"
       "\"seccomp\":{\"enabled\":true}}}");
  return 0;
}

int be_cmd_version(const be_global *g, int argc, char **argv, be_error_t *err) {
  (void)g; (void)argc; (void)argv; (void)err;
  printf("berth-engine version %s\nspec: 1.1.0\n", BE_VERSION);
  return 0;
}
