#!/usr/bin/env node
// berth-engine image layer, side by side in one run:
//  1. load + unpack of a 3-layer ~200 MB image with whiteouts and an opaque dir (digests verified, overlay2
//     layout) vs `umoci unpack` of the same image vs the floor: `tar -xzf` of the same three layer blobs.
//  2. `berth-engine run --rm IMAGE true` vs `podman run --rm` on the same busybox image.
// The images are built here with umoci from files of this machine (/usr/lib/gcc, /usr/share/doc, ...).
import {execFileSync, spawnSync} from 'node:child_process';
import {mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync, symlinkSync, chmodSync, existsSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {hyperfine, writeResult} from './lib.mjs';

const root = process.cwd();
const engine = process.env.BERTH_ENGINE_BIN ?? path.join(root, 'native/build/berth-engine');
if (!existsSync(engine)) {
  console.error(`${engine} missing: run npm run build:native first`);
  process.exit(1);
}
for (const [pkg, cmd] of [['umoci', 'umoci'], ['skopeo', 'skopeo'], ['podman', 'podman'], ['runc', 'runc'], ['busybox-static', 'busybox'], ['time', '/usr/bin/time']]) {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0)
    execFileSync('sh', ['-c', `flock /tmp/berth-apt.lock apt-get install -y -o DPkg::Lock::Timeout=600 ${pkg} >&2`], {stdio: 'inherit'});
}
const sh = (cmd) => execFileSync('sh', ['-c', cmd], {stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28}).toString();
// On tmpfs: the shared disk of this machine swings 2x between runs (other jobs), which would drown the
// difference between the tools; in memory the comparison is CPU (decompress, hash, create files).
const work = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'berth-bench-image-'));
const cleanups = [];
process.on('exit', () => {
  for (const c of cleanups.reverse()) spawnSync('sh', ['-c', c]);
  rmSync(work, {recursive: true, force: true});
});

// ---- 1. the 3-layer image ----------------------------------------------------------------------------
const img = path.join(work, 'big');
sh(`umoci init --layout ${img} && umoci new --image ${img}:latest`);
const stage = (name, script) => {
  const d = path.join(work, name);
  mkdirSync(d);
  sh(`cd ${d} && ${script}`);
  sh(`tar --format=pax --sort=name -cf ${d}.tar -C ${d} . && umoci raw add-layer --image ${img}:latest ${d}.tar && rm -rf ${d} ${d}.tar`);
};
stage('l1', 'mkdir -p usr/lib usr/share/man && cp -a /usr/lib/gcc usr/lib/ && cp -a /usr/share/man/man3 /usr/share/man/man8 usr/share/man/');
stage('l2', 'mkdir -p usr/share/man usr/lib/gcc/x86_64-linux-gnu/12 && : > usr/lib/gcc/x86_64-linux-gnu/12/.wh.cc1 && : > usr/share/man/.wh..wh..opq && cp -a /usr/share/man/man1 usr/share/man/');
stage('l3', 'mkdir -p usr/share/man && cp -a /usr/share/perl usr/share/ && : > usr/share/man/.wh.man1');
const index = JSON.parse(readFileSync(path.join(img, 'index.json'), 'utf8'));
const manifest = JSON.parse(readFileSync(path.join(img, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'));
const blobs = manifest.layers.map((l) => path.join(img, 'blobs/sha256', l.digest.slice(7)));
const sizes = sh(`for b in ${blobs.join(' ')}; do gzip -l $b | tail -1 | awk '{print $2}'; done`).trim().split('\n').map(Number);
const totalMB = sizes.reduce((a, b) => a + b, 0) / 1048576;
console.error(`image: 3 layers, ${totalMB.toFixed(0)} MB uncompressed`);

const dr = path.join(work, 'dr');
const umo = path.join(work, 'umoci-out');
const floor = path.join(work, 'floor');
const unpackRows = hyperfine(
  [
    {name: 'tar -xzf of the 3 layers (floor)', cmd: `sh -c "mkdir -p ${floor}/1 ${floor}/2 ${floor}/3 && tar -xzf ${blobs[0]} -C ${floor}/1 && tar -xzf ${blobs[1]} -C ${floor}/2 && tar -xzf ${blobs[2]} -C ${floor}/3"`},
    {name: 'berth-engine image load (overlay2, digests verified)', cmd: `${engine} image --data-root ${dr} --storage-driver overlay2 load ${img}`},
    {name: 'umoci unpack', cmd: `umoci unpack --image ${img}:latest ${umo}`},
  ],
  {runs: 5, warmup: 1, prepare: `rm -rf ${dr} ${umo} ${floor}`},
);
const cpu = {};
for (const r of unpackRows) {
  sh(`rm -rf ${dr} ${umo} ${floor}`);
  const t = spawnSync('/usr/bin/time', ['-f', '%U %S', 'sh', '-c', r.cmd], {encoding: 'utf8', maxBuffer: 1 << 26});
  const out = t.stderr.trim().split('\n').at(-1).split(' ');
  cpu[r.name] = (Number(out[0]) + Number(out[1])).toFixed(2);
}
sh(`rm -rf ${dr} ${umo} ${floor}`);

// ---- 2. run --rm true --------------------------------------------------------------------------------
const bb = path.join(work, 'busybox');
sh(`umoci init --layout ${bb} && umoci new --image ${bb}:latest`);
const bbroot = path.join(work, 'bbroot');
mkdirSync(path.join(bbroot, 'bin'), {recursive: true});
copyFileSync('/bin/busybox', path.join(bbroot, 'bin/busybox'));
chmodSync(path.join(bbroot, 'bin/busybox'), 0o755);
for (const a of ['sh', 'true']) symlinkSync('busybox', path.join(bbroot, 'bin', a));
sh(`tar -cf ${bbroot}.tar -C ${bbroot} . && umoci raw add-layer --image ${bb}:latest ${bbroot}.tar && umoci config --image ${bb}:latest --config.cmd /bin/true`);
const bdr = path.join(work, 'run-dr');
const rt = path.join(work, 'run-rt');
sh(`${engine} image --data-root ${bdr} --storage-driver overlay2 load --tag bench-busybox ${bb}`);
// podman keeps its own store: load the same image there under a name only this bench uses.
const archive = path.join(work, 'busybox-oci.tar');
sh(`skopeo copy --quiet oci:${bb}:latest oci-archive:${archive}:latest`);
const podmanName = `localhost/berth-bench-busybox:${process.pid}`;
sh(`podman load -q -i ${archive} | tail -1 > ${work}/podman-id`);
const podmanId = readFileSync(path.join(work, 'podman-id'), 'utf8').trim().replace(/^Loaded image: /, '');
sh(`podman tag ${podmanId} ${podmanName}`);
cleanups.push(`podman rmi -f ${podmanName} ${podmanId}`);
// This machine is a cgroup hybrid (crun refuses it: "cgroups in hybrid mode not supported") and its hard
// RLIMIT_NOFILE/NPROC are below podman's defaults, so podman runs with runc and explicit ulimits.
const podmanArgs = `--runtime runc run --rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 ${podmanName} true`;
const podmanOk = spawnSync('sh', ['-c', `podman ${podmanArgs}`]).status === 0;
const runCmds = [{name: 'berth-engine run --rm IMAGE true', cmd: `${engine} --root ${rt} run --data-root ${bdr} --rm bench-busybox true`}];
if (podmanOk) runCmds.push({name: 'podman run --rm IMAGE true', cmd: `podman ${podmanArgs}`});
const runRows = hyperfine(runCmds, {runs: 10, warmup: 1});

const floorRow = unpackRows[0];
const ratio = (r, base) => (r.median / base.median).toFixed(2) + '×';
writeResult('engine-image', {
  title: 'berth-engine: image load + unpack, and run --rm true',
  reproduce: 'npm run bench -- engine-image',
  rows: [...unpackRows, ...runRows],
  baseline: floorRow.name,
  notes: [
    `Image: 3 gzip layers, ${totalMB.toFixed(0)} MB uncompressed (/usr/lib/gcc + man3/man8; man1 in an opaque man/ and a whiteout of cc1; perl + a whiteout of man1), built by umoci. Unpacked on tmpfs (/dev/shm) so the shared disk's noise stays out.`,
    `Load + unpack vs the tar -xzf floor: **${ratio(unpackRows[1], floorRow)}** (target ≤ 1.2×); umoci unpack: ${ratio(unpackRows[2], floorRow)}.`,
    `CPU time (user + sys, one run each): ${unpackRows.map((r) => `${r.name} ${cpu[r.name]} s`).join('; ')}.`,
    `Load average during the run: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} on ${(spawnSync('nproc').stdout ?? '').toString().trim()} cores (wall times are noisy when the machine is shared; the CPU times are not).`,
    podmanOk
      ? `run --rm true: berth-engine ${runRows[0].median.toFixed(1)} ms vs podman ${runRows[1].median.toFixed(1)} ms = **${(runRows[0].median / runRows[1].median).toFixed(3)}× podman** (target ≤ 0.1×).`
      : 'podman run failed on this machine; only berth-engine was measured.',
    'The ratio column for the run rows is against the unpack floor and means nothing; compare run rows with each other.',
  ],
});
