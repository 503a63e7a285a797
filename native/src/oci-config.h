/* The parsed OCI runtime config (config.json): only the fields berth-engine supports. Parsing refuses every
 * other set field, naming its JSON path, so nothing is silently ignored. */
#ifndef BE_OCI_CONFIG_H
#define BE_OCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

enum { BE_CAP_BOUNDING, BE_CAP_EFFECTIVE, BE_CAP_INHERITABLE, BE_CAP_PERMITTED, BE_CAP_AMBIENT, BE_CAP_SETS };

typedef struct be_mount {
  char *destination, *source, *type, *data; /* data: options the kernel parses (mode=755, size=…) */
  unsigned long flags;                      /* MS_* set by options */
  unsigned long propagation;                /* MS_PRIVATE/MS_SLAVE/MS_SHARED/MS_UNBINDABLE (| MS_REC) or 0 */
  bool bind, recursive_bind;
} be_mount;

typedef struct be_idmap {
  uint32_t container_id, host_id, size;
} be_idmap;

typedef struct be_rlimit {
  int resource;
  uint64_t soft, hard;
} be_rlimit;

typedef struct be_namespace {
  int type; /* CLONE_NEW* */
  char *path;
} be_namespace;

typedef struct be_device_rule {
  bool allow;
  char type;            /* 'a', 'c', 'b' */
  int64_t major, minor; /* -1 = any */
  char access[4];       /* subset of "rwm" */
} be_device_rule;

typedef struct be_device {
  char *path;
  char type; /* 'c', 'b', 'p', 'u' */
  int64_t major, minor;
  uint32_t file_mode; /* 0 = default 0666 */
  uint32_t uid, gid;
} be_device;

typedef struct be_seccomp_arg {
  unsigned index;
  uint64_t value, value_two;
  int op; /* enum scmp_compare */
} be_seccomp_arg;

typedef struct be_seccomp_rule {
  char **names;
  uint32_t action; /* SCMP_ACT_* without errno */
  int errno_ret;   /* -1: default (EPERM for ERRNO) */
  be_seccomp_arg *args;
  size_t nargs;
} be_seccomp_rule;

typedef struct be_seccomp {
  uint32_t default_action;
  int default_errno;
  char **architectures; /* libseccomp names: "x86_64", "x86", "x32" */
  char **flags;         /* SECCOMP_FILTER_FLAG_* names */
  be_seccomp_rule *rules;
  size_t nrules;
  uint64_t hash; /* of the canonical profile: the BPF cache key */
} be_seccomp;

typedef struct be_resources {
  bool has_memory_limit, has_memory_reservation, has_memory_swap, has_cpu_shares, has_cpu_quota, has_cpu_period,
      has_pids_limit, has_cpu_burst;
  int64_t memory_limit, memory_reservation, memory_swap;
  uint64_t cpu_shares, cpu_period;
  int64_t cpu_quota;
  char *cpus, *mems;
  int64_t pids_limit;
  be_device_rule *devices;
  size_t ndevices;
} be_resources;

typedef struct be_process {
  bool terminal;
  uint32_t uid, gid;
  gid_t *additional_gids;
  size_t nadditional_gids;
  bool has_umask;
  uint32_t umask;
  char **args, **env;
  char *cwd;
  uint64_t caps[BE_CAP_SETS];
  bool no_new_privileges;
  be_rlimit *rlimits;
  size_t nrlimits;
  bool has_oom_score_adj;
  int oom_score_adj;
  unsigned console_height, console_width;
} be_process;

typedef struct be_config {
  char *root_path; /* absolute (resolved against the bundle) */
  bool root_readonly;
  char *hostname, *domainname;
  be_process process;
  be_mount *mounts;
  size_t nmounts;
  be_namespace *namespaces;
  size_t nnamespaces;
  be_idmap *uid_mappings, *gid_mappings;
  size_t nuid_mappings, ngid_mappings;
  char **sysctl_keys, **sysctl_values;
  size_t nsysctl;
  char **masked_paths, **readonly_paths;
  be_resources resources;
  bool has_resources;
  char *cgroups_path;
  be_seccomp *seccomp;
  be_device *devices;
  size_t ndevices;
  unsigned long rootfs_propagation; /* 0 = default (rslave, as runc) */
  char **annotation_keys, **annotation_values;
  size_t nannotations;
} be_config;

/* Parses config.json text. bundle_dir resolves a relative root.path. */
int be_config_parse(const char *json, size_t len, const char *bundle_dir, be_config **out, be_error_t *err);
/* Reads BUNDLE/config.json. */
int be_config_load(const char *bundle_dir, be_config **out, be_error_t *err);
/* Parses only a "process" object (exec --process FILE). */
int be_process_parse(const char *json, size_t len, be_process *out, be_error_t *err);
void be_process_clear(be_process *p);
void be_config_free(be_config *c);
/* Appends a private bind mount of source on destination (flags: MS_RDONLY, MS_NOSUID…; recursive: rbind). */
void be_config_add_bind(be_config *c, const char *source, const char *destination, unsigned long flags, bool recursive);
const char *be_config_annotation(const be_config *c, const char *key);
bool be_config_has_namespace(const be_config *c, int type);

/* Parses mount options into m->flags/propagation/bind/data; refuses options only other runtimes implement. */
int be_mount_options_parse(char *const *opts, be_mount *m, const char *path, be_error_t *err);

/* Capability names ("CAP_CHOWN") ↔ numbers; -1 when unknown. */
int be_cap_from_name(const char *name);
const char *be_cap_name(int cap);

#endif
