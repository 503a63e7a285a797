/* devicemapper (direct-lvm): every layer is a thin snapshot of its parent in an LVM thin pool, every
 * container a thin snapshot of its image's top layer; the base is a thin volume with an ext4 file system.
 * The pool is an existing one (--dm-pool VG/POOL, recorded in devicemapper/pool) or, with --dm-device DEV,
 * one made here: pvcreate, vgcreate berth, a thin pool with an lvm profile for autoextend. A pool on a loop
 * device is refused unless --allow-loopback (loop files lose data on host crashes and are slow). LVM tools
 * do the work: they keep LVM's metadata consistent, which raw dm ioctls would not. Layout:
 *   devicemapper/pool            "VG/POOL"
 *   devicemapper/layers/<id>     a committed layer (its LV is VG/bl-<id[0:40]>)
 *   devicemapper/mnt/<name>      mount points (staging layers, container roots) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../image/fsutil.h"
#include "../utils.h"
#include "driver.h"

#define BASE_SIZE "10G"

#define TOOL(err, ...) img_run_tool((char *const[]){__VA_ARGS__, NULL}, err)

static char *pool_of(be_storage *s) {
  size_t len;
  char *p = img_read_file_at(s->home_fd, "pool", 512, &len);
  if (p)
    while (len && (p[len - 1] == '\n' || p[len - 1] == ' ')) p[--len] = 0;
  if (p && *p) return p;
  free(p);
  return s->dm_pool ? be_xstrdup(s->dm_pool) : NULL;
}

static int dm_preflight(const char *home, be_error_t *err) {
  (void)home;
  if (access("/dev/mapper/control", F_OK) < 0)
    return be_make_error(err, 0, "storage driver devicemapper: the kernel has no device-mapper (/dev/mapper/control is missing); "
                                 "load dm_mod or use --storage-driver overlay2");
  be_error_t e = NULL;
  if (TOOL(&e, "lvm", "version") < 0) {
    be_error_release(&e);
    return be_make_error(err, 0, "storage driver devicemapper: LVM tools are missing; install lvm2 and thin-provisioning-tools");
  }
  /* dm_thin_pool may be a module that nothing loaded yet. */
  TOOL(&e, "modprobe", "dm_thin_pool");
  be_error_release(&e);
  return 0;
}

/* True when every physical volume of the pool's VG is a loop device (major 7). */
static int vg_on_loop(const char *vg, bool *loop, be_error_t *err) {
  *loop = false;
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) return be_make_error(err, errno, "pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], 1);
    setenv("LVM_SUPPRESS_FD_WARNINGS", "1", 1);
    setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
    char sel[300];
    snprintf(sel, sizeof sel, "vg_name=%s", vg);
    execlp("pvs", "pvs", "--noheadings", "-o", "pv_name", "-S", sel, (char *)NULL);
    _exit(127);
  }
  close(pipefd[1]);
  char buf[4096];
  ssize_t n = read(pipefd[0], buf, sizeof buf - 1);
  close(pipefd[0]);
  waitpid(pid, NULL, 0);
  if (n <= 0) return be_make_error(err, 0, "find the physical volumes of volume group `%s` (pvs)", vg);
  buf[n] = 0;
  for (char *save = NULL, *l = strtok_r(buf, " \n", &save); l; l = strtok_r(NULL, " \n", &save)) {
    struct stat st;
    if (stat(l, &st) == 0 && S_ISBLK(st.st_mode) && major(st.st_rdev) == 7) *loop = true;
  }
  return 0;
}

static char *lv_name(const char *prefix, const char *id) { return be_xasprintf("%s-%.40s", prefix, id); }

/* Makes sure the pool is recorded, not on a loop device (unless allowed), and has the base volume. */
static int ensure_pool(be_storage *s, char **vg_out, char **pool_out, be_error_t *err) {
  cleanup_free char *pool = pool_of(s);
  if (!pool)
    return be_make_error(err, 0, "storage driver devicemapper: no thin pool configured; give --dm-pool VG/POOL (create one with "
                                 "`berth-engine storage dm-setup DEVICE` or lvcreate --type thin-pool)");
  char *slash = strchr(pool, '/');
  if (!slash || !slash[1]) return be_make_error(err, 0, "--dm-pool `%s`: use VG/POOL", pool);
  *vg_out = strndup(pool, (size_t)(slash - pool));
  *pool_out = be_xstrdup(slash + 1);
  bool loop;
  if (vg_on_loop(*vg_out, &loop, err) < 0) return -1;
  if (loop && !s->allow_loopback)
    return be_make_error(err, 0, "storage driver devicemapper: thin pool `%s` sits on a loop device; loop-file pools lose data and "
                                 "are slow, so they are refused. Put the pool on a real block device, or pass --allow-loopback "
                                 "(tests only)",
                         pool);
  if (img_write_file_at(s->home_fd, "pool", pool, strlen(pool), err) < 0) return -1;
  cleanup_free char *base = be_xasprintf("%s/berth-base", *vg_out);
  cleanup_free char *basedev = be_xasprintf("/dev/%s/berth-base", *vg_out);
  if (access(basedev, F_OK) == 0) return 0;
  cleanup_free char *thin = be_xasprintf("%s/%s", *vg_out, *pool_out);
  if (TOOL(err, "lvcreate", "-q", "-V", BASE_SIZE, "-T", thin, "-n", "berth-base") < 0) return be_error_wrap(err, "create the base volume");
  if (TOOL(err, "mkfs.ext4", "-q", "-E", "nodiscard,lazy_itable_init=1,lazy_journal_init=1", basedev) < 0)
    return be_error_wrap(err, "make the base file system");
  /* mkfs leaves lost+found, which would show up in every image: the base must be an empty root. */
  cleanup_free char *mnt = be_xasprintf("%s/mnt/berth-base", s->home);
  if (be_mkdir_p(mnt, 0700, err) < 0) return -1;
  if (mount(basedev, mnt, "ext4", 0, NULL) < 0) return be_make_error(err, errno, "mount `%s`", basedev);
  cleanup_free char *lf = be_xasprintf("%s/lost+found", mnt);
  rmdir(lf);
  chmod(mnt, 0755);
  if (umount2(mnt, 0) < 0) return be_make_error(err, errno, "umount `%s`", mnt);
  rmdir(mnt);
  return 0;
}

static char *mnt_path(be_storage *s, const char *name) { return be_xasprintf("%s/mnt/%s", s->home, name); }

static int snapshot_and_mount(be_storage *s, const char *vg, const char *origin, const char *lv, const char *mnt, be_error_t *err) {
  cleanup_free char *from = be_xasprintf("%s/%s", vg, origin);
  /* -kn: no activation-skip flag (thin snapshots get one by default), -ay: activate now. */
  if (TOOL(err, "lvcreate", "-q", "-s", "-kn", "-ay", "-n", (char *)lv, from) < 0) return -1;
  cleanup_free char *dev = be_xasprintf("/dev/%s/%s", vg, lv);
  if (be_mkdir_p(mnt, 0700, err) < 0) return -1;
  if (mount(dev, mnt, "ext4", 0, "discard") < 0) return be_make_error(err, errno, "mount `%s` on `%s`", dev, mnt);
  (void)s;
  return 0;
}

static int remove_lv(const char *vg, const char *lv, be_error_t *err) {
  cleanup_free char *full = be_xasprintf("%s/%s", vg, lv);
  be_error_t e = NULL;
  if (TOOL(&e, "lvremove", "-q", "-f", full) == 0) return 0;
  /* Deferred removal: a device still held open (a leaked mount in another namespace) goes away when its last
   * user closes it, instead of failing the removal. */
  be_error_release(&e);
  cleanup_free char *dmname = be_xasprintf("%s-%s", vg, lv);
  TOOL(&e, "dmsetup", "remove", "--deferred", dmname);
  be_error_release(&e);
  return TOOL(err, "lvremove", "-q", "-f", full);
}

static int dm_layer_begin(be_storage *s, const char *id, const char *parent, int *dirfd, be_error_t *err) {
  cleanup_free char *vg = NULL, *pool = NULL;
  if (ensure_pool(s, &vg, &pool, err) < 0) return -1;
  cleanup_free char *lv = lv_name("bl", id);
  cleanup_free char *origin = parent ? lv_name("bl", parent) : be_xstrdup("berth-base");
  cleanup_free char *mnt = mnt_path(s, lv);
  if (snapshot_and_mount(s, vg, origin, lv, mnt, err) < 0) return -1;
  int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return be_make_error(err, errno, "open `%s`", mnt);
  *dirfd = fd;
  return 0;
}

static int dm_layer_commit(be_storage *s, const char *id, be_error_t *err) {
  cleanup_free char *lv = lv_name("bl", id);
  cleanup_free char *mnt = mnt_path(s, lv);
  sync();
  if (umount2(mnt, 0) < 0) return be_make_error(err, errno, "umount `%s`", mnt);
  rmdir(mnt);
  if (mkdirat(s->home_fd, "layers", 0700) < 0 && errno != EEXIST) return be_make_error(err, errno, "mkdir layers");
  cleanup_free char *rec = be_xasprintf("layers/%s", id);
  return img_write_file_at(s->home_fd, rec, lv, strlen(lv), err);
}

static void dm_layer_abort(be_storage *s, const char *id) {
  cleanup_free char *vg = NULL, *pool = NULL;
  be_error_t e = NULL;
  cleanup_free char *lv = lv_name("bl", id);
  cleanup_free char *mnt = mnt_path(s, lv);
  umount2(mnt, MNT_DETACH);
  rmdir(mnt);
  if (ensure_pool(s, &vg, &pool, &e) == 0) remove_lv(vg, lv, &e);
  be_error_release(&e);
}

static bool dm_layer_exists(be_storage *s, const char *id) {
  cleanup_free char *rec = be_xasprintf("layers/%s", id);
  return faccessat(s->home_fd, rec, F_OK, 0) == 0;
}

static int dm_layer_remove(be_storage *s, const char *id, be_error_t *err) {
  cleanup_free char *vg = NULL, *pool = NULL;
  if (ensure_pool(s, &vg, &pool, err) < 0) return -1;
  cleanup_free char *lv = lv_name("bl", id);
  cleanup_free char *dev = be_xasprintf("/dev/%s/%s", vg, lv);
  if (access(dev, F_OK) == 0 && remove_lv(vg, lv, err) < 0) return -1;
  cleanup_free char *rec = be_xasprintf("layers/%s", id);
  unlinkat(s->home_fd, rec, 0);
  return 0;
}

static int dm_container_create(be_storage *s, const char *cid, const char *top, char **rootfs, be_error_t *err) {
  cleanup_free char *vg = NULL, *pool = NULL;
  if (ensure_pool(s, &vg, &pool, err) < 0) return -1;
  cleanup_free char *lv = lv_name("bc", cid);
  cleanup_free char *origin = lv_name("bl", top);
  cleanup_free char *mnt = mnt_path(s, lv);
  cleanup_free char *dev = be_xasprintf("/dev/%s/%s", vg, lv);
  if (access(dev, F_OK) == 0) {
    if (be_mkdir_p(mnt, 0700, err) < 0) return -1;
    if (mount(dev, mnt, "ext4", 0, "discard") < 0 && errno != EBUSY) return be_make_error(err, errno, "mount `%s`", dev);
  } else if (snapshot_and_mount(s, vg, origin, lv, mnt, err) < 0) {
    return -1;
  }
  *rootfs = be_xstrdup(mnt);
  return 0;
}

static int dm_container_unmount(be_storage *s, const char *cid, be_error_t *err) {
  cleanup_free char *lv = lv_name("bc", cid);
  cleanup_free char *mnt = mnt_path(s, lv);
  if (umount2(mnt, 0) < 0 && errno != EINVAL && errno != ENOENT) {
    if (errno != EBUSY || umount2(mnt, MNT_DETACH) < 0) return be_make_error(err, errno, "umount `%s`", mnt);
  }
  return 0;
}

static int dm_container_remove(be_storage *s, const char *cid, be_error_t *err) {
  if (dm_container_unmount(s, cid, err) < 0) return -1;
  cleanup_free char *vg = NULL, *pool = NULL;
  if (ensure_pool(s, &vg, &pool, err) < 0) return -1;
  cleanup_free char *lv = lv_name("bc", cid);
  cleanup_free char *mnt = mnt_path(s, lv);
  rmdir(mnt);
  cleanup_free char *dev = be_xasprintf("/dev/%s/%s", vg, lv);
  if (access(dev, F_OK) == 0) return remove_lv(vg, lv, err);
  return 0;
}

int be_dm_setup(const char *device, const char *vg, bool allow_loopback, char **pool_out, be_error_t *err) {
  struct stat st;
  if (stat(device, &st) < 0 || !S_ISBLK(st.st_mode)) return be_make_error(err, errno ? errno : ENOTBLK, "`%s` is not a block device", device);
  if (major(st.st_rdev) == 7 && !allow_loopback)
    return be_make_error(err, 0, "`%s` is a loop device; loop-backed pools are refused unless --allow-loopback (tests only)", device);
  /* The profile makes LVM grow the pool by 20% whenever it is 80% full (lvmthin(7) "Automatic extend"). */
  static const char profile[] = "activation {\n\tthin_pool_autoextend_threshold=80\n\tthin_pool_autoextend_percent=20\n}\n";
  if (be_mkdir_p("/etc/lvm/profile", 0755, err) < 0) return -1;
  if (be_write_file("/etc/lvm/profile/berth-thinpool.profile", profile, strlen(profile), 0644, err) < 0) return -1;
  if (TOOL(err, "pvcreate", "-q", "-y", (char *)device) < 0) return -1;
  if (TOOL(err, "vgcreate", "-q", (char *)vg, (char *)device) < 0) return -1;
  cleanup_free char *data = be_xasprintf("%s/thinpool", vg);
  if (TOOL(err, "lvcreate", "-q", "-y", "--type", "thin-pool", "-l", "90%VG", "--poolmetadatasize", "64M", "-n", "thinpool",
           (char *)vg) < 0)
    return -1;
  if (TOOL(err, "lvchange", "-q", "--metadataprofile", "berth-thinpool", data) < 0) return -1;
  *pool_out = be_xstrdup(data);
  return 0;
}

const be_storage_driver be_storage_devicemapper = {
    .name = "devicemapper",
    .whiteouts = IMG_WHITEOUT_APPLY,
    .allow_devices = true,
    .preflight = dm_preflight,
    .layer_begin = dm_layer_begin,
    .layer_commit = dm_layer_commit,
    .layer_abort = dm_layer_abort,
    .layer_exists = dm_layer_exists,
    .layer_remove = dm_layer_remove,
    .container_create = dm_container_create,
    .container_unmount = dm_container_unmount,
    .container_remove = dm_container_remove,
};
