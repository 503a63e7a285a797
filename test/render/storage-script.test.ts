/**
 * The storage setup script's decisions, run for real under /bin/sh with the LVM tools replaced: PATH holds
 * only stub commands (which log their arguments and answer from environment variables) and symlinks to a few
 * harmless coreutils, so no real LVM or wipefs can ever be reached. The device is a block device node made
 * with mknod for an unattached loop minor, so even a mistake could not touch a real disk.
 */
import {spawnSync} from 'node:child_process';
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {renderHost} from '../../src/render/index.js';
import type {DevicemapperSettings} from '../../src/spec/types.js';
import {bareHost} from './hosts.js';

const stubs: Record<string, string> = {
  // lvs VG/LV: exists when $POOL_EXISTS=1 (then its segtype is $POOL_SEGTYPE, default thin-pool).
  lvs: 'if [ "${POOL_EXISTS:-0}" = 1 ]; then case "$*" in *segtype*) echo "  ${POOL_SEGTYPE:-thin-pool}";; esac; exit 0; fi; exit 5',
  pvs: 'echo "  ${DEVICE_VG:-}"',
  vgs: '[ "${VG_ELSEWHERE:-0}" = 1 ]',
  lsblk: 'echo "${MOUNTED:-}"',
  modprobe: 'exit 0',
  wipefs: 'exit 0',
  pvcreate: 'exit 0',
  vgcreate: 'exit 0',
  lvcreate: 'exit 0',
  lvconvert: 'exit 0',
  lvchange: 'exit 0',
};

function run(t: {teardown: (fn: () => void) => void}, dm: DevicemapperSettings, env: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-storage-'));
  t.teardown(() => rmSync(dir, {recursive: true, force: true}));
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const log = path.join(dir, 'calls.log');
  for (const [name, body] of Object.entries(stubs)) {
    writeFileSync(path.join(bin, name), `#!/bin/sh\necho "${name} $*" >>${log}\n${body}\n`, {mode: 0o755});
  }
  for (const tool of ['mkdir', 'chmod', 'stat', 'grep', 'tr', 'cat']) symlinkSync(`/usr/bin/${tool}`, path.join(bin, tool));
  const device = path.join(dir, 'vdb');
  const mknod = spawnSync('mknod', [device, 'b', '7', '250']);
  if (mknod.status !== 0) throw new Error(`mknod ${device}: ${mknod.stderr}`);

  const host = bareHost();
  host.engine.storage = 'devicemapper';
  host.engine.dataRoot = path.join(dir, 'data');
  host.engine.devicemapper = dm.device === 'DEVICE' ? {...dm, device} : dm;
  const script = renderHost(host).files.find((f) => f.path === '/usr/local/lib/berth/storage-setup')!;
  const file = path.join(dir, 'storage-setup');
  writeFileSync(file, script.content);
  chmodSync(file, 0o755);
  const r = spawnSync('/bin/sh', [file], {encoding: 'utf8', env: {PATH: bin, ...env}});
  let calls: string[] = [];
  try {
    calls = readFileSync(log, 'utf8').trim().split('\n');
  } catch {
    calls = [];
  }
  return {code: r.status, stderr: r.stderr, stdout: r.stdout, calls, device};
}

const destructive = /^(wipefs|pvcreate|vgcreate|lvcreate|lvconvert) /;

test('without wipe: a device that does not hold berth\'s VG is refused, nothing is changed', (t) => {
  const r = run(t, {device: 'DEVICE'});
  t.is(r.code, 1);
  t.regex(r.stderr, /does not hold berth's volume group berth and engine\.devicemapper\.wipe is not true: berth will not touch it/);
  t.deepEqual(r.calls.filter((c) => destructive.test(c) || c.startsWith('lvchange')), []);
});

test('with wipe: the device is wiped and the thin pool created, Docker direct-lvm style', (t) => {
  const r = run(t, {device: 'DEVICE', wipe: true, thinPoolSize: '10G', autoextend: {threshold: 70, percent: 25}});
  t.is(r.code, 0, r.stderr);
  t.deepEqual(
    r.calls.filter((c) => destructive.test(c) || c.startsWith('lvchange')),
    [
      `wipefs -a ${r.device}`,
      `pvcreate -y ${r.device}`,
      `vgcreate berth ${r.device}`,
      'lvcreate -y --wipesignatures y -n thinpool -L 10G berth',
      'lvcreate -y --wipesignatures y -n thinpoolmeta -l 1%VG berth',
      'lvconvert -y --zero n -c 512K --thinpool berth/thinpool --poolmetadata berth/thinpoolmeta',
      'lvchange --metadataprofile berth-thinpool berth/thinpool',
      'lvchange --monitor y berth/thinpool',
    ],
  );
});

test('with wipe but a mounted device: refused', (t) => {
  const r = run(t, {device: 'DEVICE', wipe: true}, {MOUNTED: '/mnt/data'});
  t.is(r.code, 1);
  t.regex(r.stderr, /is mounted: unmount it first; berth never wipes a mounted device/);
  t.false(r.calls.some((c) => destructive.test(c)));
});

test('with wipe but VG berth on another device: refused', (t) => {
  const r = run(t, {device: 'DEVICE', wipe: true}, {VG_ELSEWHERE: '1'});
  t.is(r.code, 1);
  t.regex(r.stderr, /volume group berth already exists on another device/);
  t.false(r.calls.some((c) => destructive.test(c)));
});

test('an existing berth thin pool is used as is, even with wipe: true (every boot runs this)', (t) => {
  const r = run(t, {device: 'DEVICE', wipe: true}, {POOL_EXISTS: '1'});
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /using the existing thin pool berth\/thinpool/);
  t.false(r.calls.some((c) => destructive.test(c)));
});

test('the device already holds VG berth but no pool: the pool is created without wiping', (t) => {
  const r = run(t, {device: 'DEVICE'}, {DEVICE_VG: 'berth'});
  t.is(r.code, 0, r.stderr);
  t.false(r.calls.some((c) => /^(wipefs|pvcreate|vgcreate) /.test(c)));
  t.true(r.calls.some((c) => c.startsWith('lvconvert ')));
});

test('pool: an existing pool is checked and never modified', (t) => {
  const ok = run(t, {pool: 'vg_data/pool'}, {POOL_EXISTS: '1'});
  t.is(ok.code, 0, ok.stderr);
  t.false(ok.calls.some((c) => destructive.test(c) || c.startsWith('lvchange')));
  const missing = run(t, {pool: 'vg_data/pool'});
  t.is(missing.code, 1);
  t.regex(missing.stderr, /thin pool vg_data\/pool does not exist/);
  const notThin = run(t, {pool: 'vg_data/pool'}, {POOL_EXISTS: '1', POOL_SEGTYPE: 'linear'});
  t.is(notThin.code, 1);
  t.regex(notThin.stderr, /vg_data\/pool is not a thin pool/);
});
