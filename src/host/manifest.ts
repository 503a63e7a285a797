/**
 * A generation's manifest: what berth put on the host in generation n, written by apply as
 * /var/lib/berth/generations/<n>/manifest.json next to files.tsv and units.tsv (the same data, in a form the
 * POSIX sh helper can read without a JSON parser) and the files themselves, stored by sha256 under files/.
 */
import {HostError} from '../errors.js';
import type {Action, FileSet, ManagedFile} from '../render/types.js';
import {createHash} from 'node:crypto';
import {unitIntents, type UnitIntent} from './intent.js';

export interface ManifestFile {
  path: string;
  mode: string;
  owner: string;
  group: string;
  sha256: string;
  affects: string[];
}

export interface Manifest {
  format: 1;
  host: string;
  generation: number;
  createdAt: string;
  berthVersion: string;
  /** sha256 of everything that makes the generation (files, units, actions, engine): equal digests, no change. */
  digest: string;
  engine: {version: string; sha256: string} | null;
  files: ManifestFile[];
  units: UnitIntent[];
  actions: Action[];
}

export function parseManifest(host: string, text: string): Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new HostError(host, 'probe', `read /var/lib/berth/current/manifest.json: not JSON (${(error as Error).message})`, {
      nextStep: 'the current generation is damaged; run `berth rollback` or remove /var/lib/berth/current and apply again',
    });
  }
  const m = doc as Partial<Manifest>;
  if (m.format !== 1 || !Array.isArray(m.files) || typeof m.generation !== 'number') {
    throw new HostError(host, 'probe', 'read /var/lib/berth/current/manifest.json: not a berth manifest of format 1', {
      nextStep: 'the host was set up by a newer berth, or the file is damaged: upgrade berth or run `berth rollback`',
    });
  }
  return {
    format: 1,
    host: m.host ?? host,
    generation: m.generation,
    createdAt: m.createdAt ?? '',
    berthVersion: m.berthVersion ?? '',
    digest: m.digest ?? '',
    engine: m.engine ?? null,
    files: m.files,
    units: m.units ?? [],
    actions: m.actions ?? [],
  };
}

export function manifestFile(file: ManagedFile): ManifestFile {
  return {
    path: file.path,
    mode: normalizeMode(file.mode),
    owner: file.owner,
    group: file.group,
    sha256: file.sha256,
    affects: [...file.affects],
  };
}

export function buildManifest(
  fileSet: FileSet,
  generation: number,
  engine: Manifest['engine'],
  berthVersion: string,
  now = new Date(),
): Manifest {
  const files = fileSet.files.map(manifestFile);
  const units = unitIntents(fileSet);
  const actions = fileSet.actions;
  return {
    format: 1,
    host: fileSet.host,
    generation,
    createdAt: now.toISOString(),
    berthVersion,
    digest: generationDigest({files, units, actions, engine}),
    engine,
    files,
    units,
    actions,
  };
}

export function generationDigest(g: Pick<Manifest, 'files' | 'units' | 'actions' | 'engine'>): string {
  return createHash('sha256')
    .update(JSON.stringify([g.files, g.units, g.actions, g.engine]))
    .digest('hex');
}

/** `644`, `0644`, `00644` → `0644`. */
export function normalizeMode(mode: string): string {
  const digits = mode.replace(/^0+(?=\d{4})/, '');
  return digits.padStart(4, '0');
}

/**
 * files.tsv for the host helper: sha256, mode, owner, group, affects (comma-separated or `-`), path — path
 * last so that it may hold any byte but tab and newline (checked by assertSafePath).
 */
export function filesTsv(manifest: Manifest): string {
  return manifest.files
    .map((f) => [f.sha256, f.mode, f.owner, f.group, f.affects.join(',') || '-', f.path].join('\t') + '\n')
    .join('');
}

/** units.tsv: unit, enable (0/1), start (0/1). */
export function unitsTsv(manifest: Manifest): string {
  return manifest.units.map((u) => `${u.unit}\t${u.enable ? 1 : 0}\t${u.start ? 1 : 0}\n`).join('');
}

/**
 * actions.tsv: kind, argument (unit, or space-separated modules/users, or `-`), triggers (comma-separated
 * paths, or `*` for any change).
 */
export function actionsTsv(actions: Action[]): string {
  return actions
    .map((a) => {
      const arg =
        'unit' in a ? a.unit : a.kind === 'load-modules' ? a.modules.join(' ') : a.kind === 'create-users' ? a.users.join(' ') : '-';
      const triggers = a.triggers === undefined ? '*' : a.triggers.join(',') || '-';
      return `${a.kind}\t${arg || '-'}\t${triggers}\n`;
    })
    .join('');
}

/** Paths go into tab-separated lists and shell loops: refuse the few bytes that would break them. */
export function assertSafePath(host: string, path: string): void {
  if (!path.startsWith('/') || /[\t\n\r\\]/.test(path) || path.split('/').includes('..')) {
    throw new HostError(host, 'plan', `refuse to manage ${JSON.stringify(path)}: not a plain absolute path`, {
      nextStep: 'use an absolute path without tabs, newlines, backslashes or `..` in the spec',
    });
  }
}
