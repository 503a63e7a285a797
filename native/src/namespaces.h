/* Namespaces: names, joining by path, user namespace id maps. */
#ifndef BE_NAMESPACES_H
#define BE_NAMESPACES_H

#include <sys/types.h>

#include "error.h"
#include "oci-config.h"

/* "net", "mnt", … as under /proc/PID/ns/. */
const char *be_ns_proc_name(int type);
/* Clone flags for the namespaces the config creates (no path), except cgroup: the child unshares that one
 * after the parent placed it in its cgroup, so the namespace's root is the container's cgroup. */
int be_ns_clone_flags(const be_config *c);
/* Joins every namespace given by path, user first (it decides what the others may do); skip_types are left out
 * (the pid namespace is joined by the parent before clone: setns(CLONE_NEWPID) only affects children). */
int be_ns_join_paths(const be_config *c, int skip_types, be_error_t *err);
/* Writes /proc/PID/uid_map and gid_map. */
int be_ns_write_id_maps(pid_t pid, const be_config *c, be_error_t *err);
/* setns into the namespace at path. */
int be_ns_join(const char *path, int type, be_error_t *err);

#endif
