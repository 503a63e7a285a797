#!/usr/bin/env node
// `npm run bench -- validate`: `berth validate` of a generated 100-host spec (target: well under 1 s), of the
// same spec with an error on every host (the report path: positions, excerpts, did-you-mean), and a one-host
// spec, side by side with the `node -e 0` floor. Also records the in-process split (load / schema+checks).
import {execFileSync} from 'node:child_process';
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {stringify} from 'yaml';
import {hyperfine, writeResult} from './lib.mjs';

const root = process.cwd();
execFileSync('npm', ['run', '--silent', 'build'], {stdio: 'inherit'});

/** Web hosts in groups with containers, every tenth a devicemapper db host with its own overrides. */
function fleetSpec(count, {broken = false} = {}) {
  const hosts = {};
  for (let i = 1; i <= count; i++) {
    const db = i % 10 === 0;
    const host = {address: `10.0.${Math.floor(i / 250)}.${i % 250}`, groups: db ? ['db'] : ['web', 'eu'], labels: {rack: `r${i % 8}`}};
    if (db) host.engine = {devicemapper: {device: '/dev/vdb', wipe: true, thinPoolSize: '95%VG'}};
    if (i % 7 === 0 && !db) host.containers = {app: {env: {SHARD: String(i)}}};
    if (broken) host.port = 70000 + i;
    hosts[`host-${String(i).padStart(3, '0')}`] = host;
  }
  return {
    version: 1,
    inventory: {defaults: {user: 'ops', become: 'sudo'}, hosts},
    kernel: {sysctls: {'vm.swappiness': 10, 'net.ipv4.ip_forward': true}, modules: ['overlay', 'br_netfilter']},
    updates: {
      strategy: 'window',
      windows: [{days: ['mon', 'wed'], start: '02:00', length: '2h', timeZone: 'Europe/Berlin'}],
      maxUnavailable: '10%',
      health: [{tcp: '127.0.0.1:80'}, {http: 'http://127.0.0.1:8080/health', status: 200}],
    },
    users: {ops: {uid: 1001, sudo: true, authorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO7Z3c1yKfW4Q ops@example']}},
    files: {'/etc/motd': {content: 'managed by berth\n'}},
    groups: {
      eu: {timesync: {servers: ['0.de.pool.ntp.org']}},
      web: {
        engine: {storage: 'overlay2'},
        containers: {
          app: {image: 'registry.example.org/app:1.0', ports: ['8080:8080'], memory: '512M', health: {command: ['/app/health']}},
          proxy: {image: 'registry.example.org/proxy:2.9', ports: ['80:80', '443:443'], dependsOn: ['app']},
        },
      },
      db: {
        engine: {storage: 'devicemapper'},
        containers: {postgres: {image: '/srv/images/postgres-16.tar', volumes: ['/srv/pg:/var/lib/postgresql/data']}},
      },
    },
  };
}

const dir = mkdtempSync(path.join(tmpdir(), 'berth-bench-validate-'));
const fleet = path.join(dir, 'fleet-100.yaml');
const broken = path.join(dir, 'fleet-100-broken.yaml');
const single = path.join(dir, 'single.yaml');
writeFileSync(fleet, stringify(fleetSpec(100)));
writeFileSync(broken, stringify(fleetSpec(100, {broken: true})));
writeFileSync(single, stringify(fleetSpec(1)));
const main = path.join(root, 'dist', 'cli', 'main.js');

// Check the outcomes first, so the bench fails instead of timing the wrong thing.
execFileSync(process.execPath, [main, 'validate', fleet], {stdio: 'ignore'});
let brokenExit = 0;
try {
  execFileSync(process.execPath, [main, 'validate', broken], {stdio: 'ignore'});
} catch (error) {
  brokenExit = error.status;
}
if (brokenExit !== 3) throw new Error(`validate of the broken spec exited ${brokenExit}, expected 3`);

// The in-process split: one cold process measuring itself.
const split = execFileSync(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `const t0 = performance.now();
     const {loadSpecFile} = await import(${JSON.stringify(path.join(root, 'dist/spec/load.js'))});
     const {validateSpec} = await import(${JSON.stringify(path.join(root, 'dist/spec/validate.js'))});
     const t1 = performance.now();
     const loaded = await loadSpecFile(${JSON.stringify(fleet)});
     const t2 = performance.now();
     validateSpec(loaded);
     const t3 = performance.now();
     validateSpec(loaded);
     const t4 = performance.now();
     console.log(JSON.stringify({imports: t1 - t0, load: t2 - t1, first: t3 - t2, again: t4 - t3}));`,
  ],
  {encoding: 'utf8'},
);
const ms = JSON.parse(split);

const rows = hyperfine(
  [
    {name: 'node -e 0 (floor)', cmd: `${process.execPath} -e 0`},
    {name: 'berth validate (1 host)', cmd: `${process.execPath} ${main} validate ${single}`},
    {name: 'berth validate (100 hosts)', cmd: `${process.execPath} ${main} validate ${fleet}`},
    {name: 'berth validate (100 hosts, 100 errors)', cmd: `sh -c '${process.execPath} ${main} validate ${broken} >/dev/null; test $? -eq 3'`},
  ],
  {runs: 10, warmup: 1},
);
const hundred = rows.find((r) => r.name === 'berth validate (100 hosts)');
writeResult('validate', {
  title: 'berth validate of a 100-host spec',
  reproduce: 'npm run bench -- validate',
  rows,
  baseline: 'node -e 0 (floor)',
  notes: [
    `Target: \`berth validate\` of 100 hosts well under 1000 ms (${hundred.median < 1000 ? 'met' : 'MISSED'}: ${hundred.median.toFixed(0)} ms).`,
    '',
    `In one cold process (${path.basename(fleet)}): importing load+validate ${ms.imports.toFixed(0)} ms, reading and parsing the YAML ` +
      `${ms.load.toFixed(0)} ms, first validateSpec (compiles the schema) ${ms.first.toFixed(0)} ms, a second validateSpec ${ms.again.toFixed(0)} ms.`,
    'The machine is shared (2 cores, other engineers building and testing): medians, not means.',
  ],
});
