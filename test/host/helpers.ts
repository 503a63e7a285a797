/** Hand-made FileSets and host states for the pure tests of plan (not a test file: no `.test.` in the name). */
import {createHash} from 'node:crypto';
import type {Action, FileSet, ManagedFile} from '../../src/render/types.js';
import type {HostState, ManagedFileState, UnitState} from '../../src/host/facts.js';
import {buildManifest} from '../../src/host/manifest.js';

export function file(path: string, content: string, extra: Partial<ManagedFile> = {}): ManagedFile {
  return {
    path,
    mode: '0644',
    owner: 'root',
    group: 'root',
    content,
    sha256: createHash('sha256').update(content).digest('hex'),
    affects: [],
    ...extra,
  };
}

export function fileSet(files: ManagedFile[], units: string[] = [], actions: Action[] = []): FileSet {
  return {host: 'h1', files: [...files].sort((a, b) => (a.path < b.path ? -1 : 1)), units, actions};
}

export function emptyState(): HostState {
  return {generation: null, generations: [], journal: [], manifest: null, files: {}, units: {}, lock: {held: false, owner: {}}};
}

export function onDisk(f: ManagedFile): ManagedFileState {
  return {sha256: f.sha256, kind: 'file', mode: f.mode, owner: f.owner, group: f.group};
}

export function running(unit: string, extra: Partial<UnitState> = {}): UnitState {
  return {
    unit,
    loadState: 'loaded',
    activeState: 'active',
    subState: 'running',
    unitFileState: 'enabled',
    type: 'simple',
    remainAfterExit: false,
    result: 'success',
    ...extra,
  };
}

/** The state a host is in right after a successful apply of `fs` as generation `n`. */
export function appliedState(fs: FileSet, n = 1): HostState {
  const manifest = buildManifest(fs, n, null, 'test');
  const files: Record<string, ManagedFileState> = {};
  for (const f of fs.files) files[f.path] = onDisk(f);
  const units: Record<string, UnitState> = {};
  for (const u of manifest.units) {
    units[u.unit] = u.start ? running(u.unit) : running(u.unit, {activeState: 'inactive', subState: 'dead', unitFileState: u.enable ? 'enabled' : 'disabled'});
  }
  return {
    generation: n,
    generations: [n],
    journal: [{time: 't', event: 'done', generation: n, fields: {}}],
    manifest,
    files,
    units,
    lock: {held: false, owner: {}},
  };
}
