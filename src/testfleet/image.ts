/**
 * The test-fleet image, built on first use and cached in ~/.cache/berth/images/debian-12-<hash>/:
 *   rootfs/    debootstrap tree from images/debian-12/ (shared, read-only lower layer of every container host)
 *   vm/disk.raw  bootable GRUB disk made from rootfs without mounting, baked once (qcow2 overlays per VM)
 * The hash covers every file of the recipe (package list included). Builds run under a file lock so that
 * concurrent test workers build once; results appear atomically (temp dir + rename).
 */
import {createHash} from 'node:crypto';
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, renameSync, readlinkSync, lstatSync} from 'node:fs';
import path from 'node:path';
import {tail} from '../errors.js';
import {withLock} from './lock.js';
import {debianMirrors} from './mirror.js';
import {fleetsDir, imagesDir, locksDir, recipeDir} from './paths.js';
import {readState} from './state.js';
import {ensureTools, FleetError, run} from './run.js';

/** Bump when the build steps in this file change in a way the recipe hash cannot see. */
const BUILD_LOGIC_VERSION = '2';

function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    const st = lstatSync(full);
    if (st.isDirectory()) out.push(...listFiles(full, base));
    else out.push(path.relative(base, full));
  }
  return out;
}

/** sha256 over the recipe's file names, modes and contents (symlinks by target). */
export function recipeHash(dir = recipeDir()): string {
  const h = createHash('sha256').update(`berth-image-${BUILD_LOGIC_VERSION}\n`);
  for (const rel of listFiles(dir)) {
    const full = path.join(dir, rel);
    const st = lstatSync(full);
    // Only the executable bit: checkouts with another umask must hit the same cache.
    h.update(`${rel}\0${st.mode & 0o111 ? 'x' : '-'}\0`);
    h.update(st.isSymbolicLink() ? `->${readlinkSync(full)}` : readFileSync(full));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

export interface Image {
  hash: string;
  dir: string;
  rootfs: string;
}

const log = (msg: string) => process.stderr.write(`[testfleet] ${msg}\n`);

/**
 * Removes temp dirs a dead builder left behind (the caller holds the build lock). Unmounts first whatever is
 * still mounted below them (a builder from before builds ran in a private mount namespace), and never crosses
 * into another file system: `rm -rf` through a forgotten /proc or /sys mount is how machines get hurt.
 */
async function sweepTemps(parent: string, prefix: string): Promise<void> {
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(prefix)) continue;
    const dir = path.join(parent, name);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m === dir || m.startsWith(dir + '/'))
      .sort()
      .reverse();
    for (const m of mounts) await run('umount', ['--lazy', m], {allowFailure: true});
    await run('rm', ['-rf', '--one-file-system', dir], {step: `remove the stale build directory ${dir}`});
  }
}

/**
 * Deletes images of earlier recipes (~1.5 GB each) that no fleet uses any more. A fleet state without
 * `imageDir` (written by an older version) keeps every image.
 */
async function removeUnusedImages(current: string): Promise<void> {
  const states = existsSync(fleetsDir()) ? readdirSync(fleetsDir()).map((n) => readState(path.join(fleetsDir(), n))) : [];
  if (states.some((s) => s && !s.imageDir)) return;
  const used = new Set(states.map((s) => s?.imageDir));
  for (const name of readdirSync(imagesDir())) {
    const dir = path.join(imagesDir(), name);
    if (!/^debian-12-[0-9a-f]+$/.test(name) || dir === current || used.has(dir)) continue;
    log(`removing the unused image ${dir}`);
    await run('rm', ['-rf', '--one-file-system', dir], {allowFailure: true});
  }
}

/** The root filesystem, built if missing. */
export async function ensureRootfs(): Promise<Image> {
  const hash = recipeHash();
  const dir = path.join(imagesDir(), `debian-12-${hash}`);
  const image = {hash, dir, rootfs: path.join(dir, 'rootfs')};
  const done = () => existsSync(path.join(dir, 'rootfs.ok'));
  if (done()) return image;
  mkdirSync(imagesDir(), {recursive: true});
  await withLock(path.join(locksDir(), `image-${hash}.lock`), 'build the test-fleet image', async () => {
    if (done()) return;
    await ensureTools({debootstrap: 'debootstrap', chroot: 'coreutils'}, 'build the test-fleet image');
    // Whoever held this lock before us and died left its temp dir: nobody else can be using it now.
    await sweepTemps(imagesDir(), `.tmp-rootfs-${hash}-`);
    const tmp = path.join(imagesDir(), `.tmp-rootfs-${hash}-${process.pid}`);
    mkdirSync(tmp, {recursive: true});
    const started = Date.now();
    log(`building the Debian 12 root filesystem into ${dir} (first use of this recipe; ~2 min)…`);
    const {main} = debianMirrors();
    const logFile = path.join(tmp, 'build.log');
    // Private mount namespace: proc/sys mounted into the tree by debootstrap vanish even if the build is killed.
    const r = await run('unshare', ['--mount', '--propagation', 'private', path.join(recipeDir(), 'build-rootfs.sh'), path.join(tmp, 'rootfs'), main], {
      allowFailure: true,
      timeoutMs: 40 * 60_000,
      group: true,
    });
    writeFileSync(logFile, r.stdout + r.stderr);
    if (r.code !== 0) {
      const kept = path.join(imagesDir(), `failed-build-${hash}.log`);
      writeFileSync(kept, r.stdout + r.stderr);
      await run('rm', ['-rf', '--one-file-system', tmp], {allowFailure: true});
      throw new FleetError(
        `build the test-fleet image with images/debian-12/build-rootfs.sh: exit code ${r.code}\n${tail(r.stderr || r.stdout, 15)}\nFull log: ${kept}`,
      );
    }
    writeFileSync(path.join(tmp, 'rootfs.ok'), `${new Date().toISOString()} ${Math.round((Date.now() - started) / 1000)} s\n`);
    if (existsSync(dir)) {
      // A vm/ or apt/ built for an earlier, unfinished rootfs of the same hash cannot exist: they need rootfs.ok.
      await run('rm', ['-rf', '--one-file-system', dir], {step: 'remove an unfinished image'});
    }
    renameSync(tmp, dir);
    log(`root filesystem ready in ${Math.round((Date.now() - started) / 1000)} s`);
    await removeUnusedImages(dir);
  });
  return image;
}

export function rootfsKernel(rootfs: string): {vmlinuz: string; initrd: string; release: string} {
  const boot = path.join(rootfs, 'boot');
  const kernels = readdirSync(boot)
    .filter((f) => f.startsWith('vmlinuz-'))
    .sort();
  const vmlinuz = kernels.at(-1);
  if (!vmlinuz) throw new FleetError(`find the kernel in ${boot}: no vmlinuz-*; rebuild the image (delete ${path.dirname(rootfs)})`);
  const release = vmlinuz.slice('vmlinuz-'.length);
  return {vmlinuz: path.join(boot, vmlinuz), initrd: path.join(boot, `initrd.img-${release}`), release};
}

export const VM_DISK_BYTES = 4 * 1024 ** 3;

/** The baked GRUB disk for VM hosts, built if missing. */
export async function ensureVmDisk(image: Image): Promise<string> {
  const disk = path.join(image.dir, 'vm', 'disk.raw');
  if (existsSync(disk)) return disk;
  await withLock(path.join(locksDir(), `vm-${image.hash}.lock`), 'build the test-fleet VM disk', async () => {
    if (existsSync(disk)) return;
    await ensureTools(
      {sfdisk: 'fdisk', 'mkfs.ext4': 'e2fsprogs', 'qemu-system-x86_64': 'qemu-system-x86', 'qemu-img': 'qemu-utils'},
      'build the test-fleet VM disk',
    );
    const tmp = path.join(image.dir, `.tmp-vm-${process.pid}`);
    await sweepTemps(image.dir, '.tmp-vm-');
    mkdirSync(tmp, {recursive: true});
    const started = Date.now();
    log('building the VM disk (mkfs.ext4 -d, then one boot to install GRUB; ~2 min under TCG)…');
    try {
      const raw = path.join(tmp, 'disk.raw');
      const step = 'build the test-fleet VM disk';
      await run('truncate', ['-s', String(VM_DISK_BYTES), raw], {step});
      await run('sfdisk', ['--quiet', raw], {input: 'label: dos\nstart=2048, type=83, bootable\n', step});
      const fsBytes = VM_DISK_BYTES - 1024 * 1024;
      await run('mkfs.ext4', ['-F', '-q', '-L', 'berth-root', '-d', image.rootfs, '-E', 'offset=1048576', raw, `${fsBytes / 1024}k`], {
        step,
        timeoutMs: 10 * 60_000,
      });
      const kernel = rootfsKernel(image.rootfs);
      const serial = path.join(tmp, 'bake-serial.log');
      const r = await run(
        'qemu-system-x86_64',
        [
          ...['-accel', 'tcg,tb-size=256', '-cpu', 'max', '-m', '1024', '-smp', '1'],
          ...['-display', 'none', '-monitor', 'none', '-serial', `file:${serial}`, '-nic', 'none', '-no-reboot'],
          ...['-drive', `file=${raw},format=raw,if=virtio`],
          ...['-kernel', kernel.vmlinuz, '-initrd', kernel.initrd],
          ...['-append', 'root=LABEL=berth-root rw console=ttyS0,115200 init=/usr/local/sbin/berth-bake panic=-1'],
        ],
        {step, timeoutMs: 15 * 60_000, allowFailure: true},
      );
      const console = existsSync(serial) ? readFileSync(serial, 'utf8') : '';
      if (!console.includes('BERTH-BAKE-OK')) {
        const kept = path.join(imagesDir(), `failed-bake-${image.hash}.log`);
        writeFileSync(kept, console);
        throw new FleetError(
          `bake the VM disk (grub-install inside a direct-kernel boot): no BERTH-BAKE-OK on the serial console (qemu exit ${r.code}${r.stderr ? `: ${r.stderr.trim()}` : ''})\n${tail(console, 20)}\nFull console log: ${kept}`,
        );
      }
      mkdirSync(path.dirname(disk), {recursive: true});
      renameSync(raw, disk + '.tmp');
      renameSync(disk + '.tmp', disk);
      log(`VM disk ready in ${Math.round((Date.now() - started) / 1000)} s (${Math.round(statSync(disk).blocks * 512 / 1e6)} MB used)`);
    } finally {
      rmSync(tmp, {recursive: true, force: true});
    }
  });
  return disk;
}
