/* A layer blob as a byte stream: detects gzip / zstd / plain by magic number, decompresses, and hashes both
 * the blob bytes (the layer digest) and the decompressed bytes (the diff_id) as they pass. */
#ifndef BE_IMG_STREAM_H
#define BE_IMG_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "digest.h"
#include "img-error.h"

enum img_compression { IMG_PLAIN, IMG_GZIP, IMG_ZSTD };

typedef struct img_stream img_stream;

/* Takes a readable fd (not owned) or, with fd < 0, reads from mem/mem_len (for the fuzzer and tests). */
img_stream *img_stream_open(int fd, const void *mem, size_t mem_len, be_error_t *err);
/* Reads bytes [off, off+len) of fd with pread (a member inside an uncompressed archive). */
img_stream *img_stream_open_range(int fd, uint64_t off, uint64_t len, be_error_t *err);
/* Reads up to n decompressed bytes; 0 at the end. */
ssize_t img_stream_read(img_stream *s, void *buf, size_t n, be_error_t *err);
/* Reads exactly n bytes; a short stream is an error naming `what`. */
int img_stream_read_full(img_stream *s, void *buf, size_t n, const char *what, be_error_t *err);
/* Consumes everything that is left (tar padding after the end marker) and returns both digests. */
int img_stream_finish(img_stream *s, char blob_hex[65], char diff_hex[65], be_error_t *err);
enum img_compression img_stream_compression(const img_stream *s);
uint64_t img_stream_out_bytes(const img_stream *s);
void img_stream_close(img_stream *s);

#endif
