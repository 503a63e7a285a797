/* Namespaces: names, joining by path, user namespace id maps. */
#include "namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "utils.h"

const char *be_ns_proc_name(int type) {
  switch (type) {
  case CLONE_NEWNS: return "mnt";
  case CLONE_NEWPID: return "pid";
  case CLONE_NEWNET: return "net";
  case CLONE_NEWUTS: return "uts";
  case CLONE_NEWIPC: return "ipc";
  case CLONE_NEWUSER: return "user";
  case CLONE_NEWCGROUP: return "cgroup";
  }
  return "?";
}

int be_ns_clone_flags(const be_config *c) {
  int flags = 0;
  for (size_t i = 0; i < c->nnamespaces; i++)
    if (!c->namespaces[i].path || !*c->namespaces[i].path)
      flags |= c->namespaces[i].type;
  return flags & ~CLONE_NEWCGROUP;
}

int be_ns_join(const char *path, int type, be_error_t *err) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return be_make_error(err, errno, "open %s namespace `%s`", be_ns_proc_name(type), path);
  if (setns(fd, type) < 0)
    return be_make_error(err, errno, "setns %s namespace `%s`", be_ns_proc_name(type), path);
  return 0;
}

int be_ns_join_paths(const be_config *c, int skip_types, be_error_t *err) {
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < c->nnamespaces; i++) {
      const be_namespace *ns = &c->namespaces[i];
      if (!ns->path || !*ns->path || (ns->type & skip_types))
        continue;
      if ((pass == 0) != (ns->type == CLONE_NEWUSER))
        continue;
      if (be_ns_join(ns->path, ns->type, err) < 0)
        return -1;
    }
  return 0;
}

static int write_map(pid_t pid, const char *file, const be_idmap *m, size_t n, be_error_t *err) {
  be_buf b = {0};
  for (size_t i = 0; i < n; i++)
    be_buf_printf(&b, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
  int rc = 0;
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    rc = be_make_error(err, errno, "open `%s`", path);
  /* The kernel takes the whole map in one write. */
  else if (write(fd, b.data, b.len) != (ssize_t)b.len)
    rc = be_make_error(err, errno, "write `%s` (%zu mappings)", path, n);
  free(b.data);
  return rc;
}

int be_ns_write_id_maps(pid_t pid, const be_config *c, be_error_t *err) {
  if (c->nuid_mappings && write_map(pid, "uid_map", c->uid_mappings, c->nuid_mappings, err) < 0)
    return -1;
  if (c->ngid_mappings && write_map(pid, "gid_map", c->gid_mappings, c->ngid_mappings, err) < 0)
    return -1;
  return 0;
}
