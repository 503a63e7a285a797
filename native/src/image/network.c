/* Bridge networking (see network.h). */
#define _GNU_SOURCE
#include "network.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"

#define BRIDGE "berth0"
#define SUBNET "10.89.0"

#define TOOL(err, ...) img_run_tool((char *const[]){__VA_ARGS__, NULL}, err)

static bool have(const char *cmd) {
  be_error_t e = NULL;
  cleanup_free char *script = be_xasprintf("command -v %s", cmd);
  int rc = TOOL(&e, "sh", "-c", script);
  be_error_release(&e);
  return rc == 0;
}

int be_net_parse_publish(const char *spec, be_port *out, be_error_t *err) {
  memset(out, 0, sizeof *out);
  strcpy(out->proto, "tcp");
  char proto[8] = "";
  int n = sscanf(spec, "%d:%d/%7s", &out->host, &out->cont, proto);
  if (n < 2 || out->host <= 0 || out->host > 65535 || out->cont <= 0 || out->cont > 65535)
    return be_make_error(err, 0, "-p `%s`: use HOSTPORT:CONTAINERPORT[/tcp|udp]", spec);
  if (n == 3) {
    if (strcmp(proto, "tcp") && strcmp(proto, "udp")) return be_make_error(err, 0, "-p `%s`: protocol is tcp or udp", spec);
    strcpy(out->proto, proto);
  }
  return 0;
}

int be_net_allocate(be_store *st, const char *name, char ip[16], be_error_t *err) {
  bool used[256] = {false};
  /* Addresses in use: containers/<name>/ip of every container. */
  int fd = openat(st->root_fd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d && fd >= 0) close(fd);
  if (d) {
    struct dirent *de;
    while ((de = readdir(d))) {
      if (de->d_name[0] == '.') continue;
      cleanup_free char *p = be_xasprintf("containers/%s/ip", de->d_name);
      cleanup_free char *v = img_read_file_at(st->root_fd, p, 32, NULL);
      int a, b, c, x;
      if (v && sscanf(v, "%d.%d.%d.%d", &a, &b, &c, &x) == 4 && x > 0 && x < 256) used[x] = true;
    }
    closedir(d);
  }
  for (int x = 2; x < 255; x++)
    if (!used[x]) {
      snprintf(ip, 16, SUBNET ".%d", x);
      cleanup_free char *p = be_xasprintf("containers/%s/ip", name);
      return img_write_file_at(st->root_fd, p, ip, strlen(ip), err);
    }
  return be_make_error(err, 0, "network bridge: all 253 addresses of " SUBNET ".0/24 are in use");
}

static void ifnames(const char *name, char host[16], char peer[16], char table[64]) {
  uint64_t h = be_fnv1a64(name, strlen(name), 0);
  snprintf(host, 16, "bv%08x", (unsigned)(h & 0xffffffff));
  snprintf(peer, 16, "bp%08x", (unsigned)(h & 0xffffffff));
  snprintf(table, 64, "berth_%.40s", name);
  for (char *p = table; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) *p = '_';
}

int be_net_attach(const char *name, pid_t pid, const char *ip, const be_port *ports, size_t nports, be_error_t *err) {
  char host[16], peer[16], table[64];
  ifnames(name, host, peer, table);
  be_error_t e = NULL;
  if (TOOL(&e, "ip", "link", "show", BRIDGE) < 0) {
    be_error_release(&e);
    if (TOOL(err, "ip", "link", "add", BRIDGE, "type", "bridge") < 0 ||
        TOOL(err, "ip", "addr", "add", SUBNET ".1/24", "dev", BRIDGE) < 0 || TOOL(err, "ip", "link", "set", BRIDGE, "up") < 0)
      return be_error_wrap(err, "create bridge " BRIDGE);
  }
  /* Forwarding for traffic that leaves the bridge (best effort: a read-only /proc/sys only limits that). */
  be_write_existing("/proc/sys/net/ipv4/ip_forward", "1", &e);
  be_error_release(&e);
  cleanup_free char *netns = be_xasprintf("--net=/proc/%d/ns/net", (int)pid);
  cleanup_free char *addr = be_xasprintf("%s/24", ip);
  cleanup_free char *pidstr = be_xasprintf("%d", (int)pid);
  if (TOOL(err, "ip", "link", "add", host, "type", "veth", "peer", "name", peer) < 0 ||
      TOOL(err, "ip", "link", "set", host, "master", BRIDGE, "up") < 0 ||
      TOOL(err, "ip", "link", "set", peer, "netns", pidstr) < 0 ||
      TOOL(err, "nsenter", netns, "ip", "link", "set", peer, "name", "eth0") < 0 ||
      TOOL(err, "nsenter", netns, "ip", "addr", "add", addr, "dev", "eth0") < 0 ||
      TOOL(err, "nsenter", netns, "ip", "link", "set", "eth0", "up") < 0 ||
      TOOL(err, "nsenter", netns, "ip", "link", "set", "lo", "up") < 0 ||
      TOOL(err, "nsenter", netns, "ip", "route", "add", "default", "via", SUBNET ".1") < 0)
    return be_error_wrap(err, "connect container `%s` to " BRIDGE, name);
  if (nports == 0) return 0;
  if (have("nft")) {
    be_buf b = {0};
    be_buf_printf(&b, "table ip %s {\n chain pre { type nat hook prerouting priority -100;\n", table);
    for (size_t i = 0; i < nports; i++)
      be_buf_printf(&b, "  fib daddr type local %s dport %d dnat to %s:%d\n", ports[i].proto, ports[i].host, ip, ports[i].cont);
    be_buf_puts(&b, " }\n chain out { type nat hook output priority -100;\n");
    for (size_t i = 0; i < nports; i++)
      be_buf_printf(&b, "  fib daddr type local %s dport %d dnat to %s:%d\n", ports[i].proto, ports[i].host, ip, ports[i].cont);
    be_buf_printf(&b, " }\n chain post { type nat hook postrouting priority 100;\n  ip saddr " SUBNET ".0/24 ip daddr != " SUBNET
                      ".0/24 masquerade\n }\n}\n");
    char path[] = "/tmp/berth-nft-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
      free(b.data);
      return be_make_error(err, errno, "mkstemp");
    }
    int rc = be_write_all(fd, b.data, b.len) < 0 ? be_make_error(err, errno, "write `%s`", path) : 0;
    close(fd);
    free(b.data);
    if (rc == 0) rc = TOOL(err, "nft", "-f", path);
    unlink(path);
    return rc < 0 ? be_error_wrap(err, "publish ports of `%s` (nftables)", name) : 0;
  }
  if (!have("iptables")) return be_make_error(err, 0, "-p: neither nft nor iptables is installed; install nftables");
  char chain[29];
  snprintf(chain, sizeof chain, "BERTH-%.20s", table + 6);
  if (TOOL(err, "iptables", "-t", "nat", "-N", chain) < 0) return -1;
  for (size_t i = 0; i < nports; i++) {
    cleanup_free char *dport = be_xasprintf("%d", ports[i].host);
    cleanup_free char *to = be_xasprintf("%s:%d", ip, ports[i].cont);
    if (TOOL(err, "iptables", "-t", "nat", "-A", chain, "-p", (char *)ports[i].proto, "--dport", dport, "-j", "DNAT", "--to-destination", to) < 0)
      return -1;
  }
  if (TOOL(err, "iptables", "-t", "nat", "-I", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", chain) < 0 ||
      TOOL(err, "iptables", "-t", "nat", "-I", "OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", chain) < 0)
    return -1;
  return 0;
}

void be_net_detach(const char *name) {
  char host[16], peer[16], table[64];
  ifnames(name, host, peer, table);
  be_error_t e = NULL;
  TOOL(&e, "ip", "link", "del", host);
  be_error_release(&e);
  if (have("nft")) {
    TOOL(&e, "nft", "delete", "table", "ip", table);
    be_error_release(&e);
  } else if (have("iptables")) {
    char chain[29];
    snprintf(chain, sizeof chain, "BERTH-%.20s", table + 6);
    TOOL(&e, "iptables", "-t", "nat", "-D", "PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-j", chain);
    be_error_release(&e);
    TOOL(&e, "iptables", "-t", "nat", "-D", "OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-j", chain);
    be_error_release(&e);
    TOOL(&e, "iptables", "-t", "nat", "-F", chain);
    be_error_release(&e);
    TOOL(&e, "iptables", "-t", "nat", "-X", chain);
    be_error_release(&e);
  }
}
