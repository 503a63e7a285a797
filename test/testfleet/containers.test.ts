// Container hosts of the test fleet, checked with the real OpenSSH client and the hosts' own systemd.
import test from 'ava';
import {spawnSync} from 'node:child_process';
import {existsSync, readFileSync, readdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {startFleet, type Fleet, type FleetHost} from '../../src/testfleet/index.js';
import {portsDir} from '../../src/testfleet/paths.js';
import {readState} from '../../src/testfleet/state.js';

let fleet: Fleet;

test.before(async (t) => {
  t.timeout(45 * 60_000, 'the first run on a machine builds the image (debootstrap) and the apt repository');
  fleet = await startFleet({containers: 2});
});
test.after.always(async () => {
  await fleet?.stop();
});

/** The real OpenSSH client with strict host-key checking and nothing from ~/.ssh or /etc/ssh. */
function strictSsh(host: FleetHost, knownHosts: string, command: string, input?: string, user = host.admin) {
  return spawnSync(
    'ssh',
    [
      ...['-F', '/dev/null', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`],
      ...['-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'ConnectTimeout=30'],
      ...['-i', user.identityFile, '-p', String(host.port), `${user.user}@${host.address}`, command],
    ],
    {encoding: 'utf8', input: input ?? '', timeout: 120_000},
  );
}

test.serial('a container host answers SSH with strict host-key checking against the fleet known_hosts', (t) => {
  const [c1, c2] = fleet.hosts as [FleetHost, FleetHost];
  const r = strictSsh(c1, fleet.knownHostsFile, 'hostname; id -un; systemctl is-system-running --wait');
  t.is(r.status, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split('\n'), ['c1', 'berth', 'running']);
  t.is(strictSsh(c2, fleet.knownHostsFile, 'hostname').stdout.trim(), 'c2');
  // The fleet's ssh_config gives the same through plain `ssh -F CONFIG NAME`.
  const viaConfig = spawnSync('ssh', ['-F', fleet.sshConfigFile, 'c2', 'hostname'], {encoding: 'utf8', timeout: 120_000});
  t.is(viaConfig.stdout.trim(), 'c2', viaConfig.stderr);
});

test.serial('a wrong or empty known_hosts is refused (no trust on first use)', (t) => {
  const [c1, c2] = fleet.hosts as [FleetHost, FleetHost];
  const lines = readFileSync(fleet.knownHostsFile, 'utf8').trim().split('\n');
  t.is(lines.length, 2);
  // c2's key under c1's address: the classic man-in-the-middle picture.
  const c2Key = lines.find((l) => l.startsWith(`[127.0.0.1]:${c2.port} `))!.split(' ').slice(1).join(' ');
  const wrong = path.join(fleet.dir, 'wrong_known_hosts');
  writeFileSync(wrong, `[127.0.0.1]:${c1.port} ${c2Key}\n`);
  const r = strictSsh(c1, wrong, 'true');
  t.is(r.status, 255);
  t.regex(r.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  const empty = path.join(fleet.dir, 'empty_known_hosts');
  writeFileSync(empty, '');
  const r2 = strictSsh(c1, empty, 'true');
  t.is(r2.status, 255);
  t.regex(r2.stderr, /Host key verification failed|No ED25519 host key is known/);
});

test.serial('hosts have their own hostname, machine-id and boot_id', async (t) => {
  const ids = await Promise.all(fleet.hosts.map((h) => fleet.ssh(h, 'cat /etc/hostname /etc/machine-id /proc/sys/kernel/random/boot_id')));
  const [a, b] = ids.map((r) => r.stdout.trim().split('\n'));
  t.is(a!.length, 3);
  t.is(a![0], 'c1');
  t.is(b![0], 'c2');
  t.regex(a![1]!, /^[0-9a-f]{32}$/);
  t.not(a![1], b![1]);
  t.not(a![2], b![2]);
});

test.serial('berth has passwordless sudo; operator needs the password', async (t) => {
  const c1 = fleet.hosts[0]!;
  t.is((await fleet.ssh(c1, 'sudo -n id -u')).stdout.trim(), '0');
  const noPassword = await fleet.ssh(c1, 'sudo -n id -u', {user: 'operator'});
  t.not(noPassword.code, 0);
  t.regex(noPassword.stderr, /password is required/);
  const wrong = await fleet.ssh(c1, "sudo -S -p '' id -u", {user: 'operator', input: 'not-the-password\n'});
  t.not(wrong.code, 0);
  const right = await fleet.ssh(c1, "sudo -S -p '' id -u", {user: 'operator', input: `${c1.operator.sudoPassword}\n`});
  t.is(right.code, 0, right.stderr);
  t.is(right.stdout.trim(), '0');
  // Password logins are off: only keys.
  const pw = spawnSync('ssh', ['-F', '/dev/null', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${fleet.knownHostsFile}`, '-o', 'BatchMode=yes',
    '-o', 'PubkeyAuthentication=no', '-p', String(c1.port), 'operator@127.0.0.1', 'true'], {encoding: 'utf8', timeout: 60_000});
  t.is(pw.status, 255);
  t.regex(pw.stderr, /Permission denied \(publickey\)/);
});

test.serial('the only apt source is the fleet repository, which offers a newer kernel and security updates', async (t) => {
  const c1 = fleet.hosts[0]!;
  t.truthy(fleet.aptRepoUrl);
  const sources = await fleet.ssh(c1, 'cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null; ls /etc/apt/sources.list.d');
  t.is(sources.stdout.trim(), `deb [trusted=yes] ${fleet.aptRepoUrl} ./\nberth-local.list`);
  const update = await fleet.ssh(c1, 'sudo apt-get -q update');
  t.is(update.code, 0, update.stderr);
  const upgradable = await fleet.ssh(c1, 'apt list --upgradable 2>/dev/null');
  const kernelUpdate = fleet.apt!.updates.find((u) => u.package === 'linux-image-amd64')!;
  t.truthy(kernelUpdate);
  t.regex(upgradable.stdout, new RegExp(`^linux-image-amd64/\\S+ ${kernelUpdate.available.replace(/[.+]/g, '\\$&')} amd64 \\[upgradable from: ${kernelUpdate.installed.replace(/[.+]/g, '\\$&')}\\]`, 'm'));
  const security = fleet.apt!.updates.filter((u) => !u.package.startsWith('linux-'));
  t.true(security.length > 0);
  t.regex(upgradable.stdout, new RegExp(`^${security[0]!.package}/`, 'm'));
  t.regex(readFileSync(fleet.apt!.requestLog, 'utf8'), /GET \/Packages/);
});

test.serial('reboot gives a new boot_id and keeps the disk', async (t) => {
  const c2 = fleet.hosts[1]!;
  const before = await c2.bootId();
  const machineId = (await fleet.ssh(c2, 'cat /etc/machine-id')).stdout;
  t.is((await fleet.ssh(c2, 'echo kept | sudo tee /var/tmp/marker')).code, 0);
  await fleet.reboot(c2);
  const after = await c2.bootId();
  t.regex(after, /^[0-9a-f-]{36}$/);
  t.not(after, before);
  t.is((await fleet.ssh(c2, 'cat /var/tmp/marker')).stdout.trim(), 'kept');
  t.is((await fleet.ssh(c2, 'cat /etc/machine-id')).stdout, machineId);
  t.is((await fleet.ssh(c2, 'systemctl is-system-running --wait')).stdout.trim(), 'running');
});

test.serial('stop() leaves no process, mount, port reservation or file', async (t) => {
  const state = readState(fleet.dir)!;
  const pids = [...state.hosts.map((h) => h.process!.pid), state.aptServer!.pid];
  const ports = state.hosts.map((h) => h.port);
  const started = Date.now();
  await fleet.stop();
  t.log(`teardown of 2 container hosts + apt server: ${Date.now() - started} ms`);
  for (const pid of pids) t.false(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '), `pid ${pid} still there`);
  // No process anywhere still has the fleet's directory as root or cwd, and no mount names it.
  t.false(readFileSync('/proc/self/mountinfo', 'utf8').includes(fleet.dir));
  t.false(existsSync(fleet.dir));
  const reserved = existsSync(portsDir()) ? readdirSync(portsDir()) : [];
  for (const p of ports) t.false(reserved.includes(String(p)));
  for (const h of fleet.hosts) t.is(spawnSync('ssh', ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-p', String(h.port), '127.0.0.1', 'true']).status, 255);
});
