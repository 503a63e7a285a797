/**
 * The `berth render` service: read the spec, render the chosen hosts, write them under --out and/or print
 * them as one JSON document. Rendering itself is pure (render-host.ts); this file is where disk I/O happens.
 */
import path from 'node:path';
import {UserError} from '../errors.js';
import {readSpec} from '../spec/index.js';
import {renderHost} from './render-host.js';
import type {FileSet} from './types.js';
import {writeFileSet} from './write-file-set.js';

export interface RenderOptions {
  /** Only these hosts (default: every host in the inventory). */
  hosts?: string[];
  /** Write DIR/HOST/files/… and DIR/HOST/manifest.json here. */
  out?: string;
  /** Print the FileSets (with contents) as one JSON document. */
  json?: boolean;
}

export interface RenderOutcome {
  fileSets: FileSet[];
  /** Human-readable lines for stderr (what was written, spec warnings). */
  notes: string[];
}

export async function renderSpec(specPath: string, options: RenderOptions): Promise<RenderOutcome> {
  const {hosts, warnings, file} = await readSpec(specPath);
  const notes = warnings.map((w) => `${file}:${w.line}:${w.col}: warning: ${w.message}`);
  let chosen = hosts;
  if (options.hosts && options.hosts.length > 0) {
    const known = new Set(hosts.map((h) => h.name));
    const unknown = options.hosts.filter((h) => !known.has(h));
    if (unknown.length > 0) {
      throw new UserError(
        `render ${specPath}: no host named ${unknown.join(', ')} in the inventory`,
        `choose from: ${[...known].join(', ')}`,
      );
    }
    const wanted = new Set(options.hosts);
    chosen = hosts.filter((h) => wanted.has(h.name));
  }
  const fileSets = chosen.map(renderHost);
  if (options.out !== undefined) {
    for (const fileSet of fileSets) await writeFileSet(fileSet, options.out);
    const files = fileSets.reduce((n, f) => n + f.files.length, 0);
    const what = fileSets.length === 1 ? fileSets[0]!.host : `${fileSets.length} hosts`;
    notes.push(`rendered ${what}: ${files} files → ${path.join(options.out, fileSets.length === 1 ? fileSets[0]!.host : '')}`);
  }
  return {fileSets, notes};
}
