/**
 * Determinism through the real spec path: an example spec with every mapping's keys shuffled (lists keep
 * their order: it means something) renders to exactly the same file sets as the original.
 */
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {parse, stringify} from 'yaml';
import {renderHost} from '../../src/render/index.js';
import {readSpec} from '../../src/spec/index.js';
import {examplesDir, exampleFiles} from './examples.js';

function shuffleKeys(value: unknown, random: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, random));
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    for (let i = entries.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [entries[i], entries[j]] = [entries[j]!, entries[i]!];
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, shuffleKeys(v, random)]));
  }
  return value;
}

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
}

for (const file of exampleFiles()) {
  test(`examples/${file}: shuffled keys, same bytes`, async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'berth-shuffle-'));
    t.teardown(() => rm(dir, {recursive: true, force: true}));
    const original = await readSpec(path.join(examplesDir, file));
    const reference = JSON.stringify(original.hosts.map(renderHost));
    const data = parse(await readFile(path.join(examplesDir, file), 'utf8')) as unknown;
    for (let seed = 1; seed <= 5; seed++) {
      const shuffledText = stringify(shuffleKeys(data, seeded(seed)));
      t.not(shuffledText, stringify(data), 'the shuffle changed the document');
      const shuffled = path.join(dir, `shuffled-${seed}.yaml`);
      await writeFile(shuffled, shuffledText);
      const {hosts} = await readSpec(shuffled);
      t.is(JSON.stringify(hosts.map(renderHost)), reference, `seed ${seed}`);
    }
  });
}
