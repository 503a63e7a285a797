/**
 * e2e helpers: run the real `berth` CLI (through tsx, so no build is needed) against test fleet hosts, and
 * write specs whose inventory points at them. Not a test file.
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {copyFileSync, existsSync, mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {stringify} from 'yaml';
import type {Fleet, FleetHost} from '../../../src/testfleet/index.js';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface BerthRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function spawnBerth(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(repo, 'src/cli/main.ts'), ...args], {
    cwd: repo,
    env: {...process.env, ...env},
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function berth(args: string[], env: Record<string, string> = {}, timeoutMs = 10 * 60_000): Promise<BerthRun> {
  return new Promise((resolve, reject) => {
    const child = spawnBerth(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`berth ${args.join(' ')} timed out after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({code, stdout, stderr});
    });
  });
}

/** Parses `berth apply --json` output; fails with the whole output when it is not JSON. */
export function applyJson(run: BerthRun): {ok: boolean; hosts: {host: string; ok: boolean; result?: any; error?: any}[]} {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`berth did not print JSON (exit ${run.code}):\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

export interface SpecOptions {
  user?: 'admin' | 'operator';
}

/** A spec file whose inventory is the fleet's hosts (explicit address/port/user/key), plus `sections`. */
export function writeSpec(fleet: Fleet, hosts: FleetHost[], sections: Record<string, unknown>, options: SpecOptions = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-e2e-spec-'));
  const inventory: Record<string, unknown> = {};
  for (const h of hosts) {
    const login = options.user === 'operator' ? h.operator : h.admin;
    inventory[h.name] = {
      address: h.address,
      port: h.port,
      user: login.user,
      identityFile: login.identityFile,
      become: options.user === 'operator' ? 'sudo-password' : 'sudo',
    };
  }
  const file = path.join(dir, 'spec.yaml');
  writeFileSync(file, stringify({version: 1, inventory: {hosts: inventory}, ...sections}));
  return file;
}

export async function sh(fleet: Fleet, host: FleetHost, command: string): Promise<string> {
  const r = await fleet.ssh(host, command);
  if (r.code !== 0) throw new Error(`ssh ${host.name} ${command}: exit ${r.code}\n${r.stderr}`);
  return r.stdout;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A private copy of native/build/berth-engine (BERTH_ENGINE_BINARY for the berth runs of one test file).
 * Without a built engine the hosts keep theirs: the scenarios that need none still run, and say so.
 */
export function pinEngine(): string {
  const built = path.join(repo, 'native/build/berth-engine');
  const copy = path.join(mkdtempSync(path.join(tmpdir(), 'berth-e2e-engine-')), 'berth-engine');
  if (existsSync(built)) copyFileSync(built, copy);
  else process.stderr.write(`e2e: ${built} is not built (make -C native); applying without installing an engine\n`);
  return copy;
}
