#!/usr/bin/env node
// `npm run fleet -- up|status|down …`: start a test fleet and leave it running, show fleets, stop them.
//   up [--containers N] [--vms N] [--name NAME] [--no-apt]   default: 2 containers, name "dev"
//   status [--json]
//   down [NAME…]            no NAME: fleet "dev" (the default of `up`) and orphans of dead test runs
//   down --all              every fleet, also other people's and those of tests in progress
// The fleet's files (ssh_config, known_hosts, keys, console logs) are in ~/.cache/berth/fleets/NAME/.
import {parseArgs} from 'node:util';
import {register} from 'tsx/esm/api';

register();
const fleetApi = await import('../src/testfleet/index.ts');

const [command = 'status', ...rest] = process.argv.slice(2);
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function up() {
  const {values} = parseArgs({
    args: rest,
    options: {containers: {type: 'string', default: '2'}, vms: {type: 'string', default: '0'}, name: {type: 'string', default: 'dev'}, 'no-apt': {type: 'boolean'}},
  });
  const containers = Number(values.containers);
  const vms = Number(values.vms);
  if (!Number.isInteger(containers) || !Number.isInteger(vms) || containers < 0 || vms < 0) {
    console.error('fleet up: --containers and --vms take a whole number');
    return 2;
  }
  const t0 = Date.now();
  const fleet = await fleetApi.startFleet({containers, vms, name: values.name, persistent: true, aptRepo: !values['no-apt']});
  console.log(`fleet ${fleet.name} up in ${((Date.now() - t0) / 1000).toFixed(1)} s (${fleet.dir})`);
  for (const h of fleet.hosts) console.log(`  ${h.name.padEnd(6)} ${h.kind.padEnd(9)} 127.0.0.1:${h.port}`);
  console.log(`ssh config:  ${fleet.sshConfigFile}   e.g.  ssh -F ${fleet.sshConfigFile} ${fleet.hosts[0]?.name ?? 'c1'}`);
  console.log(`known_hosts: ${fleet.knownHostsFile}`);
  console.log(`operator sudo password: ${fleet.hosts[0]?.operator.sudoPassword ?? '-'}`);
  if (fleet.aptRepoUrl) console.log(`apt repo:    ${fleet.aptRepoUrl} (VMs: ${fleet.apt?.vmUrl}); newer kernel ${fleet.apt?.newKernelRelease}`);
  console.log(`stop with:   npm run fleet -- down ${fleet.name}`);
  return 0;
}

function status() {
  const {values} = parseArgs({args: rest, options: {json: {type: 'boolean'}}});
  const fleets = fleetApi.listFleets().map((f) => ({
    name: f.name,
    dir: f.dir,
    persistent: f.persistent,
    owner: f.persistent ? null : {pid: f.ownerPid, alive: alive(f.ownerPid)},
    apt: f.aptServer ? {port: f.aptServer.port, alive: fleetApi.isAlive(f.aptServer)} : null,
    hosts: f.hosts.map((h) => ({name: h.name, kind: h.kind, port: h.port, running: !!h.process && fleetApi.isAlive(h.process)})),
  }));
  if (values.json) {
    process.stdout.write(JSON.stringify(fleets, null, 2) + '\n');
    return 0;
  }
  if (fleets.length === 0) console.log('no fleets');
  for (const f of fleets) {
    const who = f.persistent ? 'left running by `fleet up`' : `owned by pid ${f.owner.pid}${f.owner.alive ? '' : ' (dead: orphan)'}`;
    console.log(`${f.name}  ${who}  ${f.dir}`);
    for (const h of f.hosts) console.log(`  ${h.name.padEnd(6)} ${h.kind.padEnd(9)} 127.0.0.1:${h.port}  ${h.running ? 'running' : 'stopped'}`);
    if (f.apt) console.log(`  apt    127.0.0.1:${f.apt.port}  ${f.apt.alive ? 'running' : 'stopped'}`);
  }
  return 0;
}

async function down() {
  const {values, positionals} = parseArgs({args: rest, allowPositionals: true, options: {all: {type: 'boolean'}}});
  const fleets = fleetApi.listFleets();
  const chosen = positionals.length
    ? positionals.map((n) => fleets.find((f) => f.name === n) ?? n)
    : fleets.filter((f) => values.all || f.name === 'dev' || (!f.persistent && !alive(f.ownerPid)));
  let failed = 0;
  for (const f of chosen) {
    if (typeof f === 'string') {
      console.error(`fleet down: no fleet named ${f} (see npm run fleet -- status)`);
      failed++;
      continue;
    }
    const t0 = Date.now();
    const {errors} = await fleetApi.teardownFleet(f.dir);
    if (errors.length) {
      failed++;
      console.error(`fleet down ${f.name}: ${errors.join('; ')}`);
    } else console.log(`fleet ${f.name} down in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (chosen.length === 0) console.log('no fleets to stop');
  return failed ? 1 : 0;
}

const commands = {up, status, down};
if (!commands[command]) {
  console.error(`fleet: unknown command ${command}; use up, status or down`);
  process.exit(2);
}
try {
  process.exitCode = await commands[command]();
} catch (e) {
  console.error(e instanceof fleetApi.FleetError ? e.message : e);
  process.exitCode = 1;
}
