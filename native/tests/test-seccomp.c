/* Unit tests: the default profile compiles to BPF once, the cache is reused, and a loaded filter denies what it
 * should (checked in a forked child, so the test process stays unfiltered). */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci-config.h"
#include "runtime.h"
#include "seccomp-filter.h"
#include "tap.h"
#include "utils.h"

/* Runs fn in a child with the filter loaded; returns the child's exit code. */
static int in_filtered_child(const be_config *c, void *bpf, unsigned short len, int (*fn)(void)) {
  pid_t p = fork();
  if (p == 0) {
    be_error_t err = NULL;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || be_seccomp_load(c->seccomp, bpf, len, &err) < 0)
      _exit(100);
    _exit(fn());
  }
  int st;
  waitpid(p, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}

static int try_unshare(void) { return unshare(CLONE_NEWNET) < 0 && errno == EPERM ? 0 : 1; }
static int try_clone3(void) { return syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS ? 0 : 1; }
static int try_mount(void) { return syscall(SYS_mount, "x", "/", "tmpfs", 0, NULL) < 0 && errno == EPERM ? 0 : 1; }
static int try_getpid(void) { return getpid() > 0 ? 0 : 1; }
static int try_clone_plain(void) {
  pid_t p = fork();
  if (p == 0)
    _exit(0);
  return p > 0 && waitpid(p, NULL, 0) == p ? 0 : 1;
}

int main(void) {
  be_error_t err = NULL;
  char *spec = be_spec_default_json(false);
  be_config *c = NULL;
  ok(be_config_parse(spec, strlen(spec), "/b", &c, &err) == 0, "default spec parses");
  free(spec);
  if (!c)
    return done_testing();

  char dir[] = "/tmp/berth-seccomp-test-XXXXXX";
  ok(mkdtemp(dir) != NULL, "temp dir");
  char *cache = be_xasprintf("%s/cache", dir);
  char *path = NULL, *path2 = NULL;
  ok(be_seccomp_prepare(c->seccomp, cache, &path, &err) == 0, "compile: %s", err ? err->msg : "ok");
  struct stat st1, st2;
  ok(stat(path, &st1) == 0 && st1.st_size > 0 && st1.st_size % 8 == 0, "BPF file of whole instructions (%lld bytes)", (long long)st1.st_size);
  ok(be_seccomp_prepare(c->seccomp, cache, &path2, &err) == 0 && strcmp(path, path2) == 0, "same profile → same cache file");
  ok(stat(path2, &st2) == 0 && st2.st_mtim.tv_nsec == st1.st_mtim.tv_nsec && st2.st_ino == st1.st_ino, "second prepare reuses it (not rewritten)");

  void *bpf = NULL;
  unsigned short len = 0;
  ok(be_seccomp_read(path, &bpf, &len, &err) == 0 && len > 10, "read %u instructions", len);
  is_int(in_filtered_child(c, bpf, len, try_getpid), 0, "getpid allowed");
  is_int(in_filtered_child(c, bpf, len, try_clone_plain), 0, "fork (clone without namespace flags) allowed");
  is_int(in_filtered_child(c, bpf, len, try_unshare), 0, "unshare → EPERM");
  is_int(in_filtered_child(c, bpf, len, try_mount), 0, "mount → EPERM");
  is_int(in_filtered_child(c, bpf, len, try_clone3), 0, "clone3 → ENOSYS");

  /* A corrupt cache file is refused with advice, not loaded. */
  char *bad = be_xasprintf("%s/bad.bpf", dir);
  be_write_file(bad, "xyz", 3, 0600, &err);
  void *junk = NULL;
  ok(be_seccomp_read(bad, &junk, &len, &err) < 0, "corrupt cache refused");
  ok(err && strstr(err->msg, "delete it to recompile"), "message says what to do");
  be_error_release(&err);

  /* The canonical text changes with the profile, so does the hash. */
  char *canon = be_seccomp_canonical(c->seccomp);
  ok(strstr(canon, "default 327680 1") != NULL, "canonical form starts with the default action (%.*s)", 20, canon);
  free(canon);

  be_error_t e2 = NULL;
  be_rm_rf(dir, &e2);
  free(bpf), free(path), free(path2), free(cache), free(bad);
  be_config_free(c);
  return done_testing();
}
