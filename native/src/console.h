/* Terminals: a pty made inside the container, its master sent over the --console-socket (SCM_RIGHTS). */
#ifndef BE_CONSOLE_H
#define BE_CONSOLE_H

#include "error.h"

/* Connects to the AF_UNIX socket at path (before pivot_root: the path is on the host). */
int be_console_connect(const char *path, int *fd, be_error_t *err);
/* Opens /dev/ptmx (of the container's devpts), sends the master over sock, makes the pty slave the controlling
 * terminal and stdin/stdout/stderr. */
int be_console_setup(int sock, unsigned height, unsigned width, be_error_t *err);

#endif
