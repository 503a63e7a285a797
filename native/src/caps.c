/* Capabilities: the five sets from config.json, applied with capset(2)/prctl(2). No libcap: the static binary
 * stays small and the kernel ABI (v3, two 32-bit words) is stable. */
#include "caps.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "utils.h"

static const char *const cap_names[BE_CAP_LAST + 1] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

int be_cap_from_name(const char *name) {
  for (int i = 0; i <= BE_CAP_LAST; i++)
    if (strcmp(cap_names[i], name) == 0)
      return i;
  return -1;
}

const char *be_cap_name(int cap) { return cap >= 0 && cap <= BE_CAP_LAST ? cap_names[cap] : NULL; }

static int last_kernel_cap(void) {
  /* Capabilities the running kernel does not know cannot be dropped from the bounding set (EINVAL). */
  static int last = -1;
  if (last >= 0)
    return last;
  char *text = NULL;
  long v;
  if (be_read_file("/proc/sys/kernel/cap_last_cap", &text, NULL, NULL) == 0) {
    text[strcspn(text, "\n")] = '\0';
    if (be_parse_long(text, &v) == 0)
      last = (int)v;
    free(text);
  }
  if (last < 0)
    last = BE_CAP_LAST;
  return last;
}

int be_caps_apply(const uint64_t caps[BE_CAP_SETS], uint32_t uid, uint32_t gid, const gid_t *gids, size_t ngids,
                  be_error_t *err) {
  int last = last_kernel_cap();
  for (int c = 0; c <= last; c++) {
    if (caps[BE_CAP_BOUNDING] & (1ULL << c))
      continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
      return be_make_error(err, errno, "prctl PR_CAPBSET_DROP %s", be_cap_name(c) ? be_cap_name(c) : "?");
  }
  /* Keep permitted caps across the uid change; effective is restored by capset below. */
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return be_make_error(err, errno, "prctl PR_SET_KEEPCAPS");
  if (setgroups(ngids, gids) < 0 && !(errno == EPERM && ngids == 0))
    return be_make_error(err, errno, "setgroups");
  if (setresgid(gid, gid, gid) < 0)
    return be_make_error(err, errno, "setresgid %u", gid);
  if (setresuid(uid, uid, uid) < 0)
    return be_make_error(err, errno, "setresuid %u", uid);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return be_make_error(err, errno, "prctl PR_SET_KEEPCAPS");

  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++) {
    data[i].effective = (uint32_t)(caps[BE_CAP_EFFECTIVE] >> (32 * i));
    data[i].permitted = (uint32_t)(caps[BE_CAP_PERMITTED] >> (32 * i));
    data[i].inheritable = (uint32_t)(caps[BE_CAP_INHERITABLE] >> (32 * i));
  }
  if (syscall(SYS_capset, &hdr, data) < 0)
    return be_make_error(err, errno, "capset");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return be_make_error(err, errno, "prctl PR_CAP_AMBIENT_CLEAR_ALL");
  for (int c = 0; c <= last; c++)
    if (caps[BE_CAP_AMBIENT] & (1ULL << c))
      if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
        return be_make_error(err, errno, "prctl PR_CAP_AMBIENT_RAISE %s", be_cap_name(c));
  return 0;
}

int be_caps_read_pid(int pid, uint64_t caps[BE_CAP_SETS], be_error_t *err) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/status", pid);
  cleanup_free char *text = NULL;
  if (be_read_file(path, &text, NULL, err) < 0)
    return -1;
  static const struct { const char *key; int set; } keys[] = {
      {"CapInh:", BE_CAP_INHERITABLE}, {"CapPrm:", BE_CAP_PERMITTED}, {"CapEff:", BE_CAP_EFFECTIVE},
      {"CapBnd:", BE_CAP_BOUNDING},    {"CapAmb:", BE_CAP_AMBIENT}};
  memset(caps, 0, sizeof(uint64_t) * BE_CAP_SETS);
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    char *p = strstr(text, keys[i].key);
    if (!p)
      return be_make_error(err, 0, "read `%s`: no %s line", path, keys[i].key);
    caps[keys[i].set] = strtoull(p + strlen(keys[i].key), NULL, 16);
  }
  return 0;
}
