/** Runs the machine's tools for the test fleet; failures name the command and the tail of its output. */
import {spawn, spawnSync} from 'node:child_process';
import {tail} from '../errors.js';

export class FleetError extends Error {
  override readonly name = 'FleetError';
}

export interface RunOptions {
  input?: string | Buffer;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Where the step is, for the message ("build the test-fleet image"). */
  step?: string;
  /** Do not throw on a non-zero exit. */
  allowFailure?: boolean;
  /** Run in its own process group and kill the whole group on timeout (builds that fork: debootstrap, dpkg). */
  group?: boolean;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: !!options.group});
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    };
    if (options.group) process.once('exit', killGroup);
    if (options.timeoutMs) {
      timer = setTimeout(() => (options.group ? killGroup() : child.kill('SIGKILL')), options.timeoutMs);
    }
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new FleetError(`${options.step ?? 'run'}: cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (options.group) process.removeListener('exit', killGroup);
      const result = {code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString()};
      if (code !== 0 && !options.allowFailure) {
        const why = signal ? `killed by ${signal}${options.timeoutMs ? ` (timeout ${options.timeoutMs} ms?)` : ''}` : `exit code ${code}`;
        reject(
          new FleetError(
            `${options.step ?? 'run'}: \`${[cmd, ...args].join(' ')}\` failed with ${why}\n${tail(result.stderr || result.stdout, 15)}`,
          ),
        );
        return;
      }
      resolve(result);
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

export function commandExists(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], {stdio: 'ignore'}).status === 0;
}

/**
 * Installs missing Debian packages the way the whole project does (one apt at a time across engineers and
 * test workers); fails with the reason when that is impossible.
 */
export async function ensureTools(tools: Record<string, string>, step: string): Promise<void> {
  const missing = Object.entries(tools).filter(([cmd]) => !commandExists(cmd));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map(([, pkg]) => pkg))];
  if (process.getuid?.() !== 0) {
    throw new FleetError(
      `${step}: missing ${missing.map(([c]) => c).join(', ')}; the test fleet needs root. Run as root or install: apt-get install ${packages.join(' ')}`,
    );
  }
  const install = `flock /tmp/berth-apt.lock apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 ${packages.join(' ')}`;
  let r = await run('sh', ['-c', install], {allowFailure: true});
  if (r.code !== 0) {
    await run('sh', ['-c', 'flock /tmp/berth-apt.lock apt-get update -q'], {allowFailure: true});
    r = await run('sh', ['-c', install], {allowFailure: true});
  }
  const still = missing.filter(([cmd]) => !commandExists(cmd));
  if (still.length) {
    throw new FleetError(
      `${step}: could not install ${packages.join(' ')} (needed for ${still.map(([c]) => c).join(', ')}):\n${tail(r.stderr || r.stdout)}`,
    );
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
