#!/usr/bin/env node
// `npm run bench [-- NAME...]`: runs every bench/*.bench.mjs (or the named ones) one after another, so that
// each side-by-side comparison gets the machine to itself. Each bench writes its own result file under
// bench/results/ (a Markdown table with medians, ratios against the peer, and the command that reproduces it).
import {readdirSync} from 'node:fs';
import {spawnSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const wanted = process.argv.slice(2);
const all = readdirSync(path.join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.mjs'))
  .sort();
const chosen = wanted.length ? all.filter((f) => wanted.some((w) => f.startsWith(w))) : all;
if (chosen.length === 0) {
  console.error(`bench: nothing matches ${wanted.join(' ')}; available: ${all.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const file of chosen) {
  console.error(`\n=== bench/${file}`);
  const r = spawnSync(process.execPath, [path.join(root, 'bench', file)], {stdio: 'inherit', cwd: root});
  if (r.status !== 0) {
    console.error(`bench/${file} failed with exit code ${r.status}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
