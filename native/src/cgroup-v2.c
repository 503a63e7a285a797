/* cgroup v2 (unified hierarchy at /sys/fs/cgroup): limits through the v2 interface files, device control by an
 * eBPF program. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups.h"
#include "utils.h"

#define V2_ROOT "/sys/fs/cgroup"

/* Enables the controllers we use in every ancestor's cgroup.subtree_control, top down; a controller the parent
 * does not offer is skipped (its limits then fail with ENOENT naming the file). */
static int enable_controllers(const char *path, be_error_t *err) {
  cleanup_free char *p = be_xstrdup(path);
  cleanup_free char *dir = be_xstrdup(V2_ROOT);
  static const char *const want[] = {"cpu", "cpuset", "memory", "pids", NULL};
  char *save = NULL;
  for (char *tok = strtok_r(p, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
    cleanup_free char *avail = NULL;
    cleanup_free char *cf = be_xasprintf("%s/cgroup.controllers", dir);
    if (be_read_file(cf, &avail, NULL, err) < 0)
      return -1;
    for (size_t i = 0; want[i]; i++) {
      size_t l = strlen(want[i]);
      bool has = false;
      for (char *q = avail; (q = strstr(q, want[i])); q += l)
        has |= (q == avail || q[-1] == ' ') && (q[l] == ' ' || q[l] == '\n' || q[l] == '\0');
      if (!has)
        continue;
      char v[32];
      snprintf(v, sizeof(v), "+%s", want[i]);
      cleanup_free char *sc = be_xasprintf("%s/cgroup.subtree_control", dir);
      if (be_write_existing(sc, v, err) < 0)
        return -1;
    }
    char *next = be_xasprintf("%s/%s", dir, tok);
    free(dir);
    dir = next;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
      return be_make_error(err, errno, "mkdir `%s`", dir);
  }
  return 0;
}

/* OCI cpu.shares (2..262144) → cgroup v2 cpu.weight (1..10000), the conversion runc and crun use. */
static unsigned long long shares_to_weight(unsigned long long shares) {
  if (shares == 0)
    return 100;
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

static int apply_limits(const char *dir, const be_resources *r, be_error_t *err) {
  char v[64];
  if (r->has_memory_limit) {
    if (be_cgroup_write_max(dir, "memory.max", (long long)r->memory_limit, r->memory_limit < 0, err) < 0)
      return -1;
  }
  if (r->has_memory_swap) {
    /* OCI swap is memory+swap (v1 memsw); v2's memory.swap.max is swap alone. */
    if (r->memory_swap < 0)
      strcpy(v, "max");
    else if (r->has_memory_limit && r->memory_limit >= 0)
      snprintf(v, sizeof(v), "%lld", (long long)(r->memory_swap > r->memory_limit ? r->memory_swap - r->memory_limit : 0));
    else
      return be_make_error(err, 0, "set linux.resources.memory.swap: give memory.limit too (swap is memory+swap)");
    if (be_cgroup_write(dir, "memory.swap.max", v, err) < 0)
      return -1;
  }
  if (r->has_memory_reservation) {
    if (be_cgroup_writef(dir, "memory.low", err, "%lld", (long long)r->memory_reservation) < 0)
      return -1;
  }
  if (r->has_cpu_shares) {
    if (be_cgroup_writef(dir, "cpu.weight", err, "%llu", shares_to_weight(r->cpu_shares)) < 0)
      return -1;
  }
  if (r->has_cpu_quota || r->has_cpu_period) {
    unsigned long long period = r->has_cpu_period ? r->cpu_period : 100000;
    if (!r->has_cpu_quota || r->cpu_quota < 0)
      snprintf(v, sizeof(v), "max %llu", period);
    else
      snprintf(v, sizeof(v), "%lld %llu", (long long)r->cpu_quota, period);
    if (be_cgroup_write(dir, "cpu.max", v, err) < 0)
      return -1;
  }
  if (be_cgroup_write_cpuset(dir, r, err) < 0)
    return -1;
  if (r->has_pids_limit && be_cgroup_write_max(dir, "pids.max", (long long)r->pids_limit, r->pids_limit <= 0, err) < 0)
    return -1;
  if (r->ndevices) {
    size_t n = r->ndevices + be_default_device_rules_len;
    be_device_rule *all = be_xmalloc0(sizeof(be_device_rule) * n);
    memcpy(all, r->devices, sizeof(be_device_rule) * r->ndevices);
    memcpy(all + r->ndevices, be_default_device_rules, sizeof(be_device_rule) * be_default_device_rules_len);
    be_bpf_insn *insns = NULL;
    size_t ninsns = 0;
    int rc = be_devices_bpf_build(all, n, &insns, &ninsns, err);
    if (rc == 0)
      rc = be_devices_bpf_attach(dir, insns, ninsns, err);
    free(all);
    free(insns);
    if (rc < 0)
      return -1;
  }
  return 0;
}

static int v2_create(const char *path, const be_resources *r, pid_t pid, be_error_t *err) {
  cleanup_free char *dir = be_xasprintf("%s%s", V2_ROOT, path);
  if (enable_controllers(path, err) < 0 || (r && apply_limits(dir, r, err) < 0))
    return be_error_wrap(err, "set up cgroup `%s`", dir);
  if (be_cgroup_writef(dir, "cgroup.procs", err, "%d", (int)pid) < 0)
    return be_error_wrap(err, "set up cgroup `%s`", dir);
  return 0;
}

static int v2_enter(const char *path, pid_t pid, be_error_t *err) {
  cleanup_free char *dir = be_xasprintf("%s%s", V2_ROOT, path);
  return be_cgroup_writef(dir, "cgroup.procs", err, "%d", (int)pid);
}

static int v2_destroy(const char *path, be_error_t *err) {
  cleanup_free char *dir = be_xasprintf("%s%s", V2_ROOT, path);
  return be_cgroup_rmdir(dir, err);
}

static int v2_pids(const char *path, pid_t **pids, size_t *n, be_error_t *err) {
  cleanup_free char *f = be_xasprintf("%s%s/cgroup.procs", V2_ROOT, path);
  return be_cgroup_read_pids(f, pids, n, err);
}

const be_cgroup_ops be_cgroup_v2_ops = {"v2", v2_create, v2_enter, v2_destroy, v2_pids};

/* ---- device filter ----
 * Context (struct bpf_cgroup_dev_ctx): u32 access_type = (access << 16) | type; u32 major; u32 minor. Type 1 is
 * block, 2 char; access bits 1 mknod, 2 read, 4 write. Return 1 to allow, 0 to deny. Rules are checked last to
 * first, so the last matching rule wins as with v1's devices.allow/deny writes; nothing matching → deny. */

#define INSN(c, d, s, o, i) ((be_bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

int be_devices_bpf_build(const be_device_rule *rules, size_t n, be_bpf_insn **out, size_t *nout, be_error_t *err) {
  size_t cap = 8 + n * 9;
  be_bpf_insn *p = be_xmalloc0(sizeof(be_bpf_insn) * cap);
  size_t k = 0;
  /* r2 = type, r3 = access, r4 = major, r5 = minor */
  p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0);
  p[k++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
  p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, 3, 1, 0, 0);
  p[k++] = INSN(BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 16);
  p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0);
  p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0);
  for (size_t ri = n; ri-- > 0;) {
    const be_device_rule *r = &rules[ri];
    int acc = 0;
    for (const char *a = r->access; *a; a++)
      acc |= *a == 'm' ? 1 : *a == 'r' ? 2 : *a == 'w' ? 4 : 0;
    if (acc == 0)
      continue; /* matches nothing */
    if (r->type != 'a' && r->type != 'b' && r->type != 'c') {
      free(p);
      return be_make_error(err, EINVAL, "device rule %zu: type `%c`", ri, r->type);
    }
    size_t start = k;
    size_t jumps[4];
    size_t nj = 0;
    if (r->type != 'a') {
      jumps[nj++] = k;
      p[k++] = INSN(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0, r->type == 'b' ? 1 : 2);
    }
    if (acc != 7) {
      p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 3, 0, 0);
      p[k++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, 1, 0, 0, ~acc & 7);
      jumps[nj++] = k;
      p[k++] = INSN(BPF_JMP | BPF_JNE | BPF_K, 1, 0, 0, 0);
    }
    if (r->major >= 0) {
      jumps[nj++] = k;
      p[k++] = INSN(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, (int)r->major);
    }
    if (r->minor >= 0) {
      jumps[nj++] = k;
      p[k++] = INSN(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, (int)r->minor);
    }
    p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, r->allow ? 1 : 0);
    p[k++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    for (size_t j = 0; j < nj; j++)
      p[jumps[j]].off = (short)(k - jumps[j] - 1);
    (void)start;
    /* A rule without conditions matches everything: earlier rules are unreachable (the verifier refuses
     * unreachable instructions), so stop here. */
    if (nj == 0) {
      *out = p;
      *nout = k;
      return 0;
    }
  }
  p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
  p[k++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  *out = p;
  *nout = k;
  return 0;
}

int be_devices_bpf_attach(const char *cgroup_dir, const be_bpf_insn *insns, size_t n, be_error_t *err) {
  static char license[] = "GPL";
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = (uint32_t)n;
  attr.license = (uint64_t)(uintptr_t)license;
  int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
  if (prog < 0)
    return be_make_error(err, errno, "bpf BPF_PROG_LOAD (device filter, %zu instructions)", n);
  cleanup_close int cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) {
    int e = errno;
    close(prog);
    return be_make_error(err, e, "open `%s`", cgroup_dir);
  }
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = (uint32_t)cg;
  attr.attach_bpf_fd = (uint32_t)prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  int rc = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr));
  int e = errno;
  close(prog); /* the attachment holds its own reference */
  if (rc < 0)
    return be_make_error(err, e, "bpf BPF_PROG_ATTACH device filter to `%s`", cgroup_dir);
  return 0;
}
