/**
 * Running the host helper (remote/berth-host.sh): pack the archive, send it on stdin of one command, and
 * parse the helper's output lines into a HelperReport. Pure parts (archive entries, output parsing) are
 * exported for tests.
 */
import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {HostError, tail} from '../errors.js';
import type {FileSet} from '../render/types.js';
import {usersFile} from '../render/users.js';
import type {Transport} from '../transport/types.js';
import type {LocalEngine} from './engine.js';
import {actionsTsv, assertSafePath, filesTsv, unitsTsv, type Manifest} from './manifest.js';
import {helperCommand, remoteScript} from './remote-scripts.js';
import {tarArchive, type TarEntry} from './tar.js';

export type HelperStatus = 'ok' | 'rolled-back' | 'failed' | 'locked' | 'stale' | 'no-previous';

/** What a generation switch did on a host: paths written or removed, units touched, warnings. */
export interface HostChanges {
  changed: string[];
  removed: string[];
  restarted: string[];
  started: string[];
  enabled: string[];
  disabled: string[];
  warnings: string[];
}

/** No changes yet: the lists a report or a result starts from. */
export function noChanges(): HostChanges {
  return {changed: [], removed: [], restarted: [], started: [], enabled: [], disabled: [], warnings: []};
}

export interface HelperReport extends HostChanges {
  status: HelperStatus;
  /** The generation the host is on afterwards (as the helper says). */
  generation: number | null;
  message: string;
  steps: {name: string; ok: boolean; detail: string}[];
  /** The helper's whole output (the host transcript). */
  output: string;
}

export interface HelperProgress {
  (event: {kind: 'step'; step: string} | {kind: 'warn'; step: string; message: string}): void;
}

export function parseHelperOutput(text: string): HelperReport {
  const report: HelperReport = {
    status: 'failed',
    generation: null,
    message: 'the helper ended without a result',
    steps: [],
    ...noChanges(),
    output: text,
  };
  let sawResult = false;
  for (const line of text.split('\n')) {
    const m = /^@@([a-z-]+)(?: (\S+))?(?: (.*))?$/.exec(line);
    if (!m) continue;
    const [, tag, first = '', rest = ''] = m;
    switch (tag) {
      case 'ok':
      case 'fail':
        report.steps.push({name: first, ok: tag === 'ok', detail: rest});
        break;
      case 'warn':
        report.warnings.push(`${first}: ${rest}`);
        break;
      case 'changed':
      case 'removed':
      case 'restarted':
      case 'started':
      case 'enabled':
      case 'disabled': {
        const value = [first, rest].filter(Boolean).join(' ');
        const list = report[tag];
        if (!list.includes(value)) list.push(value);
        break;
      }
      case 'result': {
        sawResult = true;
        const [gen = '', ...msg] = rest.split(' ');
        report.status = (['ok', 'rolled-back', 'failed', 'locked', 'stale', 'no-previous'] as const).find((s) => s === first) ?? 'failed';
        report.generation = /^\d+$/.test(gen) ? Number(gen) : null;
        report.message = msg.join(' ');
        break;
      }
    }
  }
  if (!sawResult) report.status = 'failed';
  return report;
}

/** users.tsv for the create-users action, from the users.json render writes. */
export function usersTsv(fileSet: FileSet): string {
  const file = fileSet.files.find((f) => f.path === usersFile);
  if (!file) return '';
  const doc = JSON.parse(file.content) as {users: {name: string; uid?: number; shell: string; home: string; groups: string[]}[]};
  return doc.users
    .map((u) => [u.name, u.uid ?? '-', u.shell, u.home, u.groups.join(',') || '-', '-'].join('\t') + '\n')
    .join('');
}

/**
 * The archive entries of a new generation: manifest, lists for the helper, files by sha256 — only the blobs
 * the host does not hold already (`onHost`: the sha256s of its current generation, which the helper
 * hardlinks into the new one). So an unchanged image archive is neither sent nor stored again. Blobs are
 * 0600: an env file's secrets must not be readable in the generation store either.
 */
export function generationEntries(host: string, manifest: Manifest, fileSet: FileSet, onHost: ReadonlySet<string> = new Set()): TarEntry[] {
  for (const f of manifest.files) assertSafePath(host, f.path);
  const entries: TarEntry[] = [
    {name: 'gen/manifest.json', content: JSON.stringify(manifest, null, 2) + '\n'},
    {name: 'gen/files.tsv', content: filesTsv(manifest)},
    {name: 'gen/units.tsv', content: unitsTsv(manifest)},
    {name: 'gen/actions.tsv', content: actionsTsv(manifest.actions)},
    {name: 'gen/users.tsv', content: usersTsv(fileSet)},
  ];
  if (manifest.engine) entries.push({name: 'gen/engine', content: `${manifest.engine.version} ${manifest.engine.sha256}\n`});
  const seen = new Set<string>(onHost);
  for (const f of fileSet.files) {
    if (seen.has(f.sha256)) continue;
    seen.add(f.sha256);
    entries.push({name: `gen/files/${f.sha256}`, content: f.source ? {file: f.source.path, size: f.source.size} : f.content, mode: 0o600});
  }
  return entries;
}

export interface HelperRun {
  transport: Transport;
  args: string[];
  entries?: TarEntry[];
  engine?: LocalEngine | null;
  /** Who runs this (user@machine), recorded in the lock owner file and the journal. */
  by: string;
  healthTimeoutSec?: number;
  /** e2e only: make the worker stop at a named point (see pause_point in berth-host.sh). */
  testPause?: string;
  log?: (line: string) => void;
}

export async function runHelper(run: HelperRun): Promise<HelperReport> {
  const entries: TarEntry[] = [{name: 'berth-host.sh', content: remoteScript('berth-host.sh'), mode: 0o755}, ...(run.entries ?? [])];
  if (run.engine) {
    entries.push(
      {name: 'engine/version', content: `${run.engine.version} ${run.engine.sha256}\n`},
      {name: 'engine/berth-engine', content: readFileSync(run.engine.path), mode: 0o755},
    );
  }
  const archive = tarArchive(entries);
  const sha = createHash('sha256').update(archive).digest('hex');
  const env: Record<string, string> = {BERTH_BY: run.by.replace(/\s+/g, '_'), HEALTH_TIMEOUT: String(run.healthTimeoutSec ?? 90)};
  if (run.testPause) env.BERTH_TEST_PAUSE = run.testPause;
  run.log?.(`helper: berth-host.sh ${run.args.join(' ')} (archive ${archive.length} bytes, sha256 ${sha.slice(0, 12)})`);
  const r = await run.transport.exec(helperCommand(sha, run.args, env), {
    root: true,
    stdin: archive,
    timeoutMs: ((run.healthTimeoutSec ?? 90) + 600) * 1000,
  });
  for (const line of r.stdout.trimEnd().split('\n')) run.log?.(`host: ${line}`);
  if (r.stderr.trim()) for (const line of r.stderr.trimEnd().split('\n')) run.log?.(`host stderr: ${line}`);
  const report = parseHelperOutput(r.stdout);
  if (!r.stdout.includes('@@result')) {
    throw new HostError(run.transport.host, run.args[0] ?? 'apply', `the host helper stopped without a result (exit ${r.code ?? r.signal})`, {
      exitCode: r.code,
      stderr: tail(r.stderr + '\n' + r.stdout),
      nextStep: 'run `berth status` to see the host state, then run the command again: an interrupted switch is rolled back first',
    });
  }
  return report;
}
