/* berth-engine: parse global options, pick the command from the table, run it, print its error. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "error.h"
#include "runtime.h"
#include "image/engine-run.h"
#include "image/image-cmd.h"
#include "storage/storage-cmd.h"

typedef struct be_command {
  const char *name;
  be_command_fn fn;
  const char *summary;
} be_command;

/* One line per command. The engine layer (src/image/, src/storage/) adds its commands here too, declared in its
 * own header. */
static const be_command commands[] = {
    {"run", be_cmd_run_dispatch, "run [--rm] [--name N] [--memory M] [--cpus N] [--pids N] [--ulimit NAME=SOFT[:HARD]] [-e K=V] [--env-file F] [-v SRC:DST[:ro]] [--read-only] [--network none|host|bridge] [-p H:C] IMAGE [CMD...]"},
    {"ps", be_cmd_ps, "ps [-a] [--json]: engine containers"},
    {"stop", be_cmd_stop, "stop [-t SECONDS] NAME...: SIGTERM, then SIGKILL after the grace period"},
    {"storage", be_cmd_storage, "storage dm-setup [--vg NAME] DEVICE: direct-lvm thin pool for --storage-driver devicemapper"},
    {"selftest", be_cmd_selftest, "selftest [--data-root D] [--storage-driver S]: run a tiny hardened container, check it from inside (exit 0 = healthy)"},
    {"rm", be_cmd_rm, "rm [-f] NAME...: remove engine containers and their roots"},
    {"create", be_cmd_create, "create --bundle DIR [--console-socket S] [--pid-file F] ID"},
    {"start", be_cmd_start, "start ID"},
    {"run", be_cmd_run, "run --bundle DIR [--detach] [--init] ID"},
    {"state", be_cmd_state, "state ID: OCI state JSON"},
    {"kill", be_cmd_kill, "kill [--all] ID [SIGNAL]"},
    {"delete", be_cmd_delete, "delete [--force] ID"},
    {"exec", be_cmd_exec, "exec [--process FILE | -- CMD...] [--tty] [--detach] ID"},
    {"list", be_cmd_list, "list [--quiet]"},
    {"spec", be_cmd_spec, "spec [--bundle DIR] [--rootless]: write the default config.json"},
    {"features", be_cmd_features, "features: supported namespaces, capabilities, mount options (JSON)"},
    {"image", be_cmd_image, "image load|ls|inspect|rm|prune ...: OCI/docker images (berth-engine image --help)"},
    {"--version", be_cmd_version, "--version"},
    {"version", be_cmd_version, "version"},
};

static void usage(FILE *f) {
  fputs("usage: berth-engine [--root DIR] [--config FILE] [--log FILE] [--log-format text|json] COMMAND [OPTIONS] [ID]\n", f);
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (commands[i].name[0] != '-')
      fprintf(f, "  %s\n", commands[i].summary);
}

/* Returns the index of the command name in argv, or -1 (with *err set). */
static int parse_global_options(int argc, char **argv, be_global *g, be_error_t *err) {
  static const struct option opts[] = {
      {"root", required_argument, NULL, 'r'},         {"log", required_argument, NULL, 'l'},
      {"log-format", required_argument, NULL, 'f'},   {"systemd-cgroup", no_argument, NULL, 's'},
      {"debug", no_argument, NULL, 'd'},              {"cgroup-manager", required_argument, NULL, 'c'},
      {"rootless", required_argument, NULL, 'R'},     {"help", no_argument, NULL, 'h'},
      {"config", required_argument, NULL, 'C'},
      {NULL, 0, NULL, 0}};
  g->root = BE_DEFAULT_ROOT;
  opterr = 0;
  int c;
  /* "+": stop at the command name, so its own flags are left for it. */
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    switch (c) {
    case 'r': g->root = optarg; break;
    case 'l': g->log = optarg; break;
    case 'f': g->log_json = strcmp(optarg, "json") == 0; break;
    case 's': g->systemd_cgroup = true; break;
    case 'c': g->systemd_cgroup = strcmp(optarg, "systemd") == 0; break;
    case 'd': g->debug = true; break;
    case 'C': g->config = optarg; break;
    case 'R': break; /* podman passes --rootless; rootless mode is detected, not requested */
    case 'h': usage(stdout); exit(0);
    default:
      return be_make_error(err, 0, "unknown global option `%s`; run `berth-engine --help`", argv[optind - 1]);
    }
  }
  if (optind >= argc)
    return be_make_error(err, 0, "no command given; run `berth-engine --help`");
  return optind;
}

static const be_command *find_command(const char *name, be_error_t *err) {
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  be_make_error(err, 0, "unknown command `%s`; run `berth-engine --help`", name);
  return NULL;
}

int main(int argc, char **argv) {
  be_error_t err = NULL;
  be_global g = {0};

  int first = parse_global_options(argc, argv, &g, &err);
  if (first < 0)
    return be_error_print(&err);
  be_error_set_log(g.log, g.log_json);

  const be_command *cmd = find_command(argv[first], &err);
  if (cmd == NULL)
    return be_error_print(&err);

  optind = 0; /* 0 re-initialises glibc getopt: each command parses argv[first..] afresh */
  int rc = cmd->fn(&g, argc - first, argv + first, &err);
  if (rc < 0)
    return be_error_print(&err);
  return rc;
}
