/**
 * render: resolved host → FileSet (pure), and FileSet → files on disk for `berth render --out`.
 */
export {renderHost} from './render-host.js';
export {manifestOf, writeFileSet} from './write-file-set.js';
export {selectForFamily} from './when.js';
export type {Action, FileSet, ManagedFile, OsFamily, When} from './types.js';
