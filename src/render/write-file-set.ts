/**
 * `berth render --out DIR`: a FileSet on disk as DIR/HOST/files/<absolute path> plus DIR/HOST/manifest.json
 * (everything but the contents). No stale files from an earlier spec survive, and a re-run is byte-identical.
 *
 * A first render goes to a temporary sibling that is renamed into place. Over an earlier render (its
 * manifest.json lists what it wrote) only files whose bytes differ are rewritten and the ones the spec
 * dropped are removed: on a busy disk, rewriting and deleting thousands of unchanged files is what made a
 * 100-host re-render slow (see bench/results/render.md), not rendering them.
 */
import {
  chmodSync,
  closeSync,
  copyFileSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import {UserError} from '../errors.js';
import {digestFile} from '../spec/sources.js';
import type {FileSet, ManagedFile} from './types.js';

/** manifest.json: the FileSet without file contents. */
export function manifestOf(fileSet: FileSet): string {
  const manifest = {
    host: fileSet.host,
    // The sha256 names the bytes; a source's local path would tie the output to this machine's checkout.
    files: fileSet.files.map(({content: _content, source: _source, ...rest}) => rest),
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

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** A file's text, or undefined when it is missing, not a regular file, or a symlink (O_NOFOLLOW). */
function readNoFollow(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    return readFileSync(fd, 'utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * One file of the output: its text, or a copy of its source (never read into memory here). Files the host
 * gets without read access for others (an env file with secrets) are written 0600 here too.
 */
function writeOne(target: string, file: ManagedFile): void {
  const mode = (parseInt(file.mode, 8) & 0o044) === 0 ? 0o600 : 0o644;
  if (file.source) {
    copyFileSync(file.source.path, target);
    chmodSync(target, mode);
  } else {
    writeFileSync(target, file.content, {mode});
  }
}

/** Does `target` (a regular file, not a symlink) already hold exactly the bytes of a source file? */
function sameBytes(target: string, file: ManagedFile): boolean {
  try {
    const st = lstatSync(target);
    if (!st.isFile() || st.size !== file.source!.size) return false;
    return digestFile(target).sha256 === file.sha256;
  } catch {
    return false;
  }
}

/** The paths an earlier render wrote, from its manifest; undefined when there is none we can read. */
function earlierPaths(final: string): string[] | undefined {
  const text = readText(path.join(final, 'manifest.json'));
  if (text === undefined) return undefined;
  try {
    const doc = JSON.parse(text) as {files?: {path?: unknown}[]};
    if (!Array.isArray(doc.files)) return undefined;
    return doc.files.map((f) => f.path).filter((p): p is string => typeof p === 'string');
  } catch {
    return undefined;
  }
}

/** Removes directories left empty below `stop` after a file in `dir` went away. */
function pruneEmpty(dir: string, stop: string): void {
  while (dir.startsWith(stop + path.sep)) {
    try {
      rmdirSync(dir);
    } catch {
      return;
    }
    dir = path.dirname(dir);
  }
}

/**
 * An earlier render's directories could have been replaced by symlinks: never write or delete through one.
 * `dir` must resolve to `realFiles` or below it.
 */
function insideReal(dir: string, realFiles: string, hostPath: string): void {
  const real = realpathSync(dir);
  if (real !== realFiles && !real.startsWith(realFiles + path.sep)) {
    throw new UserError(
      `render: refusing to write ${hostPath}: ${dir} leads outside ${realFiles} through a symlink`,
      'remove that symlink from the output directory, or render into a fresh --out directory',
    );
  }
}

function updateInPlace(fileSet: FileSet, final: string, earlier: string[]): void {
  const filesDir = path.join(final, 'files');
  mkdirSync(filesDir, {recursive: true});
  const realFiles = realpathSync(filesDir);
  const targets = fileSet.files.map((file) => outputPath(filesDir, file.path));
  const wanted = new Set(fileSet.files.map((f) => f.path));
  for (const old of earlier) {
    if (wanted.has(old)) continue;
    let target: string;
    try {
      target = outputPath(filesDir, old);
    } catch {
      continue; // not a path this function would have written
    }
    if (!existsSync(path.dirname(target))) continue;
    insideReal(path.dirname(target), realFiles, old);
    rmSync(target, {force: true});
    pruneEmpty(path.dirname(target), filesDir);
  }
  const checkedDirs = new Set<string>();
  fileSet.files.forEach((file, i) => {
    const target = targets[i]!;
    const dir = path.dirname(target);
    if (!checkedDirs.has(dir)) {
      let existing = dir;
      while (!existsSync(existing)) existing = path.dirname(existing);
      insideReal(existing, realFiles, file.path);
      mkdirSync(dir, {recursive: true});
      checkedDirs.add(dir);
    }
    if (file.source ? sameBytes(target, file) : readNoFollow(target) === file.content) return;
    rmSync(target, {recursive: true, force: true});
    writeOne(target, file);
  });
  const manifest = manifestOf(fileSet);
  if (readText(path.join(final, 'manifest.json')) !== manifest) writeFileSync(path.join(final, 'manifest.json'), manifest);
}

/**
 * Synchronous on purpose: a 100-host render writes thousands of small files, and node's promise-based fs
 * pays a thread-pool round trip per call.
 */
export async function writeFileSet(fileSet: FileSet, dir: string): Promise<void> {
  const root = path.resolve(dir);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(fileSet.host)) {
    throw new UserError(`render: refusing to write host ${JSON.stringify(fileSet.host)}: not a plain name`, 'rename the host in the spec');
  }
  const final = path.join(root, fileSet.host);
  if (existsSync(final) && !lstatSync(final).isDirectory()) {
    throw new UserError(`render: ${final} exists and is not a directory: not overwriting it`, 'choose another --out directory, or remove it');
  }
  const earlier = earlierPaths(final);
  if (earlier === undefined && existsSync(final) && readdirSync(final).length > 0) {
    throw new UserError(
      `render: ${final} exists and is not an earlier render (no readable manifest.json): not overwriting it`,
      'choose another --out directory, or remove that one',
    );
  }
  // Every path is checked before anything is written.
  for (const file of fileSet.files) outputPath(path.join(final, 'files'), file.path);
  if (earlier !== undefined) {
    updateInPlace(fileSet, final, earlier);
    return;
  }
  const temp = path.join(root, `.${fileSet.host}.render-${process.pid}`);
  rmSync(temp, {recursive: true, force: true});
  const filesDir = path.join(temp, 'files');
  mkdirSync(filesDir, {recursive: true});
  try {
    const targets = fileSet.files.map((file) => outputPath(filesDir, file.path));
    for (const d of new Set(targets.map((t) => path.dirname(t)))) mkdirSync(d, {recursive: true});
    fileSet.files.forEach((file, i) => writeOne(targets[i]!, file));
    writeFileSync(path.join(temp, 'manifest.json'), manifestOf(fileSet));
    rmSync(final, {recursive: true, force: true});
    renameSync(temp, final);
  } catch (error) {
    rmSync(temp, {recursive: true, force: true});
    throw error;
  }
}
