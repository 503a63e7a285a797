/**
 * The berth-engine binary this berth installs on hosts (native/build/berth-engine, built by `make -C native`).
 * Its directory on a host is named `<version>-<first 12 hex of sha256>`, so two different builds of the same
 * version never share a directory and a rollback can always switch back to the exact previous binary.
 */
import {execFileSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {UserError} from '../errors.js';
import {packageRoot} from './remote-scripts.js';

export interface LocalEngine {
  /** Directory name on the host: `<version>-<sha12>`. */
  version: string;
  sha256: string;
  path: string;
}

export function bundledEnginePath(): string {
  return process.env.BERTH_ENGINE_BINARY ?? join(packageRoot(), 'native', 'build', 'berth-engine');
}

/** The engine to install for `wanted` (the spec's engine.version; `bundled` is the one built here). */
export function localEngine(wanted: string): LocalEngine {
  const path = bundledEnginePath();
  if (!existsSync(path)) {
    throw new UserError(`find berth-engine at ${path}: it is not built`, 'build it with `make -C native` (npm test does it too)');
  }
  const content = readFileSync(path);
  const sha256 = createHash('sha256').update(content).digest('hex');
  let version = 'dev';
  try {
    const out = execFileSync(path, ['version'], {encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore']});
    const m = /(\d+\.\d+\.\d+[^\s]*)/.exec(out);
    if (m) version = m[1]!;
  } catch {
    // an engine without a version command: keep `dev`
  }
  if (wanted !== 'bundled' && wanted !== version) {
    throw new UserError(
      `install berth-engine ${wanted}: this berth ships berth-engine ${version}`,
      'set engine.version to `bundled` (or to the shipped version) in the spec, or use the berth release that ships it',
    );
  }
  return {version: `${version}-${sha256.slice(0, 12)}`, sha256, path};
}
