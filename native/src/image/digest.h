/* SHA-256 for blob verification. Backed by OpenSSL's libcrypto (static): it is audited and uses the CPU's
 * SHA extensions (SHA-NI), about 4-5x faster than a portable C implementation, which matters because every
 * layer byte is hashed twice (compressed digest and diff_id). */
#ifndef BE_IMG_DIGEST_H
#define BE_IMG_DIGEST_H

#include <stddef.h>

#include "img-error.h"

typedef struct img_sha256 img_sha256;

img_sha256 *img_sha256_new(void);
void img_sha256_update(img_sha256 *h, const void *data, size_t len);
/* Writes 64 lowercase hex digits + NUL into hex and frees h. */
void img_sha256_final(img_sha256 *h, char hex[65]);
void img_sha256_free(img_sha256 *h);

/* "sha256:<64 hex>" → 1 and copies the hex part; anything else (other algorithms, bad length) → 0. */
int img_digest_parse(const char *digest, char hex[65]);
/* Hashes a whole file. */
int img_sha256_file(int dirfd, const char *path, char hex[65], be_error_t *err);

#endif
