/**
 * KVM or TCG for VM hosts. /dev/kvm existing proves nothing (on this project's CI machines it is a
 * paravirtual variant that cannot boot Debian's kernel: qemu aborts with -cpu host, other models hang in the
 * decompressor), so KVM is used only after a probe boot under KVM reached the root filesystem. The answer is
 * cached per machine kernel in ~/.cache/berth/accel-<uname -r>.json. BERTH_ACCEL=tcg|kvm overrides.
 */
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync} from 'node:fs';
import {release, tmpdir} from 'node:os';
import path from 'node:path';
import {cacheDir} from './paths.js';
import {rootfsKernel} from './image.js';
import {run} from './run.js';

export async function chooseAccel(rootfs: string): Promise<'tcg' | 'kvm'> {
  const forced = process.env.BERTH_ACCEL;
  if (forced === 'tcg' || forced === 'kvm') return forced;
  if (!existsSync('/dev/kvm')) return 'tcg';
  const file = path.join(cacheDir(), `accel-${release()}.json`);
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as {accel: 'tcg' | 'kvm'};
    return cached.accel;
  } catch {
    // probe below
  }
  const kernel = rootfsKernel(rootfs);
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-kvm-probe-'));
  let accel: 'tcg' | 'kvm' = 'tcg';
  try {
    const serial = path.join(dir, 'serial.log');
    // init=/bin/true: reaching "Attempted to kill init" means kernel, initramfs and root mount all worked.
    await run(
      'qemu-system-x86_64',
      [
        ...['-accel', 'kvm', '-cpu', 'host', '-m', '512', '-display', 'none', '-monitor', 'none', '-nic', 'none', '-no-reboot'],
        ...['-serial', `file:${serial}`, '-kernel', kernel.vmlinuz, '-initrd', kernel.initrd],
        ...['-append', 'console=ttyS0 panic=-1 init=/bin/true root=/dev/nonexistent rootdelay=0 break=top'],
      ],
      {timeoutMs: 60_000, allowFailure: true},
    );
    const text = existsSync(serial) ? readFileSync(serial, 'utf8') : '';
    if (/Run \/init as init process|Freeing unused kernel/.test(text)) accel = 'kvm';
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
  mkdirSync(cacheDir(), {recursive: true});
  writeFileSync(file, JSON.stringify({accel, probedAt: new Date().toISOString()}) + '\n');
  return accel;
}
