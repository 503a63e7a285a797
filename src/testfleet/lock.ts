/**
 * Cross-process locks for image builds and port reservations. A lock is held by a `flock` child process that
 * keeps the lock file open until its stdin closes — so the lock is released when we release it *or* when this
 * process dies in any way (SIGKILL included), and never outlives its holder.
 */
import {spawn} from 'node:child_process';
import {mkdirSync} from 'node:fs';
import path from 'node:path';
import {FleetError} from './run.js';

export interface Lock {
  release(): Promise<void>;
}

export async function acquireLock(file: string, what: string, timeoutMs = 60 * 60_000): Promise<Lock> {
  mkdirSync(path.dirname(file), {recursive: true});
  const child = spawn('flock', ['--exclusive', '--timeout', String(Math.ceil(timeoutMs / 1000)), file, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('locked')) resolve();
    });
    child.on('error', (e) => reject(new FleetError(`lock ${file} (${what}): cannot run flock: ${e.message}`)));
    child.on('exit', (code) =>
      reject(new FleetError(`lock ${file} (${what}): flock exited with ${code} before locking${stderr ? `: ${stderr.trim()}` : ''}`)),
    );
  });
  // The holder must not keep the event loop alive on its own.
  child.unref();
  (child.stdout as unknown as {unref?: () => void}).unref?.();
  (child.stderr as unknown as {unref?: () => void}).unref?.();
  (child.stdin as unknown as {unref?: () => void}).unref?.();
  return {
    release: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        // Unref'd above: take a reference again, or a process with nothing else to do exits while waiting.
        child.ref();
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

/** Runs `fn` under the lock. */
export async function withLock<T>(file: string, what: string, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(file, what);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
