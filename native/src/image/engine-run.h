/* The engine's container commands: `run IMAGE` (foreground, made for one systemd unit per container), `ps`,
 * `stop`, `rm`. `run` with --bundle/-b (the OCI runtime's `run`) is passed on to the runtime unchanged. */
#ifndef BE_ENGINE_RUN_H
#define BE_ENGINE_RUN_H

#include "../commands.h"

int be_cmd_run_dispatch(const be_global *g, int argc, char **argv, be_error_t *err);
int be_cmd_ps(const be_global *g, int argc, char **argv, be_error_t *err);
int be_cmd_stop(const be_global *g, int argc, char **argv, be_error_t *err);
/* selftest [--data-root D] [--storage-driver S]: a tiny container with the hardened defaults; exit 0 = healthy. */
int be_cmd_selftest(const be_global *g, int argc, char **argv, be_error_t *err);
int be_cmd_rm(const be_global *g, int argc, char **argv, be_error_t *err);

#endif
