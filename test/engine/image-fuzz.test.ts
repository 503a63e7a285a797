// A bounded libFuzzer run (20 s) over the tar parser, decompression and safe extraction, seeded with the
// malicious corpus. The harness (native/fuzz/fuzz-extract.c) aborts on any sanitizer report or on a file
// appearing outside the extraction root.
import test from 'ava';
import {mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {gzipSync} from 'node:zlib';
import {Scratch, ensureDebian, must, python, repoRoot, run} from './helpers/engine.js';

const scratch = new Scratch();
test.after.always(() => scratch.cleanup());

test('libFuzzer: 20 s over tar + whiteout extraction finds no crash and no escape', (t) => {
  ensureDebian(['clang'], ['clang']);
  // The harness links yajl/zstd/zlib/libcrypto dynamically (ASan needs the dynamic loader).
  const lib = '/usr/lib/x86_64-linux-gnu';
  ensureDebian(['libyajl-dev', 'libzstd-dev', 'zlib1g-dev', 'libssl-dev'], [], [
    `${lib}/libyajl.so`,
    `${lib}/libzstd.so`,
    `${lib}/libz.so`,
    `${lib}/libcrypto.so`,
  ]);
  must('make', ['-C', path.join(repoRoot, 'native'), 'fuzz']);
  const work = scratch.make('fuzz');
  const tars = path.join(work, 'tars');
  const seeds = path.join(work, 'seeds');
  const outside = path.join(work, 'outside');
  for (const d of [tars, seeds, outside]) mkdirSync(d);
  const cases = JSON.parse(python(path.join(repoRoot, 'test/fixtures/malicious-tars/make.py'), [tars, outside])) as {
    name: string;
    file: string;
  }[];
  // The first input byte picks the whiteout form (odd: overlay); the rest is the layer blob.
  for (const c of cases) {
    const tar = readFileSync(c.file);
    writeFileSync(path.join(seeds, `${c.name}-apply`), Buffer.concat([Buffer.from([0]), tar]));
    writeFileSync(path.join(seeds, `${c.name}-overlay.gz`), Buffer.concat([Buffer.from([1]), gzipSync(tar)]));
  }
  const r = run(
    path.join(repoRoot, 'native/build/fuzz/fuzz-extract'),
    ['-max_total_time=20', '-rss_limit_mb=2048', '-timeout=20', `-artifact_prefix=${work}/`, seeds],
    {env: {BERTH_FUZZ_DIR: work}},
  );
  const tail = r.stderr.split('\n').slice(-30).join('\n');
  t.is(r.status, 0, tail);
  t.regex(r.stderr, /Done \d+ runs in \d+ second/);
  t.notRegex(r.stderr, /ESCAPE|ERROR: AddressSanitizer|runtime error/);
  t.deepEqual(readdirSync(outside), []);
  t.log(r.stderr.match(/Done \d+ runs in \d+ second\(s\)/)?.[0] ?? '');
});
