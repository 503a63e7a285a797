// Shared helpers for the engine's image/storage tests: the binary, Debian tools (installed when missing, the
// same way the project's scripts do), temp dirs and mounts that teardown removes.
import {execFileSync, spawnSync, type SpawnSyncReturns} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// BERTH_ENGINE_BIN points the tests at another build (e.g. a sanitizer build).
export const engine = process.env.BERTH_ENGINE_BIN ?? path.join(repoRoot, 'native/build/berth-engine');

/** Fails loudly (with the fix) when the engine was not built: `npm test` builds it first. */
export function requireEngine(): string {
  if (!existsSync(engine)) throw new Error(`${engine} is missing: run \`npm run build:native\` (npm test does it first)`);
  return engine;
}

/** Installs Debian packages that provide `commands` (or `files`) when any is missing (under the apt lock). */
export function ensureDebian(packages: string[], commands: string[], files: string[] = []): void {
  const missing = [
    ...commands.filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0),
    ...files.filter((f) => !existsSync(f)),
  ];
  if (missing.length === 0) return;
  const install = `flock /tmp/berth-apt.lock apt-get install -y -o DPkg::Lock::Timeout=600 ${packages.join(' ')} >&2`;
  let r = spawnSync('sh', ['-c', install], {stdio: 'inherit'});
  if (r.status !== 0) {
    spawnSync('sh', ['-c', 'flock /tmp/berth-apt.lock apt-get update >&2'], {stdio: 'inherit'});
    r = spawnSync('sh', ['-c', install], {stdio: 'inherit'});
  }
  if (r.status !== 0) throw new Error(`could not install ${packages.join(' ')} (needed for ${missing.join(', ')})`);
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: {env?: NodeJS.ProcessEnv; input?: string} = {}): RunResult {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: {...process.env, ...opts.env},
    input: opts.input,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return {status: r.status, stdout: r.stdout, stderr: r.stderr};
}

/** Runs and throws with the command's stderr when it fails. */
export function must(cmd: string, args: string[], opts: {env?: NodeJS.ProcessEnv} = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A temp dir registered for removal; unmounts anything still mounted below it first (by path, never broadly). */
export class Scratch {
  readonly dirs: string[] = [];
  make(prefix: string): string {
    const d = mkdtempSync(path.join(tmpdir(), `berth-img-${prefix}-`));
    this.dirs.push(d);
    return d;
  }
  cleanup(): void {
    const mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .map((m) => m.replace(/\\040/g, ' '));
    for (const d of this.dirs) {
      for (const m of mounts.filter((m) => m === d || m.startsWith(d + '/')).reverse()) {
        spawnSync('umount', ['-l', m]);
      }
      rmSync(d, {recursive: true, force: true});
    }
  }
}

export function python(script: string, args: string[]): string {
  return execFileSync('python3', [script, ...args], {encoding: 'utf8', maxBuffer: 64 * 1024 * 1024});
}

/** Prints the container's cgroup limits from inside (v2: cpu.max memory.max pids.max; v1/hybrid: the same three
 * from the cpu, memory and pids hierarchies) as `cpu=QUOTA PERIOD`, `memory=BYTES`, `pids=N`. */
export const cgroupLimitsScript =
  'if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo "cpu=$(cat /sys/fs/cgroup/cpu.max)"; echo "memory=$(cat /sys/fs/cgroup/memory.max)"; echo "pids=$(cat /sys/fs/cgroup/pids.max)"; ' +
  'else echo "cpu=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)"; echo "memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"; echo "pids=$(cat /sys/fs/cgroup/pids/pids.max)"; fi';
