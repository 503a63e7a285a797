/* Decompressing, hashing reader for layer blobs (see stream.h). */
#define _GNU_SOURCE
#include "stream.h"

#include <pthread.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define IN_CAP (1u << 20)

struct img_stream {
  int fd;
  int ranged;             /* read [range_pos, range_end) with pread (a member of an uncompressed archive) */
  uint64_t range_pos, range_end;
  const unsigned char *mem;
  size_t mem_len, mem_pos;
  enum img_compression kind;
  img_sha256 *blob_hash, *diff_hash;
  unsigned char *in;
  size_t in_pos, in_len;
  int in_eof;
  z_stream z;
  int z_ready, z_done;
  ZSTD_DCtx *zd;
  int zstd_frame_done;
  uint64_t out_bytes;
  /* Compressed layers decompress in a second thread (like `tar -z` runs gzip beside tar): reading, the blob
   * hash and inflate there; diff_id hash, tar parsing and file writes here. A ring of NCHUNK buffers. */
  int threaded;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct chunk {
    char *data;
    size_t len;
  } ring[4];
  size_t head, count; /* head: next chunk for the consumer */
  size_t cur_off;     /* consumer offset into ring[head] */
  int prod_done, cancel;
  be_error_t prod_err;
};
#define NCHUNK 4
#define CHUNK_SIZE (1u << 20)
static void start_thread(img_stream *s);
static void stop_thread(img_stream *s);

static ssize_t raw_read(img_stream *s, void *buf, size_t n) {
  ssize_t r;
  if (s->ranged) {
    uint64_t left = s->range_end - s->range_pos;
    if (n > left) n = (size_t)left;
    if (n == 0) return 0;
    do r = pread(s->fd, buf, n, (off_t)s->range_pos);
    while (r < 0 && errno == EINTR);
    if (r > 0) s->range_pos += (uint64_t)r;
    return r;
  }
  do r = read(s->fd, buf, n);
  while (r < 0 && errno == EINTR);
  return r;
}

static img_stream *img_stream_open_impl(int fd, const void *mem, size_t mem_len, int ranged, uint64_t off, uint64_t len,
                                        be_error_t *err);

/* Refills the input buffer from the fd or memory; hashes the new raw bytes. Returns bytes added, 0 at EOF. */
static ssize_t fill(img_stream *s, be_error_t *err) {
  if (s->in_pos < s->in_len) return (ssize_t)(s->in_len - s->in_pos);
  s->in_pos = s->in_len = 0;
  if (s->in_eof) return 0;
  ssize_t r;
  if (s->fd >= 0) {
    r = raw_read(s, s->in, IN_CAP);
    if (r < 0) return img_err(err, errno, "read layer blob");
  } else {
    size_t left = s->mem_len - s->mem_pos;
    r = (ssize_t)(left < IN_CAP ? left : IN_CAP);
    memcpy(s->in, s->mem + s->mem_pos, (size_t)r);
    s->mem_pos += (size_t)r;
  }
  if (r == 0) s->in_eof = 1;
  img_sha256_update(s->blob_hash, s->in, (size_t)r);
  s->in_len = (size_t)r;
  return r;
}

img_stream *img_stream_open_range(int fd, uint64_t off, uint64_t len, be_error_t *err) {
  return img_stream_open_impl(fd, NULL, 0, 1, off, len, err);
}

img_stream *img_stream_open(int fd, const void *mem, size_t mem_len, be_error_t *err) {
  return img_stream_open_impl(fd, mem, mem_len, 0, 0, 0, err);
}

static img_stream *img_stream_open_impl(int fd, const void *mem, size_t mem_len, int ranged, uint64_t off, uint64_t len,
                                        be_error_t *err) {
  img_stream *s = calloc(1, sizeof *s);
  if (!s) return img_err(err, ENOMEM, "open layer stream"), NULL;
  s->fd = fd;
  s->ranged = ranged;
  s->range_pos = off;
  s->range_end = off + len;
  s->mem = mem;
  s->mem_len = mem_len;
  s->in = malloc(IN_CAP);
  s->blob_hash = img_sha256_new();
  s->diff_hash = img_sha256_new();
  if (!s->in || !s->blob_hash || !s->diff_hash) {
    img_stream_close(s);
    return img_err(err, ENOMEM, "open layer stream"), NULL;
  }
  /* Fill until 4 bytes are available for the magic number (a pipe may deliver less per read). */
  while (s->in_len < 4 && !s->in_eof) {
    size_t had = s->in_len;
    ssize_t r;
    if (s->fd >= 0) {
      r = raw_read(s, s->in + had, IN_CAP - had);
      if (r < 0) {
        img_stream_close(s);
        return img_err(err, errno, "read layer blob"), NULL;
      }
    } else {
      size_t left = s->mem_len - s->mem_pos;
      r = (ssize_t)(left < IN_CAP - had ? left : IN_CAP - had);
      memcpy(s->in + had, s->mem + s->mem_pos, (size_t)r);
      s->mem_pos += (size_t)r;
    }
    if (r == 0) s->in_eof = 1;
    img_sha256_update(s->blob_hash, s->in + had, (size_t)r);
    s->in_len += (size_t)r;
  }
  const unsigned char *m = s->in;
  if (s->in_len >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
    s->kind = IMG_GZIP;
    /* 15 + 16: gzip wrapper only (no zlib/raw guessing). */
    if (inflateInit2(&s->z, 15 + 16) != Z_OK) {
      img_stream_close(s);
      return img_err(err, 0, "start gzip decompression"), NULL;
    }
    s->z_ready = 1;
  } else if (s->in_len >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
    s->kind = IMG_ZSTD;
    s->zd = ZSTD_createDCtx();
    if (!s->zd) {
      img_stream_close(s);
      return img_err(err, ENOMEM, "start zstd decompression"), NULL;
    }
    /* Bound the window so a hostile frame cannot demand gigabytes (zstd's default limit is 128 MiB). */
    ZSTD_DCtx_setParameter(s->zd, ZSTD_d_windowLogMax, 27);
  } else {
    s->kind = IMG_PLAIN;
  }
  if (s->kind != IMG_PLAIN && fd >= 0 && !getenv("BERTH_ENGINE_SINGLE_THREAD")) start_thread(s);
  return s;
}

enum img_compression img_stream_compression(const img_stream *s) { return s->kind; }
uint64_t img_stream_out_bytes(const img_stream *s) { return s->out_bytes; }

static ssize_t read_gzip(img_stream *s, void *buf, size_t n, be_error_t *err) {
  s->z.next_out = buf;
  s->z.avail_out = (uInt)(n > (1u << 30) ? (1u << 30) : n);
  while (s->z.avail_out > 0) {
    if (s->z_done) {
      /* Concatenated gzip members are one stream (RFC 1952 §2.2); anything else after the end is an error. */
      ssize_t r = fill(s, err);
      if (r < 0) return -1;
      if (r == 0) break;
      if (inflateReset(&s->z) != Z_OK) return img_err(err, 0, "decompress gzip layer: reset failed");
      s->z_done = 0;
    }
    ssize_t r = fill(s, err);
    if (r < 0) return -1;
    if (r == 0) {
      if (!s->z_done) return img_err(err, 0, "decompress gzip layer: truncated stream");
      break;
    }
    s->z.next_in = s->in + s->in_pos;
    s->z.avail_in = (uInt)(s->in_len - s->in_pos);
    int rc = inflate(&s->z, Z_NO_FLUSH);
    s->in_pos = s->in_len - s->z.avail_in;
    if (rc == Z_STREAM_END) s->z_done = 1;
    else if (rc != Z_OK && rc != Z_BUF_ERROR)
      return img_err(err, 0, "decompress gzip layer: %s", s->z.msg ? s->z.msg : "corrupt data");
    else if (rc == Z_BUF_ERROR && s->z.avail_in == 0 && s->in_eof)
      return img_err(err, 0, "decompress gzip layer: truncated stream");
  }
  return (ssize_t)((char *)s->z.next_out - (char *)buf);
}

static ssize_t read_zstd(img_stream *s, void *buf, size_t n, be_error_t *err) {
  ZSTD_outBuffer out = {buf, n, 0};
  while (out.pos < out.size) {
    ssize_t r = fill(s, err);
    if (r < 0) return -1;
    if (r == 0) {
      if (!s->zstd_frame_done) return img_err(err, 0, "decompress zstd layer: truncated stream");
      break;
    }
    ZSTD_inBuffer in = {s->in, s->in_len, s->in_pos};
    size_t rc = ZSTD_decompressStream(s->zd, &out, &in);
    s->in_pos = in.pos;
    if (ZSTD_isError(rc)) return img_err(err, 0, "decompress zstd layer: %s", ZSTD_getErrorName(rc));
    s->zstd_frame_done = rc == 0;
    if (rc != 0 && in.pos == in.size && out.pos < out.size && s->in_eof)
      return img_err(err, 0, "decompress zstd layer: truncated stream");
  }
  return (ssize_t)out.pos;
}

static ssize_t read_plain(img_stream *s, void *buf, size_t n, be_error_t *err) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = fill(s, err);
    if (r < 0) return -1;
    if (r == 0) break;
    size_t take = s->in_len - s->in_pos;
    if (take > n - got) take = n - got;
    memcpy((char *)buf + got, s->in + s->in_pos, take);
    s->in_pos += take;
    got += take;
  }
  return (ssize_t)got;
}

static ssize_t decompress(img_stream *s, void *buf, size_t n, be_error_t *err) {
  switch (s->kind) {
  case IMG_GZIP: return read_gzip(s, buf, n, err);
  case IMG_ZSTD: return read_zstd(s, buf, n, err);
  default: return read_plain(s, buf, n, err);
  }
}

static void *producer(void *arg) {
  img_stream *s = arg;
  for (;;) {
    pthread_mutex_lock(&s->mu);
    while (s->count == NCHUNK && !s->cancel) pthread_cond_wait(&s->cv, &s->mu);
    if (s->cancel) {
      pthread_mutex_unlock(&s->mu);
      return NULL;
    }
    struct chunk *c = &s->ring[(s->head + s->count) % NCHUNK];
    pthread_mutex_unlock(&s->mu);
    /* Fill the whole chunk (inflate may return less per call). */
    size_t got = 0;
    ssize_t r = 1;
    be_error_t e = NULL;
    while (got < CHUNK_SIZE && (r = decompress(s, c->data + got, CHUNK_SIZE - got, &e)) > 0) got += (size_t)r;
    pthread_mutex_lock(&s->mu);
    c->len = got;
    if (got) s->count++;
    if (r <= 0) {
      s->prod_done = 1;
      s->prod_err = e;
    }
    pthread_cond_broadcast(&s->cv);
    int done = s->prod_done;
    pthread_mutex_unlock(&s->mu);
    if (done) return NULL;
  }
}

static ssize_t read_threaded(img_stream *s, void *buf, size_t n, be_error_t *err) {
  pthread_mutex_lock(&s->mu);
  while (s->count == 0 && !s->prod_done) pthread_cond_wait(&s->cv, &s->mu);
  if (s->count == 0) {
    /* Producer finished: pass on its error once, or report the end. */
    ssize_t r = 0;
    if (s->prod_err) {
      if (err && !*err) *err = s->prod_err;
      else be_error_release(&s->prod_err);
      s->prod_err = NULL;
      r = -1;
    }
    pthread_mutex_unlock(&s->mu);
    return r;
  }
  struct chunk *c = &s->ring[s->head];
  pthread_mutex_unlock(&s->mu);
  size_t take = c->len - s->cur_off;
  if (take > n) take = n;
  memcpy(buf, c->data + s->cur_off, take);
  s->cur_off += take;
  if (s->cur_off == c->len) {
    pthread_mutex_lock(&s->mu);
    s->head = (s->head + 1) % NCHUNK;
    s->count--;
    s->cur_off = 0;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
  }
  return (ssize_t)take;
}

static void stop_thread(img_stream *s) {
  if (!s->threaded) return;
  pthread_mutex_lock(&s->mu);
  s->cancel = 1;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->thread, NULL);
  s->threaded = 0;
  be_error_release(&s->prod_err);
  for (size_t i = 0; i < NCHUNK; i++) free(s->ring[i].data);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
}

static void start_thread(img_stream *s) {
  for (size_t i = 0; i < NCHUNK; i++)
    if (!(s->ring[i].data = malloc(CHUNK_SIZE))) {
      for (size_t k = 0; k < i; k++) free(s->ring[k].data);
      return; /* stays single-threaded */
    }
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  if (pthread_create(&s->thread, NULL, producer, s) != 0) {
    for (size_t i = 0; i < NCHUNK; i++) free(s->ring[i].data);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    return;
  }
  s->threaded = 1;
}

ssize_t img_stream_read(img_stream *s, void *buf, size_t n, be_error_t *err) {
  ssize_t r = s->threaded ? read_threaded(s, buf, n, err) : decompress(s, buf, n, err);
  if (r > 0) {
    img_sha256_update(s->diff_hash, buf, (size_t)r);
    s->out_bytes += (uint64_t)r;
  }
  return r;
}

int img_stream_read_full(img_stream *s, void *buf, size_t n, const char *what, be_error_t *err) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = img_stream_read(s, (char *)buf + got, n - got, err);
    if (r < 0) return -1;
    if (r == 0) return img_err(err, 0, "read %s: archive ends early (truncated layer)", what);
    got += (size_t)r;
  }
  return 0;
}

int img_stream_finish(img_stream *s, char blob_hex[65], char diff_hex[65], be_error_t *err) {
  img_autofree char *buf = malloc(1 << 16);
  if (!buf) return img_err(err, ENOMEM, "finish layer stream");
  for (;;) {
    ssize_t r = img_stream_read(s, buf, 1 << 16, err);
    if (r < 0) return -1;
    if (r == 0) break;
  }
  stop_thread(s); /* the producer has finished (EOF seen); joining makes its blob hash ours */
  img_sha256_final(s->blob_hash, blob_hex);
  img_sha256_final(s->diff_hash, diff_hex);
  s->blob_hash = s->diff_hash = NULL;
  return 0;
}

void img_stream_close(img_stream *s) {
  if (!s) return;
  stop_thread(s);
  if (s->z_ready) inflateEnd(&s->z);
  if (s->zd) ZSTD_freeDCtx(s->zd);
  img_sha256_free(s->blob_hash);
  img_sha256_free(s->diff_hash);
  free(s->in);
  free(s);
}
