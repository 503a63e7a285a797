/* Unit tests: config.json parsing — supported fields land in be_config, anything else is refused by path. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "oci-config.h"
#include "runtime.h"
#include "tap.h"
#include "utils.h"

static be_config *parse(const char *json, be_error_t *err) {
  be_config *c = NULL;
  if (be_config_parse(json, strlen(json), "/bundle", &c, err) < 0)
    return NULL;
  return c;
}

#define MIN_PROCESS "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}"

static void expect_refused(const char *json, const char *want, const char *what) {
  be_error_t err = NULL;
  be_config *c = parse(json, &err);
  ok(c == NULL && err != NULL, "%s is refused", what);
  if (err)
    is_str(err->msg, want, "%s: message names the field", what);
  be_error_release(&err);
  be_config_free(c);
}

int main(void) {
  be_error_t err = NULL;

  /* The default spec parses, with podman's caps and Docker's seccomp. */
  char *spec = be_spec_default_json(false);
  be_config *c = parse(spec, &err);
  ok(c != NULL, "default spec parses: %s", err ? err->msg : "ok");
  if (c) {
    int n = 0;
    for (int i = 0; i < 64; i++)
      n += (c->process.caps[BE_CAP_BOUNDING] >> i) & 1;
    is_int(n, 11, "11 bounding caps");
    ok(!(c->process.caps[BE_CAP_BOUNDING] & (1ULL << be_cap_from_name("CAP_NET_RAW"))), "no NET_RAW");
    ok(c->process.no_new_privileges, "no_new_privs");
    ok(c->seccomp != NULL && c->seccomp->nrules > 3, "seccomp rules parsed");
    ok(be_config_has_namespace(c, CLONE_NEWCGROUP) && be_config_has_namespace(c, CLONE_NEWNET), "namespaces");
    is_str(c->root_path, "/bundle/rootfs", "relative root.path resolved against the bundle");
    ok(c->root_readonly, "read-only root");
    is_int(c->nmounts, 7, "7 mounts");
    is_str(c->mounts[1].destination, "/dev", "/dev is the second mount");
    ok((c->mounts[1].flags & MS_NOSUID) && (c->mounts[1].flags & MS_STRICTATIME), "nosuid,strictatime flags");
    is_str(c->mounts[1].data, "mode=755,size=65536k", "other options become fs data");
    ok(c->resources.ndevices == 1 && !c->resources.devices[0].allow, "deny-all device rule");
    uint64_t h1 = c->seccomp->hash;
    be_config *c2 = parse(spec, &err);
    ok(c2 && c2->seccomp->hash == h1, "same profile → same hash");
    be_config_free(c2);
    be_config_free(c);
  }
  be_error_release(&err);
  char *rootless = be_spec_default_json(true);
  c = parse(rootless, &err);
  ok(c && c->nuid_mappings == 1 && be_config_has_namespace(c, CLONE_NEWUSER), "rootless spec has a user namespace");
  be_config_free(c);
  free(rootless);
  free(spec);

  /* Field by field. */
  c = parse("{\"root\": {\"path\": \"/r\"}, \"process\": {\"args\": [\"a\", \"b\"], \"cwd\": \"/w\", \"env\": [\"A=1\"],"
            " \"user\": {\"uid\": 5, \"gid\": 6, \"umask\": 18, \"additionalGids\": [7, 8]},"
            " \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 10, \"hard\": 20}], \"oomScoreAdj\": -100,"
            " \"capabilities\": {\"ambient\": [\"CAP_KILL\"]}, \"apparmorProfile\": \"\"},"
            " \"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"/proc/1/ns/net\"}, {\"type\": \"user\"}],"
            " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 10}],"
            " \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"}, \"cgroupsPath\": \"/a/b\", \"mountLabel\": \"\","
            " \"resources\": {\"memory\": {\"limit\": 100, \"swap\": -1}, \"cpu\": {\"shares\": 512, \"quota\": 5000,"
            " \"period\": 10000, \"cpus\": \"0\"}, \"pids\": {\"limit\": 7}, \"devices\": [{\"allow\": true, \"type\": \"c\","
            " \"major\": 1, \"minor\": 3, \"access\": \"rw\"}]}, \"rootfsPropagation\": \"rprivate\"}}",
            &err);
  ok(c != NULL, "full config parses: %s", err ? err->msg : "ok");
  if (c) {
    is_str(c->process.args[1], "b", "args");
    is_str(c->process.cwd, "/w", "cwd");
    is_int(c->process.uid, 5, "uid");
    is_int(c->process.umask, 18, "umask");
    is_int(c->process.nadditional_gids, 2, "additional gids");
    is_int(c->process.rlimits[0].resource, RLIMIT_NOFILE, "rlimit type");
    is_int(c->process.rlimits[0].hard, 20, "rlimit hard");
    is_int(c->process.oom_score_adj, -100, "oom_score_adj");
    ok(c->process.caps[BE_CAP_AMBIENT] == (1ULL << 5), "ambient CAP_KILL");
    is_str(c->namespaces[0].path, "/proc/1/ns/net", "namespace path");
    is_int(c->uid_mappings[0].host_id, 1000, "uid map");
    is_str(c->sysctl_values[0], "1", "sysctl");
    is_str(c->cgroups_path, "/a/b", "cgroupsPath");
    ok(c->resources.has_memory_limit && c->resources.memory_limit == 100 && c->resources.memory_swap == -1, "memory");
    ok(c->resources.cpu_shares == 512 && c->resources.cpu_quota == 5000 && c->resources.cpu_period == 10000, "cpu");
    is_str(c->resources.cpus, "0", "cpuset");
    is_int(c->resources.pids_limit, 7, "pids");
    ok(c->resources.devices[0].allow && c->resources.devices[0].major == 1 && strcmp(c->resources.devices[0].access, "rw") == 0, "device rule");
    ok(c->rootfs_propagation == (MS_PRIVATE | MS_REC), "rootfsPropagation");
  }
  be_config_free(c);
  be_error_release(&err);

  expect_refused("{\"root\": {\"path\": \"/r\"}, " MIN_PROCESS ", \"hooks\": {\"prestart\": [{\"path\": \"/x\"}]}}",
                 "config.json: `config.hooks` is not supported by berth-engine; remove it from the config", "hooks");
  expect_refused("{\"root\": {\"path\": \"/r\"}, " MIN_PROCESS ", \"linux\": {\"intelRdt\": {\"closID\": \"x\"}}}",
                 "config.json: `linux.intelRdt` is not supported by berth-engine; remove it from the config", "intelRdt");
  expect_refused("{\"root\": {\"path\": \"/r\"}, " MIN_PROCESS ", \"linux\": {\"resources\": {\"blockIO\": {\"weight\": 10}}}}",
                 "config.json: `linux.resources.blockIO` is not supported by berth-engine; remove it from the config", "blockIO");
  expect_refused("{\"root\": {\"path\": \"/r\"}, \"process\": {\"args\": [\"sh\"], \"apparmorProfile\": \"p\"}}",
                 "config.json: `process.apparmorProfile` is not supported by berth-engine; remove it from the config", "apparmor");
  expect_refused("{\"root\": {\"path\": \"/r\"}, " MIN_PROCESS ", \"mounts\": [{\"destination\": \"/t\", \"type\": \"tmpfs\", \"options\": [\"tmpcopyup\"]}]}",
                 "config.json: `mounts[0].options`: option `tmpcopyup` is not supported by berth-engine; remove it", "tmpcopyup");
  expect_refused("{\"root\": {\"path\": \"/r\"}, " MIN_PROCESS ", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOTIFY\"}}}",
                 "config.json: `linux.seccomp.defaultAction`: unsupported seccomp action `SCMP_ACT_NOTIFY`; use SCMP_ACT_ALLOW, _ERRNO, _KILL, _KILL_PROCESS, _TRAP, _TRACE or _LOG", "notify");
  expect_refused("{\"root\": {\"path\": \"/r\"}, " MIN_PROCESS ", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/s\"}}}",
                 "config.json: `linux.seccomp.listenerPath` is not supported by berth-engine; remove it from the config", "listenerPath");
  expect_refused("{\"root\": {\"path\": \"/r\"}, \"process\": {\"args\": [\"sh\"], \"capabilities\": {\"bounding\": [\"CAP_FLY\"]}}}",
                 "config.json: `process.capabilities.bounding[0]`: unknown capability `CAP_FLY`; use names like CAP_CHOWN", "bad cap");
  expect_refused("{\"root\": {\"path\": \"/r\"}, " MIN_PROCESS ", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"pid\"}]}}",
                 "config.json: `linux.namespaces[1]`: namespace `pid` listed twice", "duplicate namespace");
  expect_refused("{\"root\": {\"path\": \"/r\"}, " MIN_PROCESS ", \"hostname\": \"h\"}",
                 "config.json: `hostname` needs a new uts namespace; add {\"type\": \"uts\"} to linux.namespaces", "hostname without uts");
  expect_refused("{\"root\": {\"path\": \"/r\"}, \"process\": {\"args\": []}}",
                 "config.json: `process.args` must name the program to run", "empty args");
  expect_refused("{\"root\": {\"path\": \"/r\"}, " MIN_PROCESS ", \"linux\": {\"sysctl\": {\"../../x\": \"1\"}}}",
                 "config.json: `linux.sysctl.../../x`: not a sysctl name", "sysctl path traversal");
  expect_refused("{\"root\": ", "config.json: not valid JSON: parse error: premature EOF", "truncated JSON");
  expect_refused("{\"root\": {\"path\": \"/r\"}, " MIN_PROCESS ", \"linux\": {\"resources\": {\"memory\": {\"limit\": \"1G\"}}}}",
                 "config.json: `linux.resources.memory.limit` must be an integer", "string limit");

  expect_refused("{\"root\": {\"path\": \"/r\"}, " MIN_PROCESS ", \"linux\": {\"cgroupsPath\": \"system.slice:berth:x\"}}",
                 "config.json: `linux.cgroupsPath` `system.slice:berth:x` is a systemd slice path; the systemd cgroup manager is not supported, give a path like /machine/NAME", "systemd cgroupsPath");
  expect_refused("{\"root\": {\"path\": \"/r\"}, " MIN_PROCESS ", \"linux\": {\"cgroupsPath\": \"/a/../../b\"}}",
                 "config.json: `linux.cgroupsPath` `/a/../../b` must not contain `..`", "cgroupsPath traversal");

  /* Empty placeholders of unsupported fields are fine (podman writes some). */
  c = parse("{\"root\": {\"path\": \"/r\"}, " MIN_PROCESS ", \"hooks\": {}, \"linux\": {\"mountLabel\": \"\", \"intelRdt\": null}}", &err);
  ok(c != NULL, "empty unsupported fields are accepted: %s", err ? err->msg : "ok");
  be_config_free(c);
  be_error_release(&err);

  /* Mutated inputs never crash the parser (run under ASan by `make asan-check`). */
  spec = be_spec_default_json(false);
  size_t len = strlen(spec);
  srand(42);
  int parsed = 0, refused = 0;
  for (int i = 0; i < 3000; i++) {
    char *m = be_xstrdup(spec);
    for (int k = 0; k < 1 + i % 4; k++)
      m[(size_t)rand() % len] = "{}[]\":,0a-\\ \x01"[rand() % 13];
    be_config *mc = NULL;
    if (be_config_parse(m, len, "/b", &mc, &err) == 0)
      parsed++;
    else
      refused++;
    ok(mc != NULL || err != NULL, "mutation %d: parsed or refused with a message", i) ;
    be_config_free(mc);
    be_error_release(&err);
    free(m);
  }
  ok(parsed > 0 && refused > 0, "mutations: %d parsed, %d refused", parsed, refused);
  free(spec);
  return done_testing();
}
