/**
 * Shared setup for the runtime tests (not a test file: no `.test.` in the name): the engine binary, a busybox
 * rootfs made from Debian's busybox-static, the static escape probe, bundles from `berth-engine spec`, and a
 * runner that deletes every container it made in teardown (by ID, `delete --force`).
 */
import {spawn, spawnSync} from 'node:child_process';
import {chmodSync, closeSync, openSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, copyFileSync, writeFileSync, readdirSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import type {ExecutionContext} from 'ava';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const engine = path.join(repoRoot, 'native', 'build', 'berth-engine');

/** Installs Debian packages whose marker file is missing (under the shared apt lock, updating once if needed). */
export function aptEnsure(packages: Array<{pkg: string; file: string}>): void {
  const missing = packages.filter((p) => !existsSync(p.file)).map((p) => p.pkg);
  if (missing.length === 0) return;
  const install = `flock /tmp/berth-apt.lock apt-get install -y -o DPkg::Lock::Timeout=600 ${missing.join(' ')}`;
  let r = spawnSync('sh', ['-c', `${install} >&2`], {stdio: 'inherit'});
  if (r.status !== 0) {
    spawnSync('sh', ['-c', 'flock /tmp/berth-apt.lock apt-get update >&2'], {stdio: 'inherit'});
    r = spawnSync('sh', ['-c', `${install} >&2`], {stdio: 'inherit'});
  }
  if (r.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed; install them and rerun`);
}

/** Builds native/build/berth-engine when a test file runs alone (npm test builds it first). */
export function ensureEngine(): string {
  if (!existsSync(engine)) {
    const r = spawnSync('node', [path.join(repoRoot, 'scripts', 'build-native.mjs')], {stdio: 'inherit'});
    if (r.status !== 0) throw new Error('npm run build:native failed');
  }
  return engine;
}

let rootfsCache: string | undefined;

/** A busybox rootfs (Debian's busybox-static + applet symlinks) with the static escape probe in /bin. */
export function busyboxRootfs(): string {
  if (rootfsCache) return rootfsCache;
  aptEnsure([
    {pkg: 'busybox-static', file: '/bin/busybox'},
    {pkg: 'gcc', file: '/usr/bin/gcc'},
  ]);
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-rt-rootfs-'));
  chmodSync(dir, 0o755); // mkdtemp makes it 0700: a non-root or user-namespaced container could not enter it
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc', 'mnt', 'data']) mkdirSync(path.join(dir, d));
  copyFileSync('/bin/busybox', path.join(dir, 'bin', 'busybox'));
  const applets = spawnSync('/bin/busybox', ['--list'], {encoding: 'utf8'}).stdout.split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', path.join(dir, 'bin', a));
  writeFileSync(path.join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
  writeFileSync(path.join(dir, 'etc', 'group'), 'root:x:0:\ntty:x:5:\nnobody:x:65534:\n');
  const probe = spawnSync(
    'gcc',
    ['-static', '-O2', '-o', path.join(dir, 'bin', 'escape-probe'), path.join(repoRoot, 'test', 'engine', 'fixtures', 'escape-probe.c')],
    {encoding: 'utf8'},
  );
  if (probe.status !== 0) throw new Error(`compile escape-probe: ${probe.stderr}`);
  rootfsCache = dir;
  return dir;
}

export function removeRootfs(): void {
  if (rootfsCache) rmSync(rootfsCache, {recursive: true, force: true});
  rootfsCache = undefined;
}

export type OciConfig = {
  process: {args: string[]; env: string[]; cwd: string; terminal: boolean; user: {uid: number; gid: number; additionalGids?: number[]}; [k: string]: unknown};
  root: {path: string; readonly: boolean};
  hostname?: string;
  mounts: Array<{destination: string; type?: string; source?: string; options?: string[]}>;
  linux: {
    namespaces: Array<{type: string; path?: string}>;
    resources?: Record<string, unknown>;
    seccomp?: {defaultAction: string; syscalls: Array<{names: string[]; action: string; errnoRet?: number}>; [k: string]: unknown};
    maskedPaths?: string[];
    readonlyPaths?: string[];
    [k: string]: unknown;
  };
  [k: string]: unknown;
};

export type Result = {code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string};

/**
 * Runs a command (no shell), resolves with its output; never rejects on a non-zero exit. Output goes through
 * files, not pipes, and the promise settles on exit: after `create` or `run --detach` the container keeps the
 * runtime's stdout/stderr open, so waiting for pipes to close would wait for the container.
 */
export function run(cmd: string, args: string[], opts: {timeoutMs?: number; input?: string} = {}): Promise<Result> {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-rt-out-'));
  const outFile = path.join(dir, 'stdout');
  const errFile = path.join(dir, 'stderr');
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  return new Promise<Result>((resolve, reject) => {
    const child = spawn(cmd, args, {stdio: [opts.input === undefined ? 'ignore' : 'pipe', out, err]});
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({code, signal, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8')});
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // the program may exit before reading its input
      child.stdin.end(opts.input);
    }
  }).finally(() => {
    closeSync(out);
    closeSync(err);
    rmSync(dir, {recursive: true, force: true});
  });
}

let counter = 0;

/**
 * A scratch area for one test: its own --root, bundles from `berth-engine spec` pointing at the shared busybox
 * rootfs, and teardown that force-deletes every container ID it handed out and removes its files.
 */
export class RuntimeScratch {
  readonly dir: string;
  readonly root: string;
  readonly ids: string[] = [];
  constructor(t: ExecutionContext, readonly binary = engine) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'berth-rt-'));
    this.root = path.join(this.dir, 'state');
    t.teardown(async () => {
      for (const id of this.ids) await run(this.binary, ['--root', this.root, 'delete', '--force', id]);
      rmSync(this.dir, {recursive: true, force: true});
    });
  }

  newId(prefix = 'rt'): string {
    const id = `${prefix}-${process.pid}-${++counter}`;
    this.ids.push(id);
    return id;
  }

  /** The default spec, with the shared rootfs, the given args and edits. Returns the bundle directory. */
  bundle(args: string[], edit?: (c: OciConfig) => void): string {
    const b = mkdtempSync(path.join(this.dir, 'bundle-'));
    const r = spawnSync(this.binary, ['spec', '--bundle', b], {encoding: 'utf8'});
    if (r.status !== 0) throw new Error(`berth-engine spec: ${r.stderr}`);
    const config = JSON.parse(readFileSync(path.join(b, 'config.json'), 'utf8')) as OciConfig;
    config.root.path = busyboxRootfs();
    config.process.args = args;
    edit?.(config);
    writeFileSync(path.join(b, 'config.json'), JSON.stringify(config, null, 2));
    return b;
  }

  engine(args: string[], opts: {timeoutMs?: number} = {}): Promise<Result> {
    return run(this.binary, ['--root', this.root, ...args], opts);
  }

  /** `run` in the foreground: create, start, wait, delete. */
  runContainer(args: string[], edit?: (c: OciConfig) => void, extra: string[] = []): Promise<Result> {
    const b = this.bundle(args, edit);
    return this.engine(['run', '--bundle', b, ...extra, this.newId()]);
  }
}

/** "name result" lines of the escape probe → object. */
export function parseProbe(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.trim().split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v) out[k] = v;
  }
  return out;
}

/** A /sys file the host can write to (so EROFS inside proves the read-only /sys, not a missing file). */
export function hostWritableSysFile(): string {
  for (const f of ['/sys/kernel/mm/transparent_hugepage/enabled', '/sys/kernel/profiling', '/sys/power/state']) {
    if (existsSync(f)) return f;
  }
  throw new Error('no known writable /sys file on this host');
}

/** cgroup directories named `name` under every mounted hierarchy (to prove delete removed them). */
export function cgroupDirsOf(cgroupPath: string): string[] {
  const found: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const d = path.join('/sys/fs/cgroup', h, cgroupPath);
    if (existsSync(d)) found.push(d);
  }
  if (existsSync(path.join('/sys/fs/cgroup', cgroupPath, 'cgroup.procs'))) found.push(path.join('/sys/fs/cgroup', cgroupPath));
  return found;
}
