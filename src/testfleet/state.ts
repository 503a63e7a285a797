/**
 * A fleet's state file (~/.cache/berth/fleets/NAME/state.json) and its teardown. Teardown reads only the
 * state file, so the owner's stop(), the reaper (owner died) and `npm run fleet -- down` share it; it is
 * idempotent. Processes are tracked by PID *and* start time (a recycled PID is never signalled).
 */
import {existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {releasePorts} from './ports.js';
import {sleep} from './run.js';

export interface TrackedProcess {
  /** Process-group leader (spawned detached): the group is signalled as a whole. */
  pid: number;
  startTime: string;
}

export interface HostState {
  name: string;
  kind: 'container' | 'vm';
  port: number;
  dir: string;
  process?: TrackedProcess;
}

export interface FleetState {
  name: string;
  dir: string;
  createdAt: string;
  ownerPid: number;
  persistent: boolean;
  /** The image directory whose rootfs/disk the hosts use (kept while any fleet refers to it). */
  imageDir?: string;
  hosts: HostState[];
  aptServer?: TrackedProcess & {port: number};
}

export const stateFile = (dir: string): string => path.join(dir, 'state.json');

export function writeState(state: FleetState): void {
  const file = stateFile(state.dir);
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

export function readState(dir: string): FleetState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(dir), 'utf8')) as FleetState;
  } catch {
    return undefined;
  }
}

interface ProcInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
  startTime: string;
}

function procInfo(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {pid, state: rest[0]!, ppid: Number(rest[1]), pgrp: Number(rest[2]), startTime: rest[19]!};
  } catch {
    return undefined;
  }
}

export function startTimeOf(pid: number): string {
  return procInfo(pid)?.startTime ?? '';
}

export function isAlive(p: TrackedProcess): boolean {
  const info = procInfo(p.pid);
  return !!info && info.startTime === p.startTime && info.state !== 'Z';
}

function allProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = procInfo(Number(name));
    if (info && info.state !== 'Z') out.push(info);
  }
  return out;
}

/** The group's members and all their descendants (a booted container's init calls setsid()). */
function groupTree(pgid: number): ProcInfo[] {
  const procs = allProcs();
  const found = new Map<number, ProcInfo>();
  for (const p of procs) if (p.pgrp === pgid) found.set(p.pid, p);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of procs) {
      if (!found.has(p.pid) && found.has(p.ppid)) {
        found.set(p.pid, p);
        grew = true;
      }
    }
  }
  return [...found.values()];
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

/**
 * Stops a tracked process group: SIGTERM (nspawn powers its container off, qemu quits), then after
 * `graceMs` SIGKILL to the group and every descendant. Resolves when nothing of it is left.
 */
export async function stopGroup(p: TrackedProcess, graceMs = 8000): Promise<void> {
  const leader = procInfo(p.pid);
  // The leader may be gone while its group lives on (e.g. the reboot loop's shell was killed): the group id
  // is only trusted when the leader still matches, or when no leader exists and members remain.
  if (leader && leader.startTime !== p.startTime) return;
  const members = () => groupTree(p.pid);
  if (members().length === 0) return;
  signal(-p.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && members().length) await sleep(100);
  for (let round = 0; round < 50 && members().length; round++) {
    for (const m of members()) signal(m.pid, 'SIGKILL');
    await sleep(100);
  }
}

/** Stops everything of the fleet in `dir` and removes the directory and its port reservations. */
export async function teardownFleet(dir: string): Promise<{errors: string[]}> {
  const errors: string[] = [];
  const state = readState(dir);
  if (state) {
    // Hosts are disposable: SIGKILL to a container's init ends its whole PID namespace at once (a clean
    // poweroff of 10 containers takes ~10 s here); qemu has nothing to flush that outlives the fleet.
    const hosts = state.hosts.map((h) => h.process).filter((p): p is TrackedProcess => !!p);
    const groups = [...hosts, ...(state.aptServer ? [state.aptServer] : [])];
    await Promise.all([...hosts.map((g) => stopGroup(g, 0)), ...(state.aptServer ? [stopGroup(state.aptServer)] : [])]);
    for (const g of groups) if (isAlive(g)) errors.push(`process ${g.pid} survived SIGKILL`);
  }
  releasePorts(dir);
  if (existsSync(dir)) {
    try {
      rmSync(dir, {recursive: true, force: true, maxRetries: 5, retryDelay: 200});
    } catch (e) {
      errors.push(`remove ${dir}: ${(e as Error).message}`);
    }
  }
  return {errors};
}
