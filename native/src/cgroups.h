/* cgroups: v2 (unified), v1 and hybrid hosts behind one interface; backends in cgroup-v1.c and cgroup-v2.c. */
#ifndef BE_CGROUPS_H
#define BE_CGROUPS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "oci-config.h"

typedef enum be_cgroup_mode { BE_CGROUP_V1, BE_CGROUP_HYBRID, BE_CGROUP_V2 } be_cgroup_mode;
const char *be_cgroup_mode_name(be_cgroup_mode m);

/* A backend (after crun's cgroup-internal.h): each takes the container's cgroup path relative to the hierarchy
 * root ("/berth-engine/ID"). */
typedef struct be_cgroup_ops {
  const char *name;
  /* Creates the cgroup, applies the limits (r may be NULL) and moves pid into it. */
  int (*create)(const char *path, const be_resources *r, pid_t pid, be_error_t *err);
  /* Moves pid into an existing cgroup (exec). */
  int (*enter)(const char *path, pid_t pid, be_error_t *err);
  /* Removes the cgroup (its processes must be gone). Missing directories are not an error. */
  int (*destroy)(const char *path, be_error_t *err);
  /* Lists the pids in the cgroup (malloc'd, *n entries). */
  int (*pids)(const char *path, pid_t **pids, size_t *n, be_error_t *err);
} be_cgroup_ops;

extern const be_cgroup_ops be_cgroup_v1_ops; /* also used on hybrid hosts */
extern const be_cgroup_ops be_cgroup_v2_ops;

be_cgroup_mode be_cgroup_detect(void);
const be_cgroup_ops *be_cgroup_backend(void);
/* Where the container's cgroup goes: linux.cgroupsPath (absolute as is, relative under /), else /berth-engine/ID. */
char *be_cgroup_path_for(const char *cgroups_path, const char *id);

/* Mount points of every cgroup hierarchy under /sys/fs/cgroup (v1 controllers, name=systemd, unified). */
int be_cgroup_mountpoints(char ***out, be_error_t *err);

/* Helpers shared by the backends. */
int be_cgroup_write(const char *dir, const char *file, const char *value, be_error_t *err);
/* `max` when unlimited, else the number (pids.max, memory.max: the same file format on v1 and v2). */
int be_cgroup_write_max(const char *dir, const char *file, long long value, bool unlimited, be_error_t *err);
/* cpuset.cpus and cpuset.mems, each when set (same files on v1 and v2). */
int be_cgroup_write_cpuset(const char *dir, const be_resources *r, be_error_t *err);
/* be_cgroup_write of a printf-formatted value (numbers, "max %llu"). */
int be_cgroup_writef(const char *dir, const char *file, be_error_t *err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int be_cgroup_read_pids(const char *procs_file, pid_t **pids, size_t *n, be_error_t *err);
/* rmdir with retries: the kernel frees a cgroup a moment after its last task is reaped. */
int be_cgroup_rmdir(const char *dir, be_error_t *err);

/* cgroup v2 device control: an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) built from the OCI device rules, the
 * last matching rule winning as with v1's lists. be_devices_bpf_build fills insns (caller frees), *n count. */
typedef struct be_bpf_insn {
  unsigned char code;
  unsigned char dst_reg : 4;
  unsigned char src_reg : 4;
  short off;
  int imm;
} be_bpf_insn;
int be_devices_bpf_build(const be_device_rule *rules, size_t n, be_bpf_insn **insns, size_t *ninsns, be_error_t *err);
/* Loads the program and attaches it to the cgroup directory (BPF_F_ALLOW_MULTI). */
int be_devices_bpf_attach(const char *cgroup_dir, const be_bpf_insn *insns, size_t n, be_error_t *err);
/* The device rules every container gets after its config's: null, zero, full, random, urandom, tty, ptmx, pts. */
extern const be_device_rule be_default_device_rules[];
extern const size_t be_default_device_rules_len;

#endif
