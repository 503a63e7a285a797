/* The container's side: runs in the cloned child, inside the new namespaces. Reads as the list of steps. */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "console.h"
#include "namespaces.h"
#include "seccomp-filter.h"
#include "utils.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int be_sync_send(int fd, int status, const char *msg) {
  be_sync_msg m = {.status = status};
  if (msg)
    snprintf(m.msg, sizeof(m.msg), "%s", msg);
  return be_write_all(fd, &m, sizeof(m));
}

int be_wait_status_code(int status) {
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 1;
}

static int wait_go(int fd, be_error_t *err) {
  char c;
  ssize_t r;
  do
    r = read(fd, &c, 1);
  while (r < 0 && errno == EINTR);
  if (r != 1)
    return be_make_error(err, r < 0 ? errno : EPIPE, "wait for the runtime to set up cgroups and id maps");
  return 0;
}

static int write_sysctls(const be_config *c, be_error_t *err) {
  for (size_t i = 0; i < c->nsysctl; i++) {
    cleanup_free char *path = be_xasprintf("/proc/sys/%s", c->sysctl_keys[i]);
    for (char *p = path + 10; *p; p++)
      if (*p == '.')
        *p = '/';
    if (be_write_existing(path, c->sysctl_values[i], err) < 0)
      return be_error_wrap(err, "set sysctl %s", c->sysctl_keys[i]);
  }
  return 0;
}

static int set_oom_score_adj(const be_process *p, be_error_t *err) {
  if (!p->has_oom_score_adj)
    return 0;
  char v[16];
  snprintf(v, sizeof(v), "%d", p->oom_score_adj);
  return be_write_existing("/proc/self/oom_score_adj", v, err);
}

int be_process_finalize(const be_process *p, const be_config *cfg, void *bpf, unsigned short bpf_len, be_error_t *err) {
  for (size_t i = 0; i < p->nrlimits; i++) {
    struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
    if (setrlimit(p->rlimits[i].resource, &rl) < 0)
      return be_make_error(err, errno, "setrlimit %d to %llu/%llu", p->rlimits[i].resource,
                           (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
  }
  if (chdir(p->cwd) < 0)
    return be_make_error(err, errno, "chdir to process.cwd `%s`", p->cwd);
  if (p->has_umask)
    umask(p->umask);
  if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return be_make_error(err, errno, "prctl PR_SET_NO_NEW_PRIVS");
  /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it while we still have it. With it, load
   * it last, so the setup syscalls below need not be allowed by the profile. */
  if (bpf && !p->no_new_privileges && be_seccomp_load(cfg->seccomp, bpf, bpf_len, err) < 0)
    return -1;
  if (be_caps_apply(p->caps, p->uid, p->gid, p->additional_gids, p->nadditional_gids, err) < 0)
    return -1;
  if (bpf && p->no_new_privileges && be_seccomp_load(cfg->seccomp, bpf, bpf_len, err) < 0)
    return -1;
  return 0;
}

static const char *env_path(char *const *env) {
  for (size_t i = 0; env && env[i]; i++)
    if (strncmp(env[i], "PATH=", 5) == 0)
      return env[i] + 5;
  return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

int be_process_exec(const be_process *p, int preserve_fds, be_error_t *err) {
  /* Only stdio and the preserved fds cross into the program. */
  syscall(SYS_close_range, 3 + preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
  const char *prog = p->args[0];
  if (strchr(prog, '/')) {
    execve(prog, p->args, p->env);
    return be_make_error(err, errno, "exec `%s`", prog);
  }
  int last = ENOENT;
  cleanup_free char *path = be_xstrdup(env_path(p->env));
  char *save = NULL;
  for (char *dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    char full[PATH_MAX];
    snprintf(full, sizeof(full), "%s/%s", *dir ? dir : ".", prog);
    execve(full, p->args, p->env);
    if (errno != ENOENT && errno != ENOTDIR)
      last = errno;
  }
  return be_make_error(err, last, "exec `%s` (searched PATH=%s)", prog, env_path(p->env));
}

static volatile pid_t init_child;

_Noreturn void be_init_run(const be_process *p, int preserve_fds) {
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  pid_t child = fork();
  if (child < 0) {
    fprintf(stderr, "berth-engine init: fork: %s\n", strerror(errno));
    _exit(127);
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    be_error_t err = NULL;
    be_process_exec(p, preserve_fds, &err);
    fprintf(stderr, "berth-engine: %s\n", err ? err->msg : "exec failed");
    _exit(127);
  }
  init_child = child;
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0)
      continue;
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    /* Reap every child (orphans are reparented to us, PID 1); exit when the program itself has exited. */
    int status;
    pid_t w;
    while ((w = waitpid(-1, &status, WNOHANG)) > 0)
      if (w == child)
        _exit(be_wait_status_code(status));
  }
}

static _Noreturn void fail(be_child_ctx *ctx, be_error_t *err) {
  be_sync_send(ctx->sync_fd, (*err && (*err)->status) ? (*err)->status : 1, *err ? (*err)->msg : "unknown error");
  _exit(1);
}

_Noreturn void be_child_main(be_child_ctx *ctx) {
  be_error_t err = NULL;
  const be_config *c = ctx->cfg;
  const be_process *p = ctx->proc;

  if (wait_go(ctx->sync_fd, &err) < 0)
    fail(ctx, &err);
  /* In a new user namespace we start as the overflow uid until we switch to the mapped root. */
  if (be_config_has_namespace(c, CLONE_NEWUSER) && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
    be_make_error(&err, errno, "become root in the user namespace (check linux.uidMappings maps uid 0)");
    fail(ctx, &err);
  }
  if (be_ns_join_paths(c, CLONE_NEWPID, &err) < 0)
    fail(ctx, &err);
  if (be_config_has_namespace(c, CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0) {
    be_make_error(&err, errno, "unshare cgroup namespace");
    fail(ctx, &err);
  }
  if (set_oom_score_adj(p, &err) < 0)
    fail(ctx, &err);
  if (c->hostname && *c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0) {
    be_make_error(&err, errno, "sethostname `%s`", c->hostname);
    fail(ctx, &err);
  }
  if (c->domainname && *c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0) {
    be_make_error(&err, errno, "setdomainname `%s`", c->domainname);
    fail(ctx, &err);
  }
  if (be_config_has_namespace(c, CLONE_NEWNS)) {
    if (be_rootfs_apply_mounts(&ctx->plan, &err) < 0 || be_rootfs_pivot(c->root_path, ctx->no_pivot, &err) < 0)
      fail(ctx, &err);
  } else if (chroot(c->root_path) < 0 || chdir("/") < 0) {
    be_make_error(&err, errno, "chroot `%s` (no mount namespace)", c->root_path);
    fail(ctx, &err);
  }
  if (write_sysctls(c, &err) < 0 || be_rootfs_apply_finish(&ctx->plan, &err) < 0)
    fail(ctx, &err);
  if (ctx->console_fd >= 0) {
    if (be_console_setup(ctx->console_fd, p->console_height, p->console_width, &err) < 0)
      fail(ctx, &err);
    close(ctx->console_fd);
  }
  if (be_process_finalize(p, c, ctx->bpf, ctx->bpf_len, &err) < 0)
    fail(ctx, &err);
  if (be_sync_send(ctx->sync_fd, 0, NULL) < 0)
    _exit(1);

  if (ctx->fifo_fd >= 0) {
    /* create: block until `start` opens the fifo for reading. Reopened through /proc/self/fd because the
     * fifo's path is on the host, outside our new root. */
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", ctx->fifo_fd);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) {
      fprintf(stderr, "berth-engine: wait for start on the exec fifo: %s\n", strerror(errno));
      _exit(127);
    }
    close(fd);
    close(ctx->fifo_fd);
  }
  if (ctx->init) {
    close(ctx->sync_fd); /* init never execs: close it so `run` sees the end of setup */
    be_init_run(p, ctx->preserve_fds);
  }
  be_process_exec(p, ctx->preserve_fds, &err);
  /* run: the parent is still reading the sync socket until exec closes it (CLOEXEC); tell it why. After create
   * the parent is gone (the write would raise SIGPIPE), so only stderr gets it. */
  if (ctx->fifo_fd < 0)
    be_sync_send(ctx->sync_fd, err && err->status ? err->status : 127, err ? err->msg : "exec failed");
  fprintf(stderr, "berth-engine: %s\n", err ? err->msg : "exec failed");
  _exit(127);
}
