import test from 'ava';
import {createHash} from 'node:crypto';
import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {UserError} from '../../src/errors.js';
import {readSpec, SpecError} from '../../src/spec/index.js';

async function tempDir(t: {teardown: (fn: () => Promise<void>) => void}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-read-spec-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  return dir;
}

test('readSpec: a valid spec comes back with its hosts resolved, sorted, and its warnings', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'spec.yaml');
  await writeFile(file, 'version: 1\ninventory:\n  hosts:\n    web-2: {}\n    web-1: {port: 2222}\ngroups:\n  unused: {}\n');
  const {spec, hosts, file: named, warnings} = await readSpec(file);
  t.is(named, file);
  t.is(spec.version, 1);
  t.deepEqual(
    hosts.map((h) => [h.name, h.connection.port]),
    [
      ['web-1', 2222],
      ['web-2', 22],
    ],
  );
  t.deepEqual(
    warnings.map((w) => `${w.line}:${w.col} ${w.message}`),
    ['7:3 group "unused" is not used by any host'],
  );
});

test('readSpec: an invalid spec throws SpecError (exit 3) carrying every entry', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'spec.yaml');
  await writeFile(file, 'version: 1\ninventory:\n  hosts:\n    web-1: {port: 0, usr: x}\n');
  const error = await t.throwsAsync(readSpec(file), {instanceOf: SpecError});
  t.is(error!.exitCode, 3);
  t.deepEqual(
    error!.report.entries.map((e) => `${e.path} ${e.line}:${e.col} ${e.message}`),
    ['/inventory/hosts/web-1/port 4:19 must be a number from 1 to 65535, not 0', '/inventory/hosts/web-1/usr 4:22 unknown key "usr"'],
  );
  t.regex(error!.format(), /spec\.yaml:4:19: error: \/inventory\/hosts\/web-1\/port: /);
});

test('readSpec: an unreadable file is a UserError (exit 2)', async (t) => {
  const dir = await tempDir(t);
  const error = await t.throwsAsync(readSpec(join(dir, 'missing.yaml')), {instanceOf: UserError});
  t.is(error!.exitCode, 2);
  t.regex(error!.message, /^read spec .*missing\.yaml: no such file$/);
});

test('readSpec: a file source is made absolute (relative to the spec file) with its sha256 and size', async (t) => {
  const dir = await tempDir(t);
  const bytes = Buffer.from([0, 1, 2, 255, 10]);
  await writeFile(join(dir, 'img.tar'), bytes);
  const file = join(dir, 'spec.yaml');
  await writeFile(file, 'version: 1\ninventory:\n  hosts:\n    a: {}\n    b: {}\nfiles:\n  /opt/img.tar: {source: img.tar, mode: "0600"}\n');
  const {hosts} = await readSpec(file);
  for (const host of hosts) {
    t.deepEqual(host.files['/opt/img.tar'], {
      content: '',
      source: {path: join(dir, 'img.tar'), sha256: createHash('sha256').update(bytes).digest('hex'), size: 5},
      mode: '0600',
      owner: 'root',
      group: 'root',
    });
  }
});
