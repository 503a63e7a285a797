/* `spec`: the default config.json. Hardened like podman's defaults (its 11 capabilities, no NET_RAW; its masked
 * and read-only paths) with a seccomp profile equivalent to Docker's default: an allow list with default EPERM,
 * clone without namespace flags, clone3 answering ENOSYS (so libcs fall back to clone, which can be filtered). */
#include <stdbool.h>
#include <string.h>

#include "runtime.h"
#include "utils.h"

static const char *const default_caps[] = {"CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",
                                           "CAP_KILL",   "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID",
                                           "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT", NULL};

static const char *const masked_paths[] = {"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                                           "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
                                           "/proc/scsi", "/sys/firmware", "/sys/fs/selinux", "/sys/dev/block",
                                           NULL};
static const char *const readonly_paths[] = {"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                             "/proc/sysrq-trigger", NULL};

/* Docker's default allow list (moby profiles/seccomp/default.json), minus the entries it gates on capabilities
 * that podman's default set does not grant (CAP_SYS_ADMIN: mount, umount2, unshare, setns, …; CAP_SYS_BOOT:
 * reboot; CAP_SYS_MODULE: init/finit/delete_module; CAP_SYS_PTRACE: kcmp, pidfd_getfd; CAP_DAC_READ_SEARCH:
 * open_by_handle_at; CAP_SYS_NICE; CAP_SYS_TIME; CAP_SYSLOG). Not listed, hence EPERM: keyctl, add_key,
 * request_key, bpf, perf_event_open, userfaultfd, kexec_load, kexec_file_load, pivot_root, acct, swapon, … */
static const char *const allowed[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl", "bind", "brk", "cachestat", "capget",
    "capset", "chdir", "chmod", "chown", "chown32", "chroot", "clock_adjtime", "clock_adjtime64", "clock_getres",
    "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64",
    "close", "close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
    "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old",
    "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
    "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown",
    "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork",
    "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake",
    "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32",
    "getgid", "getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
    "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
    "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid",
    "gettimeofday", "getuid", "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1",
    "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents",
    "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill",
    "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr",
    "link", "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr",
    "lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore",
    "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect",
    "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
    "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
    "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat",
    "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
    "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64",
    "process_mrelease", "process_vm_readv", "process_vm_writev", "pselect6", "pselect6_time64", "ptrace",
    "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom",
    "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat",
    "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
    "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
    "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp",
    "select", "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64",
    "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32",
    "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid",
    "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list",
    "setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "shmat",
    "shmctl", "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
    "socket", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink",
    "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
    "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
    "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
    "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
    "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write", "writev", NULL};

static void strv_json(be_buf *b, const char *const *v) {
  be_buf_add(b, "[", 1);
  for (size_t i = 0; v[i]; i++) {
    if (i)
      be_buf_add(b, ", ", 2);
    be_buf_json_string(b, v[i]);
  }
  be_buf_add(b, "]", 1);
}

/* CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: clone is allowed only when none is set. */
#define NS_CLONE_FLAGS "2114060288"

char *be_spec_default_json(bool rootless) {
  be_buf b = {0};
  be_buf_puts(&b, "{\n  \"ociVersion\": \"1.0.2\",\n  \"process\": {\n    \"terminal\": false,\n"
                  "    \"user\": {\"uid\": 0, \"gid\": 0},\n    \"args\": [\"sh\"],\n"
                  "    \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"TERM=xterm\"],\n"
                  "    \"cwd\": \"/\",\n    \"capabilities\": {\n");
  static const char *const sets[] = {"bounding", "effective", "permitted", NULL};
  for (size_t i = 0; sets[i]; i++) {
    be_buf_printf(&b, "      \"%s\": ", sets[i]);
    strv_json(&b, default_caps);
    be_buf_puts(&b, ",\n");
  }
  be_buf_puts(&b, "      \"inheritable\": [],\n      \"ambient\": []\n    },\n"
                  "    \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],\n"
                  "    \"noNewPrivileges\": true\n  },\n"
                  "  \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n  \"hostname\": \"berth\",\n"
                  "  \"mounts\": [\n"
                  "    {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\", \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},\n"
                  "    {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
                  "    {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\", \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\"");
  if (!rootless)
    be_buf_puts(&b, ", \"gid=5\"");
  be_buf_puts(&b, "]},\n"
                  "    {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},\n"
                  "    {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\", \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},\n"
                  "    {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},\n"
                  "    {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}\n"
                  "  ],\n  \"linux\": {\n");
  if (rootless)
    be_buf_puts(&b, "    \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],\n"
                    "    \"gidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],\n");
  else
    be_buf_puts(&b, "    \"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},\n");
  be_buf_puts(&b, "    \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"cgroup\"}");
  if (rootless)
    be_buf_puts(&b, ", {\"type\": \"user\"}");
  be_buf_puts(&b, "],\n    \"maskedPaths\": ");
  strv_json(&b, masked_paths);
  be_buf_puts(&b, ",\n    \"readonlyPaths\": ");
  strv_json(&b, readonly_paths);
  be_buf_puts(&b, ",\n    \"seccomp\": {\n      \"defaultAction\": \"SCMP_ACT_ERRNO\",\n      \"defaultErrnoRet\": 1,\n"
                  "      \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"],\n"
                  "      \"syscalls\": [\n        {\"action\": \"SCMP_ACT_ALLOW\", \"names\": ");
  strv_json(&b, allowed);
  be_buf_puts(&b, "},\n"
                  "        {\"action\": \"SCMP_ACT_ALLOW\", \"names\": [\"clone\"], \"args\": [{\"index\": 0, \"value\": " NS_CLONE_FLAGS ", \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},\n"
                  "        {\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38, \"names\": [\"clone3\"]},\n"
                  "        {\"action\": \"SCMP_ACT_ALLOW\", \"names\": [\"personality\"], \"args\": [{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]},\n"
                  "        {\"action\": \"SCMP_ACT_ALLOW\", \"names\": [\"personality\"], \"args\": [{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"}]},\n"
                  "        {\"action\": \"SCMP_ACT_ALLOW\", \"names\": [\"personality\"], \"args\": [{\"index\": 0, \"value\": 131072, \"op\": \"SCMP_CMP_EQ\"}]},\n"
                  "        {\"action\": \"SCMP_ACT_ALLOW\", \"names\": [\"personality\"], \"args\": [{\"index\": 0, \"value\": 131080, \"op\": \"SCMP_CMP_EQ\"}]},\n"
                  "        {\"action\": \"SCMP_ACT_ALLOW\", \"names\": [\"personality\"], \"args\": [{\"index\": 0, \"value\": 4294967295, \"op\": \"SCMP_CMP_EQ\"}]}\n"
                  "      ]\n    }\n  }\n}\n");
  return b.data;
}
