/**
 * Evaluating `when` conditions once the host's facts are known (plan/apply call this before diffing).
 */
import type {FileSet, OsFamily} from './types.js';

/**
 * The FileSet as it applies to a host of `family`: files and actions for other families dropped, and the
 * conditions removed from the rest. `undefined` (family unknown) keeps only what carries no condition.
 */
export function selectForFamily(fileSet: FileSet, family: OsFamily | undefined): FileSet {
  const keep = (x: {when?: {osFamily: OsFamily}}): boolean => x.when === undefined || x.when.osFamily === family;
  const kept = new Set(fileSet.files.filter(keep).map((f) => f.path));
  return {
    host: fileSet.host,
    files: fileSet.files.filter(keep).map(({when: _when, ...file}) => file),
    units: fileSet.units,
    actions: fileSet.actions
      .filter(keep)
      .map(({when: _when, ...action}) => action)
      .map((action) => (action.triggers ? {...action, triggers: action.triggers.filter((p) => kept.has(p))} : action)),
  };
}
