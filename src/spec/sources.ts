/**
 * `files.PATH.source`: a local file whose bytes become a managed file (an image archive, a binary). The
 * spec names it relative to the spec file's directory (or absolutely); validate checks that it can be read
 * (reported where `source:` was written), and readSpec makes the path absolute and reads its sha256 and size
 * once per distinct file, streaming, so a large archive is never held in memory here. Render stays pure: it
 * only passes the path and digest on (the bytes are read again when an apply packs its upload, or by
 * `berth render --out`).
 */
import {accessSync, closeSync, constants, fstatSync, openSync, readSync, statSync} from 'node:fs';
import {createHash} from 'node:crypto';
import path from 'node:path';
import {UserError} from '../errors.js';
import {layers} from './local-checks.js';
import {semanticText} from './messages.js';
import {escapePointer} from './resolve.js';
import type {Finding} from './semantic.js';
import type {ResolvedHost} from './types.js';

/** Why `file` cannot serve as a source, or undefined when it can. */
function unreadable(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return 'not a regular file';
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
  }
}

export function resolveSource(specDir: string, source: string): string {
  return path.resolve(specDir, source);
}

/** Every `source:` in every layer of the raw spec that cannot be read. */
export function sourceChecks(data: unknown, specDir: string): Finding[] {
  const findings: Finding[] = [];
  for (const [at, layer] of layers(data)) {
    const files = layer.files;
    if (typeof files !== 'object' || files === null || Array.isArray(files)) continue;
    for (const [file, spec] of Object.entries(files as Record<string, unknown>)) {
      const source = (spec as {source?: unknown} | null)?.source;
      if (typeof source !== 'string' || source === '') continue;
      const resolved = resolveSource(specDir, source);
      const reason = unreadable(resolved);
      if (reason === undefined) continue;
      findings.push({
        section: 'local',
        pointer: `${at}/files/${escapePointer(file)}/source`,
        at: 'value',
        text: semanticText.sourceMissing(source, resolved, reason),
        severity: 'error',
      });
    }
  }
  return findings;
}

const chunkSize = 1 << 20;

/** sha256 and size of a file, read in 1 MiB chunks. */
export function digestFile(file: string): {sha256: string; size: number} {
  const fd = openSync(file, constants.O_RDONLY);
  try {
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error('not a regular file'), {code: 'EISDIR'});
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(chunkSize);
    let size = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, chunkSize, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      size += n;
    }
    return {sha256: hash.digest('hex'), size};
  } finally {
    closeSync(fd);
  }
}

/** Makes every host's file sources absolute and fills in their sha256 and size (each distinct file read once). */
export function attachSources(hosts: ResolvedHost[], specFile: string): ResolvedHost[] {
  const specDir = path.dirname(path.resolve(specFile));
  const seen = new Map<string, {sha256: string; size: number}>();
  for (const host of hosts) {
    for (const [target, file] of Object.entries(host.files)) {
      if (file.source === undefined) continue;
      const resolved = resolveSource(specDir, file.source.path);
      let digest = seen.get(resolved);
      if (digest === undefined) {
        try {
          digest = digestFile(resolved);
        } catch (error) {
          throw new UserError(
            `read ${specFile}: files.${target}.source ${JSON.stringify(file.source.path)} (host ${host.name}): ${resolved}: ${(error as Error).message}`,
            'make it a readable regular file (paths are relative to the spec file\'s directory), then run the command again',
          );
        }
        seen.set(resolved, digest);
      }
      file.source = {path: resolved, ...digest};
    }
  }
  return hosts;
}
