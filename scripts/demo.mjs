#!/usr/bin/env node
// `npm run demo [-- --keep]`: berth end to end on this machine, in about a minute.
//   1. builds what it needs: berth-engine (native/, when not built) and the test fleet's Debian 12 image
//      (cached under ~/.cache/berth/images after the first time);
//   2. starts 2 container hosts (systemd-nspawn, real sshd on 127.0.0.1);
//   3. writes a small demo spec and runs `berth apply` with live progress;
//   4. shows what landed on each host;
//   5. runs `berth apply` again: it must report no changes;
//   6. tears the hosts down (--keep leaves them running; `npm run fleet -- down NAME` stops them).
// What it shows: a container per host answering on its own port (a busybox image built with umoci, cached under
// ~/.cache/berth/images, shipped to the hosts with `files.source`), managed systemd units and files,
// generations, the engine binary installed.
import {execFileSync, spawn, spawnSync} from 'node:child_process';
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {register} from 'tsx/esm/api';

register();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const {startFleet} = await import('../src/testfleet/index.ts');
const {imagesDir} = await import('../src/testfleet/paths.ts');
const {stringify} = await import('yaml');

// The engine both applies install: a private copy, so a rebuild of native/ meanwhile is not a change.
const engineCopy = path.join(mkdtempSync(path.join(tmpdir(), 'berth-demo-engine-')), 'berth-engine');
const say = (text) => process.stderr.write(`\n\x1b[1m== ${text}\x1b[0m\n`);

function berth(args, {capture = false} = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/main.ts'), ...args], {
      cwd: root,
      env: {...process.env, BERTH_ENGINE_BINARY: engineCopy},
    stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'],
    });
    let out = '';
    if (capture) child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({code, out}));
  });
}

/**
 * The demo's container image: busybox (Debian's busybox-static) in one layer, built by umoci with the engine
 * tests' helper, tarred as an oci-archive. Built once, then taken from the cache.
 */
async function demoImage() {
  const cached = path.join(imagesDir(), 'demo-busybox-oci.tar');
  if (existsSync(cached)) return cached;
  say('building the demo container image (busybox, umoci; cached afterwards)');
  const {Scratch} = await import('../test/engine/helpers/engine.ts');
  const {makeBusyboxImage} = await import('../test/engine/helpers/images.ts');
  const scratch = new Scratch();
  try {
    const layout = path.join(scratch.make('demo-image'), 'busybox');
    makeBusyboxImage(scratch, layout);
    mkdirSync(path.dirname(cached), {recursive: true});
    const temp = `${cached}.${process.pid}.tmp`;
    execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-cf', temp, '-C', layout, '.']);
    renameSync(temp, cached);
  } finally {
    scratch.cleanup();
  }
  return cached;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function answer(port) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`, {signal: AbortSignal.timeout(5000)});
      return `HTTP ${r.status} ${(await r.text()).trim()}`;
    } catch (error) {
      if (Date.now() > deadline) return `no answer (${error.cause?.code ?? error.message})`;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function main() {
  if (!existsSync(path.join(root, 'native/build/berth-engine'))) {
    say('building berth-engine (npm run build:native)');
    const r = spawnSync(process.execPath, [path.join(root, 'scripts/build-native.mjs')], {stdio: 'inherit', cwd: root});
    if (r.status !== 0) throw new Error('building berth-engine failed (see above)');
  }
  copyFileSync(path.join(root, 'native/build/berth-engine'), engineCopy);
  const image = await demoImage();

  say('starting 2 container hosts (Debian 12, systemd, sshd); the first run builds the image (~2 min)');
  const fleet = await startFleet({containers: 2, aptRepo: false, persistent: keep, name: `demo-${process.pid}`});
  let failed = false;
  try {
    const dir = mkdtempSync(path.join(tmpdir(), 'berth-demo-'));
    const spec = path.join(dir, 'demo.yaml');
    // Each host runs a `hello` container: busybox httpd on the host network. The container hosts share this
    // machine's network namespace, so each one gets its own port (bridge networks would collide there).
    const ports = {};
    for (const h of fleet.hosts) ports[h.name] = await freePort();
    copyFileSync(image, path.join(dir, 'busybox.tar'));
    const hosts = Object.fromEntries(
      fleet.hosts.map((h) => [
        h.name,
        {
          address: h.address,
          port: h.port,
          user: h.admin.user,
          identityFile: h.admin.identityFile,
          become: 'sudo',
          containers: {
            hello: {
              image: '/opt/demo/busybox.tar',
              command: ['httpd', '-f', '-p', `127.0.0.1:${ports[h.name]}`, '-h', '/www'],
              network: 'host',
              volumes: ['/srv/demo-www:/www:ro'],
            },
          },
          files: {'/srv/demo-www/index.html': {content: `hello from the container on ${h.name}\n`}},
        },
      ]),
    );
    writeFileSync(
      spec,
      stringify({
        version: 1,
        inventory: {hosts},
        engine: {storage: 'vfs'},
        files: {'/etc/berth-demo/greeting': {content: 'hello from berth\n'}, '/opt/demo/busybox.tar': {source: 'busybox.tar'}},
        units: {
          'demo-greeter.service': {
            content: [
              '[Unit]',
              'Description=demo: prints the greeting every 10 s',
              '[Service]',
              "ExecStart=/bin/sh -c 'while :; do cat /etc/berth-demo/greeting; sleep 10; done'",
              '[Install]',
              'WantedBy=multi-user.target',
              '',
            ].join('\n'),
          },
        },
        dropins: {'demo-greeter.service': {'10-restart.conf': '[Service]\nRestart=always\n'}},
        journald: {systemMaxUse: '64M'},
      }),
    );
    process.stderr.write(`spec: ${spec}\n`);
    const common = ['--known-hosts', fleet.knownHostsFile, '--yes'];

    say('berth apply (first time: every host gets generation 1)');
    const first = await berth(['apply', spec, ...common]);
    if (first.code !== 0) throw new Error(`berth apply failed with exit code ${first.code}`);

    say('what is on the hosts now');
    for (const h of fleet.hosts) {
      const r = await fleet.ssh(
        h,
        'echo "generation: $(readlink /var/lib/berth/current)"; echo "engine: $(readlink /usr/local/bin/berth-engine)";' +
          ' echo "demo-greeter.service: $(systemctl is-active demo-greeter.service) ($(systemctl is-enabled demo-greeter.service))";' +
          ' echo "berth-container-hello.service: $(systemctl is-active berth-container-hello.service)";' +
          ' echo "greeting file: $(cat /etc/berth-demo/greeting)"; sleep 1; sudo journalctl -u demo-greeter.service -n 1 -o cat --no-pager | sed "s/^/journal: /"',
      );
      process.stderr.write(`${h.name}:\n${r.stdout.replace(/^/gm, '  ')}`);
      if (!/demo-greeter.service: active/.test(r.stdout)) failed = true;
    }

    say('the containers answer (GET http://127.0.0.1:PORT/ from here)');
    for (const h of fleet.hosts) {
      const reply = await answer(ports[h.name]);
      process.stderr.write(`${h.name}: GET http://127.0.0.1:${ports[h.name]}/ → ${reply}\n`);
      if (!reply.startsWith('HTTP 200 ')) failed = true;
    }

    say('berth apply again: nothing to do');
    const second = await berth(['apply', spec, ...common, '--json'], {capture: true});
    const doc = JSON.parse(second.out);
    for (const h of doc.hosts) {
      process.stderr.write(`${h.host}: ${h.result?.status ?? 'failed'}${h.result?.restarted?.length ? ` (restarted ${h.result.restarted.join(', ')})` : ''}\n`);
      if (h.result?.status !== 'unchanged' || h.result.restarted.length) failed = true;
    }
    if (second.code !== 0) failed = true;
    say(failed ? 'demo FAILED (see above)' : 'demo done: second apply reported no changes on every host');
  } finally {
    rmSync(path.dirname(engineCopy), {recursive: true, force: true});
    if (keep) {
      process.stderr.write(`hosts left running (--keep): ssh -F ${fleet.sshConfigFile} c1 · stop with: npm run fleet -- down ${fleet.name}\n`);
    } else {
      await fleet.stop();
    }
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`demo: ${error.stack ?? error}\n`);
    process.exit(1);
  },
);
