/* Unit tests: the cgroup v2 device filter (eBPF). The program is built from rules, checked by the kernel's
 * verifier, and — where a cgroup2 tree is mounted (v2 or hybrid hosts) — attached to a scratch cgroup to see
 * that a denied device cannot be opened while an allowed one can. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroups.h"
#include "tap.h"
#include "utils.h"

static const char *cgroup2_root(void) {
  struct statfs st;
  if (statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == 0x63677270)
    return "/sys/fs/cgroup";
  if (statfs("/sys/fs/cgroup/unified", &st) == 0 && st.f_type == 0x63677270)
    return "/sys/fs/cgroup/unified";
  return NULL;
}

int main(void) {
  be_error_t err = NULL;
  be_device_rule rules[] = {
      {false, 'a', -1, -1, "rwm"}, /* deny all */
      {true, 'c', 1, 3, "rwm"},    /* /dev/null */
      {true, 'c', 1, 5, "r"},      /* /dev/zero, read only */
  };
  be_bpf_insn *insns = NULL;
  size_t n = 0;
  ok(be_devices_bpf_build(rules, 3, &insns, &n, &err) == 0, "build");
  /* 6 loads; c 1:5 r: type, access (3), major, minor, mov, exit = 8; c 1:3 rwm: 5; deny-all: mov, exit = 2
   * (it matches everything, so no default is emitted after it). */
  is_int(n, 6 + 8 + 5 + 2, "instruction count");
  is_int(insns[n - 1].code, BPF_JMP | BPF_EXIT, "ends with exit");
  is_int(insns[n - 2].imm, 0, "the first rule, deny all, is checked last");
  /* The last rule is checked first: its first jump skips to the next rule on a type mismatch. */
  is_int(insns[6].code, BPF_JMP | BPF_JNE | BPF_K, "first check is the type of the last rule");
  is_int(insns[6].imm, 2, "char device");

  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  static char license[] = "GPL";
  char log[4096] = "";
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = (uint32_t)n;
  attr.license = (uint64_t)(uintptr_t)license;
  attr.log_buf = (uint64_t)(uintptr_t)log;
  attr.log_size = sizeof(log);
  attr.log_level = 1;
  int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
  ok(prog >= 0, "the kernel verifier accepts the program%s%s", prog < 0 ? ": " : "", prog < 0 ? log : "");
  if (prog >= 0)
    close(prog);

  const char *root = cgroup2_root();
  if (!root) {
    printf("# SKIP attach test: no cgroup2 tree mounted on this host (pure v1)\n");
    free(insns);
    return done_testing();
  }
  char *dir = be_xasprintf("%s/berth-devtest-%d", root, (int)getpid());
  ok(mkdir(dir, 0755) == 0, "scratch cgroup %s", dir);
  ok(be_devices_bpf_attach(dir, insns, n, &err) == 0, "attach: %s", err ? err->msg : "ok");
  be_error_release(&err);
  pid_t p = fork();
  if (p == 0) {
    char v[24];
    snprintf(v, sizeof(v), "%d", (int)getpid());
    if (be_write_existing(be_xasprintf("%s/cgroup.procs", dir), v, NULL) < 0)
      _exit(10);
    int a = open("/dev/null", O_RDWR);
    int b = open("/dev/zero", O_RDONLY);
    int c = open("/dev/zero", O_WRONLY);
    int d = open("/dev/full", O_RDONLY);
    int code = (a >= 0 ? 0 : 1) | (b >= 0 ? 0 : 2) | (c < 0 && errno == EPERM ? 0 : 4);
    errno = 0;
    code |= d < 0 ? 0 : 8;
    _exit(code);
  }
  int st;
  waitpid(p, &st, 0);
  is_int(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0, "in the cgroup: /dev/null rw ok, /dev/zero read ok, write denied, /dev/full denied");
  ok(rmdir(dir) == 0, "scratch cgroup removed");
  free(dir);
  free(insns);
  return done_testing();
}
