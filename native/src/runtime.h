/* The runtime layer's C API, used by the OCI CLI (commands.c) and by the image/engine layer (`run IMAGE`) so it
 * can start a container from a config it built in memory without going through CLI flags.
 *
 * Typical use by the engine layer:
 *   be_config *cfg;  be_config_parse(json, len, bundle_dir, &cfg, &err);   // or be_spec_default_json()
 *   be_run_opts o = {.root = NULL, .id = "web", .bundle = bundle_dir, .init = true};
 *   int status;  be_container_run(&o, cfg, &status, &err);                 // foreground, like `crun run`
 *   be_config_free(cfg);
 */
#ifndef BE_RUNTIME_H
#define BE_RUNTIME_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "oci-config.h"

#define BE_DEFAULT_ROOT "/run/berth-engine"

typedef struct be_run_opts {
  const char *root;           /* state directory; NULL = BE_DEFAULT_ROOT */
  const char *id;             /* container ID */
  const char *bundle;         /* bundle directory (absolute or relative to cwd) */
  const char *console_socket; /* AF_UNIX socket that receives the pty master (process.terminal) */
  const char *pid_file;       /* written with the container's init pid (host view) */
  bool init;                  /* PID 1 is a tiny init that reaps children and forwards signals */
  bool detach;                /* run: do not wait for the container */
  bool no_pivot;              /* chroot instead of pivot_root (e.g. rootfs on initramfs) */
  bool no_new_keyring;        /* accepted for runc compatibility; berth-engine never creates a keyring */
  bool preserve_fds_set;
  int preserve_fds;           /* pass fds 3..3+N-1 to the container */
} be_run_opts;

typedef enum be_status { BE_CREATING, BE_CREATED, BE_RUNNING, BE_STOPPED } be_status;
const char *be_status_name(be_status s);

typedef struct be_state {
  char *id, *bundle, *root_path, *cgroup_path;
  pid_t pid;            /* 0 when stopped */
  unsigned long long start_time; /* /proc/PID/stat field 22: guards against pid reuse */
  be_status status;
  char *created;        /* RFC 3339 */
  char *annotations_json; /* the config's annotations as a JSON object text */
  bool init;
  bool userns;
  char *seccomp_cache; /* path of the cached BPF, NULL without seccomp */
} be_state;

/* create: sets up the container and leaves its process waiting for start. */
int be_container_create(const be_run_opts *o, const be_config *cfg, be_error_t *err);
/* start: lets a created container exec its process. */
int be_container_start(const char *root, const char *id, be_error_t *err);
/* run: create + start in one go. Without detach, waits and stores the exit status (128+N on signal N). */
int be_container_run(const be_run_opts *o, const be_config *cfg, int *exit_status, be_error_t *err);
/* kill: sends sig to the container's init (all = every process in its cgroup). */
int be_container_kill(const char *root, const char *id, int sig, bool all, be_error_t *err);
/* delete: removes mounts, cgroups and state; force kills a running container first. */
int be_container_delete(const char *root, const char *id, bool force, be_error_t *err);
/* state: loads the state with a fresh status. be_state_clear() releases it. */
int be_container_state(const char *root, const char *id, be_state *out, be_error_t *err);
/* state as OCI state JSON (malloc'd). */
int be_container_state_json(const char *root, const char *id, char **json, be_error_t *err);
/* exec: runs proc inside the running container (all namespaces, caps, seccomp, cgroup); waits unless detach. */
int be_container_exec(const be_run_opts *o, const be_process *proc, int *exit_status, be_error_t *err);
/* IDs of all containers under root (malloc'd NULL-terminated vector). */
int be_container_list(const char *root, char ***ids, be_error_t *err);
void be_state_clear(be_state *s);

/* The default config.json (`spec`): podman's capabilities, masked/read-only paths, Docker's seccomp profile. */
char *be_spec_default_json(bool rootless);
/* Signal name ("TERM", "SIGKILL", "9") to number; -1 when unknown. */
int be_signal_parse(const char *s);

#endif
