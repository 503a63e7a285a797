/**
 * What the spec spells out itself: extra units, drop-ins for any unit, and plain files.
 */
import {BugError, UserError} from '../errors.js';
import type {ResolvedHost} from '../spec/types.js';
import {emptyPart, managedFile, paths, sortedKeys, type Part} from './part.js';

/** The schema's unitName: a unit file name with its type suffix, templates (`getty@.service`) included. */
const unitNamePattern = /^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]*)?\.(service|socket|timer|path|mount|automount|target|slice|scope|swap|device)$/;

export function renderExtras(host: ResolvedHost): Part {
  const part = emptyPart();
  for (const name of sortedKeys(host.units)) {
    if (!unitNamePattern.test(name)) {
      throw new UserError(
        `render unit ${JSON.stringify(name)} for host ${host.name}: not a unit file name`,
        'name it like backup.service or backup.timer',
      );
    }
    const unit = host.units[name]!;
    const path = `${paths.units}/${name}`;
    part.files.push(managedFile({path, content: unit.content, affects: [name]}));
    part.units.push(name);
    if (unit.enable) part.actions.push({kind: 'enable-unit', unit: name, triggers: [path]});
  }
  for (const unitName of sortedKeys(host.dropins)) {
    const dropins = host.dropins[unitName]!;
    for (const file of sortedKeys(dropins)) {
      if (!unitNamePattern.test(unitName) || !/^[A-Za-z0-9_.@-]+\.conf$/.test(file)) {
        throw new UserError(
          `render drop-in ${unitName}/${file} for host ${host.name}: systemd reads only UNIT.d/NAME.conf`,
          'key dropins by a unit name (ssh.service) and name each drop-in NAME.conf',
        );
      }
      part.files.push(
        managedFile({path: `${paths.units}/${unitName}.d/${file}`, content: dropins[file]!, affects: [unitName]}),
      );
    }
  }
  for (const path of sortedKeys(host.files)) {
    const f = host.files[path]!;
    const owner = {mode: f.mode, owner: f.owner, group: f.group};
    if (f.source === undefined) {
      part.files.push(managedFile({path, content: f.content, ...owner}));
    } else if (!/^[0-9a-f]{64}$/.test(f.source.sha256) || !f.source.path.startsWith('/')) {
      throw new BugError(`render ${path} for host ${host.name}: its source ${f.source.path} was not read (readSpec attaches sources)`);
    } else {
      part.files.push(managedFile({path, source: f.source, ...owner}));
    }
  }
  return part;
}
