// /etc/hosts, /etc/hostname and /etc/resolv.conf in `berth-engine run` containers, read from inside busybox
// containers for each network mode: none (localhost only), host (the host's files, a symlinked resolv.conf
// followed), bridge (generated hosts with the container's address; the host's resolv.conf without loopback
// nameservers, systemd-resolved's upstream list as fallback, none at all with one warning). Host files are
// changed only inside private mount namespaces (unshare -m); bridge runs in a network namespace of its own.
import test from 'ava';
import {existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {Scratch, engine, ensureDebian, must, requireEngine, run} from './helpers/engine.js';
import {addLayer, busyboxTree, makeBareBusyboxImage, makeBusyboxImage, newImage} from './helpers/images.js';

const scratch = new Scratch();
requireEngine();
const images = scratch.make('etc-images');
const busybox = path.join(images, 'busybox');
const bare = path.join(images, 'bare');
// systemd-style images: /etc files that are symlinks dangling inside the image (their targets live in /run).
// The hostname link is absolute and names a host path on purpose: it must resolve inside the root (RESOLVE_IN_ROOT).
const links = path.join(images, 'links');
const escape = `/tmp/berth-etc-escape-${process.pid}`;
const rtRoot = scratch.make('etc-rt');
const roots: Record<string, string> = {overlay2: scratch.make('etc-overlay2'), vfs: scratch.make('etc-vfs')};

function buildAndLoad(): void {
  makeBusyboxImage(scratch, busybox);
  makeBareBusyboxImage(scratch, bare);
  newImage(links);
  const src = scratch.make('links-src');
  busyboxTree(src);
  mkdirSync(path.join(src, 'etc'));
  mkdirSync(path.join(src, 'run'));
  symlinkSync('../run/systemd/resolve/stub-resolv.conf', path.join(src, 'etc/resolv.conf'));
  symlinkSync('/run/hosts.d/hosts', path.join(src, 'etc/hosts'));
  symlinkSync(escape, path.join(src, 'etc/hostname'));
  addLayer(scratch, links, 'latest', src);
  must('umoci', ['config', '--image', `${links}:latest`, '--config.cmd', '/bin/sh', '--config.env', 'PATH=/bin']);
  for (const [driver, dr] of Object.entries(roots))
    for (const image of [busybox, bare, links]) must(engine, ['image', '--data-root', dr, '--storage-driver', driver, 'load', image]);
}
try {
  buildAndLoad();
} catch (e) {
  scratch.cleanup(); // a file that fails to load runs no hooks
  throw e;
}

test.after.always(() => {
  for (const dr of Object.values(roots)) {
    const names = run(engine, ['--root', rtRoot, 'ps', '-a', '--json', '--data-root', dr]);
    for (const c of (JSON.parse(names.stdout || '[]') as {name: string}[])) run(engine, ['--root', rtRoot, 'rm', '-f', '--data-root', dr, c.name]);
  }
  scratch.cleanup();
});

const show =
  'cat /etc/hosts; echo "-- hostname"; cat /etc/hostname; echo "-- resolv"; cat /etc/resolv.conf 2>/dev/null || echo "(no resolv.conf)"; ' +
  'echo "-- writes"; (echo x >> /etc/hosts) 2>/dev/null && echo hosts-writable || echo hosts-refused; ' +
  '(echo x >> /etc/hostname) 2>/dev/null && echo hostname-writable || echo hostname-refused';

/** Every regular file etc/NAME below dir for the given names (the image store must never gain these; an image's
 * own symlinks of those names are fine). */
function findEtc(dir: string, names: string[]): string[] {
  const hits: string[] = [];
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = path.join(dir, e.name);
    if (names.includes(e.name) && path.basename(dir) === 'etc' && e.isFile()) hits.push(p);
    if (e.isDirectory()) hits.push(...findEtc(p, names));
  }
  return hits;
}

for (const driver of ['overlay2', 'vfs']) {
  test(`${driver}: network none, --read-only, an image without /etc: localhost-only hosts and the hostname, read-only, image layers untouched`, (t) => {
    const dr = roots[driver]!;
    const r = run(engine, ['--root', rtRoot, 'run', '--data-root', dr, '--rm', '--read-only', '--name', `none-${driver}`, 'bare', 'sh', '-c', show]);
    t.is(r.status, 0, r.stderr);
    t.is(
      r.stdout,
      [
        '127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback',
        '-- hostname', `none-${driver}`,
        '-- resolv', '(no resolv.conf)',
        '-- writes', 'hosts-refused', 'hostname-refused', '',
      ].join('\n'),
    );
    t.is(r.stderr, '', 'network none needs no resolver: no warning');
    // The mount points were made in the container's own root, which went with --rm; no layer gained them.
    t.deepEqual(findEtc(dr, ['hosts', 'hostname', 'resolv.conf']), []);
    t.deepEqual(readdirSync(path.join(dr, 'containers')), []);
  });
}

test('an image whose /etc files are symlinks dangling into /run: the targets are made inside the container root', (t) => {
  const dr = roots['overlay2']!;
  const r = run(engine, ['--root', rtRoot, 'run', '--data-root', dr, '--rm', '--read-only', '--network', 'host', '--name', 'links', 'links', 'sh', '-c', show]);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, readFileSync('/etc/hosts', 'utf8') + '-- hostname\nlinks\n-- resolv\n' + readFileSync('/etc/resolv.conf', 'utf8') + '-- writes\nhosts-refused\nhostname-refused\n');
  t.false(existsSync(escape), 'a link out of the root was resolved inside it');
  t.deepEqual(findEtc(dr, ['hosts', 'hostname', 'resolv.conf']), [], 'the image layer keeps its links untouched');
});

test('a -v onto /etc/hosts wins over the generated file', (t) => {
  const dir = scratch.make('own-hosts');
  writeFileSync(path.join(dir, 'hosts'), '10.9.9.9\tmine\n');
  const r = run(engine, ['--root', rtRoot, 'run', '--data-root', roots['overlay2']!, '--rm', '--name', 'ownhosts', '-v', `${dir}/hosts:/etc/hosts:ro`, 'busybox', 'cat', '/etc/hosts']);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, '10.9.9.9\tmine\n');
});

test('network host: the host\'s /etc/hosts and /etc/resolv.conf, read-only; a symlinked resolv.conf is followed', (t) => {
  const dr = roots['overlay2']!;
  const h = run(engine, ['--root', rtRoot, 'run', '--data-root', dr, '--rm', '--network', 'host', '--name', 'hostnet', 'busybox', 'sh', '-c', show]);
  t.is(h.status, 0, h.stderr);
  const [hosts, rest] = h.stdout.split('-- hostname\n');
  t.is(hosts, readFileSync('/etc/hosts', 'utf8'));
  t.true(rest!.startsWith('hostnet\n-- resolv\n' + readFileSync('/etc/resolv.conf', 'utf8')), rest);
  t.regex(rest!, /^hosts-refused$/m);

  // systemd-resolved's layout, made in a private mount namespace: /etc/resolv.conf a symlink to the stub file.
  const d = scratch.make('stub');
  const stub = path.join(d, 'stub-resolv.conf');
  writeFileSync(stub, 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch stub.test\n');
  for (const sub of ['upper', 'work']) must('mkdir', [path.join(d, sub)]);
  const script = [
    'set -e',
    `mount -t overlay overlay -o lowerdir=/etc,upperdir=${d}/upper,workdir=${d}/work /etc`,
    `ln -sf ${stub} /etc/resolv.conf`,
    `${engine} --root ${rtRoot} run --data-root ${dr} --rm --network host --name hostlink busybox sh -c 'cat /etc/resolv.conf; (echo x >> /etc/resolv.conf) 2>/dev/null && echo writable || echo refused'`,
  ].join('\n');
  const s = run('unshare', ['-m', 'sh', '-c', script]);
  t.is(s.status, 0, s.stderr);
  t.is(s.stdout, readFileSync(stub, 'utf8') + 'refused\n');
});

test('network bridge: hosts with the container address; resolv.conf without loopback nameservers, resolved\'s upstream as fallback, none with one warning', (t) => {
  ensureDebian(['nftables', 'iproute2', 'util-linux'], ['ip', 'unshare', 'nsenter'], ['/usr/sbin/nft']);
  const dr = roots['vfs']!;
  const d = scratch.make('resolv');
  writeFileSync(path.join(d, 'mixed'), 'nameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\nnameserver fd00::53\nsearch example.test\noptions edns0\n');
  writeFileSync(path.join(d, 'stub'), '# stub only\nnameserver 127.0.0.53\noptions edns0 trust-ad\n');
  writeFileSync(path.join(d, 'upstream'), 'nameserver 10.0.0.3\nsearch up.test\n');
  const eng = `${engine} --root ${rtRoot} run --data-root ${dr} --rm --network bridge`;
  // Private mount and network namespaces: the bridge, the nft tables and the swapped resolver files vanish with them.
  const script = [
    'set -e',
    'ip link set lo up',
    `mount --bind ${d}/mixed /etc/resolv.conf`,
    `echo "== mixed"; ${eng} --name br-mixed --hostname web.test busybox sh -c '${show}' 2>${d}/err-mixed`,
    `mount --bind ${d}/stub /etc/resolv.conf`,
    'mount -t tmpfs tmpfs /run/systemd',
    'mkdir /run/systemd/resolve',
    `cp ${d}/upstream /run/systemd/resolve/resolv.conf`,
    `echo "== upstream"; ${eng} --name br-up busybox cat /etc/resolv.conf 2>${d}/err-up`,
    'umount /run/systemd',
    `echo "== nothing"; ${eng} --name br-none busybox sh -c 'cat /etc/resolv.conf 2>/dev/null || echo "(no resolv.conf)"' 2>${d}/err-none`,
  ].join('\n');
  const r = run('unshare', ['-m', '-n', 'sh', '-c', script]);
  t.is(r.status, 0, r.stderr + r.stdout);
  const part = (name: string) => r.stdout.split(`== ${name}\n`)[1]!.split('== ')[0]!;
  const mixed = part('mixed');
  t.regex(mixed, /^127\.0\.0\.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10\.89\.0\.\d+\tweb\.test\n-- hostname\nweb\.test\n/);
  t.true(
    mixed.includes('-- resolv\nnameserver 10.0.0.2\nnameserver fd00::53\nsearch example.test\noptions edns0\n-- writes\nhosts-refused\nhostname-refused\n'),
    mixed,
  );
  t.is(readFileSync(path.join(d, 'err-mixed'), 'utf8'), '');
  t.is(part('upstream'), 'nameserver 10.0.0.3\nsearch up.test\n');
  t.is(part('nothing'), '(no resolv.conf)\n');
  const warn = readFileSync(path.join(d, 'err-none'), 'utf8');
  t.is(warn.split('\n').filter((l) => l.includes('warning')).length, 1, warn);
  t.regex(warn, /names a non-loopback nameserver.*-v FILE:\/etc\/resolv\.conf:ro/);
  t.notRegex(warn + part('nothing'), /8\.8\.8\.8|1\.1\.1\.1/, 'no public DNS server invented');
  t.deepEqual(readdirSync(path.join(dr, 'containers')), []);
});
