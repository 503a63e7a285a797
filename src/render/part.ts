/**
 * The pieces each renderer returns, and the one way to make a ManagedFile (so every file gets its sha256).
 */
import {createHash} from 'node:crypto';
import type {Action, ManagedFile, When} from './types.js';

/** What one concern (containers, storage, kernel…) contributes to a host's FileSet. */
export interface Part {
  files: ManagedFile[];
  /** Unit files berth manages (FileSet.units). */
  units: string[];
  actions: Action[];
}

export function emptyPart(): Part {
  return {files: [], units: [], actions: []};
}

/** Where berth puts its own executables and scripts on a host. */
export const paths = {
  engine: '/usr/local/bin/berth-engine',
  lib: '/usr/local/lib/berth',
  etc: '/etc/berth',
  units: '/etc/systemd/system',
} as const;

export type FileInput = {
  path: string;
  mode?: string;
  owner?: string;
  group?: string;
  affects?: string[];
  when?: When;
} & ({content: string; source?: undefined} | {content?: undefined; source: {path: string; sha256: string; size: number}});

/** Recent digests by content: identical files repeat across the hosts of a fleet. Bounded. */
const digests = new Map<string, string>();

export function sha256(content: string): string {
  let digest = digests.get(content);
  if (digest === undefined) {
    digest = createHash('sha256').update(content, 'utf8').digest('hex');
    if (digests.size >= 5000) digests.clear();
    digests.set(content, digest);
  }
  return digest;
}

export function managedFile(input: FileInput): ManagedFile {
  const file: ManagedFile = {
    path: input.path,
    mode: input.mode ?? '0644',
    owner: input.owner ?? 'root',
    group: input.group ?? 'root',
    content: input.content ?? '',
    sha256: input.source ? input.source.sha256 : sha256(input.content),
    affects: [...new Set(input.affects ?? [])].sort(),
  };
  if (input.source) file.source = {path: input.source.path, size: input.source.size};
  if (input.when) file.when = {osFamily: input.when.osFamily};
  return file;
}

/**
 * JSON as berth writes it to hosts: keys sorted at every level (so the order a spec wrote them in never
 * shows), two-space indent, trailing newline.
 */
export function jsonContent(value: unknown): string {
  return JSON.stringify(canonical(value), null, 2) + '\n';
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(sortedKeys(record).map((k) => [k, canonical(record[k])]));
  }
  return value;
}

/** Keys of a record in code-unit order: independent of the order the spec wrote them in, and of locale. */
export function sortedKeys(record: Record<string, unknown>): string[] {
  return Object.keys(record).sort(compareText);
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
