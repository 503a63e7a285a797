/* File-system helpers shared by extraction and the storage drivers: beneath-root path resolution (openat2
 * RESOLVE_BENEATH, with an O_NOFOLLOW walk where openat2 is missing), recursive removal and copying. */
#ifndef BE_IMG_FSUTIL_H
#define BE_IMG_FSUTIL_H

#include "img-error.h"

/* Opens directory `path` (relative, already normalised, "" = root) beneath rootfd for reading; never leaves
 * the root (a symlink that would is EXDEV) and never follows magic links. With create, missing directories
 * are made (mode 0755) on the way. Returns an fd or -1 with errno set (no err: callers word the message). */
int img_open_dir_beneath(int rootfd, const char *path, int create);
struct dirent;
/* Called for each entry of a directory; path is `rel/name` (NULL when the walk was given no rel). */
typedef int (*img_entry_fn)(void *arg, int dirfd, const struct dirent *de, const char *path, int depth, be_error_t *err);
/* Calls fn for each entry of directory dirfd but . and .., stopping at the first fn < 0 (returned). dirfd stays
 * usable (the listing reads a dup). depth is the caller's nesting; above 2048 it is ELOOP (no image is that
 * deep, a crafted one may be). */
int img_each_entry(int dirfd, const char *rel, int depth, img_entry_fn fn, void *arg, be_error_t *err);
/* Removes `name` in dirfd and, for a directory, everything below it; ENOENT is not an error. */
int img_remove_tree_at(int dirfd, const char *name, be_error_t *err);
/* Copies the tree at src (a directory fd) into the existing empty directory dst: files, dirs, symlinks,
 * devices, fifos, hardlinks, owners, modes, xattrs and times. */
int img_copy_tree(int srcfd, int dstfd, be_error_t *err);
/* mkdir -p of an absolute or relative path (mode 0700 for new components). */
int img_mkdir_p(const char *path, mode_t mode, be_error_t *err);
/* Writes a whole file atomically (temp + rename) in dirfd. */
int img_write_file_at(int dirfd, const char *name, const void *data, size_t len, be_error_t *err);
/* Reads a small file into a NUL-terminated buffer (NULL with errno on failure). */
char *img_read_file_at(int dirfd, const char *name, size_t max, size_t *len);

/* Runs argv (looked up in the system directories only, never the caller's PATH); on failure the error
 * names the whole command, its exit status and the tail of its stderr. */
int img_run_tool(char *const argv[], be_error_t *err);

#endif
