/**
 * The example specs in examples/, read through the real spec path (load → validate → resolve).
 */
import {readdirSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {readSpec} from '../../src/spec/index.js';
import type {ResolvedHost} from '../../src/spec/types.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const examplesDir = path.join(repoRoot, 'examples');

export function exampleFiles(): string[] {
  return readdirSync(examplesDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

export async function exampleHosts(file: string): Promise<ResolvedHost[]> {
  const {hosts} = await readSpec(path.join(examplesDir, file));
  return hosts;
}
