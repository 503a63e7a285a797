/**
 * The same bundle under berth-engine, crun and runc shows the same isolation; podman (Debian's 4.3) drives
 * berth-engine through `--runtime` (run, a terminal through the console socket, exec, stop, rm).
 */
import test from 'ava';
import {existsSync, readFileSync} from 'node:fs';
import {RuntimeScratch, aptEnsure, busyboxRootfs, ensureEngine, engine, hostWritableSysFile, parseProbe, removeRootfs, run} from './runtime-fixture.js';

test.before(() => {
  ensureEngine();
  busyboxRootfs();
  aptEnsure([
    {pkg: 'crun', file: '/usr/bin/crun'},
    {pkg: 'runc', file: '/usr/sbin/runc'},
    {pkg: 'podman', file: '/usr/bin/podman'},
  ]);
});
test.after.always(() => removeRootfs());

/** crun refuses hybrid hosts whose cgroup2 tree holds a controller; give it a private mount ns without that tree. */
function hybridWithControllers(): boolean {
  const f = '/sys/fs/cgroup/unified/cgroup.controllers';
  return existsSync(f) && readFileSync(f, 'utf8').trim() !== '';
}

function peerCommand(runtime: 'crun' | 'runc', args: string[]): [string, string[]] {
  if (runtime === 'crun' && hybridWithControllers()) {
    return ['unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'umount -l /sys/fs/cgroup/unified && exec "$0" "$@"', 'crun', ...args]];
  }
  return [runtime, args];
}

const probeScript = (hostPid: number, sysFile: string) =>
  [
    `/bin/escape-probe ${hostPid} ${sysFile}`,
    'printf "masked_keys %s\\n" "$(wc -c < /proc/keys)"',
    'printf "masked_firmware %s\\n" "$(ls -A /sys/firmware | wc -l)"',
    'touch /probe 2>/dev/null && echo rootfs rw || echo rootfs ro',
    'printf "caps %s\\n" "$(grep CapEff /proc/self/status | cut -f2)"',
    'printf "nnp %s\\n" "$(grep NoNewPrivs /proc/self/status | cut -f2)"',
    'printf "seccomp %s\\n" "$(grep "^Seccomp:" /proc/self/status | cut -f2)"',
    'printf "pid1 %s\\n" "$(cat /proc/1/comm)"',
    'printf "hostname %s\\n" "$(hostname)"',
  ].join('; ');

test('the same bundle under berth-engine, crun and runc shows the same isolation', async (t) => {
  const s = new RuntimeScratch(t);
  const b = s.bundle(['sh', '-c', probeScript(process.pid, hostWritableSysFile())], (c) => {
    c.hostname = 'peer';
  });
  const results: Record<string, Record<string, string>> = {};
  const ours = await s.engine(['run', '--bundle', b, s.newId()]);
  t.is(ours.code, 0, ours.stderr);
  results['berth-engine'] = parseProbe(ours.stdout);
  for (const runtime of ['crun', 'runc'] as const) {
    const root = `${s.dir}/${runtime}-state`;
    const id = `peer-${runtime}-${process.pid}`;
    t.teardown(async () => {
      const [cmd, args] = peerCommand(runtime, ['--root', root, 'delete', '--force', id]);
      await run(cmd, args);
    });
    const [cmd, args] = peerCommand(runtime, ['--root', root, 'run', '--bundle', b, id]);
    const r = await run(cmd, args);
    t.is(r.code, 0, `${runtime}: ${r.stderr}`);
    results[runtime] = parseProbe(r.stdout);
  }
  const ref = results['berth-engine']!;
  t.is(ref.mount, 'EPERM');
  t.is(ref.clone3, 'ENOSYS');
  t.is(ref.masked_keys, '0');
  t.is(ref.rootfs, 'ro');
  t.is(ref.hostname, 'peer');
  t.true(Object.keys(ref).length >= 30, 'every probe line is there');
  t.deepEqual(results.crun, ref, 'crun sees the same');
  t.deepEqual(results.runc, ref, 'runc sees the same');
});

test('podman --runtime berth-engine: run, terminal via the console socket, exec, stop, rm', async (t) => {
  const rootfs = busyboxRootfs();
  // This machine's root lacks CAP_SYS_RESOURCE, so podman's default 1048576 limits cannot be set (by any runtime).
  const limits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
  const podman = (args: string[]) => run('podman', ['--runtime', engine, ...args], {timeoutMs: 180_000});
  const name = `berth-rt-${process.pid}`;
  t.teardown(async () => {
    await podman(['rm', '-f', name]);
    await podman(['rm', '-f', `${name}-once`]);
  });

  const once = await podman(['run', '--rm', '--name', `${name}-once`, ...limits, '--rootfs', rootfs, '/bin/sh', '-c', 'echo hello; grep -E "^(CapEff|Seccomp):" /proc/self/status']);
  t.is(once.code, 0, once.stderr);
  t.regex(once.stdout, /^hello\n/);
  t.regex(once.stdout, /CapEff:\t00000000800405fb/, "podman's default capabilities, no NET_RAW");
  t.regex(once.stdout, /Seccomp:\t2/);

  const tty = await podman(['run', '--rm', '-t', ...limits, '--rootfs', rootfs, '/bin/sh', '-c', 'tty']);
  t.is(tty.code, 0, tty.stderr);
  t.regex(tty.stdout, /\/dev\/pts\/0/);

  const exitCode = await podman(['run', '--rm', ...limits, '--rootfs', rootfs, '/bin/sh', '-c', 'exit 42']);
  t.is(exitCode.code, 42);

  const started = await podman(['run', '-d', '--name', name, ...limits, '--rootfs', rootfs, '/bin/sleep', '1000']);
  t.is(started.code, 0, started.stderr);
  const exec = await podman(['exec', name, '/bin/sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; grep "^Seccomp:" /proc/self/status']);
  t.is(exec.code, 0, exec.stderr);
  t.regex(exec.stdout, /^\/bin\/sleep 1000 \n/);
  t.regex(exec.stdout, /Seccomp:\t2/);
  t.is((await podman(['stop', '-t', '1', name])).code, 0);
  t.is((await podman(['rm', name])).code, 0);
});
