/* cgroup v1 (and hybrid: v1 controllers plus an empty cgroup2 tree the process is also placed in). The
 * container's cgroup is created in every mounted hierarchy so tools that look in any of them find it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cgroups.h"
#include "utils.h"

typedef struct hierarchy {
  char *mount; /* /sys/fs/cgroup/memory */
  char *opts;  /* super options: "rw,memory" */
  bool v2;
} hierarchy;

/* Hierarchies from /proc/self/mountinfo (fields: ... mountpoint ... - fstype source superopts). */
static int list_hierarchies(hierarchy **out, size_t *n, be_error_t *err) {
  cleanup_free char *text = NULL;
  if (be_read_file("/proc/self/mountinfo", &text, NULL, err) < 0)
    return -1;
  *out = NULL;
  *n = 0;
  for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *sep = strstr(line, " - ");
    if (!sep)
      continue;
    char fstype[32] = "", super[512] = "", mnt[4096] = "";
    if (sscanf(sep + 3, "%31s %*s %511s", fstype, super) < 1)
      continue;
    bool v2 = strcmp(fstype, "cgroup2") == 0;
    if (!v2 && strcmp(fstype, "cgroup") != 0)
      continue;
    if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 || strncmp(mnt, "/sys/fs/cgroup", 14) != 0)
      continue;
    *out = realloc(*out, sizeof(hierarchy) * (*n + 1));
    (*out)[*n] = (hierarchy){be_xstrdup(mnt), be_xstrdup(super), v2};
    (*n)++;
  }
  return 0;
}

static void free_hierarchies(hierarchy *h, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(h[i].mount);
    free(h[i].opts);
  }
  free(h);
}

static bool has_controller(const hierarchy *h, const char *ctrl) {
  if (h->v2)
    return false;
  size_t l = strlen(ctrl);
  for (const char *p = h->opts; (p = strstr(p, ctrl)); p += l)
    if ((p == h->opts || p[-1] == ',') && (p[l] == ',' || p[l] == '\0'))
      return true;
  return false;
}

/* cpuset: a new v1 cpuset cgroup starts with empty cpus/mems and refuses tasks; copy them from the parent at
 * every level we create (the kernel does this only with cgroup.clone_children). */
static int mkdir_cpuset(const char *mount, const char *path, be_error_t *err) {
  cleanup_free char *p = be_xstrdup(path);
  cleanup_free char *parent = be_xstrdup(mount);
  for (char *tok = strtok(p, "/"); tok; tok = strtok(NULL, "/")) {
    char *dir = be_xasprintf("%s/%s", parent, tok);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
      int e = errno;
      free(dir);
      return be_make_error(err, e, "mkdir `%s/%s`", parent, tok);
    }
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    for (int i = 0; i < 2; i++) {
      char *mine = be_xasprintf("%s/%s", dir, files[i]), *theirs = be_xasprintf("%s/%s", parent, files[i]);
      char *cur = NULL, *val = NULL;
      int rc = 0;
      if (be_read_file(mine, &cur, NULL, err) == 0 && (cur[0] == '\n' || cur[0] == '\0') &&
          be_read_file(theirs, &val, NULL, err) == 0)
        rc = be_write_existing(mine, val, err);
      free(mine), free(theirs), free(cur), free(val);
      if (rc < 0 || (err && *err)) {
        free(dir);
        return -1;
      }
    }
    free(parent);
    parent = dir;
  }
  return 0;
}

static int apply_limits(const hierarchy *h, const char *dir, const be_resources *r, be_error_t *err) {
  char v[64];
  if (has_controller(h, "memory")) {
    if (r->has_memory_limit) {
      if (be_cgroup_writef(dir, "memory.limit_in_bytes", err, "%lld", (long long)r->memory_limit) < 0)
        return -1;
    }
    if (r->has_memory_swap) {
      cleanup_free char *f = be_xasprintf("%s/memory.memsw.limit_in_bytes", dir);
      if (!be_path_exists(f))
        return be_make_error(err, 0, "set linux.resources.memory.swap: this kernel has no swap accounting (memory.memsw.*); boot with swapaccount=1 or remove the swap limit");
      snprintf(v, sizeof(v), "%lld", (long long)r->memory_swap);
      if (be_write_existing(f, v, err) < 0)
        return -1;
    }
    if (r->has_memory_reservation) {
      if (be_cgroup_writef(dir, "memory.soft_limit_in_bytes", err, "%lld", (long long)r->memory_reservation) < 0)
        return -1;
    }
  }
  if (has_controller(h, "cpu")) {
    if (r->has_cpu_shares) {
      if (be_cgroup_writef(dir, "cpu.shares", err, "%llu", (unsigned long long)r->cpu_shares) < 0)
        return -1;
    }
    if (r->has_cpu_period) {
      if (be_cgroup_writef(dir, "cpu.cfs_period_us", err, "%llu", (unsigned long long)r->cpu_period) < 0)
        return -1;
    }
    if (r->has_cpu_quota) {
      if (be_cgroup_writef(dir, "cpu.cfs_quota_us", err, "%lld", (long long)r->cpu_quota) < 0)
        return -1;
    }
  }
  if (has_controller(h, "cpuset")) {
    if (be_cgroup_write_cpuset(dir, r, err) < 0)
      return -1;
  }
  if (has_controller(h, "pids") && r->has_pids_limit &&
      be_cgroup_write_max(dir, "pids.max", (long long)r->pids_limit, r->pids_limit <= 0, err) < 0)
    return -1;
  if (has_controller(h, "devices") && r->ndevices) {
    for (size_t pass = 0; pass < 2; pass++) {
      const be_device_rule *rules = pass == 0 ? r->devices : be_default_device_rules;
      size_t n = pass == 0 ? r->ndevices : be_default_device_rules_len;
      for (size_t i = 0; i < n; i++) {
        const be_device_rule *d = &rules[i];
        char maj[24], min[24];
        snprintf(maj, sizeof(maj), d->major < 0 ? "*" : "%lld", (long long)d->major);
        snprintf(min, sizeof(min), d->minor < 0 ? "*" : "%lld", (long long)d->minor);
        if (d->type == 'a')
          snprintf(v, sizeof(v), "a");
        else
          snprintf(v, sizeof(v), "%c %s:%s %s", d->type, maj, min, d->access);
        if (be_cgroup_write(dir, d->allow ? "devices.allow" : "devices.deny", v, err) < 0)
          return -1;
      }
    }
  }
  return 0;
}

/* The limit in *r that needs this hierarchy's controller, or NULL. */
static const char *limit_needing(const hierarchy *h, const be_resources *r) {
  if (!r)
    return NULL;
  if (has_controller(h, "memory") && (r->has_memory_limit || r->has_memory_swap || r->has_memory_reservation))
    return "memory";
  if (has_controller(h, "cpu") && (r->has_cpu_shares || r->has_cpu_quota || r->has_cpu_period))
    return "cpu";
  if (has_controller(h, "cpuset") && ((r->cpus && *r->cpus) || (r->mems && *r->mems)))
    return "cpuset";
  if (has_controller(h, "pids") && r->has_pids_limit)
    return "pids";
  return NULL;
}

static bool mounted_read_only(const hierarchy *h) {
  struct statvfs st;
  return statvfs(h->mount, &st) == 0 && (st.f_flag & ST_RDONLY);
}

/* A host that is itself a container without cgroup delegation (systemd-nspawn, LXC on a v1/hybrid machine)
 * sees the v1 controller hierarchies mounted read-only. A hierarchy no limit needs is then left out: the
 * container stays in its parent's cgroup there (for devices: the host's own, already restricted, device list),
 * as runc does when it cannot manage cgroups. A limit that needs one is refused, naming the controller. */
static int skip_read_only(const hierarchy *h, const be_resources *r, bool *skip, be_error_t *err) {
  *skip = false;
  if (h->v2 || !mounted_read_only(h))
    return 0;
  const char *need = limit_needing(h, r);
  if (need)
    return be_make_error(err, EROFS,
                         "the %s limit needs the cgroup controller `%s`, but `%s` is mounted read-only (this host does not "
                         "delegate cgroups to its services, e.g. it is itself a systemd-nspawn or LXC container); drop "
                         "the limit or run the container on a host that delegates cgroups",
                         need, need, h->mount);
  *skip = true;
  return 0;
}

static int v1_each(const char *path, pid_t pid, const be_resources *r, bool create, be_error_t *err) {
  hierarchy *hs;
  size_t n;
  if (list_hierarchies(&hs, &n, err) < 0)
    return -1;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    cleanup_free char *dir = be_xasprintf("%s%s", hs[i].mount, path);
    bool skip = false;
    if ((rc = skip_read_only(&hs[i], create ? r : NULL, &skip, err)) < 0 || skip)
      continue;
    if (create) {
      if (has_controller(&hs[i], "cpuset"))
        rc = mkdir_cpuset(hs[i].mount, path, err);
      else
        rc = be_mkdir_p(dir, 0755, err);
      if (rc == 0 && r)
        rc = apply_limits(&hs[i], dir, r, err);
    }
    if (rc == 0)
      rc = be_cgroup_writef(dir, "cgroup.procs", err, "%d", (int)pid);
    if (rc < 0)
      be_error_wrap(err, "set up cgroup `%s`", dir);
  }
  free_hierarchies(hs, n);
  return rc;
}

static int v1_create(const char *path, const be_resources *r, pid_t pid, be_error_t *err) {
  return v1_each(path, pid, r, true, err);
}
static int v1_enter(const char *path, pid_t pid, be_error_t *err) { return v1_each(path, pid, NULL, false, err); }

static int v1_destroy(const char *path, be_error_t *err) {
  hierarchy *hs;
  size_t n;
  if (list_hierarchies(&hs, &n, err) < 0)
    return -1;
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    cleanup_free char *dir = be_xasprintf("%s%s", hs[i].mount, path);
    if (!hs[i].v2 && mounted_read_only(&hs[i]) && !be_path_exists(dir))
      continue; /* left out at create (skip_read_only); rmdir would say EROFS, not ENOENT */
    if (be_cgroup_rmdir(dir, err) < 0)
      rc = -1;
  }
  free_hierarchies(hs, n);
  return rc;
}

static int v1_pids(const char *path, pid_t **pids, size_t *np, be_error_t *err) {
  /* The pids hierarchy (or memory) holds every task; fall back to the first v1 hierarchy. */
  hierarchy *hs;
  size_t n;
  if (list_hierarchies(&hs, &n, err) < 0)
    return -1;
  /* Only hierarchies the container's cgroup exists in (read-only ones are left out, see skip_read_only);
   * on such a host the hybrid cgroup2 tree (name=systemd-like, writable) still holds every task. */
  const hierarchy *pick = NULL;
  for (int pass = 0; pass < 3 && !pick; pass++)
    for (size_t i = 0; i < n && !pick; i++) {
      bool fits = pass == 0 ? has_controller(&hs[i], "pids") : pass == 1 ? !hs[i].v2 : hs[i].v2;
      cleanup_free char *dir = be_xasprintf("%s%s", hs[i].mount, path);
      if (fits && be_path_exists(dir))
        pick = &hs[i];
    }
  int rc;
  if (!pick) {
    rc = be_make_error(err, ENOENT, "the cgroup `%s` exists in no hierarchy under /sys/fs/cgroup", path);
  } else {
    cleanup_free char *f = be_xasprintf("%s%s/cgroup.procs", pick->mount, path);
    rc = be_cgroup_read_pids(f, pids, np, err);
  }
  free_hierarchies(hs, n);
  return rc;
}

const be_cgroup_ops be_cgroup_v1_ops = {"v1", v1_create, v1_enter, v1_destroy, v1_pids};

int be_cgroup_mountpoints(char ***out, be_error_t *err) {
  hierarchy *hs;
  size_t n;
  if (list_hierarchies(&hs, &n, err) < 0)
    return -1;
  char **v = be_xmalloc0(sizeof(char *) * (n + 1));
  for (size_t i = 0; i < n; i++)
    v[i] = be_xstrdup(hs[i].mount);
  free_hierarchies(hs, n);
  *out = v;
  return 0;
}
