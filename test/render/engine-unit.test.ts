/**
 * A rendered container unit's command lines, exactly as systemd parsed them, run against the real
 * berth-engine (native/build) with a busybox image made by umoci: ExecStartPre (remove a stale container,
 * load the image archive under its tag), ExecStart (the container, in the foreground) and ExecStop, with the
 * unit's Environment= and its env file (--env-file). This checks that render speaks the engine's CLI; systemd itself is not PID 1 here, so
 * the one thing emulated is exec-time `$$` → `$` (systemd.service(5), "Command lines").
 *
 * The engine's runtime state goes to a private --root (a global option inserted after the program) so that
 * this file never meets another test's containers; everything is removed in teardown.
 */
import {spawn} from 'node:child_process';
import {mkdirSync, readdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {renderHost} from '../../src/render/index.js';
import {Scratch, engine, requireEngine, run} from '../engine/helpers/engine.js';
import {makeBusyboxImage} from '../engine/helpers/images.js';
import {bareHost} from './hosts.js';
import {systemdDump, splitDumpedCommand} from './systemd.js';

const scratch = new Scratch();
requireEngine();
const layout = path.join(scratch.make('render-images'), 'busybox');
makeBusyboxImage(scratch, layout);
const rtRoot = scratch.make('render-rt');
const dataRoot = scratch.make('render-data');
const volume = scratch.make('render-vol');
const envDir = scratch.make('render-env');
writeFileSync(path.join(volume, 'in'), 'from the host\n');

test.after.always(() => {
  const env = {BERTH_ENGINE_DATA_ROOT: dataRoot};
  for (const name of ['render-once', 'render-long']) run(engine, ['--root', rtRoot, 'rm', '-f', name], {env});
  scratch.cleanup();
});

const greeting = 'hi "there" 100% $HOME \\ back';

interface UnitCommands {
  env: Record<string, string>;
  pre: string[][];
  start: string[];
  stop: string[];
}

/** Renders the container and reads its unit back through systemd's parser. */
function unitCommands(name: string, command: string[]): UnitCommands {
  const host = bareHost();
  host.engine.dataRoot = dataRoot;
  host.engine.storage = 'vfs';
  host.containers[name] = {
    image: layout,
    command,
    env: {GREETING: greeting},
    ports: [],
    volumes: [{source: volume, target: '/mnt/ro', readOnly: true}],
    readOnly: true,
    memory: '64M',
    pids: 64,
    restart: 'no',
    dependsOn: [],
    user: '0:0',
    network: 'none',
  };
  const fileSet = renderHost(host);
  // The env file goes where --env-file names it, redirected into the scratch dir by isolated().
  for (const f of fileSet.files.filter((f) => f.path.startsWith('/etc/berth/containers/'))) {
    writeFileSync(path.join(envDir, path.basename(f.path)), f.content, {mode: 0o600});
  }
  const units = Object.fromEntries(
    fileSet
      .files.filter((f) => /^\/etc\/systemd\/system\/[^/]+$/.test(f.path))
      .map((f) => [path.basename(f.path), f.content]),
  );
  const dump = systemdDump(`berth-container-${name}.service`, units);
  // The dump lists each Exec setting as "-> ExecStartPre:" followed by its command lines.
  const sections = new Map<string, string[][]>();
  let current = '';
  const env: Record<string, string> = {};
  for (const line of dump.split('\n')) {
    const head = /^\s*-> (Exec\w+):/.exec(line);
    if (head) current = head[1]!;
    const cmd = /^\s*Command Line: (.*)$/.exec(line);
    if (cmd && current) {
      const argv = splitDumpedCommand(cmd[1]!).map((a) => a.replace(/\$\$/g, '$'));
      sections.set(current, [...(sections.get(current) ?? []), argv]);
    }
    const e = /^\s*Environment: ([A-Z_]+)=(.*)$/.exec(line);
    if (e) env[e[1]!] = e[2]!;
  }
  const start = sections.get('ExecStart')?.[0];
  const stop = sections.get('ExecStop')?.[0];
  if (!start || !stop) throw new Error(`no ExecStart/ExecStop in the dump:\n${dump}`);
  return {env, pre: sections.get('ExecStartPre') ?? [], start, stop};
}

/** The unit's argv with the test's private runtime root added as a global option. */
function isolated(argv: string[]): [string, string[]] {
  if (argv[0] !== '/usr/local/bin/berth-engine') throw new Error(`unexpected program ${argv[0]}`);
  const args = argv.slice(1).map((a) => (a.startsWith('/etc/berth/containers/') ? path.join(envDir, path.basename(a)) : a));
  return [engine, ['--root', rtRoot, ...args]];
}

test('ExecStartPre + ExecStart run the container with every flag, env value intact', (t) => {
  const unit = unitCommands('render-once', [
    'sh',
    '-c',
    'echo "$GREETING"; echo "$BERTH_ENGINE_DATA_ROOT"; cat /mnt/ro/in; touch /mnt/ro/x 2>/dev/null || echo ro-refused; touch /root-file 2>/dev/null || echo root-refused; cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max',
  ]);
  t.deepEqual(unit.env, {BERTH_ENGINE_DATA_ROOT: dataRoot, BERTH_ENGINE_STORAGE_DRIVER: 'vfs'});
  t.is(unit.pre.length, 2, 'remove a stale container, then load the archive');
  for (const argv of unit.pre) {
    const [cmd, args] = isolated(argv);
    const r = run(cmd, args, {env: unit.env});
    if (argv[1] !== 'rm') t.is(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
  }
  const [cmd, args] = isolated(unit.start);
  const r = run(cmd, args, {env: unit.env});
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.is(lines[0], greeting);
  t.is(lines[1], '', 'the unit environment is the engine\'s, not the container\'s');
  t.is(lines[2], 'from the host');
  t.true(lines.includes('ro-refused'));
  t.true(lines.includes('root-refused'));
  t.is(lines.at(-1), '64');
  t.deepEqual(readdirSync(path.join(dataRoot, 'containers')), [], '--rm left nothing behind');
});

test('ExecStop stops a running container and the foreground engine exits', async (t) => {
  const unit = unitCommands('render-long', ['sleep', '600']);
  for (const argv of unit.pre) {
    const [cmd, args] = isolated(argv);
    run(cmd, args, {env: unit.env});
  }
  const [cmd, args] = isolated(unit.start);
  const child = spawn(cmd, args, {env: {...process.env, ...unit.env}, stdio: ['ignore', 'pipe', 'pipe']});
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  // Wait until the engine lists the container as running (generous: the machine is shared).
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ps = run(engine, ['--root', rtRoot, 'ps', '--json'], {env: unit.env});
    if (ps.stdout.includes('render-long')) break;
    if (Date.now() > deadline || child.exitCode !== null) t.fail(`the container never ran: ${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const [stopCmd, stopArgs] = isolated(unit.stop);
  const stop = run(stopCmd, stopArgs, {env: unit.env});
  t.is(stop.status, 0, stop.stderr);
  const code = await exited;
  t.not(code, null, 'the engine exited by itself');
  mkdirSync(path.join(dataRoot, 'containers'), {recursive: true});
  t.deepEqual(readdirSync(path.join(dataRoot, 'containers')), [], '--rm left nothing behind');
});
