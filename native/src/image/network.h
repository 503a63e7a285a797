/* Container networking for `run --network bridge`: a Linux bridge `berth0` (10.89.0.1/24), one veth pair per
 * container moved into its network namespace, port publishing by DNAT with nftables (or iptables when the
 * host has no nft), one table (or chain) per container so removal is exact. Host tools (ip, nsenter, nft,
 * iptables) do the work. */
#ifndef BE_IMG_NETWORK_H
#define BE_IMG_NETWORK_H

#include <sys/types.h>

#include "store.h"

typedef struct be_port {
  int host, cont;
  char proto[4]; /* "tcp" or "udp" */
} be_port;

int be_net_parse_publish(const char *spec, be_port *out, be_error_t *err);
/* Picks a free address (recorded in containers/<name>/ip) while the store is locked. */
int be_net_allocate(be_store *st, const char *name, char ip[16], be_error_t *err);
/* Bridge + veth into pid's network namespace + DNAT rules for ports. */
int be_net_attach(const char *name, pid_t pid, const char *ip, const be_port *ports, size_t nports, be_error_t *err);
/* Removes the veth and the container's rules (best effort). */
void be_net_detach(const char *name);

#endif
