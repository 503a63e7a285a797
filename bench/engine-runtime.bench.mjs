#!/usr/bin/env node
// berth-engine's runtime start→exit of /bin/true with the default spec (seccomp included), side by side with
// crun, runc and the `unshare` floor, on the same bundle (busybox rootfs from Debian's busybox-static). Also peak
// RSS of the runtime process (GNU time's %M, median of runs) against crun.
// Targets (issue 4): ≤ 0.5× crun with seccomp, ≤ 2× the unshare floor, peak RSS ≤ crun's.
//
// On a hybrid cgroup host (v1 controllers + a cgroup2 tree holding a controller) crun refuses to start, so the
// whole bench re-runs itself in a private mount namespace with /sys/fs/cgroup/unified unmounted: every runtime
// then sees the same pure-v1 host.
import {execFileSync, spawnSync} from 'node:child_process';
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {hyperfine, writeResult} from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const engine = path.join(root, 'native', 'build', 'berth-engine');

function sh(cmd) {
  return spawnSync('sh', ['-c', cmd], {encoding: 'utf8'});
}

function isHybridWithControllers() {
  const r = sh('stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null && cat /sys/fs/cgroup/unified/cgroup.controllers');
  return r.status === 0 && r.stdout.startsWith('cgroup2') && r.stdout.split('\n')[1]?.trim() !== '';
}

if (!process.env.BERTH_BENCH_PRIVATE_NS && isHybridWithControllers()) {
  const r = spawnSync(
    'unshare',
    ['-m', '--propagation', 'private', 'sh', '-c', 'umount -l /sys/fs/cgroup/unified && exec "$0" "$@"', process.execPath, fileURLToPath(import.meta.url)],
    {stdio: 'inherit', env: {...process.env, BERTH_BENCH_PRIVATE_NS: '1'}},
  );
  process.exit(r.status ?? 1);
}

const want = [
  ['crun', '/usr/bin/crun'],
  ['runc', '/usr/sbin/runc'],
  ['busybox-static', '/bin/busybox'],
  ['time', '/usr/bin/time'],
  ['hyperfine', '/usr/bin/hyperfine'],
].filter(([, f]) => !existsSync(f));
if (want.length) {
  execFileSync('sh', ['-c', `flock /tmp/berth-apt.lock apt-get install -y -o DPkg::Lock::Timeout=600 ${want.map(([p]) => p).join(' ')} >&2`], {stdio: 'inherit'});
}
if (!existsSync(engine)) execFileSync(process.execPath, [path.join(root, 'scripts', 'build-native.mjs')], {stdio: 'inherit'});

const work = mkdtempSync(path.join(tmpdir(), 'berth-bench-rt-'));
chmodSync(work, 0o755);
const rootfs = path.join(work, 'rootfs');
for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(path.join(rootfs, d), {recursive: true});
copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
for (const a of ['true', 'sh']) symlinkSync('busybox', path.join(rootfs, 'bin', a));

function bundle(name, edit) {
  const b = path.join(work, name);
  mkdirSync(b);
  execFileSync(engine, ['spec', '--bundle', b]);
  const c = JSON.parse(readFileSync(path.join(b, 'config.json'), 'utf8'));
  c.root.path = rootfs;
  c.process.args = ['/bin/true'];
  edit?.(c);
  writeFileSync(path.join(b, 'config.json'), JSON.stringify(c, null, 2));
  return b;
}
const withSeccomp = bundle('seccomp');
const noSeccomp = bundle('no-seccomp', (c) => delete c.linux.seccomp);

const state = (n) => path.join(work, `state-${n}`);
// Each run is `run ID` with a fixed ID: the runtime deletes the container when it exits, so the ID is free again.
const cmd = (bin, n, b) => `${bin} --root ${state(n)} run --bundle ${b} bench-${n}`;
const floor = `unshare --mount --uts --ipc --net --pid --cgroup --fork chroot ${rootfs} /bin/true`;

try {
  // Warm the seccomp cache once (a first start compiles the profile; every later one loads the cached BPF).
  execFileSync('sh', ['-c', cmd(engine, 'be', withSeccomp)]);
  const rows = hyperfine(
    [
      {name: 'berth-engine (seccomp)', cmd: cmd(engine, 'be', withSeccomp)},
      {name: 'crun (seccomp)', cmd: cmd('crun', 'crun', withSeccomp)},
      {name: 'runc (seccomp)', cmd: cmd('runc', 'runc', withSeccomp)},
      {name: 'berth-engine (no seccomp)', cmd: cmd(engine, 'be2', noSeccomp)},
      {name: 'crun (no seccomp)', cmd: cmd('crun', 'crun2', noSeccomp)},
      {name: 'unshare floor', cmd: floor},
    ],
    {runs: 60, warmup: 5},
  );

  function peakRssKiB(command, runs = 15) {
    const vals = [];
    for (let i = 0; i < runs; i++) {
      const r = sh(`/usr/bin/time -f %M ${command} 2>&1 >/dev/null | tail -1`);
      vals.push(Number(r.stdout.trim()));
    }
    vals.sort((a, b) => a - b);
    return vals[Math.floor(vals.length / 2)];
  }
  const rss = {
    berth: peakRssKiB(cmd(engine, 'be', withSeccomp)),
    crun: peakRssKiB(cmd('crun', 'crun', withSeccomp)),
    runc: peakRssKiB(cmd('runc', 'runc', withSeccomp)),
  };

  const by = Object.fromEntries(rows.map((r) => [r.name, r]));
  const ratio = (a, b) => (by[a].median / by[b].median).toFixed(2);
  const vsCrun = ratio('berth-engine (seccomp)', 'crun (seccomp)');
  const vsFloor = ratio('berth-engine (seccomp)', 'unshare floor');
  const verdict = (ok) => (ok ? 'met' : 'NOT met');
  writeResult('engine-runtime', {
    title: 'berth-engine runtime: start→exit of /bin/true, default spec',
    reproduce: 'npm run bench -- engine-runtime',
    rows,
    baseline: 'crun (seccomp)',
    notes: [
      `Same bundle for every runtime: \`berth-engine spec\` (podman's caps, masked paths, Docker-equivalent seccomp), busybox rootfs, args /bin/true; each runtime runs \`run\` (create+start+wait+delete).`,
      `Hybrid cgroup host: run in a private mount namespace without /sys/fs/cgroup/unified, since crun refuses hybrid hosts.`,
      '',
      `| target | measured | verdict |`,
      `|---|---:|---|`,
      `| ≤ 0.5× crun with seccomp | ${vsCrun}× | ${verdict(Number(vsCrun) <= 0.5)} |`,
      `| ≤ 2× the unshare floor | ${vsFloor}× | ${verdict(Number(vsFloor) <= 2)} |`,
      `| peak RSS ≤ crun's | ${(rss.berth / 1024).toFixed(1)} MiB vs crun ${(rss.crun / 1024).toFixed(1)} MiB (runc ${(rss.runc / 1024).toFixed(1)} MiB) | ${verdict(rss.berth <= rss.crun)} |`,
      '',
      'Peak RSS: GNU time %M of the runtime process (it waits for the container, so the largest of the two), median of 15 runs.',
    ],
  });
} finally {
  for (const [bin, n] of [[engine, 'be'], [engine, 'be2'], ['crun', 'crun'], ['crun', 'crun2'], ['runc', 'runc']]) {
    sh(`${bin} --root ${state(n)} delete --force bench-${n} 2>/dev/null`);
  }
  rmSync(work, {recursive: true, force: true});
}
