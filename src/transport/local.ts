/**
 * A Transport on this machine, with the same semantics as the SSH one (`sh -c`, exit codes, timeouts that
 * kill the whole process group, atomic verified writes). File paths are taken relative to `root`, so host
 * logic can be tested against a temp directory; commands run with `root` as working directory and
 * BERTH_ROOT set to it (they are not chrooted).
 */
import {spawn, execFileSync} from 'node:child_process';
import {createHash, randomBytes} from 'node:crypto';
import {open, readFile, rename, chmod, chown, unlink} from 'node:fs/promises';
import {dirname, basename, join, resolve, posix} from 'node:path';
import {HostError, UserError, tail} from '../errors.js';
import type {ExecOptions, ExecResult, PutOptions, Transport} from './types.js';

function idOf(kind: 'user' | 'group', name: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  const out = execFileSync('getent', [kind === 'user' ? 'passwd' : 'group', name], {encoding: 'utf8'});
  const id = Number(out.split(':')[2]);
  if (!Number.isInteger(id)) throw new UserError(`look up ${kind} ${name}: not found`);
  return id;
}

class LocalTransport implements Transport {
  readonly host: string;

  constructor(private readonly root: string) {
    this.host = root === '/' ? 'localhost' : `local:${root}`;
  }

  private map(path: string): string {
    if (!posix.isAbsolute(path)) throw new UserError(`${this.host}: path ${path} must be absolute`);
    return join(this.root, path);
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const asRoot = options.root === true && process.getuid?.() !== 0;
    const argv = asRoot ? ['sudo', '-n', '--', 'sh', '-c', command] : ['sh', '-c', command];
    return new Promise((resolvePromise, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), {
        cwd: this.root,
        env: {...process.env, BERTH_ROOT: this.root, ...options.env},
        // A process group of its own, so a timeout kills everything the command started.
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      let timer: NodeJS.Timeout | undefined;
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.stdin.on('error', () => {
        // the command did not read its stdin: that is its business
      });
      child.on('error', (error) => reject(new HostError(this.host, 'exec', error.message, {command})));
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        const stderr = Buffer.concat(err).toString('utf8');
        if (timedOut) {
          reject(new HostError(this.host, 'exec', `timed out after ${options.timeoutMs} ms and was killed`, {command, stderr: tail(stderr)}));
          return;
        }
        const result: ExecResult = {code, stdout: Buffer.concat(out).toString('utf8'), stderr};
        if (signal) result.signal = signal.replace(/^SIG/, '');
        resolvePromise(result);
      });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          timedOut = true;
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // already gone
          }
        }, options.timeoutMs);
      }
      if (options.stdin !== undefined) child.stdin.write(options.stdin);
      child.stdin.end();
    });
  }

  async put(path: string, content: string | Buffer, options: PutOptions = {}): Promise<void> {
    const target = this.map(path);
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    const temp = join(dirname(target), `.${basename(target)}.berth-${randomBytes(6).toString('hex')}`);
    const file = await open(temp, 'wx', 0o600);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      const want = createHash('sha256').update(data).digest('hex');
      const got = createHash('sha256').update(await readFile(temp)).digest('hex');
      if (got !== want) throw new HostError(this.host, 'upload', `write ${path}: sha256 mismatch (expected ${want}, got ${got})`);
      if (options.owner !== undefined || options.group !== undefined || options.root) {
        const uid = options.owner !== undefined ? idOf('user', options.owner) : options.root ? 0 : -1;
        const gid = options.group !== undefined ? idOf('group', options.group) : options.root ? 0 : -1;
        await chown(temp, uid, gid);
      }
      await chmod(temp, parseInt(options.mode ?? '0644', 8));
      await rename(temp, target);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    const dir = await open(dirname(target), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async get(path: string): Promise<Buffer | null> {
    try {
      return await readFile(this.map(path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new HostError(this.host, 'download', `read ${path}: ${(error as Error).message}`);
    }
  }

  async waitForReconnect(): Promise<string> {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  }

  async close(): Promise<void> {}
}

/** A Transport that runs everything on this machine, with file paths under `root` (default `/`). */
export function localTransport(root = '/'): Transport {
  return new LocalTransport(resolve(root));
}
