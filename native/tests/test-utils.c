/* Unit tests: error contract and small helpers. */
#include <errno.h>
#include <stdlib.h>

#include "error.h"
#include "tap.h"
#include "utils.h"

int main(void) {
  be_error_t err = NULL;
  int rc = be_make_error(&err, ENOENT, "open `%s`", "/x");
  ok(rc < 0, "be_make_error returns < 0");
  is_str(err->msg, "open `/x`: No such file or directory", "message names the call, object and cause");
  is_int(err->status, ENOENT, "errno kept");
  be_error_wrap(&err, "load config");
  is_str(err->msg, "load config: open `/x`: No such file or directory", "wrap prefixes context");
  be_error_release(&err);
  ok(err == NULL, "release clears");

  ok(be_validate_id("abc-1.2_x", &err) == 0, "valid id");
  ok(be_validate_id("../x", &err) < 0, "id with a slash refused");
  be_error_release(&err);
  ok(be_validate_id("", &err) < 0, "empty id refused");
  be_error_release(&err);

  be_buf b = {0};
  be_buf_json_string(&b, "a\"b\\c\n");
  is_str(b.data, "\"a\\\"b\\\\c\\u000a\"", "json escaping");
  free(b.data);
  ok(be_fnv1a64("a", 1, 0) == 0xaf63dc4c8601ec8cULL, "fnv1a64 known vector");
  return done_testing();
}
