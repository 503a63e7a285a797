/**
 * `berth render --out DIR`: a FileSet on disk as DIR/HOST/files/<absolute path> plus DIR/HOST/manifest.json
 * (everything but the contents). Written to a temporary sibling and renamed into place, so DIR/HOST is
 * always one complete render: no stale files from an earlier spec survive, and a re-run is byte-identical.
 */
import {mkdir, readdir, rename, rm, stat, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {UserError} from '../errors.js';
import type {FileSet} from './types.js';

/** manifest.json: the FileSet without file contents. */
export function manifestOf(fileSet: FileSet): string {
  const manifest = {
    host: fileSet.host,
    files: fileSet.files.map(({content: _content, ...rest}) => rest),
    units: fileSet.units,
    actions: fileSet.actions,
  };
  return JSON.stringify(manifest, null, 2) + '\n';
}

/** `DIR/HOST/files/<path>` for a host path, or an error when the path could leave that directory. */
export function outputPath(filesDir: string, hostPath: string): string {
  const segments = hostPath.split('/').slice(1);
  const bad =
    !hostPath.startsWith('/') ||
    hostPath.includes('\0') ||
    segments.length === 0 ||
    segments.some((s) => s === '' || s === '.' || s === '..');
  const target = path.resolve(filesDir, ...segments);
  if (bad || !target.startsWith(filesDir + path.sep)) {
    throw new UserError(
      `render: refusing to write ${JSON.stringify(hostPath)} outside ${filesDir}`,
      'use a normalised absolute path (no "..", ".", or empty segments) in the spec',
    );
  }
  return target;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

export async function writeFileSet(fileSet: FileSet, dir: string): Promise<void> {
  const root = path.resolve(dir);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(fileSet.host)) {
    throw new UserError(`render: refusing to write host ${JSON.stringify(fileSet.host)}: not a plain name`, 'rename the host in the spec');
  }
  const final = path.join(root, fileSet.host);
  if ((await exists(final)) && !(await exists(path.join(final, 'manifest.json')))) {
    const entries = await readdir(final);
    if (entries.length > 0) {
      throw new UserError(
        `render: ${final} exists and is not an earlier render (no manifest.json): not overwriting it`,
        'choose another --out directory, or remove that one',
      );
    }
  }
  const temp = path.join(root, `.${fileSet.host}.render-${process.pid}`);
  await rm(temp, {recursive: true, force: true});
  const filesDir = path.join(temp, 'files');
  await mkdir(filesDir, {recursive: true});
  try {
    for (const file of fileSet.files) {
      const target = outputPath(filesDir, file.path);
      await mkdir(path.dirname(target), {recursive: true});
      await writeFile(target, file.content);
    }
    await writeFile(path.join(temp, 'manifest.json'), manifestOf(fileSet));
    await rm(final, {recursive: true, force: true});
    await rename(temp, final);
  } catch (error) {
    await rm(temp, {recursive: true, force: true});
    throw error;
  }
}
