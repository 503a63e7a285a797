/* Unit tests (TAP) for the pure parts of the image layer: path normalisation, digests, tar headers (octal,
 * base-256, pax, GNU long names, ustar prefix), chain IDs through the loader's rules, overlay option length. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/digest.h"
#include "image/extract.h"
#include "image/stream.h"
#include "image/tar.h"
#include "storage/overlay2.h"
#include "tap.h"

static char *norm(const char *p) {
  be_error_t err = NULL;
  char *r = img_normalize_path(p, &err);
  be_error_release(&err);
  return r;
}

/* A ustar header block with a valid checksum. */
static void header(unsigned char *h, const char *name, char type, const char *size_octal) {
  memset(h, 0, 512);
  strncpy((char *)h, name, 100);
  memcpy(h + 100, "0000644", 7);
  memcpy(h + 108, "0000000", 7);
  memcpy(h + 116, "0000000", 7);
  memcpy(h + 124, size_octal, strlen(size_octal));
  memcpy(h + 136, "00000000000", 11);
  h[156] = (unsigned char)type;
  memcpy(h + 257, "ustar\0" "00", 8);
  memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++) sum += h[i];
  snprintf((char *)h + 148, 8, "%06o", sum);
}

static void fix_sum(unsigned char *h) {
  memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++) sum += h[i];
  snprintf((char *)h + 148, 8, "%06o", sum);
}

int main(void) {
  char *p;
  is_str(p = norm("./a//b/./c/"), "a/b/c", "normalise: ./ and empty components go");
  free(p);
  is_str(p = norm("."), "", "normalise: . is the root");
  free(p);
  ok(norm("../x") == NULL, "normalise: .. refused");
  ok(norm("a/../../x") == NULL, "normalise: nested .. refused");
  ok(norm("/etc/passwd") == NULL, "normalise: absolute refused");
  char longc[300];
  memset(longc, 'n', 299);
  longc[299] = 0;
  ok(norm(longc) == NULL, "normalise: 299-byte component refused");

  char hex[65];
  ok(img_digest_parse("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", hex), "digest: sha256 parsed");
  ok(!img_digest_parse("sha512:00", hex), "digest: other algorithms refused");
  ok(!img_digest_parse("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", hex), "digest: upper case refused");
  img_sha256 *h = img_sha256_new();
  img_sha256_update(h, "abc", 3);
  img_sha256_final(h, hex);
  is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256(abc) (FIPS 180-2 example)");

  /* A tar in memory: a pax header naming a long path, a file with a base-256 size, a GNU long link. */
  unsigned char tar[512 * 12];
  memset(tar, 0, sizeof tar);
  const char *rec = "32 path=very/long/name/here.txt\n";
  header(tar, "PaxHeader", 'x', "00000000040");
  memcpy(tar + 512, rec, strlen(rec));
  header(tar + 1024, "short", '0', "00000000000");
  /* size 5 in base-256: high bit set in the first byte of the 12-byte field */
  memset(tar + 1024 + 124, 0, 12);
  tar[1024 + 124] = 0x80;
  tar[1024 + 135] = 5;
  fix_sum(tar + 1024);
  memcpy(tar + 1536, "hello", 5);
  header(tar + 2048, "././@LongLink", 'K', "00000000017");
  memcpy(tar + 2560, "target/of/link", 15);
  header(tar + 3072, "lnk", '2', "00000000000");
  /* ustar prefix field */
  header(tar + 3584, "file", '5', "00000000000");
  memcpy(tar + 3584 + 345, "some/prefix", 11);
  fix_sum(tar + 3584);
  be_error_t err = NULL;
  img_stream *s = img_stream_open(-1, tar, sizeof tar, &err);
  img_tar *t = img_tar_new(s, &err);
  struct img_tar_entry *e;
  int first = img_tar_next(t, &e, &err);
  is_int(first, 1, "tar: first entry");
  if (first != 1) {
    printf("# %s\n", err ? err->msg : "?");
    return done_testing();
  }
  is_str(e->path, "very/long/name/here.txt", "tar: pax path overrides the header name");
  is_int(e->size, 5, "tar: base-256 size");
  char buf[16] = {0};
  is_int(img_tar_read(t, buf, sizeof buf, &err), 5, "tar: data read");
  is_str(buf, "hello", "tar: data content");
  is_int(img_tar_next(t, &e, &err), 1, "tar: symlink entry");
  is_str(e->linkpath, "target/of/link", "tar: GNU long link name");
  is_int(img_tar_next(t, &e, &err), 1, "tar: directory entry");
  is_str(e->path, "some/prefix/file", "tar: ustar prefix joined");
  is_int(img_tar_next(t, &e, &err), 0, "tar: end of archive");
  ok(err == NULL, "tar: no error");
  img_tar_free(t);
  img_stream_close(s);

  unsigned char bad[1024] = {0};
  header(bad, "x", '0', "00000000000");
  bad[0] = 'y'; /* checksum now wrong */
  s = img_stream_open(-1, bad, sizeof bad, &err);
  t = img_tar_new(s, &err);
  ok(img_tar_next(t, &e, &err) < 0 && err && strstr(err->msg, "checksum mismatch"), "tar: bad checksum refused");
  be_error_release(&err);
  img_tar_free(t);
  img_stream_close(s);

  /* overlay legacy option string: refused past one page instead of being cut by the kernel */
  be_buf lower = {0};
  for (int i = 0; i < 200; i++) be_buf_printf(&lower, "%sl/ABCDEFGHIJKLMNOPQRSTUVWXYZ", i ? ":" : "");
  char *opts = NULL;
  ok(be_overlay_legacy_options(lower.data, "/u", "/w", &opts, &err) < 0 && strstr(err->msg, "silently dropped"),
     "overlay: 200 layers do not fit the legacy option page");
  be_error_release(&err);
  ok(be_overlay_legacy_options("l/A:l/B", "/u", "/w", &opts, &err) == 0, "overlay: short option string accepted");
  is_str(opts, "lowerdir=l/A:l/B,upperdir=/u,workdir=/w", "overlay: option string");
  free(opts);
  free(lower.data);
  return done_testing();
}
