/**
 * docs/spec.md is generated from src/spec/schema.json and must be up to date; its example specs must be valid.
 */
import test from 'ava';
import {execFile} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {check} from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('docs/spec.md is what scripts/gen-spec-docs.mjs makes of the schema', async (t) => {
  const result = await new Promise<{code: number; stderr: string}>((resolve) => {
    execFile(process.execPath, ['scripts/gen-spec-docs.mjs', '--check'], {cwd: root, timeout: 120_000}, (error, _stdout, stderr) =>
      resolve({code: error ? Number(error.code ?? 1) : 0, stderr}),
    );
  });
  t.is(result.code, 0, result.stderr);
});

test('docs/spec.md documents every top-level section and its example spec is valid without warnings', (t) => {
  const docs = readFileSync(`${root}/docs/spec.md`, 'utf8');
  for (const section of ['inventory', 'engine', 'engine.devicemapper', 'kernel', 'containers.NAME', 'units.UNIT', 'files.PATH', 'updates', 'updates.windows[]', 'users.NAME', 'journald', 'timesync']) {
    t.true(docs.includes(`\n## ${section}\n`), `section ${section}`);
  }
  const example = /## A complete example\n\n```yaml\n([\s\S]*?)```/.exec(docs)?.[1];
  t.truthy(example);
  const report = check(example!, 'docs/spec.md');
  t.deepEqual(report.entries.map((e) => `${e.line}:${e.col} ${e.severity} ${e.path}: ${e.message}`), []);
});
