// `berth-engine selftest`: the health check `berth apply` runs after installing or switching the engine. It runs
// the engine binary itself as a tiny hardened container (no image) and must leave nothing behind. Here on a
// hybrid-cgroup host with overlay2 and vfs; storage-devicemapper.test.ts runs it on cgroup v2 with devicemapper.
import test from 'ava';
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {Scratch, engine, requireEngine, run} from './helpers/engine.js';
import {makeBusyboxImage} from './helpers/images.js';

const scratch = new Scratch();
requireEngine();
const rt = scratch.make('selftest-rt');
test.after.always(() => scratch.cleanup());

function cgroupLeftovers(): string[] {
  const found: string[] = [];
  for (const h of ['', ...readdirSync('/sys/fs/cgroup')]) {
    const d = path.join('/sys/fs/cgroup', h, 'berth-engine');
    if (existsSync(d)) found.push(...readdirSync(d).filter((e) => e.startsWith('berth-selftest-')).map((e) => path.join(d, e)));
  }
  return found;
}

for (const driver of ['overlay2', 'vfs']) {
  test.serial(`${driver}: selftest passes, prints one line, and removes its container, cgroup and dirs`, (t) => {
    const dr = scratch.make(`selftest-${driver}`);
    const r = run(engine, ['--root', rt, 'selftest', '--data-root', dr, '--storage-driver', driver]);
    t.is(r.status, 0, r.stderr);
    const mode = existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : existsSync('/sys/fs/cgroup/unified') ? 'hybrid' : 'v1';
    t.regex(r.stdout, new RegExp(`^berth-engine selftest: ok \\(${driver}, cgroup ${mode}, \\d+ ms\\)\\n$`));
    t.is(r.stderr, '');
    t.deepEqual(readdirSync(path.join(dr, 'tmp')), []);
    t.deepEqual(readdirSync(rt).filter((e) => !e.startsWith('.')), [], 'no runtime state left');
    t.deepEqual(cgroupLeftovers(), []);
    t.false(readFileSync('/proc/self/mounts', 'utf8').includes(dr));
    t.is(readFileSync(path.join(dr, 'driver'), 'utf8').trim(), driver);
  });
}

test.serial('selftest takes the data root and driver from BERTH_ENGINE_* like run does', (t) => {
  const dr = scratch.make('selftest-env');
  const r = run(engine, ['--root', rt, 'selftest'], {env: {BERTH_ENGINE_DATA_ROOT: dr, BERTH_ENGINE_STORAGE_DRIVER: 'vfs'}});
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /ok \(vfs, /);
});

test.serial('unhealthy: a driver whose preflight fails, or a mismatch with the recorded driver, is one line on stderr', (t) => {
  const dr = scratch.make('selftest-bad');
  // This kernel has no device-mapper (the devicemapper tests run in a VM), so its preflight fails here.
  const dm = run(engine, ['--root', rt, 'selftest', '--data-root', dr, '--storage-driver', 'devicemapper']);
  t.not(dm.status, 0);
  t.is(dm.stdout, '');
  t.regex(dm.stderr, /^berth-engine: selftest: storage driver preflight: .*devicemapper.*\n$/);
  writeFileSync(path.join(dr, 'driver'), 'vfs\n');
  const mismatch = run(engine, ['--root', rt, 'selftest', '--data-root', dr, '--storage-driver', 'overlay2']);
  t.not(mismatch.status, 0);
  t.regex(mismatch.stderr, /^berth-engine: selftest: .*storage driver `vfs`.*\n$/);
  t.is(mismatch.stderr.split('\n').length, 2, 'one line');
});

test.serial('the checks made inside the container fail outside one (no pid namespace, no seccomp)', (t) => {
  // `selftest --inside` is what runs in the container; run on the host, it must find what is missing.
  const host = run(engine, ['selftest', '--inside', '0']);
  t.is(host.status, 1);
  t.regex(host.stderr, /the container process is pid \d+, not 1/);
  const pidns = run('unshare', ['-p', '-f', '-m', '--mount-proc', engine, 'selftest', '--inside', '0']);
  t.is(pidns.status, 1);
  t.regex(pidns.stderr, /seccomp mode is 0 in the container, want 2/);
});

test.serial('read-only v1 controllers (a host that is itself a container): runs without limits, refuses a limit by name', (t) => {
  // What a systemd-nspawn or LXC host on a v1/hybrid machine sees: every v1 controller mounted read-only. Made
  // here for real in a private mount namespace; the engine must run containers anyway (left out of those
  // hierarchies, like runc without cgroup access) and refuse a limit it cannot set rather than ignore it.
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return t.pass('cgroup v2 host: no v1 controllers to make read-only');
  const dr = scratch.make('selftest-ro');
  const ro = (args: string) =>
    run('unshare', [
      '-m',
      'sh',
      '-c',
      `for m in $(awk '$3=="cgroup"{print $2}' /proc/mounts); do mount -o remount,bind,ro "$m" || exit 9; done; exec "$@"`,
      'sh',
      engine,
      '--root',
      rt,
      ...args.split(' '),
    ]);
  const st = ro(`selftest --data-root ${dr} --storage-driver vfs`);
  t.is(st.status, 0, st.stderr);
  t.regex(st.stdout, /^berth-engine selftest: ok \(vfs, cgroup \w+, limits not checked: cgroup controllers read-only, \d+ ms\)\n$/);
  t.deepEqual(cgroupLeftovers(), []);
  // A real image: a container without limits runs (and sees no v1 controller of its parent); one with a memory
  // limit is refused naming the controller and the way out, and leaves nothing behind.
  const layout = scratch.make('selftest-ro-image');
  makeBusyboxImage(scratch, path.join(layout, 'busybox'));
  t.is(run(engine, ['image', '--data-root', dr, '--storage-driver', 'vfs', 'load', path.join(layout, 'busybox')]).status, 0);
  const plain = ro(`run --rm --network none --data-root ${dr} --storage-driver vfs busybox ls /sys/fs/cgroup`);
  t.is(plain.status, 0, plain.stderr);
  t.false(/memory|pids/.test(plain.stdout), plain.stdout);
  const mem = ro(`run --rm --name ro-mem --memory 20m --network none --data-root ${dr} --storage-driver vfs busybox true`);
  t.not(mem.status, 0);
  t.regex(mem.stderr, /the memory limit needs the cgroup controller `memory`, but `\/sys\/fs\/cgroup\/memory` is mounted read-only .*drop the limit/);
  t.deepEqual(readdirSync(rt).filter((e) => !e.startsWith('.')), [], 'no runtime state left');
});
