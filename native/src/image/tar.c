/* Tar parser (see tar.h). Formats per POSIX.1-2017 pax(1) "ustar Interchange Format" and "pax Header Block",
 * and GNU tar's 'L'/'K' long-name records. Numeric fields are octal or GNU base-256 (high bit set). */
#define _GNU_SOURCE
#include "tar.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct img_tar {
  img_stream *s;
  struct img_tar_entry e;
  uint64_t data_left, pad_left;
  int done;
  /* Pending overrides from pax 'x' and GNU 'L'/'K' records for the next real entry. */
  char *pax_path, *pax_link, *gnu_path, *gnu_link;
  int has_pax_size, has_pax_uid, has_pax_gid, has_pax_mtime;
  uint64_t pax_size;
  uint32_t pax_uid, pax_gid;
  int64_t pax_mtime;
  long pax_mtime_nsec;
  struct img_xattr pax_xattrs[IMG_TAR_XATTR_MAX];
  size_t n_pax_xattrs;
};

const char *img_tar_kind_name(enum img_tar_kind k) {
  static const char *names[] = {"file", "hardlink", "symlink", "char device", "block device", "directory", "fifo"};
  return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

img_tar *img_tar_new(img_stream *s, be_error_t *err) {
  img_tar *t = calloc(1, sizeof *t);
  if (!t) return img_err(err, ENOMEM, "read tar"), NULL;
  t->s = s;
  return t;
}

static void clear_xattrs(struct img_xattr *x, size_t *n) {
  for (size_t i = 0; i < *n; i++) {
    free(x[i].name);
    free(x[i].value);
  }
  *n = 0;
}

static void clear_entry(img_tar *t) {
  free(t->e.path);
  free(t->e.linkpath);
  clear_xattrs(t->e.xattrs, &t->e.n_xattrs);
  memset(&t->e, 0, sizeof t->e);
}

static void clear_pending(img_tar *t) {
  free(t->pax_path);
  free(t->pax_link);
  free(t->gnu_path);
  free(t->gnu_link);
  t->pax_path = t->pax_link = t->gnu_path = t->gnu_link = NULL;
  t->has_pax_size = t->has_pax_uid = t->has_pax_gid = t->has_pax_mtime = 0;
  clear_xattrs(t->pax_xattrs, &t->n_pax_xattrs);
}

void img_tar_free(img_tar *t) {
  if (!t) return;
  clear_entry(t);
  clear_pending(t);
  free(t);
}

/* Octal (NUL/space terminated) or base-256. Returns 0 and *out, or -1 on garbage / overflow. */
static int parse_num(const unsigned char *f, size_t len, uint64_t *out) {
  if (f[0] & 0x80) {
    if (f[0] & 0x40) return -1; /* negative base-256 */
    uint64_t v = f[0] & 0x3f;
    for (size_t i = 1; i < len; i++) {
      if (v >> 56) return -1;
      v = (v << 8) | f[i];
    }
    *out = v;
    return 0;
  }
  uint64_t v = 0;
  size_t i = 0;
  while (i < len && f[i] == ' ') i++;
  size_t digits = 0;
  for (; i < len && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
    if (v >> 60) return -1;
    v = v * 8 + (uint64_t)(f[i] - '0');
  }
  for (; i < len; i++)
    if (f[i] != ' ' && f[i] != 0) return -1;
  *out = v;
  (void)digits;
  return 0;
}

static char *field_str(const unsigned char *f, size_t len) {
  size_t n = strnlen((const char *)f, len);
  char *s = malloc(n + 1);
  if (!s) return NULL;
  memcpy(s, f, n);
  s[n] = 0;
  return s;
}

/* Reads a metadata payload ('x', 'g', 'L', 'K') of `size` bytes plus padding into a NUL-terminated buffer. */
static char *read_meta(img_tar *t, uint64_t size, const char *what, be_error_t *err) {
  if (size > IMG_TAR_META_MAX) return img_err(err, 0, "read tar %s: %" PRIu64 " bytes is over the limit", what, size), NULL;
  uint64_t padded = (size + 511) & ~(uint64_t)511;
  char *buf = malloc(padded + 1);
  if (!buf) return img_err(err, ENOMEM, "read tar %s", what), NULL;
  if (img_stream_read_full(t->s, buf, padded, what, err) < 0) {
    free(buf);
    return NULL;
  }
  buf[size] = 0;
  return buf;
}

static int set_str(char **dst, const char *src, size_t len) {
  free(*dst);
  *dst = malloc(len + 1);
  if (!*dst) return -1;
  memcpy(*dst, src, len);
  (*dst)[len] = 0;
  return 0;
}

static int parse_dec(const char *s, size_t len, uint64_t *out) {
  if (len == 0 || len > 19) return -1;
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  *out = v;
  return 0;
}

/* pax records: "%d %s=%s\n" where the decimal length counts the whole record. */
static int parse_pax(img_tar *t, const char *buf, size_t size, int global, be_error_t *err) {
  size_t off = 0;
  while (off < size) {
    size_t i = off, len = 0;
    while (i < size && buf[i] >= '0' && buf[i] <= '9' && i - off < 8) len = len * 10 + (size_t)(buf[i++] - '0');
    if (i >= size || buf[i] != ' ' || len == 0 || len > size - off || buf[off + len - 1] != '\n')
      return img_err(err, 0, "read tar pax header: malformed record at offset %zu", off);
    const char *kv = buf + i + 1, *end = buf + off + len - 1;
    const char *eq = memchr(kv, '=', (size_t)(end - kv));
    if (!eq) return img_err(err, 0, "read tar pax header: record without '='");
    size_t klen = (size_t)(eq - kv), vlen = (size_t)(end - eq - 1);
    const char *val = eq + 1;
    off += len;
    if (global) {
      /* Global headers ('g') would change every later entry; archives from image tools do not use them,
       * and honouring a global `path` would be a renaming attack. Only comments are accepted. */
      if (klen == 7 && memcmp(kv, "comment", 7) == 0) continue;
      return img_err(err, 0, "read tar: pax global header sets `%.*s`, which is not supported", (int)klen, kv);
    }
#define KEY(s) (klen == sizeof(s) - 1 && memcmp(kv, s, klen) == 0)
    if (memchr(val, 0, vlen) && !(klen > 13 && memcmp(kv, "SCHILY.xattr.", 13) == 0))
      return img_err(err, 0, "read tar pax header: NUL byte in `%.*s`", (int)klen, kv);
    if (KEY("path")) {
      if (set_str(&t->pax_path, val, vlen) < 0) return img_err(err, ENOMEM, "read tar pax header");
    } else if (KEY("linkpath")) {
      if (set_str(&t->pax_link, val, vlen) < 0) return img_err(err, ENOMEM, "read tar pax header");
    } else if (KEY("size")) {
      if (parse_dec(val, vlen, &t->pax_size) < 0) return img_err(err, 0, "read tar pax header: bad size");
      t->has_pax_size = 1;
    } else if (KEY("uid") || KEY("gid")) {
      uint64_t v;
      if (parse_dec(val, vlen, &v) < 0 || v > UINT32_MAX) return img_err(err, 0, "read tar pax header: bad %.*s", (int)klen, kv);
      if (kv[0] == 'u') t->pax_uid = (uint32_t)v, t->has_pax_uid = 1;
      else t->pax_gid = (uint32_t)v, t->has_pax_gid = 1;
    } else if (KEY("mtime")) {
      const char *dot = memchr(val, '.', vlen);
      size_t ilen = dot ? (size_t)(dot - val) : vlen;
      uint64_t sec;
      int neg = ilen > 0 && val[0] == '-';
      if (parse_dec(val + neg, ilen - (size_t)neg, &sec) < 0 || sec > INT64_MAX)
        return img_err(err, 0, "read tar pax header: bad mtime");
      t->pax_mtime = neg ? -(int64_t)sec : (int64_t)sec;
      long ns = 0;
      if (dot) {
        const char *f = dot + 1;
        int digits = 0;
        for (; f < val + vlen && *f >= '0' && *f <= '9'; f++)
          if (digits < 9) ns = ns * 10 + (*f - '0'), digits++;
        while (digits++ < 9) ns *= 10;
      }
      t->pax_mtime_nsec = neg ? 0 : ns;
      t->has_pax_mtime = 1;
    } else if (klen > 13 && memcmp(kv, "SCHILY.xattr.", 13) == 0) {
      if (t->n_pax_xattrs >= IMG_TAR_XATTR_MAX) return img_err(err, 0, "read tar pax header: more than %d xattrs", IMG_TAR_XATTR_MAX);
      struct img_xattr *x = &t->pax_xattrs[t->n_pax_xattrs];
      x->name = NULL;
      x->value = NULL;
      if (memchr(kv + 13, 0, klen - 13) || set_str(&x->name, kv + 13, klen - 13) < 0 ||
          (x->value = malloc(vlen + 1)) == NULL) {
        free(x->name);
        return img_err(err, 0, "read tar pax header: bad xattr name");
      }
      memcpy(x->value, val, vlen);
      x->len = vlen;
      t->n_pax_xattrs++;
    } else if (klen > 11 && memcmp(kv, "GNU.sparse.", 11) == 0) {
      return img_err(err, 0, "read tar: GNU sparse files are not supported (rebuild the layer without --sparse)");
    }
    /* Other keys (atime, ctime, uname, gname, charset, LIBARCHIVE.*) do not change what is extracted. */
#undef KEY
  }
  return 0;
}

static int zero_block(const unsigned char *b) {
  for (int i = 0; i < 512; i++)
    if (b[i]) return 0;
  return 1;
}

static int skip_data(img_tar *t, be_error_t *err) {
  char buf[8192];
  while (t->data_left + t->pad_left > 0) {
    uint64_t want = t->data_left + t->pad_left;
    size_t n = want > sizeof buf ? sizeof buf : (size_t)want;
    if (img_stream_read_full(t->s, buf, n, "tar entry data", err) < 0) return -1;
    if (t->data_left >= n) t->data_left -= n;
    else {
      t->pad_left -= n - t->data_left;
      t->data_left = 0;
    }
  }
  return 0;
}

int img_tar_next(img_tar *t, struct img_tar_entry **out, be_error_t *err) {
  if (t->done) return 0;
  if (skip_data(t, err) < 0) return -1;
  clear_entry(t);
  unsigned char h[512];
  for (;;) {
    ssize_t r = img_stream_read(t->s, h, 512, err);
    if (r < 0) return -1;
    if (r == 0) {
      /* Some writers omit the two zero blocks; an archive that ends on a header boundary is complete. */
      if (t->pax_path || t->gnu_path || t->has_pax_size) return img_err(err, 0, "read tar: archive ends after an extended header");
      t->done = 1;
      return 0;
    }
    if (r < 512 && img_stream_read_full(t->s, h + r, 512 - (size_t)r, "tar header", err) < 0) return -1;
    if (zero_block(h)) {
      t->done = 1;
      return 0;
    }
    uint64_t sum_stored, size, v;
    if (parse_num(h + 148, 8, &sum_stored) < 0) return img_err(err, 0, "read tar header: bad checksum field");
    uint64_t sum = 0;
    for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
    if (sum != sum_stored) return img_err(err, 0, "read tar header: checksum mismatch (not a tar archive, or corrupt)");
    if (parse_num(h + 124, 12, &size) < 0) return img_err(err, 0, "read tar header: bad size field");
    char type = (char)h[156];
    if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
      const char *what = type == 'x' || type == 'g' ? "pax header" : "GNU long name";
      img_autofree char *meta = read_meta(t, size, what, err);
      if (!meta) return -1;
      if (type == 'x' || type == 'g') {
        if (parse_pax(t, meta, (size_t)size, type == 'g', err) < 0) return -1;
      } else {
        /* The payload is NUL-terminated and may be padded; an embedded NUL ends the name. */
        size_t n = strnlen(meta, (size_t)size);
        if (set_str(type == 'L' ? &t->gnu_path : &t->gnu_link, meta, n) < 0) return img_err(err, ENOMEM, "read tar");
      }
      continue;
    }
    struct img_tar_entry *e = &t->e;
    switch (type) {
    case '0': case '\0': case '7': e->kind = IMG_TAR_FILE; break;
    case '1': e->kind = IMG_TAR_HARDLINK; break;
    case '2': e->kind = IMG_TAR_SYMLINK; break;
    case '3': e->kind = IMG_TAR_CHAR; break;
    case '4': e->kind = IMG_TAR_BLOCK; break;
    case '5': e->kind = IMG_TAR_DIR; break;
    case '6': e->kind = IMG_TAR_FIFO; break;
    default:
      clear_pending(t);
      return img_err(err, 0, "read tar: entry type '%c' (0x%02x) is not supported", type >= 0x20 && type < 0x7f ? type : '?',
                     (unsigned char)type);
    }
    if (t->has_pax_size) size = t->pax_size;
    /* Only regular files carry data; a size on anything else is skipped, as GNU tar does. */
    if (e->kind == IMG_TAR_FILE) e->size = size;
    t->data_left = size;
    t->pad_left = ((size + 511) & ~(uint64_t)511) - size;
    if (e->kind != IMG_TAR_FILE && e->kind != IMG_TAR_DIR && size > IMG_TAR_META_MAX)
      return img_err(err, 0, "read tar: %s with %" PRIu64 " data bytes", img_tar_kind_name(e->kind), size);

    if (t->pax_path) e->path = t->pax_path, t->pax_path = NULL;
    else if (t->gnu_path) e->path = t->gnu_path, t->gnu_path = NULL;
    else {
      img_autofree char *name = field_str(h, 100);
      /* POSIX ustar ("ustar\0" "00") has a 155-byte prefix; GNU's "ustar  \0" uses those bytes for times. */
      if (name && memcmp(h + 257, "ustar\0", 6) == 0 && h[345]) {
        img_autofree char *prefix = field_str(h + 345, 155);
        if (prefix && asprintf(&e->path, "%s/%s", prefix, name) < 0) e->path = NULL;
      } else {
        e->path = name;
        name = NULL;
      }
    }
    if (t->pax_link) e->linkpath = t->pax_link, t->pax_link = NULL;
    else if (t->gnu_link) e->linkpath = t->gnu_link, t->gnu_link = NULL;
    else if (e->kind == IMG_TAR_SYMLINK || e->kind == IMG_TAR_HARDLINK) e->linkpath = field_str(h + 157, 100);
    if (!e->path || ((e->kind == IMG_TAR_SYMLINK || e->kind == IMG_TAR_HARDLINK) && !e->linkpath)) {
      clear_pending(t);
      return img_err(err, ENOMEM, "read tar header");
    }
    if (parse_num(h + 100, 8, &v) < 0) return img_err(err, 0, "read tar header of `%s`: bad mode", e->path);
    e->mode = (uint32_t)(v & 07777);
    if (parse_num(h + 108, 8, &v) < 0 || v > UINT32_MAX) return img_err(err, 0, "read tar header of `%s`: bad uid", e->path);
    e->uid = t->has_pax_uid ? t->pax_uid : (uint32_t)v;
    if (parse_num(h + 116, 8, &v) < 0 || v > UINT32_MAX) return img_err(err, 0, "read tar header of `%s`: bad gid", e->path);
    e->gid = t->has_pax_gid ? t->pax_gid : (uint32_t)v;
    if (parse_num(h + 136, 12, &v) < 0) return img_err(err, 0, "read tar header of `%s`: bad mtime", e->path);
    e->mtime = t->has_pax_mtime ? t->pax_mtime : (int64_t)(v > INT64_MAX ? INT64_MAX : v);
    e->mtime_nsec = t->has_pax_mtime ? t->pax_mtime_nsec : 0;
    if (parse_num(h + 329, 8, &v) < 0 || v > UINT32_MAX) return img_err(err, 0, "read tar header of `%s`: bad devmajor", e->path);
    e->devmajor = (uint32_t)v;
    if (parse_num(h + 337, 8, &v) < 0 || v > UINT32_MAX) return img_err(err, 0, "read tar header of `%s`: bad devminor", e->path);
    e->devminor = (uint32_t)v;
    memcpy(e->xattrs, t->pax_xattrs, t->n_pax_xattrs * sizeof *e->xattrs);
    e->n_xattrs = t->n_pax_xattrs;
    t->n_pax_xattrs = 0;
    clear_pending(t);
    if (e->kind != IMG_TAR_FILE) {
      /* Data of non-files is skipped right away so img_tar_read returns nothing for them. */
      if (skip_data(t, err) < 0) return -1;
    }
    *out = e;
    return 1;
  }
}

ssize_t img_tar_read(img_tar *t, void *buf, size_t n, be_error_t *err) {
  if (t->data_left == 0) return 0;
  if (n > t->data_left) n = (size_t)t->data_left;
  ssize_t r = img_stream_read(t->s, buf, n, err);
  if (r < 0) return -1;
  if (r == 0) return img_err(err, 0, "read tar entry `%s`: archive ends early (truncated layer)", t->e.path);
  t->data_left -= (uint64_t)r;
  if (t->data_left == 0 && t->pad_left) {
    char pad[512];
    if (img_stream_read_full(t->s, pad, (size_t)t->pad_left, "tar padding", err) < 0) return -1;
    t->pad_left = 0;
  }
  return r;
}
