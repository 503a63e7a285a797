/* libFuzzer harness for the tar parser, decompression and safe extraction (both whiteout forms).
 * Each input is extracted into a fresh directory next to an empty sentinel directory; anything appearing in
 * the sentinel, or a file system object outside the scratch tree, is an escape and aborts the run.
 * Build: make -C native fuzz (clang -fsanitize=fuzzer,address,undefined). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/extract.h"
#include "image/fsutil.h"
#include "image/stream.h"

static char scratch[256];
static int scratch_fd = -1;

static int dir_empty(const char *path) {
  DIR *d = opendir(path);
  if (!d) return 1;
  struct dirent *de;
  int n = 0;
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
  closedir(d);
  return n == 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *base = getenv("BERTH_FUZZ_DIR");
  snprintf(scratch, sizeof scratch, "%s/fuzz-XXXXXX", base ? base : "/tmp");
  if (!mkdtemp(scratch)) abort();
  scratch_fd = open(scratch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (scratch_fd < 0 || mkdirat(scratch_fd, "sentinel", 0700) < 0) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  struct img_extract_opts o = {.whiteouts = (data[0] & 1) ? IMG_WHITEOUT_OVERLAY : IMG_WHITEOUT_APPLY, .allow_devices = 0};
  be_error_t err = NULL;
  img_remove_tree_at(scratch_fd, "root", &err);
  be_error_release(&err);
  if (mkdirat(scratch_fd, "root", 0755) < 0) abort();
  int root = openat(scratch_fd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) abort();
  img_stream *s = img_stream_open(-1, data + 1, size - 1, &err);
  if (s) {
    struct img_extract_result res;
    img_extract(root, s, &o, &res, &err);
    img_stream_close(s);
  }
  be_error_release(&err);
  close(root);
  char sentinel[300];
  snprintf(sentinel, sizeof sentinel, "%s/sentinel", scratch);
  if (!dir_empty(sentinel)) {
    fprintf(stderr, "ESCAPE: something was written into %s\n", sentinel);
    abort();
  }
  /* Nothing but root/ and sentinel/ may exist in the scratch dir. */
  DIR *d = opendir(scratch);
  struct dirent *de;
  while (d && (de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, "root") && strcmp(de->d_name, "sentinel")) {
      fprintf(stderr, "ESCAPE: %s/%s appeared\n", scratch, de->d_name);
      abort();
    }
  if (d) closedir(d);
  return 0;
}
