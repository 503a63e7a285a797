/**
 * renderHost: one resolved host → the complete FileSet berth manages there. Pure and deterministic: no
 * clock, no disk (besides the templates, read once per process), no facts; records are walked in sorted key
 * order, so the same host gives the same bytes whatever order its spec was written in.
 */
import {UserError} from '../errors.js';
import type {ResolvedHost} from '../spec/types.js';
import {renderContainers} from './containers.js';
import {renderExtras} from './extras.js';
import {renderKernel} from './kernel.js';
import {compareText, paths, type Part} from './part.js';
import {renderStorage} from './storage.js';
import {renderJournald, renderTimesync} from './system.js';
import {actionOrder, type Action, type FileSet, type ManagedFile} from './types.js';
import {renderUpdates} from './updates.js';
import {renderUsers} from './users.js';

function actionKey(action: Action): string {
  return 'unit' in action ? action.unit : '';
}

function isUnitFile(path: string): boolean {
  return path.startsWith(`${paths.units}/`);
}

export function renderHost(host: ResolvedHost): FileSet {
  const parts: [string, Part][] = [
    ['storage', renderStorage(host)],
    ['containers', renderContainers(host)],
    ['kernel', renderKernel(host)],
    ['updates', renderUpdates(host)],
    ['journald', renderJournald(host)],
    ['timesync', renderTimesync(host)],
    ['users', renderUsers(host)],
    ['units, dropins and files', renderExtras(host)],
  ];

  const byPath = new Map<string, {file: ManagedFile; source: string}>();
  const units = new Set<string>();
  const actions: Action[] = [];
  for (const [source, part] of parts) {
    for (const file of part.files) {
      const other = byPath.get(file.path);
      if (other) {
        throw new UserError(
          `render host ${host.name}: ${file.path} would be written twice, by ${other.source} and by ${source}`,
          `remove ${file.path} from the spec's files (or units/dropins): berth generates it`,
        );
      }
      byPath.set(file.path, {file, source});
    }
    for (const unit of part.units) units.add(unit);
    actions.push(...part.actions);
  }

  const files = [...byPath.values()].map((v) => v.file).sort((a, b) => compareText(a.path, b.path));
  const unitFiles = files.filter((f) => isUnitFile(f.path)).map((f) => f.path);
  if (unitFiles.length > 0) actions.push({kind: 'daemon-reload', triggers: unitFiles});
  actions.sort(
    (a, b) => actionOrder.indexOf(a.kind) - actionOrder.indexOf(b.kind) || compareText(actionKey(a), actionKey(b)),
  );
  return {host: host.name, files, units: [...units].sort(compareText), actions};
}
