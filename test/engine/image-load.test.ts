// image load / ls / inspect / rm / prune / mount on overlay2 and vfs with images made by umoci and skopeo;
// the unpacked tree must equal `umoci unpack` of the same image.
import test from 'ava';
import {existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync} from 'node:fs';
import path from 'node:path';
import {Scratch, engine, must, requireEngine, run} from './helpers/engine.js';
import {makeBusyboxImage, makeDeepImage, makeMultiLayerImage, walkTree} from './helpers/images.js';

const scratch = new Scratch();
test.after.always(() => scratch.cleanup());
requireEngine();

// Images are built once per file and shared (read-only) by the tests.
const images = scratch.make('images');
const busybox = path.join(images, 'busybox');
const multi = path.join(images, 'multi');
makeBusyboxImage(scratch, busybox);
makeMultiLayerImage(scratch, multi);
const umociRoot = path.join(scratch.make('umoci'), 'bundle');
must('umoci', ['unpack', '--image', `${multi}:latest`, umociRoot]);

function eng(dataRoot: string, driver: string | null, ...args: string[]) {
  const pre = ['image', '--data-root', dataRoot, ...(driver ? ['--storage-driver', driver] : [])];
  return run(engine, [...pre, ...args]);
}

function engOk(dataRoot: string, driver: string | null, ...args: string[]): string {
  const r = eng(dataRoot, driver, ...args);
  if (r.status !== 0) throw new Error(`berth-engine image ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

interface Inspect {
  id: string;
  names: string[];
  driver: string;
  layers: {chain_id: string; diff_id: string}[];
  config: {config?: {Cmd?: string[]}; rootfs: {diff_ids: string[]}};
}

for (const driver of ['overlay2', 'vfs']) {
  test(`${driver}: busybox image loads, lists, inspects and is removed with its layers`, (t) => {
    const dr = scratch.make(`dr-${driver}`);
    const out = engOk(dr, driver, 'load', busybox);
    t.regex(out, /Loaded image: busybox:latest/);
    t.regex(out, /Loaded image ID: sha256:[0-9a-f]{64}/);
    const ls = JSON.parse(engOk(dr, null, 'ls', '--json')) as {names: string[]; layers: number}[];
    t.is(ls.length, 1);
    t.deepEqual(ls[0]!.names, ['busybox:latest']);
    const [info] = JSON.parse(engOk(dr, null, 'inspect', 'busybox')) as Inspect[];
    t.is(info!.driver, driver);
    t.deepEqual(info!.config.config?.Cmd, ['/bin/sh']);
    t.deepEqual(
      info!.layers.map((l) => l.diff_id),
      info!.config.rootfs.diff_ids,
    );
    t.is(readFileSync(path.join(dr, 'driver'), 'utf8'), driver);
    engOk(dr, null, 'rm', 'busybox:latest');
    t.deepEqual(readdirSync(path.join(dr, 'layers')), []);
    t.deepEqual(readdirSync(path.join(dr, 'images')), []);
  });

  test(`${driver}: the multi-layer image with whiteouts and opaque dirs unpacks to exactly umoci's tree`, (t) => {
    const dr = scratch.make(`dr-multi-${driver}`);
    engOk(dr, driver, 'load', multi);
    const root = engOk(dr, null, 'mount', 'multi:latest', 'cmp').trim();
    try {
      const mine = walkTree(root);
      const theirs = walkTree(path.join(umociRoot, 'rootfs'));
      t.deepEqual([...mine.keys()].sort(), [...theirs.keys()].sort());
      for (const [p, node] of theirs) t.deepEqual(mine.get(p), node, p);
      // Spot checks of what the layers did.
      t.false(mine.has('etc/b'), 'whiteout of etc/b');
      t.false(mine.has('data/top') || mine.has('data/old/x'), 'opaque data/');
      t.true(mine.has('data/old/back'));
      t.false(mine.has('keep/added'));
      t.is(readFileSync(path.join(root, 'etc/a'), 'utf8'), 'a from layer 3\n');
      t.is(mine.get('bin/suid')?.mode, 0o4755);
    } finally {
      engOk(dr, null, 'umount', 'cmp');
    }
    t.false(readFileSync('/proc/self/mounts', 'utf8').includes(dr));
  });
}

test('layers are shared between images and collected only when no image uses them', (t) => {
  const dr = scratch.make('dr-share');
  const copy = path.join(scratch.make('copy'), 'img');
  must('cp', ['-a', multi, copy]);
  must('umoci', ['config', '--image', `${copy}:latest`, '--config.cmd', '/bin/true']);
  engOk(dr, 'overlay2', 'load', '--tag', 'one:1', multi);
  engOk(dr, null, 'load', '--tag', 'two:2', copy);
  const ids = JSON.parse(engOk(dr, null, 'ls', '--json')) as {id: string}[];
  t.is(ids.length, 2, 'two images (different configs)');
  t.is(readdirSync(path.join(dr, 'layers')).length, 3, 'three layers stored once');
  engOk(dr, null, 'rm', 'one:1');
  t.is(readdirSync(path.join(dr, 'layers')).length, 3, 'still used by two:2');
  engOk(dr, null, 'rm', 'two:2');
  t.is(readdirSync(path.join(dr, 'layers')).length, 0);
  t.deepEqual(readdirSync(path.join(dr, 'overlay2')).filter((d) => d !== 'l'), []);
  t.deepEqual(readdirSync(path.join(dr, 'overlay2/l')), []);
});

test('a tampered layer blob is rejected and nothing is stored', (t) => {
  const dr = scratch.make('dr-tamper');
  const bad = path.join(scratch.make('tamper'), 'img');
  must('cp', ['-a', multi, bad]);
  // Flip one byte of the last layer blob (the manifest still names the old digest).
  const index = JSON.parse(readFileSync(path.join(bad, 'index.json'), 'utf8')) as {manifests: {digest: string}[]};
  const mhex = index.manifests[0]!.digest.slice(7);
  const manifest = JSON.parse(readFileSync(path.join(bad, 'blobs/sha256', mhex), 'utf8')) as {layers: {digest: string}[]};
  const blob = path.join(bad, 'blobs/sha256', manifest.layers[2]!.digest.slice(7));
  const bytes = readFileSync(blob);
  bytes[bytes.length - 30] = (bytes[bytes.length - 30] ?? 0) ^ 0xff;
  writeFileSync(blob, bytes);
  const r = eng(dr, 'overlay2', 'load', bad);
  t.not(r.status, 0);
  t.regex(r.stderr, /layer 3 of 3 .*(sha256 is [0-9a-f]{64}, the manifest says|decompress gzip)/);
  t.deepEqual(readdirSync(path.join(dr, 'images')), []);
  t.deepEqual(readdirSync(path.join(dr, 'layers')), [], 'layers 1 and 2 of the failed load are removed again');
  t.deepEqual(readdirSync(path.join(dr, 'overlay2')).filter((d) => d !== 'l'), []);
});

test('a config whose digest does not match the manifest is rejected', (t) => {
  const dr = scratch.make('dr-config');
  const bad = path.join(scratch.make('badcfg'), 'img');
  must('cp', ['-a', busybox, bad]);
  const index = JSON.parse(readFileSync(path.join(bad, 'index.json'), 'utf8')) as {manifests: {digest: string}[]};
  const manifest = JSON.parse(
    readFileSync(path.join(bad, 'blobs/sha256', index.manifests[0]!.digest.slice(7)), 'utf8'),
  ) as {config: {digest: string}};
  const cfgPath = path.join(bad, 'blobs/sha256', manifest.config.digest.slice(7));
  writeFileSync(cfgPath, readFileSync(cfgPath, 'utf8').replace('/bin/sh', '/bin/xx'));
  const r = eng(dr, 'vfs', 'load', bad);
  t.not(r.status, 0);
  t.regex(r.stderr, /verify `blobs\/sha256\/[0-9a-f]{64}` .*the manifest says/);
  t.deepEqual(readdirSync(path.join(dr, 'images')), []);
});

test('oci-archive and docker-archive tars made by skopeo load like the layout', (t) => {
  const dr = scratch.make('dr-archives');
  const dir = scratch.make('archives');
  const ociArchive = path.join(dir, 'multi-oci.tar');
  const dockerArchive = path.join(dir, 'multi-docker.tar');
  must('skopeo', ['copy', '--quiet', `oci:${multi}:latest`, `oci-archive:${ociArchive}:latest`]);
  must('skopeo', ['copy', '--quiet', `oci:${multi}:latest`, `docker-archive:${dockerArchive}:example/multi:v1`]);
  t.regex(engOk(dr, 'overlay2', 'load', '--tag', 'from-oci-archive', ociArchive), /Loaded image: from-oci-archive/);
  t.regex(engOk(dr, null, 'load', dockerArchive), /Loaded image: (docker\.io\/)?example\/multi:v1/);
  for (const name of ['from-oci-archive', 'example/multi:v1']) {
    const root = engOk(dr, null, 'mount', name, 'c-' + name.replace(/[^a-z]/g, '')).trim();
    try {
      const mine = walkTree(root);
      const theirs = walkTree(path.join(umociRoot, 'rootfs'));
      t.deepEqual([...mine.keys()].sort(), [...theirs.keys()].sort(), name);
    } finally {
      engOk(dr, null, 'umount', 'c-' + name.replace(/[^a-z]/g, ''));
    }
  }
  // Both formats carry the same uncompressed layers, so the layer store holds them once.
  t.is(readdirSync(path.join(dr, 'layers')).length, 3);
});

test('a data root refuses a different storage driver than the one it was set up with', (t) => {
  const dr = scratch.make('dr-driver');
  engOk(dr, 'vfs', 'load', busybox);
  const r = eng(dr, 'overlay2', 'ls');
  t.not(r.status, 0);
  t.regex(r.stderr, /holds images and containers of storage driver `vfs`; starting with `overlay2` would hide them/);
  t.is(eng(dr, 'vfs', 'ls').status, 0);
  t.is(eng(dr, null, 'ls').status, 0, 'no flag: the recorded driver');
});

for (const n of [128, 300]) {
  test(`overlay2: a ${n}-layer image mounts with every layer (new mount API, lowerdir+)`, (t) => {
    const dr = scratch.make(`dr-deep${n}`);
    const layout = path.join(scratch.make(`deep${n}`), 'img');
    mkdirSync(layout);
    makeDeepImage(scratch, layout, n);
    engOk(dr, 'overlay2', 'load', '--tag', `deep:${n}`, layout);
    const root = engOk(dr, null, 'mount', `deep:${n}`, 'deep').trim();
    try {
      const present = readdirSync(path.join(root, 'layers')).map(Number).sort((a, b) => a - b);
      t.is(present.length, n - 1);
      t.is(present[0], 2);
      t.is(present.at(-1), n);
      t.true(existsSync(path.join(root, 'bin/busybox')), 'the base layer is there too');
    } finally {
      engOk(dr, null, 'umount', 'deep');
    }
    if (n === 300) {
      // The legacy mount(2) option string cannot hold 300 layers: refused, never mounted with layers cut off.
      const r = run(engine, ['image', '--data-root', dr, 'mount', `deep:${n}`, 'legacy'], {
        env: {BERTH_ENGINE_OVERLAY_LEGACY: '1'},
      });
      t.not(r.status, 0);
      t.regex(r.stderr, /option string is \d+ bytes and the kernel keeps only 4095, so layers would be silently dropped/);
      t.false(readFileSync('/proc/self/mounts', 'utf8').includes(path.join(dr, 'overlay2/c-legacy')));
    }
  });
}

/** Flips one byte of the file at `at` bytes from its start (negative: from its end). */
function corrupt(file: string, at: number): void {
  const bytes = readFileSync(file);
  const i = at < 0 ? bytes.length + at : at;
  bytes[i] = (bytes[i] ?? 0) ^ 0xff;
  writeFileSync(file, bytes);
}

test('multi-image archives (oci-archive, docker save) load whole, and not at all when one blob of the second image is corrupt', (t) => {
  const dir = scratch.make('multi-archive');
  // oci-archive of two images: an OCI layout that skopeo filled with two tags, as one tar.
  const layout = path.join(dir, 'layout');
  must('skopeo', ['copy', '--quiet', `oci:${busybox}:latest`, `oci:${layout}:one`]);
  must('skopeo', ['copy', '--quiet', `oci:${multi}:latest`, `oci:${layout}:two`]);
  const ociGood = path.join(dir, 'two-images-oci.tar');
  must('tar', ['-cf', ociGood, '-C', layout, '.']);
  const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8')) as {
    manifests: {digest: string; annotations?: Record<string, string>}[];
  };
  t.deepEqual(index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']), ['one', 'two']);
  const m2 = JSON.parse(readFileSync(path.join(layout, 'blobs/sha256', index.manifests[1]!.digest.slice(7)), 'utf8')) as {layers: {digest: string}[]};
  corrupt(path.join(layout, 'blobs/sha256', m2.layers[2]!.digest.slice(7)), -30);
  const ociBad = path.join(dir, 'two-images-oci-bad.tar');
  must('tar', ['-cf', ociBad, '-C', layout, '.']);

  // docker save of two images: two skopeo docker-archives merged the way `docker save A B` writes one.
  const dsave = path.join(dir, 'dsave');
  mkdirSync(dsave);
  const entries: {Config: string; RepoTags: string[]; Layers: string[]}[] = [];
  for (const [src, tag] of [[busybox, 'example/one:v1'], [multi, 'example/two:v1']] as const) {
    const one = path.join(dir, `${tag.replace(/[^a-z]/g, '')}.tar`);
    must('skopeo', ['copy', '--quiet', `oci:${src}:latest`, `docker-archive:${one}:${tag}`]);
    must('tar', ['-xf', one, '-C', dsave]);
    entries.push(...(JSON.parse(readFileSync(path.join(dsave, 'manifest.json'), 'utf8')) as typeof entries));
  }
  writeFileSync(path.join(dsave, 'manifest.json'), JSON.stringify(entries));
  must('rm', ['-f', path.join(dsave, 'repositories')]);
  const dockerGood = path.join(dir, 'two-images-docker.tar');
  must('tar', ['-cf', dockerGood, '-C', dsave, '.']);
  const lastLayer = path.join(dsave, entries[1]!.Layers.at(-1)!);
  t.false(entries[0]!.Layers.includes(entries[1]!.Layers.at(-1)!), 'the corrupted layer belongs to the second image only');
  corrupt(lastLayer, Math.floor(readFileSync(lastLayer).length / 2));
  const dockerBad = path.join(dir, 'two-images-docker-bad.tar');
  must('tar', ['-cf', dockerBad, '-C', dsave, '.']);

  const names = (dr: string) =>
    (JSON.parse(engOk(dr, null, 'ls', '--json')) as {names: string[]}[]).flatMap((i) => i.names).sort();
  for (const [label, good, bad, want] of [
    ['oci-archive', ociGood, ociBad, ['two-images-oci:one', 'two-images-oci:two']],
    ['docker save', dockerGood, dockerBad, ['example/one:v1', 'example/two:v1']],
  ] as const) {
    const ok = scratch.make('dr-multi-ok');
    engOk(ok, 'overlay2', 'load', good);
    t.deepEqual(names(ok).map((n) => n.replace(/^docker\.io\/(library\/)?/, '')), [...want], label);

    const dr = scratch.make('dr-multi-bad');
    const r = eng(dr, 'overlay2', 'load', bad);
    t.not(r.status, 0, label);
    t.regex(r.stderr, /layer 3 of 3 .*(sha256 is [0-9a-f]{64}, the|decompress gzip|checksum)/, label);
    t.notRegex(r.stdout, /Loaded image/, `${label}: no image reported as loaded`);
    t.deepEqual(readdirSync(path.join(dr, 'images')), [], `${label}: the first image is not kept either`);
    t.deepEqual(readdirSync(path.join(dr, 'layers')), [], `${label}: every layer of the failed load is collected`);
    t.deepEqual(readdirSync(path.join(dr, 'overlay2')).filter((d) => d !== 'l'), [], label);
    t.deepEqual(readdirSync(path.join(dr, 'overlay2/l')), [], label);
    t.deepEqual(readdirSync(path.join(dr, 'tmp')), [], `${label}: no staging left`);
  }

  // A data root that already holds the first image: the failed load neither tags it nor takes its layers.
  const dr = scratch.make('dr-multi-pre');
  engOk(dr, 'vfs', 'load', busybox);
  const before = readdirSync(path.join(dr, 'layers')).sort();
  t.not(eng(dr, null, 'load', ociBad).status, 0);
  t.deepEqual(names(dr), ['busybox:latest']);
  t.deepEqual(readdirSync(path.join(dr, 'layers')).sort(), before);
  t.is(must(engine, ['image', '--data-root', dr, 'mount', 'busybox', 'c-pre']).trim().length > 0, true);
  engOk(dr, null, 'umount', 'c-pre');
});
