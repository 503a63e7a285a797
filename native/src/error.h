/* Error contract (after crun's libcrun_error_t): a function that can fail takes `be_error_t *err`, returns < 0
 * and fills *err with {errno, message}. Messages read "<action> `<object>`: <cause>". Callers add context with
 * be_error_wrap(). Only main() prints an error and exits. */
#ifndef BE_ERROR_H
#define BE_ERROR_H

#include <stdarg.h>

typedef struct be_error_s {
  int status; /* errno of the failing call, 0 when the error is not a system error */
  char *msg;
} *be_error_t;

/* Sets *err (if err is non-NULL and empty) and returns -1 (or -errno_ when errno_ > 0, always < 0). The message
 * gets ": strerror(errno_)" appended when errno_ != 0. */
int be_make_error(be_error_t *err, int errno_, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes the existing message with "context: " and returns -1. */
int be_error_wrap(be_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void be_error_release(be_error_t *err);
/* Prints "berth-engine: <msg>" to stderr (and to the --log file when one is set) and releases it. Returns the
 * exit code to use (1). */
int be_error_print(be_error_t *err);
/* Where be_error_print also writes (runc/crun `--log FILE`); NULL for none. json != 0 writes JSON lines. */
void be_error_set_log(const char *path, int json);

#endif
