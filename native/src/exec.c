/* exec: a new process in a running container: its namespaces, cgroup, capabilities, no_new_privs and seccomp
 * filter (the cached BPF recorded at create). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups.h"
#include "console.h"
#include "container.h"
#include "namespaces.h"
#include "process.h"
#include "seccomp-filter.h"
#include "state.h"
#include "utils.h"

/* Namespace types in the order they are joined: user first (it decides what the others may do), mount last
 * (joining it changes our root and cwd to the container's). pid is joined by the parent. */
static const int join_order[] = {CLONE_NEWUSER, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWCGROUP, CLONE_NEWNS};
#define NJOIN (sizeof(join_order) / sizeof(join_order[0]))

static bool same_ns(pid_t pid, const char *name) {
  char a[64], b[64];
  snprintf(a, sizeof(a), "/proc/self/ns/%s", name);
  snprintf(b, sizeof(b), "/proc/%d/ns/%s", (int)pid, name);
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

static _Noreturn void exec_child(int sync_fd, const int *ns_fds, int console_fd, const be_process *proc,
                                 const be_config *cfg, void *bpf, unsigned short bpf_len, int preserve_fds) {
  be_error_t err = NULL;
  char c;
  if (read(sync_fd, &c, 1) != 1) {
    be_make_error(&err, errno, "wait for the runtime to place exec in the cgroup");
    goto fail;
  }
  for (size_t i = 0; i < NJOIN; i++) {
    if (ns_fds[i] < 0)
      continue;
    if (setns(ns_fds[i], join_order[i]) < 0) {
      be_make_error(&err, errno, "setns %s namespace of the container", be_ns_proc_name(join_order[i]));
      goto fail;
    }
    close(ns_fds[i]);
  }
  if (console_fd >= 0 && be_console_setup(console_fd, proc->console_height, proc->console_width, &err) < 0)
    goto fail;
  if (console_fd >= 0)
    close(console_fd);
  if (be_process_finalize(proc, cfg, bpf, bpf_len, &err) < 0)
    goto fail;
  be_sync_send(sync_fd, 0, NULL);
  be_process_exec(proc, preserve_fds, &err);
fail:
  be_sync_send(sync_fd, err && err->status ? err->status : 1, err ? err->msg : "exec failed");
  _exit(127);
}

int be_container_exec(const be_run_opts *o, const be_process *proc_in, int *exit_status, be_error_t *err) {
  const char *root = be_root_or_default(o->root);
  be_state s;
  if (be_state_read(root, o->id, &s, err) < 0)
    return -1;
  int rc = -1;
  be_config *cfg = NULL;
  cleanup_free void *bpf = NULL;
  unsigned short bpf_len = 0;
  int ns_fds[NJOIN];
  for (size_t i = 0; i < NJOIN; i++)
    ns_fds[i] = -1;
  int console_fd = -1, sv[2] = {-1, -1};
  be_process proc = *proc_in;

  if (s.status != BE_RUNNING && s.status != BE_CREATED) {
    be_make_error(err, 0, "exec in container `%s`: it is %s", o->id, be_status_name(s.status));
    goto out;
  }
  /* The container's config gives what exec inherits: capabilities, no_new_privs, user and env for the CLI form
   * (podman's --process file carries its own). */
  if (be_config_load(s.bundle, &cfg, err) < 0)
    goto out;
  if (proc.caps[0] == UINT64_MAX) {
    memcpy(proc.caps, cfg->process.caps, sizeof(proc.caps));
    proc.no_new_privileges = cfg->process.no_new_privileges;
    if (!proc.env || !proc.env[0])
      proc.env = cfg->process.env;
    if (proc.uid == 0 && proc.gid == 0) {
      proc.uid = cfg->process.uid;
      proc.gid = cfg->process.gid;
      proc.additional_gids = cfg->process.additional_gids;
      proc.nadditional_gids = cfg->process.nadditional_gids;
    }
  }
  if (cfg->seccomp) {
    cleanup_free char *path = NULL;
    cleanup_free char *cache = be_seccomp_cache_dir(root);
    if (be_seccomp_prepare(cfg->seccomp, cache, &path, err) < 0 || be_seccomp_read(path, &bpf, &bpf_len, err) < 0)
      goto out;
  }
  for (size_t i = 0; i < NJOIN; i++) {
    const char *name = be_ns_proc_name(join_order[i]);
    if (same_ns(s.pid, name))
      continue;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)s.pid, name);
    ns_fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (ns_fds[i] < 0) {
      be_make_error(err, errno, "open `%s`", path);
      goto out;
    }
  }
  if (!same_ns(s.pid, "pid")) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)s.pid);
    if (be_ns_join(path, CLONE_NEWPID, err) < 0)
      goto out;
  }
  if (proc.terminal) {
    if (!o->console_socket) {
      be_make_error(err, 0, "exec --tty needs --console-socket");
      goto out;
    }
    if (be_console_connect(o->console_socket, &console_fd, err) < 0)
      goto out;
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    be_make_error(err, errno, "socketpair");
    goto out;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    be_make_error(err, errno, "fork");
    goto out;
  }
  if (pid == 0) {
    close(sv[0]);
    exec_child(sv[1], ns_fds, console_fd, &proc, cfg, bpf, bpf_len, o->preserve_fds);
  }
  close(sv[1]);
  sv[1] = -1;
  if (s.cgroup_path && *s.cgroup_path && be_cgroup_backend()->enter(s.cgroup_path, pid, err) < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    goto out;
  }
  if (write(sv[0], "g", 1) != 1) {
    be_make_error(err, errno, "start exec setup");
    waitpid(pid, NULL, 0);
    goto out;
  }
  int r = be_sync_read(sv[0], err);
  if (r == 1)
    r = be_sync_read(sv[0], err);
  if (r < 0) {
    waitpid(pid, NULL, 0);
    be_error_wrap(err, "exec in container `%s`", o->id);
    goto out;
  }
  if (be_write_pid_file(o->pid_file, pid, err) < 0)
    goto out;
  if (o->detach) {
    *exit_status = 0;
    rc = 0;
    goto out;
  }
  be_forward_signals(pid);
  *exit_status = be_wait_child(pid);
  rc = 0;
out:
  for (size_t i = 0; i < NJOIN; i++)
    if (ns_fds[i] >= 0)
      close(ns_fds[i]);
  if (console_fd >= 0)
    close(console_fd);
  if (sv[0] >= 0)
    close(sv[0]);
  if (sv[1] >= 0)
    close(sv[1]);
  be_config_free(cfg);
  be_state_clear(&s);
  return rc;
}
