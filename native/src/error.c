/* be_error_t: build, wrap and print errors. */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *log_path;
static int log_json;

void be_error_set_log(const char *path, int json) {
  log_path = path;
  log_json = json;
}

int be_make_error(be_error_t *err, int errno_, const char *fmt, ...) {
  int ret = errno_ > 0 ? -errno_ : -1;
  if (err == NULL || *err != NULL)
    return ret;
  char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  if (msg && errno_ > 0) {
    char *full = NULL;
    if (asprintf(&full, "%s: %s", msg, strerror(errno_)) >= 0) {
      free(msg);
      msg = full;
    }
  }
  struct be_error_s *e = calloc(1, sizeof(*e));
  if (e == NULL) {
    free(msg);
    return ret;
  }
  e->status = errno_ > 0 ? errno_ : 0;
  e->msg = msg ? msg : strdup("out of memory");
  *err = e;
  return ret;
}

int be_error_wrap(be_error_t *err, const char *fmt, ...) {
  if (err == NULL || *err == NULL)
    return -1;
  char *ctx = NULL, *full = NULL;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&ctx, fmt, ap);
  va_end(ap);
  if (n >= 0 && asprintf(&full, "%s: %s", ctx, (*err)->msg) >= 0) {
    free((*err)->msg);
    (*err)->msg = full;
  }
  if (n >= 0)
    free(ctx);
  return -1;
}

void be_error_release(be_error_t *err) {
  if (err == NULL || *err == NULL)
    return;
  free((*err)->msg);
  free(*err);
  *err = NULL;
}

static void write_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

int be_error_print(be_error_t *err) {
  const char *msg = (err && *err) ? (*err)->msg : "unknown error";
  fprintf(stderr, "berth-engine: %s\n", msg);
  if (log_path) {
    FILE *f = fopen(log_path, "ae");
    if (f) {
      if (log_json) {
        /* The shape runc and crun write: conmon/podman read "msg" from the last line. */
        char ts[64];
        time_t now = time(NULL);
        struct tm tm;
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        fputs("{\"level\":\"error\",\"msg\":", f);
        write_json_string(f, msg);
        fprintf(f, ",\"time\":\"%s\"}\n", ts);
      } else {
        fprintf(f, "berth-engine: %s\n", msg);
      }
      fclose(f);
    }
  }
  be_error_release(err);
  return 1;
}
