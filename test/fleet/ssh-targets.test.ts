/**
 * Inventory hosts as transport targets, as data: which keys the spec wrote, OpenSSH's precedence against a
 * real ssh_config file (inventory > ssh_config > spec defaults), jump hosts from the inventory, chains,
 * cycles and jump names nobody defines.
 */
import test from 'ava';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {UserError} from '../../src/errors.js';
import {inventoryConnections, inventorySshTarget} from '../../src/fleet/ssh-targets.js';
import {loadSshConfig, resolveTarget} from '../../src/transport/resolve-target.js';
import type {Spec} from '../../src/spec/types.js';

let home: string;
test.before(() => {
  home = mkdtempSync(join(tmpdir(), 'berth-ssh-targets-'));
});
test.after.always(() => rmSync(home, {recursive: true, force: true}));

function sshConfig(text: string) {
  const file = join(home, `config-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, text);
  return loadSshConfig(file, home);
}

const inventory = (hosts: Spec['inventory']['hosts'], defaults?: Spec['inventory']['defaults']) =>
  inventoryConnections({version: 1, inventory: defaults ? {defaults, hosts} : {hosts}} as Spec);

const config = `
Host db-*
  HostName 10.1.0.9
  Port 2200
  User deploy
Host gateway
  HostName 10.9.9.9
  User gw
Host *
  Port 2999
`;

test('a host that writes no port or user takes them from ssh_config; written values win; defaults last', (t) => {
  const loaded = sshConfig(config);
  const inv = inventory(
    {
      'db-1': {},
      'db-2': {port: 22, user: 'root'},
      'db-3': {},
      web: {address: 'web.example.org'},
    },
    {identityFile: '~/.ssh/fleet'},
  );
  const r = (name: string) => resolveTarget(inventorySshTarget(name, inv, loaded), loaded, {home, agent: false});
  t.like(r('db-1'), {hostname: '10.1.0.9', port: 2200, user: 'deploy'});
  t.is(inventorySshTarget('db-1', inv, loaded).become, undefined, 'the user came from ssh_config: the transport decides become');
  t.like(r('db-2'), {hostname: '10.1.0.9', port: 22, user: 'root'});
  t.is(inventorySshTarget('db-2', inv, loaded).become, 'none');
  t.is(r('db-3').identityFiles[0], join(home, '.ssh/fleet'), 'inventory.defaults counts as written');
  // Host * gives a port but no user: the spec's default user (root), not the local one.
  t.like(r('web'), {hostname: 'web.example.org', port: 2999, user: 'root'});
  const none = sshConfig('');
  t.like(resolveTarget(inventorySshTarget('web', inv, none), none, {home, agent: false}), {port: 22, user: 'root'});
  // inventory.defaults.user is written too, so it beats ssh_config.
  const withUser = inventory({'db-1': {}}, {user: 'ops'});
  t.like(resolveTarget(inventorySshTarget('db-1', withUser, loaded), loaded, {home, agent: false}), {user: 'ops', port: 2200});
});

test('a jump naming an inventory host uses that host\'s address, port, user and key; chains resolve hop by hop', (t) => {
  const loaded = sshConfig(config);
  const inv = inventory({
    bastion: {address: '192.0.2.1', port: 2022, user: 'jumper', identityFile: '/keys/bastion'},
    inner: {address: '10.0.0.2', jump: 'bastion', identityFile: '/keys/inner'},
    app: {address: '10.0.0.3', port: 22, user: 'root', jump: 'inner'},
  });
  const resolved = resolveTarget(inventorySshTarget('app', inv, loaded, (n) => `berth trust --spec s.yaml ${n}`), loaded, {home, agent: false});
  t.deepEqual(
    resolved.jumps.map((j) => [j.name, j.hostname, j.port, j.user, j.identityFiles[0], j.trustHint]),
    [
      ['bastion', '192.0.2.1', 2022, 'jumper', '/keys/bastion', 'berth trust --spec s.yaml bastion'],
      ['inner', '10.0.0.2', 2999, 'root', '/keys/inner', 'berth trust --spec s.yaml inner'],
    ],
  );
  t.like(resolved, {hostname: '10.0.0.3', port: 22, user: 'root', trustHint: 'berth trust --spec s.yaml app'});
});

test('inventory.defaults.jump: every host goes through it, the jump host itself goes direct', (t) => {
  const loaded = sshConfig('');
  const inv = inventory({bastion: {address: '192.0.2.1'}, app: {address: '10.0.0.3'}}, {jump: 'bastion'});
  t.is(inventorySshTarget('bastion', inv, loaded).jump, undefined);
  t.like(inventorySshTarget('app', inv, loaded).jump, {name: 'bastion', address: '192.0.2.1'});
});

test('a jump cycle is refused naming the chain and the spec key', (t) => {
  const loaded = sshConfig('');
  const inv = inventory({
    a: {address: '10.0.0.1', jump: 'b'},
    b: {address: '10.0.0.2', jump: 'c'},
    c: {address: '10.0.0.3', jump: 'a'},
    d: {address: '10.0.0.4', jump: 'b'},
    self: {address: '10.0.0.5', jump: 'self'},
  });
  const e = t.throws(() => inventorySshTarget('a', inv, loaded), {instanceOf: UserError});
  t.is(e!.message, 'connect a: jump hosts form a cycle: a → b → c → a (/inventory/hosts/c/jump)');
  t.is(e!.nextStep, 'one of these hosts must be reachable directly: remove its `jump`');
  t.is(
    t.throws(() => inventorySshTarget('d', inv, loaded))!.message,
    'connect d: jump hosts form a cycle: b → c → a → b (/inventory/hosts/a/jump)',
  );
  t.is(t.throws(() => inventorySshTarget('self', inv, loaded))!.message, 'connect self: jump hosts form a cycle: self → self (/inventory/hosts/self/jump)');
});

test('a jump name that is neither an inventory host nor an ssh_config Host is refused naming host and key', (t) => {
  const loaded = sshConfig(config);
  const inv = inventory({
    app: {address: '10.0.0.3', jump: 'nowhere'},
    viaConfig: {address: '10.0.0.4', jump: 'gateway'},
    viaSpec: {address: '10.0.0.5', jump: 'ops@gw.example.org:2222'},
  });
  const e = t.throws(() => inventorySshTarget('app', inv, loaded), {instanceOf: UserError});
  t.regex(e!.message, /^connect app: jump host "nowhere" \(\/inventory\/hosts\/app\/jump\) is neither an inventory host nor a Host in ssh_config \(.*config-/);
  t.regex(e!.nextStep!, /at \/inventory\/hosts\/app\/jump, name an inventory host, write `user@host\[:port\]`, or add `Host nowhere`/);
  // `Host *` alone does not define a name (it would go to DNS).
  t.throws(() => inventorySshTarget('app', inventory({app: {jump: 'db'}}), loaded), {message: /jump host "db"/});
  const viaConfig = resolveTarget(inventorySshTarget('viaConfig', inv, loaded), loaded, {home, agent: false});
  t.deepEqual(viaConfig.jumps.map((j) => [j.hostname, j.user]), [['10.9.9.9', 'gw']]);
  const viaSpec = resolveTarget(inventorySshTarget('viaSpec', inv, loaded), loaded, {home, agent: false});
  t.deepEqual(viaSpec.jumps.map((j) => [j.hostname, j.port, j.user]), [['gw.example.org', 2222, 'ops']]);
  // The inherited key is named when the jump comes from inventory.defaults.
  const inherited = inventory({app: {address: '10.0.0.3'}}, {jump: 'nowhere'});
  t.throws(() => inventorySshTarget('app', inherited, loaded), {message: /\(\/inventory\/defaults\/jump\)/});
});
