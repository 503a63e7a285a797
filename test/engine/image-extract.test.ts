// Safe layer extraction: one test per class of hostile tar (corpus made at test time by
// test/fixtures/malicious-tars/make.py), a benign control, whiteouts in both forms, compression formats.
import test from 'ava';
import {mkdirSync, readdirSync, lstatSync, readlinkSync, writeFileSync, readFileSync, existsSync} from 'node:fs';
import path from 'node:path';
import {execFileSync} from 'node:child_process';
import {Scratch, ensureDebian, engine, must, python, repoRoot, requireEngine, run} from './helpers/engine.js';

interface Case {
  name: string;
  file: string;
  args: string[];
  expect: 'reject' | 'ok';
  message: string;
}

const scratch = new Scratch();
const work = scratch.make('extract');
const outside = path.join(work, 'outside');
mkdirSync(outside);
const corpusDir = path.join(work, 'corpus');
mkdirSync(corpusDir);
requireEngine();
const cases = JSON.parse(
  python(path.join(repoRoot, 'test/fixtures/malicious-tars/make.py'), [corpusDir, outside]),
) as Case[];

test.after.always(() => scratch.cleanup());

function unpack(file: string, args: string[] = []): {status: number | null; stderr: string; dir: string} {
  const dir = scratch.make('layer');
  const r = run(engine, ['image', 'unpack-layer', ...args, file, dir]);
  return {status: r.status, stderr: r.stderr, dir};
}

for (const c of cases.filter((c) => c.expect === 'reject')) {
  test(`hostile tar is refused: ${c.name}`, (t) => {
    const r = unpack(c.file, c.args);
    t.not(r.status, 0, `berth-engine accepted ${c.name}`);
    t.regex(r.stderr, new RegExp(c.message));
    t.regex(r.stderr, /^berth-engine: unpack `/);
    t.deepEqual(readdirSync(outside), [], `${c.name} wrote outside the layer root`);
  });
}

test('benign control: setuid, in-root symlinks, hardlinks and devices are extracted faithfully', (t) => {
  const c = cases.find((c) => c.name === 'benign')!;
  const r = unpack(c.file);
  t.is(r.status, 0, r.stderr);
  const file = lstatSync(path.join(r.dir, 'a/file'));
  t.is(file.mode & 0o7777, 0o4755);
  t.is(file.nlink, 2);
  t.is(lstatSync(path.join(r.dir, 'a/hard')).ino, file.ino);
  t.is(readlinkSync(path.join(r.dir, 'abs')), '/a/file');
  // `lib -> a` stays inside the root, so `lib/via-inner-symlink` lands in a/.
  t.true(existsSync(path.join(r.dir, 'a/via-inner-symlink')));
  t.true(lstatSync(path.join(r.dir, 'dev/null')).isCharacterDevice());
  t.deepEqual(readdirSync(outside), []);
});

// A layer with whiteouts, made by GNU tar from a staged tree (real tool, not our writer).
function whiteoutLayer(): string {
  const src = scratch.make('wh-src');
  mkdirSync(path.join(src, 'etc'));
  writeFileSync(path.join(src, 'etc/.wh.removed'), '');
  mkdirSync(path.join(src, 'opaque'));
  writeFileSync(path.join(src, 'opaque/.wh..wh..opq'), '');
  writeFileSync(path.join(src, 'opaque/new'), 'new\n');
  const tarFile = path.join(scratch.make('wh-tar'), 'layer.tar');
  must('tar', ['-cf', tarFile, '-C', src, '--sort=name', '--owner=0', '--group=0', '.']);
  return tarFile;
}

test('overlay2 form: .wh.NAME becomes a 0/0 char device, .wh..wh..opq the trusted.overlay.opaque xattr', (t) => {
  ensureDebian(['attr'], ['getfattr']);
  const r = unpack(whiteoutLayer(), ['--whiteouts', 'overlay']);
  t.is(r.status, 0, r.stderr);
  const wh = lstatSync(path.join(r.dir, 'etc/removed'));
  t.true(wh.isCharacterDevice());
  t.is(wh.rdev, 0);
  t.false(existsSync(path.join(r.dir, 'etc/.wh.removed')));
  const x = must('getfattr', ['--absolute-names', '-n', 'trusted.overlay.opaque', '--only-values', path.join(r.dir, 'opaque')]);
  t.is(x, 'y');
  t.is(readFileSync(path.join(r.dir, 'opaque/new'), 'utf8'), 'new\n');
});

test('applied form (vfs/devicemapper): whiteouts delete from the tree below, opaque keeps only this layer', (t) => {
  const r0 = unpack(whiteoutLayer(), ['--whiteouts', 'apply']);
  t.is(r0.status, 0, r0.stderr);
  // Now stage a lower tree first and apply the same layer on top of it.
  const dir = scratch.make('apply');
  mkdirSync(path.join(dir, 'etc'));
  writeFileSync(path.join(dir, 'etc/removed'), 'old');
  writeFileSync(path.join(dir, 'etc/kept'), 'old');
  mkdirSync(path.join(dir, 'opaque/sub'), {recursive: true});
  writeFileSync(path.join(dir, 'opaque/old'), 'old');
  const r = run(engine, ['image', 'unpack-layer', '--whiteouts', 'apply', whiteoutLayer(), dir]);
  t.is(r.status, 0, r.stderr);
  t.false(existsSync(path.join(dir, 'etc/removed')));
  t.true(existsSync(path.join(dir, 'etc/kept')));
  t.deepEqual(readdirSync(path.join(dir, 'opaque')).sort(), ['new']);
});

test('gzip, zstd and plain layers give the same tree and the right digests', (t) => {
  ensureDebian(['zstd'], ['zstd']);
  const src = scratch.make('comp-src');
  mkdirSync(path.join(src, 'd'));
  writeFileSync(path.join(src, 'd/f'), 'x'.repeat(100000));
  const out = scratch.make('comp');
  const plain = path.join(out, 'l.tar');
  must('tar', ['-cf', plain, '-C', src, '.']);
  must('sh', ['-c', `gzip -k -c ${plain} > ${plain}.gz && zstd -q -k ${plain} -o ${plain}.zst`]);
  const diff = execFileSync('sha256sum', [plain], {encoding: 'utf8'}).split(' ')[0];
  for (const f of [plain, `${plain}.gz`, `${plain}.zst`]) {
    const dir = scratch.make('comp-out');
    const r = run(engine, ['image', 'unpack-layer', f, dir]);
    t.is(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout) as {digest: string; diff_id: string};
    t.is(res.diff_id, `sha256:${diff}`, f);
    t.is(res.digest, `sha256:${execFileSync('sha256sum', [f], {encoding: 'utf8'}).split(' ')[0]}`, f);
    t.is(readFileSync(path.join(dir, 'd/f'), 'utf8').length, 100000);
  }
});

test('a corrupt gzip stream is an error, not a silently short layer', (t) => {
  const src = scratch.make('corrupt-src');
  writeFileSync(path.join(src, 'f'), 'y'.repeat(50000));
  const out = path.join(scratch.make('corrupt'), 'l.tar.gz');
  must('tar', ['-czf', out, '-C', src, '.']);
  const bytes = readFileSync(out);
  writeFileSync(out, bytes.subarray(0, bytes.length - 20));
  const r = unpack(out);
  t.not(r.status, 0);
  t.regex(r.stderr, /truncated|decompress gzip/);
});
