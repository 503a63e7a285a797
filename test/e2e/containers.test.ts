/**
 * Containers end to end on 2 container hosts of the test fleet, the way the issue asks: a busybox image built
 * with real tools (umoci, test/engine/helpers/images.ts) is shipped to each host with `files.PATH.source`,
 * and a container runs `busybox httpd` from it as `berth-container-NAME.service`. The test fetches from each
 * host over 127.0.0.1, restarts a container unit by hand, applies again (no changes, nothing restarted),
 * changes one container (only its unit restarts, the image is neither sent nor copied again), and checks that
 * env values reach the process (a CGI script prints them) but not the world-readable unit file.
 *
 * Networking: `--network host`. The test fleet's container hosts share this machine's network namespace,
 * so each container gets its own port (picked free here) and the test reaches it on 127.0.0.1. Bridge
 * networking would not work across these hosts: every host's engine would create the same berth0 bridge
 * (10.89.0.1/24) and nftables tables in the one shared namespace, and they would collide.
 */
import test from 'ava';
import {execFileSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {stringify} from 'yaml';
import {startFleet, type Fleet, type FleetHost} from '../../src/testfleet/index.js';
import {Scratch} from '../engine/helpers/engine.js';
import {makeBusyboxImage} from '../engine/helpers/images.js';
import {applyJson, berth, pinEngine, sh, sleep} from './helpers/berth.js';

let fleet: Fleet;
let c1: FleetHost;
let c2: FleetHost;
const scratch = new Scratch();
let image: string;
let specDir: string;
const ports: Record<string, number> = {};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as {port: number}).port;
      server.close(() => resolve(port));
    });
  });
}

test.before(async () => {
  process.env.BERTH_ENGINE_BINARY = pinEngine();
  // An OCI image archive (oci-archive: the umoci layout, tarred), as `berth-engine image load` takes it.
  const layout = path.join(scratch.make('e2e-image'), 'busybox');
  makeBusyboxImage(scratch, layout);
  specDir = mkdtempSync(path.join(tmpdir(), 'berth-e2e-containers-'));
  image = path.join(specDir, 'busybox.tar');
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-cf', image, '-C', layout, '.']);
  for (const name of ['web1', 'aux1', 'web2']) ports[name] = await freePort();
  fleet = await startFleet({containers: 2, aptRepo: false});
  [c1, c2] = fleet.hosts as [FleetHost, FleetHost];
});

test.after.always(async () => {
  await fleet?.stop();
  rmSync(path.dirname(process.env.BERTH_ENGINE_BINARY!), {recursive: true, force: true});
  if (specDir) rmSync(specDir, {recursive: true, force: true});
  scratch.cleanup();
});

// CRLF after the header: busybox httpd passes the script's header block through, and Node's HTTP parser
// refuses bare LF line ends in headers.
const cgi = '#!/bin/sh\nprintf \'Content-Type: text/plain\\r\\n\\r\\n\'\necho "GREETING=$GREETING"\n';

/** One busybox httpd container serving /srv/www/NAME of the host on its own port. */
function httpd(name: string, greeting: string) {
  return {
    image: '/opt/berth-e2e/busybox.tar',
    command: ['httpd', '-f', '-p', `127.0.0.1:${ports[name]}`, '-h', '/www'],
    network: 'host',
    volumes: [`/srv/www/${name}:/www:ro`],
    env: {GREETING: greeting},
    restart: 'always',
  };
}

function site(name: string, host: string) {
  return {
    [`/srv/www/${name}/index.html`]: {content: `hello from ${name} on ${host}\n`},
    [`/srv/www/${name}/cgi-bin/env`]: {content: cgi, mode: '0755'},
  };
}

/** The spec: the image shipped with `source` (relative to the spec file), c1 runs web1 + aux1, c2 runs web2. */
function writeContainerSpec(auxGreeting: string): string {
  const login = (h: FleetHost) => ({address: h.address, port: h.port, user: h.admin.user, identityFile: h.admin.identityFile, become: 'sudo'});
  const spec = {
    version: 1,
    inventory: {
      hosts: {
        c1: {
          ...login(c1),
          containers: {web1: httpd('web1', 'secret-web1-value'), aux1: httpd('aux1', auxGreeting)},
          files: {...site('web1', 'c1'), ...site('aux1', 'c1')},
        },
        c2: {...login(c2), containers: {web2: httpd('web2', 'secret-web2-value')}, files: site('web2', 'c2')},
      },
    },
    engine: {storage: 'vfs'},
    files: {'/opt/berth-e2e/busybox.tar': {source: 'busybox.tar'}},
  };
  const file = path.join(specDir, 'spec.yaml');
  writeFileSync(file, stringify(spec));
  return file;
}

const apply = (spec: string, ...extra: string[]) => berth(['apply', spec, '--known-hosts', fleet.knownHostsFile, '--yes', '--json', ...extra]);

/** GET http://127.0.0.1:PORT/PATH, retried until it answers (a container that just started may not listen yet). */
async function get(port: number, urlPath = '/'): Promise<string> {
  const deadline = Date.now() + 90_000;
  let last = '';
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}${urlPath}`, {signal: AbortSignal.timeout(5000)});
      const body = await r.text();
      if (r.ok) return body;
      last = `HTTP ${r.status}: ${body}`;
    } catch (error) {
      last = String((error as Error).cause ?? error);
    }
    if (Date.now() > deadline) throw new Error(`127.0.0.1:${port}${urlPath} did not answer within 90 s: ${last}`);
    await sleep(500);
  }
}

async function invocation(host: FleetHost, unit: string): Promise<string> {
  return (await sh(fleet, host, `systemctl show -p InvocationID --value ${unit}`)).trim();
}

async function diagnose(host: FleetHost, unit: string): Promise<string> {
  const r = await fleet.ssh(host, `sudo systemctl status --no-pager -n 30 ${unit}; sudo tail -n 40 /var/lib/berth/logs/last-apply.log`);
  return r.stdout + r.stderr;
}

test.serial('files.source: binary bytes arrive intact; an unchanged large file is neither sent nor copied again', async (t) => {
  // Engine-independent: a 3 MB file holding every byte value, next to a small text file, on c2 alone.
  const blob = Buffer.alloc(3 << 20);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 131 + (i >> 11)) % 256;
  writeFileSync(path.join(specDir, 'blob.bin'), blob);
  const localSha = execFileSync('sha256sum', [path.join(specDir, 'blob.bin')], {encoding: 'utf8'}).slice(0, 64);
  const login = {address: c2.address, port: c2.port, user: c2.admin.user, identityFile: c2.admin.identityFile, become: 'sudo'};
  const write = (text: string) => {
    const file = path.join(specDir, 'blob-spec.yaml');
    writeFileSync(file, stringify({version: 1, inventory: {hosts: {c2: login}}, files: {'/opt/berth-e2e/blob.bin': {source: 'blob.bin', mode: '0640'}, '/etc/berth-e2e.conf': {content: text}}}));
    return file;
  };
  const logs = path.join(specDir, 'logs');
  const archiveSizes = async (spec: string) => {
    rmSync(logs, {recursive: true, force: true});
    const run = await berth(['apply', spec, '--known-hosts', fleet.knownHostsFile, '--yes', '--json'], {BERTH_LOG_DIR: logs});
    t.is(run.code, 0, run.stderr);
    const transcript = execFileSync('sh', ['-c', `cat ${logs}/*/c2.log`], {encoding: 'utf8'});
    return {result: applyJson(run).hosts[0]!.result, archive: Number(/archive (\d+) bytes/.exec(transcript)?.[1])};
  };
  const first = await archiveSizes(write('one\n'));
  t.is(first.result.status, 'applied');
  t.true(first.archive > blob.length, `the first upload carries the file (${first.archive} bytes)`);
  t.is((await sh(fleet, c2, 'sudo sha256sum /opt/berth-e2e/blob.bin')).slice(0, 64), localSha);
  t.is((await sh(fleet, c2, 'sudo stat -c %a /opt/berth-e2e/blob.bin')).trim(), '640');
  const second = await archiveSizes(write('two\n'));
  t.is(second.result.status, 'applied');
  t.deepEqual(second.result.changed, ['/etc/berth-e2e.conf']);
  t.true(second.archive < 200_000, `an unchanged file is not sent again (${second.archive} bytes uploaded)`);
  const gen = second.result.generation;
  const inodes = await sh(fleet, c2, `sudo stat -c %i /var/lib/berth/generations/${gen - 1}/files/${localSha} /var/lib/berth/generations/${gen}/files/${localSha}`);
  const [a, b] = inodes.trim().split('\n');
  t.is(a, b, 'the unchanged blob was copied instead of hardlinked');
  t.is((await sh(fleet, c2, `sudo stat -c %a /var/lib/berth/generations/${gen}/files/${localSha}`)).trim(), '600');
  t.regex(await sh(fleet, c2, 'sudo cat /var/lib/berth/logs/last-apply.log'), /@@ok stage-reuse \d+ unchanged file\(s\) linked from generation \d+/);
  t.is((await sh(fleet, c2, 'sudo sha256sum /opt/berth-e2e/blob.bin')).slice(0, 64), localSha);
});

test.serial('an image archive shipped with files.source runs as a container serving on each host', async (t) => {
  const spec = writeContainerSpec('aux-one');
  const run = await apply(spec);
  const doc = applyJson(run);
  for (const h of doc.hosts) t.is(h.result?.status, 'applied', `${h.host}: ${JSON.stringify(h.error ?? h.result)}\n${run.stderr}`);
  if (!doc.ok) t.log(await diagnose(c1, 'berth-container-web1.service'));
  t.is(run.code, 0, run.stderr);
  const r1 = doc.hosts.find((h) => h.host === 'c1')!.result;
  t.true(r1.started.includes('berth-container-web1.service') && r1.started.includes('berth-container-aux1.service'), JSON.stringify(r1));

  t.is(await get(ports.web1!), 'hello from web1 on c1\n');
  t.is(await get(ports.aux1!), 'hello from aux1 on c1\n');
  t.is(await get(ports.web2!), 'hello from web2 on c2\n');
  // The archive on the host is the local file, byte for byte.
  const localSha = execFileSync('sha256sum', [image], {encoding: 'utf8'}).slice(0, 64);
  t.is((await sh(fleet, c2, 'sha256sum /opt/berth-e2e/busybox.tar')).slice(0, 64), localSha);
});

test.serial('env values reach the process through a 0600 env file, never through the unit file', async (t) => {
  t.is(await get(ports.web1!, '/cgi-bin/env'), 'GREETING=secret-web1-value\n');
  t.is(await get(ports.web2!, '/cgi-bin/env'), 'GREETING=secret-web2-value\n');
  const unit = await sh(fleet, c1, 'systemctl cat berth-container-web1.service');
  t.regex(unit, /--env-file \/etc\/berth\/containers\/web1\.env/);
  t.notRegex(unit, /secret-web1-value/);
  t.is((await sh(fleet, c1, 'sudo stat -c "%a %U %G" /etc/berth/containers/web1.env')).trim(), '600 root root');
  t.is((await sh(fleet, c1, 'sudo stat -c "%a" /var/lib/berth/generations')).trim(), '700');
  // No copy of the value is readable by others anywhere berth writes.
  const leaks = await sh(fleet, c1, `sudo sh -c 'grep -rl secret-web1-value /etc /var/lib/berth /usr/local/lib/berth 2>/dev/null | while read -r f; do stat -c "%a %n" "$f"; done'`);
  for (const line of leaks.trim().split('\n').filter(Boolean)) t.regex(line, /^[0-7][0-7]0 /, `readable by others: ${line}`);
});

test.serial('systemctl restart of a container unit: it serves again', async (t) => {
  const before = await invocation(c1, 'berth-container-web1.service');
  await sh(fleet, c1, 'sudo systemctl restart berth-container-web1.service');
  t.not(await invocation(c1, 'berth-container-web1.service'), before);
  t.is(await get(ports.web1!), 'hello from web1 on c1\n');
  t.is((await sh(fleet, c1, 'systemctl is-active berth-container-web1.service')).trim(), 'active');
});

test.serial('the second apply reports no changes and restarts nothing', async (t) => {
  const spec = writeContainerSpec('aux-one');
  const units = ['berth-container-web1.service', 'berth-container-aux1.service'];
  const before = await Promise.all(units.map((u) => invocation(c1, u)));
  const web2 = await invocation(c2, 'berth-container-web2.service');
  const run = await apply(spec);
  t.is(run.code, 0, run.stderr);
  for (const h of applyJson(run).hosts) {
    t.is(h.result?.status, 'unchanged', JSON.stringify(h));
    t.deepEqual([...h.result.restarted, ...h.result.started, ...h.result.changed], []);
  }
  t.deepEqual(await Promise.all(units.map((u) => invocation(c1, u))), before);
  t.is(await invocation(c2, 'berth-container-web2.service'), web2);
});

test.serial('a change to one container restarts only its unit; the unchanged image is linked, not sent again', async (t) => {
  const spec = writeContainerSpec('aux-two');
  const web1 = await invocation(c1, 'berth-container-web1.service');
  const aux1 = await invocation(c1, 'berth-container-aux1.service');
  const web2 = await invocation(c2, 'berth-container-web2.service');
  const run = await apply(spec);
  t.is(run.code, 0, run.stderr);
  const doc = applyJson(run);
  const r1 = doc.hosts.find((h) => h.host === 'c1')!.result;
  t.is(r1.status, 'applied');
  t.is(r1.generation, 2);
  t.deepEqual(r1.changed, ['/etc/berth/containers/aux1.env']);
  t.deepEqual(r1.restarted, ['berth-container-aux1.service']);
  t.is(doc.hosts.find((h) => h.host === 'c2')!.result.status, 'unchanged');
  t.not(await invocation(c1, 'berth-container-aux1.service'), aux1);
  t.is(await invocation(c1, 'berth-container-web1.service'), web1);
  t.is(await invocation(c2, 'berth-container-web2.service'), web2);
  t.is(await get(ports.aux1!, '/cgi-bin/env'), 'GREETING=aux-two\n');
  t.is(await get(ports.web1!, '/cgi-bin/env'), 'GREETING=secret-web1-value\n');
  // Generation 2 holds the archive as a hardlink of generation 1's blob: one inode, no second copy.
  const sha = execFileSync('sha256sum', [image], {encoding: 'utf8'}).slice(0, 64);
  const inodes = await sh(fleet, c1, `sudo stat -c %i /var/lib/berth/generations/1/files/${sha} /var/lib/berth/generations/2/files/${sha}`);
  const [g1, g2] = inodes.trim().split('\n');
  t.is(g1, g2, 'the image blob was copied instead of linked');
  t.regex(await sh(fleet, c1, 'sudo cat /var/lib/berth/logs/last-apply.log'), /@@ok stage-reuse \d+ unchanged file\(s\) linked from generation 1/);
});

test.serial('an engine whose selftest fails fails the health step: the apply rolls back and says why', async (t) => {
  // A stand-in engine keeping the CLI contract: `selftest` fails with a one-line reason, `run` stays up like
  // a container would. The real engine's selftest is exercised by every apply above.
  const fake = path.join(specDir, 'fake-engine', 'berth-engine');
  mkdirSync(path.dirname(fake), {recursive: true});
  writeFileSync(
    fake,
    '#!/bin/sh\ncase "$1" in\n  version) echo "berth-engine 0.1.0" ;;\n  selftest) echo "note: starting" >&2; echo "fake engine: the tiny container did not start" >&2; exit 1 ;;\n  run) exec sleep 600 ;;\n  *) exit 0 ;;\nesac\n',
    {mode: 0o755},
  );
  const before = (await sh(fleet, c2, 'readlink /var/lib/berth/current || echo none')).trim();
  const login = {address: c2.address, port: c2.port, user: c2.admin.user, identityFile: c2.admin.identityFile, become: 'sudo'};
  const spec = path.join(specDir, 'selftest-spec.yaml');
  writeFileSync(spec, stringify({version: 1, inventory: {hosts: {c2: login}}, containers: {probe: {image: 'localhost/none:1', network: 'none'}}}));
  const run = await berth(['apply', spec, '--known-hosts', fleet.knownHostsFile, '--yes', '--json'], {BERTH_ENGINE_BINARY: fake});
  t.is(run.code, 4, run.stderr);
  const r = applyJson(run).hosts[0]!;
  const text = JSON.stringify(r);
  t.regex(text, /rolled back/, text);
  t.regex(text, /health: berth-engine selftest failed: fake engine: the tiny container did not start/);
  t.is((await sh(fleet, c2, 'readlink /var/lib/berth/current || echo none')).trim(), before);
  t.not((await fleet.ssh(c2, 'systemctl is-active berth-container-probe.service')).stdout.trim(), 'active');
});
