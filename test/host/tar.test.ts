import test from 'ava';
import {execFileSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {tarArchive} from '../../src/host/tar.js';

test('GNU tar extracts what tarArchive writes, modes and bytes intact', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-tar-'));
  const blob = Buffer.from(Array.from({length: 1500}, (_, i) => i % 256));
  const archive = tarArchive([
    {name: 'berth-host.sh', content: '#!/bin/sh\necho hi\n', mode: 0o755},
    {name: 'gen/files/abc', content: blob},
    {name: 'gen/files.tsv', content: ''},
  ]);
  t.is(archive.length % 512, 0);
  writeFileSync(path.join(dir, 'a.tar'), archive);
  const list = execFileSync('tar', ['-tf', 'a.tar'], {cwd: dir, encoding: 'utf8'});
  t.deepEqual(list.trim().split('\n'), ['berth-host.sh', 'gen/', 'gen/files/', 'gen/files/abc', 'gen/files.tsv']);
  execFileSync('tar', ['-xf', 'a.tar', '--no-same-owner'], {cwd: dir});
  t.deepEqual(readFileSync(path.join(dir, 'gen/files/abc')), blob);
  t.is(statSync(path.join(dir, 'berth-host.sh')).mode & 0o777, 0o755);
  t.is(readFileSync(path.join(dir, 'gen/files.tsv'), 'utf8'), '');
});

test('archives are deterministic', (t) => {
  const entries = [{name: 'x/y', content: 'same'}];
  t.deepEqual(tarArchive(entries), tarArchive(entries));
});

test('a file entry is read straight into the archive, every byte value intact; a file that changed size is refused', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-tar-'));
  const bytes = Buffer.from(Array.from({length: 70_000}, (_, i) => (i * 7) % 256));
  writeFileSync(path.join(dir, 'image.tar'), bytes);
  const archive = tarArchive([
    {name: 'a', content: 'x'},
    {name: 'gen/files/img', content: {file: path.join(dir, 'image.tar'), size: bytes.length}, mode: 0o600},
  ]);
  writeFileSync(path.join(dir, 'a.tar'), archive);
  mkdirSync(path.join(dir, 'out'));
  execFileSync('tar', ['-xf', '../a.tar', '--no-same-owner'], {cwd: path.join(dir, 'out')});
  t.deepEqual(readFileSync(path.join(dir, 'out/gen/files/img')), bytes);
  t.is(statSync(path.join(dir, 'out/gen/files/img')).mode & 0o777, 0o600);
  t.throws(() => tarArchive([{name: 'f', content: {file: path.join(dir, 'image.tar'), size: bytes.length - 1}}]), {message: /changed since the spec was read/});
  t.throws(() => tarArchive([{name: 'f', content: {file: path.join(dir, 'image.tar'), size: bytes.length + 1}}]), {message: /changed since the spec was read/});
});
