/* Helpers shared by container.c (create/start/run/kill/delete) and exec.c. */
#ifndef BE_CONTAINER_H
#define BE_CONTAINER_H

#include <sys/types.h>

#include "error.h"
#include "runtime.h"

const char *be_root_or_default(const char *root);
char *be_seccomp_cache_dir(const char *root);
int be_write_pid_file(const char *path, pid_t pid, be_error_t *err);
void be_forward_signals(pid_t pid);
int be_wait_child(pid_t pid);
int be_sync_read(int fd, be_error_t *err);
int be_kill_all_and_wait(const be_state *s, be_error_t *err);

#endif
