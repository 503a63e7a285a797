/**
 * plan: the pure diff between what render wants on a host (FileSet) and what the probe found there (the
 * current generation's manifest, the actual sha256/mode/owner of every managed path, unit states). Nothing
 * here touches the network or the disk; the host helper (remote/berth-host.sh) applies the same rules when it
 * switches generations (see intent.ts), so what plan shows is what apply does.
 */
import type {Action, FileSet} from '../render/types.js';
import type {HostState, ManagedFileState} from './facts.js';
import {isEnabledState, isRunningState, switchActions, unitIntents} from './intent.js';
import {journalStatus} from './journal.js';
import {generationDigest, manifestFile, normalizeMode, type Manifest, type ManifestFile} from './manifest.js';

export type FileChangeKind = 'create' | 'modify' | 'delete' | 'repair';
export type DriftKind = 'edited' | 'missing' | 'mode' | 'owner' | 'not-a-file';

export interface DriftEntry {
  path: string;
  kind: DriftKind;
  /** What the current generation says the file is. */
  expected: {sha256: string; mode: string; owner: string; group: string};
  actual: ManagedFileState;
}

export interface FileChange {
  path: string;
  kind: FileChangeKind;
  /** Short notes for people: `content`, `mode 0644 → 0600`, `replaces an unmanaged file`. */
  notes: string[];
  /** False when the host already has the wanted bytes (the path only enters the manifest). */
  writes: boolean;
}

export interface Plan {
  host: string;
  /** The generation the host is on (null: never applied). */
  baseGeneration: number | null;
  /** True when the wanted generation differs from the current one: apply creates `nextGeneration`. */
  newGeneration: boolean;
  nextGeneration: number | null;
  files: FileChange[];
  create: string[];
  modify: string[];
  delete: string[];
  drift: DriftEntry[];
  unitsToDisable: string[];
  unitsToEnable: string[];
  unitsToStart: string[];
  unitsToRestart: string[];
  /** Non-unit actions narrowed to what changed, in the order apply runs them. */
  actions: Action[];
  engine: {from: string | null; to: string; upload: boolean} | null;
  /** An interrupted earlier apply: apply first restores `restore` (the last good generation). */
  interrupted: {target: number; restore: number; since: string} | null;
  /** Nothing to do at all: apply will not touch the host. */
  empty: boolean;
}

export interface PlanInput {
  fileSet: FileSet;
  state: HostState;
  /** The engine this berth would install (null: leave the host's engine as it is). */
  engine: {version: string; sha256: string} | null;
  /** Versions already present on the host (facts.engine). */
  installedEngines: {version: string; sha256: string}[];
  /** The version /usr/local/bin/berth-engine points to (facts.engine.active); undefined: not probed. */
  activeEngine?: string | null | undefined;
}

const engineBinary = (version: string) => `/usr/local/lib/berth/engine/${version}/berth-engine`;
const engineLink = '/usr/local/bin/berth-engine';

/**
 * The engine the current generation records, as the host has it: its binary deleted or changed, or the
 * link pointing elsewhere, is drift (repaired by installing the binary again and resetting the link).
 */
function engineDrift(input: PlanInput, wanted: {version: string; sha256: string}): DriftEntry | null {
  const expected = {sha256: wanted.sha256, mode: '0755', owner: 'root', group: 'root'};
  const installed = input.installedEngines.find((e) => e.version === wanted.version);
  if (!installed) return {path: engineBinary(wanted.version), kind: 'missing', expected, actual: absent};
  if (installed.sha256 !== wanted.sha256) {
    return {path: engineBinary(wanted.version), kind: 'edited', expected, actual: {...absent, kind: 'file', sha256: installed.sha256}};
  }
  if (input.activeEngine !== undefined && input.activeEngine !== wanted.version) {
    return {path: engineLink, kind: 'edited', expected, actual: {...absent, kind: 'other'}};
  }
  return null;
}

function same(a: {sha256: string; mode: string; owner: string; group: string}, b: ManagedFileState): boolean {
  return b.kind === 'file' && b.sha256 === a.sha256 && b.mode === normalizeMode(a.mode) && b.owner === a.owner && b.group === a.group;
}

function differences(want: {sha256: string; mode: string; owner: string; group: string}, have: ManagedFileState): string[] {
  if (have.kind === 'absent') return ['missing'];
  if (have.kind === 'other') return ['not a regular file'];
  const notes: string[] = [];
  if (have.sha256 !== want.sha256) notes.push('content');
  if (have.mode !== normalizeMode(want.mode)) notes.push(`mode ${have.mode} → ${normalizeMode(want.mode)}`);
  if (have.owner !== want.owner || have.group !== want.group) {
    notes.push(`owner ${have.owner}:${have.group} → ${want.owner}:${want.group}`);
  }
  return notes;
}

function driftKind(expected: ManifestFile, actual: ManagedFileState): DriftKind {
  if (actual.kind === 'absent') return 'missing';
  if (actual.kind === 'other') return 'not-a-file';
  if (actual.sha256 !== expected.sha256) return 'edited';
  if (actual.mode !== normalizeMode(expected.mode)) return 'mode';
  return 'owner';
}

const absent: ManagedFileState = {sha256: null, kind: 'absent', mode: null, owner: null, group: null};

/** The engine that the wanted generation records: the one this berth ships, else whatever the host runs. */
export function wantedEngine(input: PlanInput): Manifest['engine'] {
  return input.engine ?? input.state.manifest?.engine ?? null;
}

export function planHost(input: PlanInput): Plan {
  const {fileSet, state} = input;
  const current = state.manifest;
  const currentFiles = new Map((current?.files ?? []).map((f) => [f.path, f]));
  const wantedFiles = fileSet.files.map(manifestFile);
  const wantedPaths = new Set(wantedFiles.map((f) => f.path));
  const actual = (p: string): ManagedFileState => state.files[p] ?? absent;

  const files: FileChange[] = [];
  const drift: DriftEntry[] = [];
  const changed = new Set<string>();
  const affectsOfChanged = new Set<string>();

  for (const want of wantedFiles) {
    const had = currentFiles.get(want.path);
    const have = actual(want.path);
    const writes = !same(want, have);
    if (had && !same(had, have)) {
      drift.push({
        path: want.path,
        kind: driftKind(had, have),
        expected: {sha256: had.sha256, mode: had.mode, owner: had.owner, group: had.group},
        actual: have,
      });
    }
    if (!had) {
      const notes = have.kind === 'absent' ? [] : writes ? ['replaces an unmanaged file (kept for rollback)'] : ['already in place'];
      files.push({path: want.path, kind: 'create', notes, writes});
    } else if (had.sha256 !== want.sha256 || had.mode !== want.mode || had.owner !== want.owner || had.group !== want.group) {
      files.push({path: want.path, kind: 'modify', notes: differences(want, {...have, kind: 'file', sha256: had.sha256, mode: had.mode, owner: had.owner, group: had.group}), writes});
    } else if (writes) {
      files.push({path: want.path, kind: 'repair', notes: differences(want, have), writes});
    }
    if (writes) {
      changed.add(want.path);
      for (const u of want.affects) affectsOfChanged.add(u);
    }
  }
  for (const had of currentFiles.values()) {
    if (wantedPaths.has(had.path)) continue;
    const have = actual(had.path);
    if (!same(had, have) && have.kind !== 'absent') {
      drift.push({
        path: had.path,
        kind: driftKind(had, have),
        expected: {sha256: had.sha256, mode: had.mode, owner: had.owner, group: had.group},
        actual: have,
      });
    }
    files.push({path: had.path, kind: 'delete', notes: have.kind === 'absent' ? ['already gone'] : [], writes: have.kind !== 'absent'});
    changed.add(had.path);
    for (const u of had.affects) affectsOfChanged.add(u);
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  // Units.
  const intents = unitIntents(fileSet);
  const wantedUnits = new Set(intents.map((u) => u.unit));
  const unitsToDisable = (current?.units ?? []).map((u) => u.unit).filter((u) => !wantedUnits.has(u));
  const unitState = (u: string) => state.units[u];
  const unitsToEnable = intents.filter((u) => u.enable && !isEnabledState(unitState(u.unit)?.unitFileState ?? '')).map((u) => u.unit);
  const unitsToStart = intents
    .filter((u) => {
      const s = unitState(u.unit);
      return u.start && (s === undefined || !isRunningState(s));
    })
    .map((u) => u.unit);
  const actions = switchActions(current?.actions ?? [], fileSet.actions, changed);
  const restart = new Set<string>();
  for (const u of affectsOfChanged) {
    const s = unitState(u);
    // try-restart: only what runs now; what is about to start picks the new files up anyway.
    if (s && s.activeState === 'active' && !unitsToDisable.includes(u)) restart.add(u);
  }
  for (const a of actions) if (a.kind === 'restart-unit' && !unitsToDisable.includes(a.unit)) restart.add(a.unit);
  for (const u of unitsToStart) restart.delete(u);
  const unitsToRestart = [...restart].sort();

  // Engine.
  const engineWanted = wantedEngine(input);
  let engine: Plan['engine'] = null;
  const engineFrom = current?.engine?.version ?? null;
  if (engineWanted) {
    const present = input.installedEngines.some((e) => e.version === engineWanted.version && e.sha256 === engineWanted.sha256);
    const drifted = engineWanted.version === engineFrom ? engineDrift(input, engineWanted) : null;
    if (drifted) drift.push(drifted);
    if (engineWanted.version !== engineFrom || drifted) engine = {from: engineFrom, to: engineWanted.version, upload: !present};
  }

  const digest = generationDigest({files: wantedFiles, units: intents, actions: fileSet.actions, engine: engineWanted});
  const newGeneration = current === null || current.digest !== digest;
  const js = journalStatus(state.journal);
  const interrupted = js.interrupted ? {target: js.interrupted.target, restore: js.lastGood, since: js.interrupted.time} : null;
  const latest = Math.max(0, ...state.generations, state.generation ?? 0);

  const work =
    newGeneration ||
    files.some((f) => f.writes) ||
    unitsToDisable.length + unitsToEnable.length + unitsToStart.length + unitsToRestart.length > 0 ||
    engine !== null ||
    interrupted !== null;
  return {
    host: fileSet.host,
    baseGeneration: state.generation,
    newGeneration,
    nextGeneration: newGeneration ? latest + 1 : null,
    files,
    create: files.filter((f) => f.kind === 'create').map((f) => f.path),
    modify: files.filter((f) => f.kind === 'modify').map((f) => f.path),
    delete: files.filter((f) => f.kind === 'delete').map((f) => f.path),
    drift,
    unitsToDisable,
    unitsToEnable,
    unitsToStart,
    unitsToRestart,
    actions: actions.filter((a) => a.kind !== 'enable-unit' && a.kind !== 'restart-unit'),
    engine,
    interrupted,
    empty: !work,
  };
}

function actionText(a: Action): string {
  switch (a.kind) {
    case 'load-modules':
      return `load modules ${a.modules.join(', ')}`;
    case 'create-users':
      return `create/update users ${a.users.join(', ')}`;
    case 'storage-setup':
      return `storage setup (${a.driver}) via ${a.unit}`;
    case 'sysctl-reload':
      return 'sysctl --system';
    case 'update-grub':
      return 'update-grub';
    case 'daemon-reload':
      return 'systemctl daemon-reload';
    case 'restart-journald':
      return 'restart systemd-journald';
    case 'restart-timesyncd':
      return 'restart systemd-timesyncd';
    case 'enable-unit':
      return `enable ${a.unit}`;
    case 'restart-unit':
      return `restart ${a.unit}`;
  }
}

const driftText: Record<DriftKind, string> = {
  edited: 'edited on host',
  missing: 'deleted on host',
  mode: 'mode changed on host',
  owner: 'owner changed on host',
  'not-a-file': 'replaced by a non-file on host',
};

/** The plan as people read it: a diff-like list, one line per change. */
export function formatPlan(plan: Plan): string {
  const lines: string[] = [];
  const gen = plan.baseGeneration === null ? 'no generation yet' : `generation ${plan.baseGeneration}`;
  if (plan.empty) return `${plan.host}: no changes (${gen})`;
  const next = plan.newGeneration ? ` → generation ${plan.nextGeneration}` : ' (repair, same generation)';
  lines.push(`${plan.host}: ${gen}${next}`);
  if (plan.interrupted) {
    lines.push(
      `  ! interrupted apply of generation ${plan.interrupted.target} (${plan.interrupted.since}): generation ${plan.interrupted.restore} is restored first`,
    );
  }
  const driftOf = new Map(plan.drift.map((d) => [d.path, d]));
  for (const f of plan.files) {
    const sign = f.kind === 'create' ? '+' : f.kind === 'delete' ? '-' : '~';
    const notes = [...f.notes];
    const d = driftOf.get(f.path);
    if (d) notes.unshift(`drift: ${driftText[d.kind]}`);
    lines.push(`  ${sign} ${f.path}${notes.length ? ` (${notes.join('; ')})` : ''}`);
  }
  if (plan.engine) {
    const d = plan.drift.find((e) => e.path === engineLink || e.path === engineBinary(plan.engine!.to));
    const notes = [...(d ? [`drift: ${d.path === engineLink ? 'link changed on host' : driftText[d.kind]}`] : []), plan.engine.upload ? 'upload' : 'already on host'];
    lines.push(`  ~ berth-engine ${plan.engine.from ?? 'none'} → ${plan.engine.to} (${notes.join('; ')})`);
  }
  for (const u of plan.unitsToDisable) lines.push(`  - unit ${u} (stop and disable)`);
  for (const u of plan.unitsToEnable) lines.push(`  + unit ${u} (enable)`);
  for (const u of plan.unitsToStart) lines.push(`  > start ${u}`);
  for (const u of plan.unitsToRestart) lines.push(`  > restart ${u}`);
  for (const a of plan.actions) lines.push(`  > ${actionText(a)}`);
  return lines.join('\n');
}

/** The plan as JSON (`berth plan --json`): the Plan itself, which is plain data. */
export function planJson(plan: Plan): Plan {
  return plan;
}
