import {spawnSync} from 'node:child_process';
import {mkdtemp, readFile, readdir, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {repoRoot} from './examples.js';

function berth(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return {code: r.status, stdout: r.stdout, stderr: r.stderr};
}

async function snapshot(dir: string): Promise<string> {
  const entries = await readdir(dir, {recursive: true, withFileTypes: true});
  const parts: string[] = [];
  for (const e of entries.filter((x) => x.isFile()).map((x) => path.join(x.parentPath, x.name)).sort()) {
    parts.push(`${path.relative(dir, e)}\n${await readFile(e, 'utf8')}`);
  }
  return parts.join('\n---\n');
}

test('berth render --out writes every host, byte-identical on re-run', async (t) => {
  const out = await mkdtemp(path.join(tmpdir(), 'berth-cli-render-'));
  t.teardown(() => rm(out, {recursive: true, force: true}));
  const first = berth('render', 'examples/fleet.yaml', '--out', out);
  t.is(first.code, 0, first.stderr);
  t.deepEqual((await readdir(out)).sort(), ['db-1', 'web-1', 'web-2']);
  t.regex(first.stderr, /^rendered 3 hosts: \d+ files → /m);
  t.is(first.stdout, '');
  const before = await snapshot(out);
  t.is(berth('render', 'examples/fleet.yaml', '--out', out).code, 0);
  t.is(await snapshot(out), before);
});

test('berth render --host --json prints one JSON document with the chosen hosts only', (t) => {
  const r = berth('render', 'examples/fleet.yaml', '--host', 'web-2', '--json');
  t.is(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as {host: string; files: {path: string; content: string}[]}[];
  t.deepEqual(
    doc.map((f) => f.host),
    ['web-2'],
  );
  t.true(doc[0]!.files.some((f) => f.path === '/etc/systemd/system/berth-container-app.service' && f.content.includes('Type=notify')));
  t.false(doc[0]!.files.some((f) => f.path.includes('node-exporter')), 'web-2 turns node-exporter off');
});

test('berth render: usage errors exit 2 with the next step, invalid specs exit 3 with file:line', async (t) => {
  const noOut = berth('render', 'examples/fleet.yaml');
  t.is(noOut.code, 2);
  t.regex(noOut.stderr, /say where the result goes\n {2}next: add --out DIR/);
  const unknown = berth('render', 'examples/fleet.yaml', '--host', 'nope', '--json');
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /no host named nope in the inventory\n {2}next: choose from: db-1, web-1, web-2/);
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-cli-render-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const bad = path.join(dir, 'bad.yaml');
  await writeFile(bad, 'version: 1\ninventory:\n  hosts:\n    a: {}\ncontainers:\n  web:\n    imag: x\n');
  const invalid = berth('render', bad, '--out', path.join(dir, 'out'));
  t.is(invalid.code, 3, invalid.stderr);
  t.regex(invalid.stderr, /bad\.yaml:7:/);
  const help = berth('render', '--help');
  t.is(help.code, 0);
  t.regex(help.stdout, /^Usage: berth render SPEC/);
});
