/* SHA-256 through libcrypto's EVP interface (the low-level SHA256_* calls are deprecated in OpenSSL 3). */
#define _GNU_SOURCE
#include "digest.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>

struct img_sha256 {
  EVP_MD_CTX *ctx;
};

img_sha256 *img_sha256_new(void) {
  img_sha256 *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->ctx = EVP_MD_CTX_new();
  if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
    img_sha256_free(h);
    return NULL;
  }
  return h;
}

void img_sha256_update(img_sha256 *h, const void *data, size_t len) {
  if (h && len) EVP_DigestUpdate(h->ctx, data, len);
}

void img_sha256_final(img_sha256 *h, char hex[65]) {
  unsigned char md[32];
  unsigned int n = 0;
  EVP_DigestFinal_ex(h->ctx, md, &n);
  for (unsigned i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
  hex[64] = 0;
  img_sha256_free(h);
}

void img_sha256_free(img_sha256 *h) {
  if (!h) return;
  EVP_MD_CTX_free(h->ctx);
  free(h);
}

int img_digest_parse(const char *digest, char hex[65]) {
  if (!digest || strncmp(digest, "sha256:", 7) != 0) return 0;
  const char *p = digest + 7;
  if (strlen(p) != 64) return 0;
  for (int i = 0; i < 64; i++)
    if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f'))) return 0;
  memcpy(hex, p, 65);
  return 1;
}

int img_sha256_file(int dirfd, const char *path, char hex[65], be_error_t *err) {
  img_autoclose int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return img_err(err, errno, "open `%s`", path);
  img_sha256 *h = img_sha256_new();
  if (!h) return img_err(err, ENOMEM, "hash `%s`", path);
  img_autofree char *buf = malloc(1 << 20);
  if (!buf) {
    img_sha256_free(h);
    return img_err(err, ENOMEM, "hash `%s`", path);
  }
  for (;;) {
    ssize_t r = read(fd, buf, 1 << 20);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      img_sha256_free(h);
      return img_err(err, errno, "read `%s`", path);
    }
    if (r == 0) break;
    img_sha256_update(h, buf, (size_t)r);
  }
  img_sha256_final(h, hex);
  return 0;
}
