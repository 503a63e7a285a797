/* The container's side of create/run/exec: everything that happens inside the new namespaces, in order, ending
 * in execve (or in the tiny init that reaps and forwards signals). */
#ifndef BE_PROCESS_H
#define BE_PROCESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "mounts.h"
#include "oci-config.h"

/* What the parent prepared for the child before clone. */
typedef struct be_child_ctx {
  const be_config *cfg;
  const be_process *proc;
  be_rootfs_plan plan;
  int sync_fd;    /* socketpair end: "go" from the parent, "ready"/error to it */
  int fifo_fd;    /* O_PATH exec fifo (create), -1 for run */
  int console_fd; /* connected console socket, -1 without */
  void *bpf;      /* cached seccomp program, NULL without seccomp */
  unsigned short bpf_len;
  bool init, no_pivot;
  int preserve_fds;
} be_child_ctx;

/* Message on the sync socket: status 0 = ready, otherwise an errno-like code with text. */
typedef struct be_sync_msg {
  int status;
  char msg[1024];
} be_sync_msg;

/* Runs in the cloned child; never returns. */
_Noreturn void be_child_main(be_child_ctx *ctx);
/* Steps shared with exec: rlimits, cwd, umask, no_new_privs, seccomp, capabilities and ids. */
int be_process_finalize(const be_process *proc, const be_config *cfg, void *bpf, unsigned short bpf_len, be_error_t *err);
/* execve with PATH lookup in the process's env; returns only on failure. */
int be_process_exec(const be_process *proc, int preserve_fds, be_error_t *err);
/* PID 1 for `init`: forks the process, forwards signals to it, reaps every child, exits with its status. */
_Noreturn void be_init_run(const be_process *proc, int preserve_fds);
/* 128+N for a signal death, the exit code otherwise. */
int be_wait_status_code(int status);
int be_sync_send(int fd, int status, const char *msg);

#endif
