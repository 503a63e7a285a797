/* cgroups: detect v1/hybrid/v2, pick the backend, helpers shared by the backends. */
#include "cgroups.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "utils.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

const char *be_cgroup_mode_name(be_cgroup_mode m) {
  return m == BE_CGROUP_V2 ? "v2" : m == BE_CGROUP_HYBRID ? "hybrid" : "v1";
}

be_cgroup_mode be_cgroup_detect(void) {
  struct statfs st;
  if (statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
    return BE_CGROUP_V2;
  if (statfs("/sys/fs/cgroup/unified", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC)
    return BE_CGROUP_HYBRID;
  return BE_CGROUP_V1;
}

const be_cgroup_ops *be_cgroup_backend(void) {
  return be_cgroup_detect() == BE_CGROUP_V2 ? &be_cgroup_v2_ops : &be_cgroup_v1_ops;
}

char *be_cgroup_path_for(const char *cgroups_path, const char *id) {
  if (!cgroups_path || !*cgroups_path)
    return be_xasprintf("/berth-engine/%s", id);
  /* systemd-style "slice:prefix:name" paths need a systemd cgroup manager, which is not implemented. */
  if (cgroups_path[0] == '/')
    return be_xstrdup(cgroups_path);
  return be_xasprintf("/%s", cgroups_path);
}

int be_cgroup_write(const char *dir, const char *file, const char *value, be_error_t *err) {
  cleanup_free char *path = be_xasprintf("%s/%s", dir, file);
  return be_write_existing(path, value, err);
}

int be_cgroup_write_max(const char *dir, const char *file, long long value, bool unlimited, be_error_t *err) {
  if (unlimited)
    return be_cgroup_write(dir, file, "max", err);
  return be_cgroup_writef(dir, file, err, "%lld", value);
}

int be_cgroup_write_cpuset(const char *dir, const be_resources *r, be_error_t *err) {
  if (r->cpus && *r->cpus && be_cgroup_write(dir, "cpuset.cpus", r->cpus, err) < 0)
    return -1;
  if (r->mems && *r->mems && be_cgroup_write(dir, "cpuset.mems", r->mems, err) < 0)
    return -1;
  return 0;
}

int be_cgroup_writef(const char *dir, const char *file, be_error_t *err, const char *fmt, ...) {
  char v[128];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v, sizeof(v), fmt, ap);
  va_end(ap);
  return be_cgroup_write(dir, file, v, err);
}

int be_cgroup_read_pids(const char *procs_file, pid_t **pids, size_t *n, be_error_t *err) {
  cleanup_free char *text = NULL;
  *pids = NULL;
  *n = 0;
  if (be_read_file(procs_file, &text, NULL, err) < 0)
    return -1;
  size_t cap = 0;
  for (char *save = NULL, *tok = strtok_r(text, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
    if (*n == cap) {
      cap = cap ? cap * 2 : 16;
      *pids = realloc(*pids, sizeof(pid_t) * cap);
    }
    (*pids)[(*n)++] = (pid_t)atoi(tok);
  }
  return 0;
}

int be_cgroup_rmdir(const char *dir, be_error_t *err) {
  for (int i = 0; i < 200; i++) {
    if (rmdir(dir) == 0 || errno == ENOENT)
      return 0;
    if (errno != EBUSY)
      return be_make_error(err, errno, "rmdir `%s`", dir);
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return be_make_error(err, EBUSY, "rmdir `%s`: processes are still in it; kill them and run delete again", dir);
}

const be_device_rule be_default_device_rules[] = {
    {true, 'c', 1, 3, "rwm"},  /* /dev/null */
    {true, 'c', 1, 5, "rwm"},  /* /dev/zero */
    {true, 'c', 1, 7, "rwm"},  /* /dev/full */
    {true, 'c', 1, 8, "rwm"},  /* /dev/random */
    {true, 'c', 1, 9, "rwm"},  /* /dev/urandom */
    {true, 'c', 5, 0, "rwm"},  /* /dev/tty */
    {true, 'c', 5, 2, "rwm"},  /* /dev/ptmx */
    {true, 'c', 136, -1, "rwm"}, /* /dev/pts/N */
};
const size_t be_default_device_rules_len = sizeof(be_default_device_rules) / sizeof(be_default_device_rules[0]);
