#!/usr/bin/env node
// `npm run bench -- render`: berth's cold start (`berth --help`, target ≤ 150 ms) and `berth render` of a
// generated 100-host spec (target ≤ 1 s), side by side in one hyperfine run with the bare `node -e 0` floor
// that every node CLI pays before running a line of its own.
import {execFileSync, spawnSync} from 'node:child_process';
import {mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {stringify} from 'yaml';
import {hyperfine, writeResult} from './lib.mjs';

const root = process.cwd();

/** GNU time (Debian package time) for CPU times; installed the project's way when missing. */
function ensureTime() {
  if (spawnSync('test', ['-x', '/usr/bin/time']).status === 0) return;
  execFileSync('sh', ['-c', 'flock /tmp/berth-apt.lock apt-get install -y -o DPkg::Lock::Timeout=600 time >&2'], {stdio: 'inherit'});
}
execFileSync('npm', ['run', '--silent', 'build'], {stdio: 'inherit'});

/** A realistic fleet: web hosts with three containers and health checks, db hosts on devicemapper. */
function fleetSpec(count) {
  const hosts = {};
  for (let i = 1; i <= count; i++) {
    const db = i % 10 === 0;
    hosts[`host-${String(i).padStart(3, '0')}`] = {address: `10.0.${Math.floor(i / 250)}.${i % 250}`, groups: [db ? 'db' : 'web'], labels: {rack: `r${i % 8}`}};
  }
  return {
    version: 1,
    inventory: {defaults: {user: 'ops', become: 'sudo'}, hosts},
    kernel: {sysctls: {'vm.swappiness': 10, 'fs.inotify.max_user_watches': 524288}, modules: ['overlay'], bootParams: ['systemd.unified_cgroup_hierarchy=1']},
    updates: {
      strategy: 'fleet-lock',
      windows: [{days: ['mon', 'wed', 'fri'], start: '02:00', length: '2h', timeZone: 'Europe/Berlin'}],
      lock: {fleetlock: {url: 'https://lock.example.org', group: 'default'}},
    },
    users: {ops: {sudo: true, authorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO7Z3c1yKfW4Q6Zl8Qx8d2xqv2o0nJ3jzvS0hYx1w2bK ops@example']}},
    journald: {storage: 'persistent', systemMaxUse: '1G'},
    timesync: {servers: ['0.pool.ntp.org']},
    groups: {
      web: {
        engine: {storage: 'overlay2'},
        containers: {
          app: {image: 'registry.example.org/app:1.0', env: {MODE: 'production', GREETING: 'hi "there" 100%'}, ports: ['8080:8080'], memory: '512M', health: {command: ['/app/health']}},
          proxy: {image: 'registry.example.org/proxy:2.9', ports: ['80:80', '443:443'], dependsOn: ['app']},
          exporter: {image: 'registry.example.org/exporter:1.8', network: 'host', readOnly: true},
        },
      },
      db: {
        engine: {storage: 'devicemapper', devicemapper: {device: '/dev/vdb', wipe: true}},
        containers: {postgres: {image: '/srv/images/postgres-16.tar', volumes: ['/srv/pg:/var/lib/postgresql/data'], health: {command: ['pg_isready']}}},
      },
    },
  };
}

const dir = mkdtempSync(path.join(tmpdir(), 'berth-bench-render-'));
const spec = path.join(dir, 'fleet-100.yaml');
writeFileSync(spec, stringify(fleetSpec(100)));
const out = path.join(dir, 'out');
const main = path.join(root, 'dist', 'cli', 'main.js');

// One run first, so that a broken render fails the bench instead of timing an error.
execFileSync(process.execPath, [main, 'render', spec, '--out', out], {stdio: ['ignore', 'ignore', 'pipe']});
const hostDirs = readdirSync(out).length;

const rows = hyperfine(
  [
    {name: 'node -e 0 (floor)', cmd: `${process.execPath} -e 0`},
    {name: 'berth --help', cmd: `${process.execPath} ${main} --help`},
    {name: 'berth render (100 hosts)', cmd: `${process.execPath} ${main} render ${spec} --out ${out}`},
  ],
  {runs: 20, warmup: 2},
);
// Where the time goes, in one cold process (median of 5): module imports, readSpec (read + parse + validate
// + resolve), renderHost for every host, writeFileSet over the previous render (only changed files written).
const phaseScript = `
const t0 = performance.now();
const {readSpec} = await import(${JSON.stringify(path.join(root, 'dist/spec/index.js'))});
const {renderHost, writeFileSet} = await import(${JSON.stringify(path.join(root, 'dist/render/index.js'))});
const t1 = performance.now();
const {hosts} = await readSpec(${JSON.stringify(spec)});
const t2 = performance.now();
const sets = hosts.map(renderHost);
const t3 = performance.now();
for (const s of sets) await writeFileSet(s, ${JSON.stringify(out)});
const t4 = performance.now();
console.log(JSON.stringify({imports: t1 - t0, readSpec: t2 - t1, render: t3 - t2, write: t4 - t3}));
`;
const phases = [];
for (let i = 0; i < 5; i++) {
  phases.push(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', phaseScript], {encoding: 'utf8'})));
}
const median = (k) => phases.map((p) => p[k]).sort((a, b) => a - b)[2];
const split = ['imports', 'readSpec', 'render', 'write'].map((k) => `${k} ${median(k).toFixed(0)} ms`).join(', ');

// CPU time (user + system) of each command, median of 5 runs via GNU time: waiting for a busy CPU does not
// count there, so it says more than wall time on a loaded machine.
ensureTime();
const cpu = {};
for (const r of rows) {
  const samples = [];
  for (let i = 0; i < 5; i++) {
    const res = spawnSync('/usr/bin/time', ['-f', '%U %S', 'sh', '-c', `${r.cmd} >/dev/null 2>&1`], {encoding: 'utf8'});
    const [u, sy] = res.stderr.trim().split('\n').at(-1).split(' ').map(Number);
    samples.push((u + sy) * 1000);
  }
  cpu[r.name] = samples.sort((a, b) => a - b)[2];
}

const help = rows.find((r) => r.name === 'berth --help');
const render = rows.find((r) => r.name === 'berth render (100 hosts)');
writeResult('render', {
  title: 'berth --help cold start and berth render of a 100-host spec',
  reproduce: 'npm run bench -- render',
  rows,
  baseline: 'node -e 0 (floor)',
  notes: [
    `Targets: \`berth --help\` ≤ 150 ms (${help.median <= 150 ? 'met' : 'MISSED'}: ${help.median.toFixed(0)} ms); ` +
      `\`berth render\` of 100 hosts ≤ 1000 ms (${render.median <= 1000 ? 'met' : 'MISSED'}: ${render.median.toFixed(0)} ms).`,
    '',
    `The render run reads, validates and resolves the spec, renders ${hostDirs} hosts (web hosts: 3 containers, a health`,
    'check, fleet-lock updates; every tenth host a devicemapper db) and writes every file plus a manifest per host.',
    `CPU time (user + system, median of 5): ${rows.map((r) => `${r.name} ${cpu[r.name].toFixed(0)} ms`).join(' · ')}.`,
    `In one cold process (median of 5): ${split} (render: all ${hostDirs} hosts, ${phases.length} processes).`,
    'The machine is shared (2 cores, other engineers building and testing): medians, not means; the floor row',
    'shows how loaded it was during the run.',
  ],
});
rmSync(dir, {recursive: true, force: true});
