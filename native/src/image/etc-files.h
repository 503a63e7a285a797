/* /etc/hosts, /etc/hostname and /etc/resolv.conf for `run` containers, the way Docker and podman give them:
 * files chosen or generated in the container's state dir and bind-mounted read-only, never written into the
 * image layers. */
#ifndef BE_IMG_ETC_FILES_H
#define BE_IMG_ETC_FILES_H

#include "../oci-config.h"

/* network: "none", "host" or "bridge"; ip: the container's address (bridge only). A destination the user
 * already mounts (-v HOST:/etc/hosts) is left to that mount. */
int be_etc_files_add(be_config *cfg, const char *state_dir, const char *network, const char *hostname, const char *ip,
                     be_error_t *err);

/* The host's resolv.conf text without loopback nameservers (unreachable from another network namespace);
 * *nameservers counts the ones kept. Exposed for the unit tests. */
char *be_etc_resolv_filter(const char *text, int *nameservers);

#endif
