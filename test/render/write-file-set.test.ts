import {createHash} from 'node:crypto';
import {mkdtemp, mkdir, readFile, readdir, rm, stat, symlink, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {UserError} from '../../src/errors.js';
import {renderHost, writeFileSet} from '../../src/render/index.js';
import {outputPath} from '../../src/render/write-file-set.js';
import {fullHost} from './hosts.js';

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, {recursive: true, withFileTypes: true})) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, full)] = await readFile(full, 'utf8');
  }
  return out;
}

test('writes DIR/HOST/files/<path> and a manifest without contents; a re-run is byte-identical', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-render-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const fileSet = renderHost(fullHost());
  await writeFileSet(fileSet, dir);
  const first = await tree(dir);
  t.is(first['db-1/files/etc/motd'], 'managed by berth\n');
  t.is(first['db-1/files/etc/systemd/system/berth-storage.service'], fileSet.files.find((f) => f.path.endsWith('berth-storage.service'))!.content);
  t.is(Object.keys(first).filter((p) => p.startsWith('db-1/files/')).length, fileSet.files.length);
  const manifest = JSON.parse(first['db-1/manifest.json']!);
  t.is(manifest.host, 'db-1');
  t.is(manifest.files.length, fileSet.files.length);
  t.false('content' in manifest.files[0]);
  t.deepEqual(Object.keys(manifest.files[0]), ['path', 'mode', 'owner', 'group', 'sha256', 'affects', 'when']);
  t.deepEqual(manifest.actions, fileSet.actions);
  await writeFileSet(renderHost(fullHost()), dir);
  t.deepEqual(await tree(dir), first);
});

test('a later render replaces the earlier one: files the spec dropped disappear', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-render-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  await writeFileSet(renderHost(fullHost()), dir);
  const host = fullHost();
  host.files = {};
  await writeFileSet(renderHost(host), dir);
  const after = await tree(dir);
  t.false('db-1/files/etc/motd' in after);
  t.deepEqual((await readdir(dir)).sort(), ['db-1']);
});

test('refuses to overwrite a directory that is not an earlier render', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-render-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  await mkdir(path.join(dir, 'db-1'));
  await writeFile(path.join(dir, 'db-1', 'precious'), 'keep me');
  await t.throwsAsync(writeFileSet(renderHost(fullHost()), dir), {instanceOf: UserError, message: /is not an earlier render/});
  t.is(await readFile(path.join(dir, 'db-1', 'precious'), 'utf8'), 'keep me');
});

test('refuses paths that would leave the output directory', async (t) => {
  const filesDir = '/tmp/out/h/files';
  t.is(outputPath(filesDir, '/etc/motd'), '/tmp/out/h/files/etc/motd');
  for (const bad of ['etc/motd', '/etc/../../../x', '/etc/./motd', '/etc//motd', '/', '/etc/motd/..', '/a\0b']) {
    t.throws(() => outputPath(filesDir, bad), {instanceOf: UserError, message: /refusing to write/}, bad);
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-render-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const host = fullHost();
  host.files = {'/srv/../../escape': {content: 'x', mode: '0644', owner: 'root', group: 'root'}};
  await t.throwsAsync(writeFileSet(renderHost(host), path.join(dir, 'out')), {message: /refusing to write "\/srv\/\.\.\/\.\.\/escape"/});
  t.deepEqual(await readdir(dir), [], 'nothing was written');
});

test('over an earlier render: changed files rewritten, hand edits undone, dropped files and their empty dirs gone', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-render-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const host = fullHost();
  host.files['/srv/deep/nested/file.txt'] = {content: 'one\n', mode: '0644', owner: 'root', group: 'root'};
  await writeFileSet(renderHost(host), dir);
  await writeFile(path.join(dir, 'db-1/files/etc/sysctl.d/90-berth.conf'), 'hand edit\n');
  host.files['/etc/motd'] = {content: 'changed\n', mode: '0644', owner: 'root', group: 'root'};
  delete host.files['/srv/deep/nested/file.txt'];
  await writeFileSet(renderHost(host), dir);
  const incremental = await tree(dir);
  t.is(incremental['db-1/files/etc/motd'], 'changed\n');
  t.false('db-1/files/srv/deep/nested/file.txt' in incremental);
  t.deepEqual(await readdir(path.join(dir, 'db-1/files')).then((e) => e.sort()), ['etc', 'home', 'usr']);
  // The same result as a render into an empty directory.
  const fresh = await mkdtemp(path.join(tmpdir(), 'berth-render-'));
  t.teardown(() => rm(fresh, {recursive: true, force: true}));
  await writeFileSet(renderHost(host), fresh);
  t.deepEqual(incremental, await tree(fresh));
});

test('never writes or deletes through a symlink planted in an earlier render', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-render-'));
  const outside = await mkdtemp(path.join(tmpdir(), 'berth-outside-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  t.teardown(() => rm(outside, {recursive: true, force: true}));
  await writeFile(path.join(outside, 'motd'), 'not yours\n');
  await writeFileSet(renderHost(fullHost()), dir);
  await rm(path.join(dir, 'db-1/files/etc'), {recursive: true});
  await symlink(outside, path.join(dir, 'db-1/files/etc'));
  await t.throwsAsync(writeFileSet(renderHost(fullHost()), dir), {instanceOf: UserError, message: /leads outside .* through a symlink/});
  t.deepEqual(await readdir(outside), ['motd']);
  t.is(await readFile(path.join(outside, 'motd'), 'utf8'), 'not yours\n');
  // A host directory that is itself a symlink is refused too.
  const other = await mkdtemp(path.join(tmpdir(), 'berth-render-'));
  t.teardown(() => rm(other, {recursive: true, force: true}));
  await symlink(outside, path.join(other, 'db-1'));
  await t.throwsAsync(writeFileSet(renderHost(fullHost()), other), {instanceOf: UserError, message: /is not a directory/});
  t.deepEqual(await readdir(outside), ['motd']);
});

test('a source file is copied byte for byte (no local path in the manifest); a 0600 file stays private; unchanged bytes are not rewritten', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-render-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const bytes = Buffer.from(Array.from({length: 3000}, (_, i) => (i * 13) % 256));
  const src = path.join(dir, 'image.tar');
  await writeFile(src, bytes);
  const host = fullHost();
  host.files['/opt/image.tar'] = {content: '', source: {path: src, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length}, mode: '0644', owner: 'root', group: 'root'};
  const out = path.join(dir, 'out');
  await writeFileSet(renderHost(host), out);
  const target = path.join(out, 'db-1/files/opt/image.tar');
  t.deepEqual(await readFile(target), bytes);
  const manifest = await readFile(path.join(out, 'db-1/manifest.json'), 'utf8');
  t.false(manifest.includes(dir), 'the manifest names no local path');
  t.is((await stat(path.join(out, 'db-1/files/etc/berth/containers/db.env'))).mode & 0o777, 0o600);
  const before = (await stat(target)).ino;
  await writeFileSet(renderHost(host), out);
  t.is((await stat(target)).ino, before, 'an unchanged source file is left alone');
  await writeFile(target, 'edited');
  await writeFileSet(renderHost(host), out);
  t.deepEqual(await readFile(target), bytes, 'an edited copy is restored');
});
