/**
 * Golden tests: every example spec in examples/ is read through the real spec path, rendered, and written
 * with writeFileSet exactly as `berth render --out` does; the tree must equal test/render/golden/EXAMPLE/
 * byte for byte (manifest.json and every file). After an intended change, regenerate and review the diff:
 *
 *   UPDATE_GOLDEN=1 npx ava test/render/golden.test.ts && git diff test/render/golden
 */
import {mkdtemp, readFile, readdir, rm, mkdir, cp} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {renderHost, writeFileSet} from '../../src/render/index.js';
import {exampleFiles, exampleHosts, repoRoot} from './examples.js';

const goldenDir = path.join(repoRoot, 'test', 'render', 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

async function tree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const entry of await readdir(dir, {recursive: true, withFileTypes: true})) {
    if (entry.isFile()) {
      const full = path.join(entry.parentPath, entry.name);
      out.set(path.relative(dir, full), await readFile(full));
    }
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

test('there are at least three examples', (t) => {
  t.true(exampleFiles().length >= 3, exampleFiles().join(', '));
});

for (const file of exampleFiles()) {
  const name = path.basename(file, '.yaml');
  test(`golden: examples/${file}`, async (t) => {
    const hosts = await exampleHosts(file);
    t.true(hosts.length > 0);
    const out = await mkdtemp(path.join(tmpdir(), `berth-golden-${name}-`));
    t.teardown(() => rm(out, {recursive: true, force: true}));
    for (const host of hosts) await writeFileSet(renderHost(host), out);
    const expectedDir = path.join(goldenDir, name);
    if (update) {
      await rm(expectedDir, {recursive: true, force: true});
      await mkdir(goldenDir, {recursive: true});
      await cp(out, expectedDir, {recursive: true});
      t.log(`updated ${path.relative(repoRoot, expectedDir)}`);
    }
    const actual = await tree(out);
    const expected = await tree(expectedDir).catch(() => new Map<string, Buffer>());
    t.deepEqual([...actual.keys()], [...expected.keys()], 'the same files (UPDATE_GOLDEN=1 regenerates after an intended change)');
    for (const [rel, bytes] of actual) {
      const want = expected.get(rel);
      if (want && !bytes.equals(want)) {
        t.is(bytes.toString('utf8'), want.toString('utf8'), `${rel} differs (UPDATE_GOLDEN=1 regenerates after an intended change)`);
      }
    }
  });
}
