/* The OCI runtime CLI commands: each parses its flags and calls one function of runtime.h. */
#ifndef BE_COMMANDS_H
#define BE_COMMANDS_H

#include <stdbool.h>

#include "error.h"

/* Options before the command name (runc/crun compatible: conmon and podman pass these). */
typedef struct be_global {
  const char *root; /* --root, default BE_DEFAULT_ROOT */
  const char *log;  /* --log FILE: errors are also written there */
  bool log_json;    /* --log-format json */
  bool systemd_cgroup;
  bool debug;
  const char *config; /* --config FILE: the engine's settings (default /etc/berth/engine.json, see image/engine-config.h) */
} be_global;

/* argv[0] is the command name. Returns the exit code (>= 0) or < 0 with *err set. */
typedef int (*be_command_fn)(const be_global *g, int argc, char **argv, be_error_t *err);

int be_cmd_create(const be_global *g, int argc, char **argv, be_error_t *err);
int be_cmd_start(const be_global *g, int argc, char **argv, be_error_t *err);
int be_cmd_run(const be_global *g, int argc, char **argv, be_error_t *err);
int be_cmd_state(const be_global *g, int argc, char **argv, be_error_t *err);
int be_cmd_kill(const be_global *g, int argc, char **argv, be_error_t *err);
int be_cmd_delete(const be_global *g, int argc, char **argv, be_error_t *err);
int be_cmd_exec(const be_global *g, int argc, char **argv, be_error_t *err);
int be_cmd_list(const be_global *g, int argc, char **argv, be_error_t *err);
int be_cmd_spec(const be_global *g, int argc, char **argv, be_error_t *err);
int be_cmd_features(const be_global *g, int argc, char **argv, be_error_t *err);
int be_cmd_version(const be_global *g, int argc, char **argv, be_error_t *err);

#endif
