/* Seccomp: parse linux.seccomp, compile it once with libseccomp, cache the BPF under --root keyed by a hash of
 * the profile, and load the cached program with seccomp(2). libseccomp is only touched on a cache miss. */
#ifndef BE_SECCOMP_FILTER_H
#define BE_SECCOMP_FILTER_H

#include <yajl/yajl_tree.h>

#include "error.h"
#include "oci-config.h"

int be_seccomp_parse(yajl_val v, be_seccomp *out, be_error_t *err);
void be_seccomp_clear(be_seccomp *s);
/* Canonical text of the profile (what the hash covers); malloc'd. */
char *be_seccomp_canonical(const be_seccomp *s);
/* Path of the cached BPF for this profile under cache_dir, compiling it first when missing. */
int be_seccomp_prepare(const be_seccomp *s, const char *cache_dir, char **bpf_path, be_error_t *err);
/* Compiles the profile to BPF with libseccomp and writes it to path (atomically). */
int be_seccomp_compile(const be_seccomp *s, const char *path, be_error_t *err);
/* Reads a cached BPF file; *prog is malloc'd, *len in instructions. */
int be_seccomp_read(const char *path, void **prog, unsigned short *len, be_error_t *err);
/* Installs the filter in the calling thread (SECCOMP_SET_MODE_FILTER with the profile's flags). */
int be_seccomp_load(const be_seccomp *s, void *prog, unsigned short len, be_error_t *err);
unsigned be_seccomp_flags(const be_seccomp *s);

#endif
