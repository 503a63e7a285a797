/* /etc/hosts, /etc/hostname, /etc/resolv.conf for `run` containers (see etc-files.h). The runtime makes the
 * mount points (mounts.c: open_in_root, RESOLVE_IN_ROOT) in the container's own root — the overlay upper dir
 * or the vfs copy — so an image without /etc works and the image layers stay untouched; the read-only root
 * (--read-only) is applied after the binds. */
#define _GNU_SOURCE
#include "etc-files.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "../utils.h"

/* systemd-resolved's list of the real upstream servers, used when /etc/resolv.conf names only its stub
 * (127.0.0.53), as Docker and podman do. */
#define RESOLVED_UPSTREAM "/run/systemd/resolve/resolv.conf"

static bool mounted_by_user(const be_config *cfg, const char *dest) {
  for (size_t i = 0; i < cfg->nmounts; i++)
    if (!strcmp(cfg->mounts[i].destination, dest)) return true;
  return false;
}

static void add_ro_bind(be_config *cfg, const char *source, const char *dest) {
  be_config_add_bind(cfg, source, dest, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, false);
}

static bool loopback_address(const char *a) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, a, buf) == 1) return buf[0] == 127;
  char six[INET6_ADDRSTRLEN + 1];
  size_t n = strcspn(a, "%"); /* fe80::1%eth0 */
  if (n >= sizeof six) return false;
  memcpy(six, a, n);
  six[n] = 0;
  if (inet_pton(AF_INET6, six, buf) != 1) return false;
  static const unsigned char one[16] = {[15] = 1};
  static const unsigned char v4mapped[12] = {[10] = 0xff, [11] = 0xff};
  return !memcmp(buf, one, 16) || (!memcmp(buf, v4mapped, 12) && buf[12] == 127);
}

char *be_etc_resolv_filter(const char *text, int *nameservers) {
  be_buf b = {0};
  *nameservers = 0;
  cleanup_free char *copy = be_xstrdup(text);
  for (char *line = copy, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    const char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (!strncmp(p, "nameserver", 10) && (p[10] == ' ' || p[10] == '\t')) {
      p += 10;
      while (*p == ' ' || *p == '\t') p++;
      size_t n = strcspn(p, " \t\r#;");
      char addr[INET6_ADDRSTRLEN + 16];
      snprintf(addr, sizeof addr, "%.*s", (int)(n < sizeof addr - 1 ? n : sizeof addr - 1), p);
      if (loopback_address(addr)) continue;
      ++*nameservers;
    }
    be_buf_puts(&b, line);
    be_buf_puts(&b, "\n");
  }
  if (!b.data) be_buf_puts(&b, "");
  return b.data;
}

/* The host's resolver config for a container in its own network namespace: /etc/resolv.conf without loopback
 * nameservers, else systemd-resolved's upstream list. NULL when neither names a reachable server. */
static char *bridge_resolv_conf(void) {
  static const char *const candidates[] = {"/etc/resolv.conf", RESOLVED_UPSTREAM};
  for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
    cleanup_free char *text = NULL;
    size_t len;
    if (be_read_file(candidates[i], &text, &len, NULL) < 0) continue;
    int ns;
    char *out = be_etc_resolv_filter(text, &ns);
    if (ns > 0) return out;
    free(out);
  }
  return NULL;
}

static int write_state_file(const char *dir, const char *name, const char *text, char **path, be_error_t *err) {
  *path = be_xasprintf("%s/%s", dir, name);
  if (be_write_file(*path, text, strlen(text), 0644, err) < 0) return be_error_wrap(err, "write the container's %s", name);
  return 0;
}

int be_etc_files_add(be_config *cfg, const char *state_dir, const char *network, const char *hostname, const char *ip,
                     be_error_t *err) {
  bool host = !strcmp(network, "host"), bridge = !strcmp(network, "bridge");
  if (!mounted_by_user(cfg, "/etc/hostname")) {
    cleanup_free char *text = be_xasprintf("%s\n", hostname), *path = NULL;
    if (write_state_file(state_dir, "hostname", text, &path, err) < 0) return -1;
    add_ro_bind(cfg, path, "/etc/hostname");
  }
  if (host) {
    /* The host's own files (a symlinked resolv.conf, e.g. systemd-resolved's stub, resolved to its target:
     * a bind of the link would be resolved inside the container's root instead). */
    static const char *const files[] = {"/etc/hosts", "/etc/resolv.conf"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
      if (mounted_by_user(cfg, files[i])) continue;
      cleanup_free char *real = realpath(files[i], NULL);
      if (real) add_ro_bind(cfg, real, files[i]);
    }
    return 0;
  }
  if (!mounted_by_user(cfg, "/etc/hosts")) {
    be_buf b = {0};
    be_buf_puts(&b, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    if (bridge && ip && *ip) be_buf_printf(&b, "%s\t%s\n", ip, hostname);
    cleanup_free char *text = b.data, *path = NULL;
    if (write_state_file(state_dir, "hosts", text, &path, err) < 0) return -1;
    add_ro_bind(cfg, path, "/etc/hosts");
  }
  if (bridge && !mounted_by_user(cfg, "/etc/resolv.conf")) {
    cleanup_free char *text = bridge_resolv_conf(), *path = NULL;
    if (!text) {
      fprintf(stderr, "berth-engine run: warning: neither /etc/resolv.conf nor " RESOLVED_UPSTREAM
                      " names a non-loopback nameserver (a loopback one is unreachable from the container's network); "
                      "the container gets no /etc/resolv.conf of the engine's. Give it one with -v FILE:/etc/resolv.conf:ro\n");
      return 0;
    }
    if (write_state_file(state_dir, "resolv.conf", text, &path, err) < 0) return -1;
    add_ro_bind(cfg, path, "/etc/resolv.conf");
  }
  return 0;
}
