/* Container lifecycle on the runtime's side: create, start, run, kill, delete. The steps inside the container
 * are in process.c; this file prepares them (state dir, seccomp cache, fifo, plan), clones, and finishes from
 * outside (id maps, cgroup) while the child waits. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroups.h"
#include "console.h"
#include "container.h"
#include "mounts.h"
#include "namespaces.h"
#include "process.h"
#include "runtime.h"
#include "seccomp-filter.h"
#include "state.h"
#include "utils.h"

const char *be_root_or_default(const char *root) { return root && *root ? root : BE_DEFAULT_ROOT; }

char *be_seccomp_cache_dir(const char *root) { return be_xasprintf("%s/.seccomp", be_root_or_default(root)); }

static char *now_rfc3339(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof(buf) - n, ".%09ldZ", ts.tv_nsec);
  return be_xstrdup(buf);
}

static char *annotations_json(const be_config *c) {
  be_buf b = {0};
  be_buf_add(&b, "{", 1);
  for (size_t i = 0; i < c->nannotations; i++) {
    if (i)
      be_buf_add(&b, ",", 1);
    be_buf_json_string(&b, c->annotation_keys[i]);
    be_buf_add(&b, ":", 1);
    be_buf_json_string(&b, c->annotation_values[i]);
  }
  be_buf_add(&b, "}", 1);
  return b.data;
}

int be_write_pid_file(const char *path, pid_t pid, be_error_t *err) {
  if (!path)
    return 0;
  char v[24];
  int n = snprintf(v, sizeof(v), "%d", (int)pid);
  return be_write_file_atomic(path, v, (size_t)n, 0644, err);
}

static volatile pid_t forward_to;
static void forward_signal(int sig) {
  if (forward_to > 0)
    kill(forward_to, sig);
}

void be_forward_signals(pid_t pid) {
  forward_to = pid;
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
  struct sigaction sa = {.sa_handler = forward_signal, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
    sigaction(sigs[i], &sa, NULL);
}

int be_wait_child(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return 1;
  return be_wait_status_code(status);
}

/* Reads the child's report. Returns 1 = ready, 0 = EOF (exec happened), < 0 = error reported (err set). */
int be_sync_read(int fd, be_error_t *err) {
  be_sync_msg m;
  ssize_t r;
  do
    r = read(fd, &m, sizeof(m));
  while (r < 0 && errno == EINTR);
  if (r == 0)
    return 0;
  if (r != (ssize_t)sizeof(m))
    return be_make_error(err, r < 0 ? errno : EPIPE, "read the container's setup report");
  if (m.status == 0)
    return 1;
  m.msg[sizeof(m.msg) - 1] = '\0';
  be_make_error(err, 0, "%s", m.msg);
  (*err)->status = m.status;
  return -1;
}

/* Kills every process of the container (cgroup members and the recorded pid) and waits until they are gone. */
int be_kill_all_and_wait(const be_state *s, be_error_t *err) {
  const be_cgroup_ops *cg = be_cgroup_backend();
  for (int round = 0; round < 500; round++) {
    pid_t *pids = NULL;
    size_t n = 0;
    be_error_t e2 = NULL;
    if (s->cgroup_path && *s->cgroup_path && cg->pids(s->cgroup_path, &pids, &n, &e2) < 0)
      n = 0;
    be_error_release(&e2);
    for (size_t i = 0; i < n; i++)
      kill(pids[i], SIGKILL);
    free(pids);
    bool alive = be_state_alive(s);
    if (alive)
      kill(s->pid, SIGKILL);
    if (n == 0 && !alive)
      return 0;
    /* Our own child (run) must be reaped to disappear. */
    waitpid(-1, NULL, WNOHANG);
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return be_make_error(err, EBUSY, "kill the processes of container `%s`: still running after 5 s", s->id);
}

static void cleanup_failed_create(const char *root, const char *id, pid_t pid, const char *cgpath) {
  if (pid > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
  be_error_t e2 = NULL;
  if (cgpath)
    be_cgroup_backend()->destroy(cgpath, &e2);
  be_error_release(&e2);
  cleanup_free char *dir = be_state_dir(root, id);
  be_rm_rf(dir, &e2);
  be_error_release(&e2);
}

static int create_container(const be_run_opts *o, const be_config *cfg, bool run, int *exit_status, be_error_t *err) {
  const char *root = be_root_or_default(o->root);
  if (be_validate_id(o->id, err) < 0)
    return -1;
  if (be_mkdir_p(root, 0700, err) < 0)
    return be_error_wrap(err, "create state root");
  cleanup_free char *dir = be_state_dir(root, o->id);
  if (mkdir(dir, 0700) < 0)
    return errno == EEXIST ? be_make_error(err, EEXIST, "create container `%s`: it already exists; delete it first", o->id)
                           : be_make_error(err, errno, "mkdir `%s`", dir);
  char bundle[PATH_MAX];
  if (!realpath(o->bundle ? o->bundle : ".", bundle)) {
    be_make_error(err, errno, "resolve bundle `%s`", o->bundle ? o->bundle : ".");
    cleanup_failed_create(root, o->id, 0, NULL);
    return -1;
  }
  be_cgroup_mode mode = be_cgroup_detect();
  const be_cgroup_ops *cg = be_cgroup_backend();
  cleanup_free char *cgpath = be_cgroup_path_for(cfg->cgroups_path, o->id);
  cleanup_free char *created = now_rfc3339();
  cleanup_free char *ann = annotations_json(cfg);
  cleanup_free char *bpf_path = NULL;
  cleanup_free void *bpf = NULL;
  unsigned short bpf_len = 0;
  be_state s = {.id = (char *)o->id, .bundle = bundle, .root_path = cfg->root_path, .cgroup_path = cgpath,
                .created = created, .annotations_json = ann, .init = o->init,
                .userns = be_config_has_namespace(cfg, CLONE_NEWUSER)};
  cleanup_close int fifo_fd = -1, console_fd = -1;
  int sv[2] = {-1, -1};
  pid_t pid = -1;
  be_child_ctx ctx = {0};

  /* Written before anything that can leak (cgroup, process), so `delete --force` can clean up after a killed
   * runtime. */
  if (be_state_write(root, &s, err) < 0)
    goto fail;
  if (cfg->seccomp) {
    cleanup_free char *cache = be_seccomp_cache_dir(root);
    if (be_seccomp_prepare(cfg->seccomp, cache, &bpf_path, err) < 0 || be_seccomp_read(bpf_path, &bpf, &bpf_len, err) < 0)
      goto fail;
    s.seccomp_cache = bpf_path;
  }
  if (!run) {
    cleanup_free char *fifo = be_xasprintf("%s/exec.fifo", dir);
    /* 0622: the container's user (any uid) must be able to open it for writing. */
    if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0) {
      be_make_error(err, errno, "mkfifo `%s`", fifo);
      goto fail;
    }
    fifo_fd = open(fifo, O_PATH | O_CLOEXEC);
    if (fifo_fd < 0) {
      be_make_error(err, errno, "open `%s`", fifo);
      goto fail;
    }
  }
  if (cfg->process.terminal) {
    if (!o->console_socket) {
      be_make_error(err, 0, "process.terminal is true: give --console-socket, or set it to false");
      goto fail;
    }
    if (be_console_connect(o->console_socket, &console_fd, err) < 0)
      goto fail;
  }
  if (be_rootfs_plan_build(cfg, cgpath, s.userns, mode == BE_CGROUP_V2, &ctx.plan, err) < 0)
    goto fail;
  for (size_t i = 0; i < cfg->nnamespaces; i++)
    if (cfg->namespaces[i].type == CLONE_NEWPID && cfg->namespaces[i].path && *cfg->namespaces[i].path &&
        be_ns_join(cfg->namespaces[i].path, CLONE_NEWPID, err) < 0)
      goto fail;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    be_make_error(err, errno, "socketpair");
    goto fail;
  }
  ctx.cfg = cfg;
  ctx.proc = &cfg->process;
  ctx.fifo_fd = fifo_fd;
  ctx.console_fd = console_fd;
  ctx.bpf = bpf;
  ctx.bpf_len = bpf_len;
  ctx.init = o->init;
  ctx.no_pivot = o->no_pivot;
  ctx.preserve_fds = o->preserve_fds;
  fflush(NULL);
  /* A raw clone: fork semantics (shared nothing, child continues here) plus the new namespaces in one call. */
  pid = (pid_t)syscall(SYS_clone, (unsigned long)be_ns_clone_flags(cfg) | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0) {
    be_make_error(err, errno, "clone the container process");
    goto fail;
  }
  if (pid == 0) {
    close(sv[0]);
    ctx.sync_fd = sv[1];
    be_child_main(&ctx);
  }
  close(sv[1]);
  sv[1] = -1;
  be_rootfs_plan_free(&ctx.plan);

  if (s.userns && be_ns_write_id_maps(pid, cfg, err) < 0)
    goto fail;
  if (cg->create(cgpath, cfg->has_resources ? &cfg->resources : NULL, pid, err) < 0)
    goto fail;
  if (write(sv[0], "g", 1) != 1) {
    be_make_error(err, errno, "start the container's setup");
    goto fail;
  }
  int r = be_sync_read(sv[0], err);
  if (r <= 0) {
    if (r == 0)
      be_make_error(err, 0, "the container process exited during setup");
    be_error_wrap(err, "create container `%s`", o->id);
    goto fail;
  }
  s.pid = pid;
  s.start_time = be_proc_start_time(pid);
  if (be_state_write(root, &s, err) < 0 || be_write_pid_file(o->pid_file, pid, err) < 0)
    goto fail;
  if (!run) {
    close(sv[0]);
    return 0;
  }
  /* run: the child execs right away; EOF on the socket means execve succeeded. */
  r = be_sync_read(sv[0], err);
  close(sv[0]);
  sv[0] = -1;
  if (r < 0) {
    be_error_wrap(err, "run container `%s`", o->id);
    goto fail;
  }
  if (o->detach)
    return 0;
  be_forward_signals(pid);
  int code = be_wait_child(pid);
  forward_to = 0;
  be_error_t e2 = NULL;
  be_state st = s;
  st.pid = 0;
  be_kill_all_and_wait(&st, &e2);
  be_error_release(&e2);
  cg->destroy(cgpath, &e2);
  be_error_release(&e2);
  be_rm_rf(dir, &e2);
  be_error_release(&e2);
  *exit_status = code;
  return 0;

fail:
  if (sv[0] >= 0)
    close(sv[0]);
  if (sv[1] >= 0)
    close(sv[1]);
  be_rootfs_plan_free(&ctx.plan);
  cleanup_failed_create(root, o->id, pid, pid > 0 ? cgpath : NULL);
  return -1;
}

int be_container_create(const be_run_opts *o, const be_config *cfg, be_error_t *err) {
  return create_container(o, cfg, false, NULL, err);
}

int be_container_run(const be_run_opts *o, const be_config *cfg, int *exit_status, be_error_t *err) {
  int dummy;
  return create_container(o, cfg, true, exit_status ? exit_status : &dummy, err);
}

int be_container_start(const char *root, const char *id, be_error_t *err) {
  be_state s;
  if (be_state_read(root, id, &s, err) < 0)
    return -1;
  int rc = 0;
  if (s.status != BE_CREATED) {
    rc = be_make_error(err, 0, "start container `%s`: it is %s, not created", id, be_status_name(s.status));
    be_state_clear(&s);
    return rc;
  }
  cleanup_free char *dir = be_state_dir(root, id);
  cleanup_free char *fifo = be_xasprintf("%s/exec.fifo", dir);
  cleanup_close int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    be_state_clear(&s);
    return be_make_error(err, errno, "open `%s`", fifo);
  }
  /* Non-blocking, so a container that died meanwhile cannot hang us: poll until its byte arrives. */
  for (;;) {
    char c;
    ssize_t r = read(fd, &c, 1);
    if (r == 1)
      break;
    if (r < 0 && errno != EAGAIN && errno != EINTR) {
      rc = be_make_error(err, errno, "read `%s`", fifo);
      break;
    }
    if (!be_state_alive(&s)) {
      rc = be_make_error(err, 0, "start container `%s`: its process exited before start", id);
      break;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (r == 0) {
      struct timespec ts = {0, 1000 * 1000};
      nanosleep(&ts, NULL);
    } else {
      poll(&p, 1, 100);
    }
  }
  unlink(fifo);
  be_state_clear(&s);
  return rc;
}

int be_container_kill(const char *root, const char *id, int sig, bool all, be_error_t *err) {
  be_state s;
  if (be_state_read(root, id, &s, err) < 0)
    return -1;
  int rc = 0;
  if (s.status == BE_STOPPED) {
    rc = be_make_error(err, ESRCH, "kill container `%s`: it is not running", id);
  } else if (all) {
    pid_t *pids = NULL;
    size_t n = 0;
    if (be_cgroup_backend()->pids(s.cgroup_path, &pids, &n, err) < 0)
      rc = -1;
    for (size_t i = 0; i < n; i++)
      kill(pids[i], sig);
    free(pids);
  } else if (kill(s.pid, sig) < 0) {
    rc = be_make_error(err, errno, "kill container `%s` (pid %d) with signal %d", id, (int)s.pid, sig);
  }
  be_state_clear(&s);
  return rc;
}

int be_container_delete(const char *root, const char *id, bool force, be_error_t *err) {
  if (be_validate_id(id, err) < 0)
    return -1;
  cleanup_free char *dir = be_state_dir(root, id);
  be_state s;
  if (be_state_read(root, id, &s, err) < 0) {
    /* A runtime killed mid-create can leave a directory without a readable state: force removes it. */
    if (!force || !be_path_exists(dir))
      return -1;
    be_error_release(err);
    cleanup_free char *cgpath = be_cgroup_path_for(NULL, id);
    be_state tmp = {.id = (char *)id, .cgroup_path = cgpath};
    if (be_kill_all_and_wait(&tmp, err) < 0 || be_cgroup_backend()->destroy(cgpath, err) < 0)
      return -1;
    return be_rm_rf(dir, err);
  }
  int rc = 0;
  if (s.status == BE_RUNNING && !force) {
    rc = be_make_error(err, EBUSY, "delete container `%s`: it is running; stop it first or use delete --force", id);
    goto out;
  }
  if (be_kill_all_and_wait(&s, err) < 0) {
    rc = -1;
    goto out;
  }
  if (s.cgroup_path && *s.cgroup_path && be_cgroup_backend()->destroy(s.cgroup_path, err) < 0) {
    rc = be_error_wrap(err, "delete container `%s`", id);
    goto out;
  }
  rc = be_rm_rf(dir, err);
out:
  be_state_clear(&s);
  return rc;
}
