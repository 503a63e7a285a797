// `berth-engine run IMAGE` on overlay2 and vfs with a busybox image made by umoci: exit codes, flags seen from
// inside the container, sd_notify READY, ps / stop / rm. Every container, mount and temp dir is removed.
import test from 'ava';
import {spawn} from 'node:child_process';
import {existsSync, readFileSync, readdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {Scratch, cgroupLimitsScript, engine, ensureDebian, must, repoRoot, requireEngine, run} from './helpers/engine.js';
import {makeBusyboxImage} from './helpers/images.js';

const scratch = new Scratch();
requireEngine();
const images = scratch.make('run-images');
const busybox = path.join(images, 'busybox');
makeBusyboxImage(scratch, busybox);
// Runtime state of these containers lives under its own --root, so `ps` sees only this file's containers.
const rtRoot = scratch.make('rt');
const roots: Record<string, string> = {};
for (const driver of ['overlay2', 'vfs']) {
  roots[driver] = scratch.make(`run-${driver}`);
  must(engine, ['image', '--data-root', roots[driver]!, '--storage-driver', driver, 'load', busybox]);
}

test.after.always(() => {
  for (const dr of Object.values(roots)) {
    const names = run(engine, ['--root', rtRoot, 'ps', '-a', '--json', '--data-root', dr]);
    for (const c of (JSON.parse(names.stdout || '[]') as {name: string}[])) {
      run(engine, ['--root', rtRoot, 'rm', '-f', '--data-root', dr, c.name]);
    }
  }
  scratch.cleanup();
});

function eng(dr: string, ...args: string[]) {
  return run(engine, ['--root', rtRoot, ...args, '--data-root', dr]);
}
function runIn(dr: string, args: string[], opts: {env?: NodeJS.ProcessEnv} = {}) {
  return run(engine, ['--root', rtRoot, 'run', '--data-root', dr, ...args], opts);
}

for (const driver of ['overlay2', 'vfs']) {
  test(`${driver}: run --rm prints, propagates the exit code and leaves nothing behind`, (t) => {
    const dr = roots[driver]!;
    const r = runIn(dr, ['--rm', '--name', `rm-${driver}`, 'busybox', 'sh', '-c', 'echo hello from $(id -u); exit 3']);
    t.is(r.status, 3, r.stderr);
    t.is(r.stdout, 'hello from 0\n');
    t.deepEqual(readdirSync(path.join(dr, 'containers')), []);
    t.false(readFileSync('/proc/self/mounts', 'utf8').includes(dr));
  });
}

test('flags reach the container: env, hostname, bind mounts, read-only root, network none vs host', (t) => {
  const dr = roots['overlay2']!;
  const host = scratch.make('vol');
  writeFileSync(path.join(host, 'in'), 'from the host\n');
  const r = runIn(dr, [
    '--rm', '--name', 'flags', '-e', 'GREETING=hi', '-v', `${host}:/mnt/rw`, '-v', `${host}:/mnt/ro:ro`, '--read-only',
    'busybox', 'sh', '-c',
    'echo "$GREETING $(hostname)"; cat /mnt/ro/in; touch /mnt/rw/out && echo rw-ok; touch /mnt/ro/x || echo ro-refused; ' +
      'touch /rootfile || echo root-refused; ls /sys/class/net',
  ]);
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.is(lines[0], 'hi flags');
  t.is(lines[1], 'from the host');
  t.true(lines.includes('rw-ok'));
  t.true(lines.includes('ro-refused'));
  t.true(lines.includes('root-refused'));
  t.is(lines.at(-1), 'lo', 'network none: only loopback');
  t.true(readdirSync(host).includes('out'));
  const h = runIn(dr, ['--rm', '--name', 'hostnet', '--network', 'host', 'busybox', 'ls', '/sys/class/net']);
  t.is(h.status, 0, h.stderr);
  t.deepEqual(h.stdout.trim().split(/\s+/).sort(), readdirSync('/sys/class/net').sort());
});

test('an unknown network mode and -p without a bridge are refused with the reason', (t) => {
  const dr = roots['overlay2']!;
  const r = runIn(dr, ['--rm', '--network', 'weird', 'busybox', 'true']);
  t.not(r.status, 0);
  t.regex(r.stderr, /--network `weird`: use none, host or bridge/);
  const p = runIn(dr, ['--rm', '-p', '8080:80', 'busybox', 'true']);
  t.not(p.status, 0);
  t.regex(p.stderr, /-p needs --network bridge/);
});

test('bridge: veth on berth0, a published port reaches the container, rules and veth go away on stop', (t) => {
  // In a network namespace of its own (unshare -n), so the bridge and the nft table never touch the
  // machine's network; they vanish with the namespace.
  ensureDebian(['nftables', 'iproute2', 'util-linux'], ['ip', 'unshare', 'nsenter'], ['/usr/sbin/nft']);
  const dr = roots['overlay2']!;
  const www = scratch.make('www');
  writeFileSync(path.join(www, 'index.html'), 'hello through the bridge\n');
  const script = [
    'ip link set lo up',
    `${engine} --root ${rtRoot} run --data-root ${dr} --rm --name web --network bridge -p 8080:80 -v ${www}:/www:ro busybox httpd -f -p 80 -h /www 2>${www}/engine.err &`,
    'for i in $(seq 1 300); do busybox wget -q -O- http://10.89.0.1:8080/ >/dev/null 2>&1 && break; sleep 0.2; done',
    'echo "page: $(busybox wget -q -O- http://10.89.0.1:8080/)"',
    // /usr/sbin/nft: under npm, PATH starts with node_modules/.bin, which has an unrelated `nft`.
    '/usr/sbin/nft list ruleset >&2; cat ' + www + '/engine.err >&2',
    'echo "links: $(ip -o link show | grep -c bv)"',
    `${engine} --root ${rtRoot} stop -t 5 web >/dev/null`,
    'wait',
    'echo "tables after: $(/usr/sbin/nft list tables | grep -c berth_web)"',
    'echo "links after: $(ip -o link show | grep -c bv)"',
  ].join('\n');
  const r = run('unshare', ['-n', 'sh', '-c', script]);
  t.regex(r.stdout, /^page: hello through the bridge$/m, r.stderr);
  t.regex(r.stdout, /^links: 1$/m);
  t.regex(r.stdout, /^tables after: 0$/m);
  t.regex(r.stdout, /^links after: 0$/m);
  t.deepEqual(readdirSync(path.join(dr, 'containers')).filter((c) => c === 'web'), []);
});

test('sd_notify: READY=1 with MAINPID arrives on NOTIFY_SOCKET once the container process runs', (t) => {
  const dr = roots['overlay2']!;
  const out = must('python3', [
    path.join(repoRoot, 'test/engine/helpers/notify-listen.py'),
    engine, '--root', rtRoot, 'run', '--data-root', dr, '--rm', '--name', 'notify', 'busybox', 'sh', '-c', 'sleep 1; echo done',
  ]);
  const res = JSON.parse(out) as {status: number; stdout: string; stderr: string; messages: {t: number; msg: string}[]};
  t.is(res.status, 0, res.stderr);
  t.is(res.stdout, 'done\n');
  const ready = res.messages.find((m) => m.msg.includes('READY=1'));
  t.truthy(ready, JSON.stringify(res.messages));
  t.regex(ready!.msg, /MAINPID=\d+/);
  t.true(res.messages.some((m) => m.msg.includes('STOPPING=1')));
  // READY comes before the container's `sleep 1` ends (it is sent at start, not at exit).
  const stopping = res.messages.find((m) => m.msg.includes('STOPPING=1'))!;
  t.true(stopping.t - ready!.t > 0.5, `READY at ${ready!.t}s, STOPPING at ${stopping.t}s`);
});

/** Waits until `ps` shows the container running and its shell has set its trap (it touches /ready/ok). */
async function waitRunning(dr: string, name: string, readyDir: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const ps = JSON.parse(eng(dr, 'ps', '--json').stdout || '[]') as {name: string; status: string}[];
    if (ps.some((c) => c.name === name && c.status === 'running') && readdirSync(readyDir).includes('ok')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`container ${name} did not start`);
}

function runBackground(dr: string, args: string[]): Promise<number | null> {
  const child = spawn(engine, ['--root', rtRoot, 'run', '--data-root', dr, ...args], {stdio: 'ignore'});
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

test('ps lists a running container; stop sends SIGTERM (trapped: exit 7); rm refuses it while running', async (t) => {
  const dr = roots['overlay2']!;
  const ready = scratch.make('ready');
  const exited = runBackground(dr, [
    '--name', 'svc', '-v', `${ready}:/ready`, 'busybox', 'sh', '-c', 'trap "exit 7" TERM; touch /ready/ok; while :; do sleep 0.1; done',
  ]);
  await waitRunning(dr, 'svc', ready);
  const ps = JSON.parse(eng(dr, 'ps', '--json').stdout) as {name: string; pid: number; status: string}[];
  const svc = ps.find((c) => c.name === 'svc')!;
  t.true(svc.pid > 1);
  const rm = eng(dr, 'rm', 'svc');
  t.not(rm.status, 0);
  t.regex(rm.stderr, /the container is running/);
  t.is(eng(dr, 'stop', 'svc').status, 0);
  t.is(await exited, 7);
  const after = JSON.parse(eng(dr, 'ps', '-a', '--json').stdout) as {name: string; status: string}[];
  t.is(after.find((c) => c.name === 'svc')?.status, 'exited 7');
  t.is(eng(dr, 'rm', 'svc').status, 0);
  t.deepEqual(readdirSync(path.join(dr, 'containers')), []);
});

test('stop escalates to SIGKILL after the grace period when SIGTERM is ignored', async (t) => {
  const dr = roots['vfs']!;
  const ready = scratch.make('ready');
  const exited = runBackground(dr, [
    '--rm', '--name', 'stubborn', '-v', `${ready}:/ready`, 'busybox', 'sh', '-c', 'trap "" TERM; touch /ready/ok; while :; do sleep 0.1; done',
  ]);
  await waitRunning(dr, 'stubborn', ready);
  const t0 = Date.now();
  t.is(eng(dr, 'stop', '-t', '1', 'stubborn').status, 0);
  t.true(Date.now() - t0 >= 900, 'waited for the grace period');
  t.is(await exited, 137);
  t.deepEqual(readdirSync(path.join(dr, 'containers')), []);
});

test('--env-file: KEY=VALUE lines, comments, bare KEY from the engine environment, -e wins; bad lines name PATH:LINE', (t) => {
  const dr = roots['overlay2']!;
  const dir = scratch.make('envfile');
  const file = path.join(dir, 'app.env');
  writeFileSync(
    file,
    ['# a comment', '', 'PLAIN=one two  ', 'EQUALS=a=b', '  INDENTED=yes', 'FROM_ENGINE', 'UNSET_IN_ENGINE', 'OVERRIDDEN=file', 'QUOTED="kept"', 'CRLF=x\r', ''].join('\n'),
    {mode: 0o600},
  );
  const r = runIn(
    dr,
    ['--rm', '--name', 'envfile', '--env-file', file, '-e', 'OVERRIDDEN=flag', 'busybox', 'sh', '-c',
      'for k in PLAIN EQUALS INDENTED FROM_ENGINE OVERRIDDEN QUOTED CRLF; do eval "v=\\$$k"; printf "%s=[%s]\\n" "$k" "$v"; done; env | grep -c UNSET_IN_ENGINE || true'],
    {env: {FROM_ENGINE: 'engine value', UNSET_IN_ENGINE: undefined}},
  );
  t.is(r.status, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split('\n'), [
    'PLAIN=[one two  ]', 'EQUALS=[a=b]', 'INDENTED=[yes]', 'FROM_ENGINE=[engine value]', 'OVERRIDDEN=[flag]', 'QUOTED=["kept"]', 'CRLF=[x]', '0',
  ]);
  // The values never appear on the engine's command line.
  t.false(r.stderr.includes('one two'));

  const bad = path.join(dir, 'bad.env');
  writeFileSync(bad, 'GOOD=1\n# fine\nBAD KEY=2\n');
  const b = runIn(dr, ['--rm', '--name', 'envbad', '--env-file', bad, 'busybox', 'true']);
  t.not(b.status, 0);
  t.regex(b.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3: variable name \`BAD KEY\` contains whitespace`));
  writeFileSync(bad, '=nokey\n');
  const nk = runIn(dr, ['--rm', '--name', 'envbad', '--env-file', bad, 'busybox', 'true']);
  t.regex(nk.stderr, /bad\.env:1: no variable name/);
  const missing = runIn(dr, ['--rm', '--name', 'envbad', '--env-file', path.join(dir, 'nope.env'), 'busybox', 'true']);
  t.not(missing.status, 0);
  t.regex(missing.stderr, /--env-file `.*nope\.env`: cannot read it/);
  t.deepEqual(readdirSync(path.join(dr, 'containers')).filter((c) => c.startsWith('env')), []);
});

test.serial('--cpus, --memory, --pids land in the container cgroup (cpu quota per 100 ms period); bad --cpus is refused', async (t) => {
  const dr = roots['overlay2']!;
  const ready = scratch.make('ready');
  const out = path.join(ready, 'limits');
  const exited = runBackground(dr, [
    '--rm', '--name', 'limits', '--cpus', '0.5', '--memory', '48m', '--pids', '33', '-v', `${ready}:/ready`, 'busybox', 'sh', '-c',
    `(${cgroupLimitsScript}) > /ready/limits; touch /ready/ok; while [ ! -e /ready/done ]; do sleep 0.05; done`,
  ]);
  await waitRunning(dr, 'limits', ready);
  t.deepEqual(readFileSync(out, 'utf8').trim().split('\n'), ['cpu=50000 100000', 'memory=50331648', 'pids=33']);
  // The same values seen from the host, in the cgroup the engine made for the container.
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const cpuFile = v2 ? '/sys/fs/cgroup/berth-engine/limits/cpu.max' : '/sys/fs/cgroup/cpu/berth-engine/limits/cpu.cfs_quota_us';
  t.is(readFileSync(cpuFile, 'utf8').trim(), v2 ? '50000 100000' : '50000');
  writeFileSync(path.join(ready, 'done'), '');
  t.is(await exited, 0);
  t.false(existsSync(cpuFile), 'the cgroup went with the container');

  const two = runIn(dr, ['--rm', '--name', 'cpus2', '--cpus', '2', 'busybox', 'sh', '-c', cgroupLimitsScript]);
  t.is(two.status, 0, two.stderr);
  t.regex(two.stdout, /^cpu=200000 100000$/m);
  for (const bad of ['0', '0.001', '-1', 'two', '1.5x']) {
    const r = runIn(dr, ['--rm', '--name', 'cpusbad', '--cpus', bad, 'busybox', 'true']);
    t.not(r.status, 0, bad);
    t.regex(r.stderr, new RegExp(`--cpus \`${bad.replace('.', '\\.')}\`: give a decimal number of CPUs`));
  }
});

test('--ulimit NAME=SOFT[:HARD] sets the container process rlimits (a later one of a name wins); bad ones name the flag and value', (t) => {
  const dr = roots['overlay2']!;
  const limits = (out: string, name: string) =>
    out.split('\n').find((l) => l.startsWith(name))?.slice(name.length).trim().split(/\s+/).slice(0, 2);
  const dflt = runIn(dr, ['--rm', '--name', 'ulimit0', 'busybox', 'cat', '/proc/self/limits']);
  t.is(dflt.status, 0, dflt.stderr);
  t.deepEqual(limits(dflt.stdout, 'Max open files'), ['1024', '1024'], 'the runtime default without --ulimit');
  const r = runIn(dr, [
    '--rm', '--name', 'ulimit', '--ulimit', 'nofile=2048:4096', '--ulimit', 'core=0', '--ulimit', 'nproc=500:1000',
    '--ulimit', 'stack=8388608', '--ulimit', 'memlock=65536', '--ulimit', 'fsize=1000000:2000000', '--ulimit', 'nofile=3000:4096',
    'busybox', 'sh', '-c', 'echo "n=$(ulimit -n)"; cat /proc/self/limits',
  ]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^n=3000$/m);
  t.deepEqual(limits(r.stdout, 'Max open files'), ['3000', '4096']);
  t.deepEqual(limits(r.stdout, 'Max core file size'), ['0', '0']);
  t.deepEqual(limits(r.stdout, 'Max processes'), ['500', '1000']);
  t.deepEqual(limits(r.stdout, 'Max stack size'), ['8388608', '8388608']);
  t.deepEqual(limits(r.stdout, 'Max locked memory'), ['65536', '65536']);
  t.deepEqual(limits(r.stdout, 'Max file size'), ['1000000', '2000000']);
  // Above the engine's own hard limit: given with CAP_SYS_RESOURCE, else refused up front (setrlimit(2) would
  // fail with EPERM inside the container). Sandboxes that are themselves containers often drop that capability.
  const capEff = BigInt('0x' + /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
  const ownHard = limits(readFileSync('/proc/self/limits', 'utf8'), 'Max processes')![1]!;
  if (ownHard !== 'unlimited') {
    const up = runIn(dr, ['--rm', '--name', 'ulimitup', '--ulimit', 'nproc=-1', 'busybox', 'cat', '/proc/self/limits']);
    if (capEff & (1n << 24n)) {
      t.is(up.status, 0, up.stderr);
      t.deepEqual(limits(up.stdout, 'Max processes'), ['unlimited', 'unlimited']);
    } else {
      t.not(up.status, 0);
      t.regex(up.stderr, new RegExp(`--ulimit \`nproc=-1\`: above the engine's own hard limit \\(${ownHard}\\), which it cannot raise without CAP_SYS_RESOURCE`));
    }
  } else t.log('the engine\'s nproc hard limit is unlimited here: nothing to raise');
  const nrOpen = readFileSync('/proc/sys/fs/nr_open', 'utf8').trim();
  const bad: [string, RegExp][] = [
    ['nofiles=10', /--ulimit `nofiles=10`: unknown limit `nofiles`; use one of core, cpu/],
    ['nofile', /--ulimit `nofile`: use NAME=SOFT\[:HARD\]/],
    ['nofile=abc', /--ulimit `nofile=abc`: SOFT and HARD are whole numbers, or -1\/unlimited/],
    ['nofile=1:', /--ulimit `nofile=1:`: SOFT and HARD are whole numbers/],
    ['cpu=-5', /--ulimit `cpu=-5`: SOFT and HARD are whole numbers/],
    ['nofile=10:5', /--ulimit `nofile=10:5`: the soft limit is above the hard limit/],
    [`nofile=${BigInt(nrOpen) + 1n}`, new RegExp(`--ulimit \`nofile=\\d+\`: nofile cannot exceed the kernel's fs.nr_open \\(${nrOpen}\\)`)],
  ];
  for (const [spec, re] of bad) {
    const b = runIn(dr, ['--rm', '--name', 'ulimitbad', '--ulimit', spec, 'busybox', 'true']);
    t.not(b.status, 0, spec);
    t.regex(b.stderr, re, spec);
  }
  t.deepEqual(readdirSync(path.join(dr, 'containers')).filter((c) => c.startsWith('ulimit')), []);
});
