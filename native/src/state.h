/* Container state under --root: ROOT/ID/state.json (+ exec.fifo while created). */
#ifndef BE_STATE_H
#define BE_STATE_H

#include "runtime.h"

char *be_state_dir(const char *root, const char *id);
int be_state_write(const char *root, const be_state *s, be_error_t *err);
/* Reads ROOT/ID/state.json and refreshes status from the process (pid + start time) and the exec fifo. */
int be_state_read(const char *root, const char *id, be_state *s, be_error_t *err);
/* Field 22 of /proc/PID/stat (start time in clock ticks); 0 when the process is gone. */
unsigned long long be_proc_start_time(pid_t pid);
/* True when pid still is the process recorded (same start time). */
bool be_state_alive(const be_state *s);

#endif
