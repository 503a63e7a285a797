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
