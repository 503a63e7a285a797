/**
 * Inventory hosts on the test fleet's Debian container hosts, connected as a fleet run does (spec file →
 * loadTargets → connectTarget) with the fleet's own ssh_config: the inventory writes no port or user, so
 * ssh_config's apply (and root comes through sudo for its non-root user); a host whose `jump` names
 * another inventory host is reached through that host's sshd — the socket the target sees is held by a
 * process whose root filesystem is the jump host's.
 */
import test from 'ava';
import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {connectTarget, loadTargets} from '../../src/fleet/targets.js';
import {startFleet, type Fleet} from '../../src/testfleet/index.js';

let fleet: Fleet;
let dir: string;

test.before(async (t) => {
  t.timeout(45 * 60_000, 'the first run on a machine builds the fleet image (debootstrap)');
  fleet = await startFleet({containers: 2});
  dir = mkdtempSync(join(tmpdir(), 'berth-connect-fleet-'));
});
test.after.always(async () => {
  await fleet?.stop();
  if (dir) rmSync(dir, {recursive: true, force: true});
});

test('ssh_config Port/User for a silent inventory; a jump naming an inventory host goes through its sshd', async (t) => {
  const spec = join(dir, 'spec.yaml');
  writeFileSync(spec, 'version: 1\ninventory:\n  hosts:\n    c1: {}\n    c2: {jump: c1}\n');
  const targets = await loadTargets(spec, undefined, false);
  const log: string[] = [];
  const [c1, c2] = await Promise.all(targets.map((target) => connectTarget(target, {sshConfigFile: fleet.sshConfigFile}, (l) => log.push(l))));
  t.teardown(() => Promise.all([c1!.close(), c2!.close()]));
  const [h1, h2] = fleet.hosts;
  t.is((await c1!.exec('id -un; hostname')).stdout, 'berth\nc1\n');
  t.true(log.includes(`connect c1: berth@127.0.0.1:${h1!.port}`), log.join('\n'));
  t.true(log.includes(`connect c2: berth@127.0.0.1:${h2!.port} via c1 (berth@127.0.0.1:${h1!.port})`), log.join('\n'));
  // User berth came from ssh_config, so root goes through sudo -n (the fleet's berth has passwordless sudo).
  t.is((await c2!.exec('id -u', {root: true})).stdout, '0\n');
  const seen = (await c2!.exec('hostname; echo "$SSH_CONNECTION"')).stdout.split('\n');
  t.is(seen[0], 'c2');
  const clientPort = Number(seen[1]!.split(' ')[1]);
  const ss = execFileSync('ss', ['-tnpH', 'state', 'established', 'src', `127.0.0.1:${clientPort}`], {encoding: 'utf8'});
  const pid = /pid=(\d+)/.exec(ss)?.[1];
  t.truthy(pid, `no process holds 127.0.0.1:${clientPort}: ${ss}`);
  t.is(readFileSync(`/proc/${pid}/root/etc/hostname`, 'utf8').trim(), 'c1', 'the connection into c2 comes from inside c1');
});
