/**
 * ssh_config resolution as data: Host patterns, first value wins, inventory over config, tokens, Include,
 * ProxyJump chains. Expectations follow `ssh -G` (OpenSSH's own resolver), which one test compares directly.
 */
import test from 'ava';
import {execFileSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {UserError} from '../../src/errors.js';
import {expandPath, knownHostsNames, loadSshConfig, parseJumpSpec, resolveTarget} from '../../src/transport/resolve-target.js';
import {ensureSshTools} from './helpers/sshd.js';

let home: string;
test.before(() => {
  ensureSshTools();
  home = mkdtempSync(join(tmpdir(), 'berth-home-'));
  mkdirSync(join(home, '.ssh'));
});
test.after.always(() => rmSync(home, {recursive: true, force: true}));

function configFile(text: string): string {
  const file = join(home, `config-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, text);
  return file;
}

const base = `
Host web-* !web-legacy
  User deploy
  Port 2201
  IdentityFile ~/.ssh/web_%r_%h
  IdentityFile /keys/%u/%n
  IdentitiesOnly yes

Host web-1
  HostName 10.0.0.1
  Port 9999

Host *.internal db
  ProxyJump bastion-user@bastion.example.org:2222,hop2
  UserKnownHostsFile ~/.ssh/fleet_hosts /etc/ssh/extra_hosts
  StrictHostKeyChecking accept-new

Host hop2
  User hopper

Host *
  User fallback
  ServerAliveInterval 5
`;

test('Host patterns: wildcard, negation, first value wins, HostName and tokens', (t) => {
  const loaded = loadSshConfig(configFile(base), home);
  const web = resolveTarget({name: 'web-1'}, loaded, {home, agent: false});
  t.is(web.hostname, '10.0.0.1');
  t.is(web.port, 2201, 'the first Port obtained wins (web-* comes before web-1)');
  t.is(web.user, 'deploy');
  t.deepEqual(web.identityFiles.slice(0, 1), [join(home, '.ssh/web_deploy_10.0.0.1')]);
  t.regex(web.identityFiles[1]!, /^\/keys\/[^/]+\/web-1$/);
  t.true(web.identitiesOnly);
  t.is(web.serverAliveIntervalMs, 5000);
  const legacy = resolveTarget({name: 'web-legacy'}, loaded, {home, agent: false});
  t.is(legacy.user, 'fallback', 'the negated pattern excludes web-legacy');
  t.is(legacy.port, 22);
  t.false(legacy.identitiesOnly);
});

test('inventory values win over ssh_config, like the ssh command line', (t) => {
  const loaded = loadSshConfig(configFile(base), home);
  const r = resolveTarget({name: 'web-1', port: 22, user: 'ops', identityFile: '~/inv_key'}, loaded, {home, agent: false});
  t.is(r.port, 22);
  t.is(r.user, 'ops');
  t.is(r.identityFiles[0], join(home, 'inv_key'));
  t.is(r.identityFiles[1], join(home, '.ssh/web_ops_10.0.0.1'), '%r is the user actually used');
  // An address is what is matched against Host patterns (ssh ADDRESS), not the inventory name.
  const byAddress = resolveTarget({name: 'frontend', address: 'web-1'}, loaded, {home, agent: false});
  t.is(byAddress.hostname, '10.0.0.1');
  t.is(byAddress.name, 'frontend');
});

test('ProxyJump chains: each hop resolved through ssh_config; none disables; inventory jump wins', (t) => {
  const loaded = loadSshConfig(configFile(base), home);
  const db = resolveTarget({name: 'db'}, loaded, {home, agent: false});
  t.deepEqual(
    db.jumps.map((j) => [j.user, j.hostname, j.port]),
    [
      ['bastion-user', 'bastion.example.org', 2222],
      ['hopper', 'hop2', 22],
    ],
  );
  t.is(db.strictHostKeyChecking, 'accept-new');
  t.deepEqual(db.userKnownHostsFiles, [join(home, '.ssh/fleet_hosts'), '/etc/ssh/extra_hosts']);
  t.deepEqual(resolveTarget({name: 'db', jump: 'none'}, loaded, {home, agent: false}).jumps, []);
  const viaInventory = resolveTarget({name: 'x.internal', jump: {name: 'j', address: '192.0.2.1', port: 2022, user: 'u'}}, loaded, {home, agent: false});
  t.deepEqual(viaInventory.jumps.map((j) => `${j.user}@${j.hostname}:${j.port}`), ['u@192.0.2.1:2022']);
  t.is(resolveTarget({name: 'x', jump: 'root@[::1]:2200'}, loaded, {home, agent: false}).jumps[0]?.hostname, '::1');
});

test('a ProxyJump loop is reported, not followed forever', (t) => {
  const loaded = loadSshConfig(configFile('Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n'), home);
  t.throws(() => resolveTarget({name: 'a'}, loaded, {home, agent: false}), {instanceOf: UserError, message: /longer than 8 hops/});
});

test('ProxyCommand is refused with the way out', (t) => {
  const loaded = loadSshConfig(configFile('Host p\n  ProxyCommand nc %h %p\n'), home);
  t.throws(() => resolveTarget({name: 'p'}, loaded, {home, agent: false}), {message: /ProxyCommand, which berth does not run/});
});

test('Include splices files (relative to ~/.ssh, globbed, in order)', (t) => {
  mkdirSync(join(home, '.ssh', 'conf.d'), {recursive: true});
  writeFileSync(join(home, '.ssh', 'conf.d', '10-a.conf'), 'Host inc\n  HostName first.example\n');
  writeFileSync(join(home, '.ssh', 'conf.d', '20-b.conf'), 'Host inc\n  HostName second.example\n  User incuser\n');
  const loaded = loadSshConfig(configFile('Include conf.d/*.conf\nHost *\n  User other\n'), home);
  const r = resolveTarget({name: 'inc'}, loaded, {home, agent: false});
  t.is(r.hostname, 'first.example');
  t.is(r.user, 'incuser');
  t.true(loaded.files.some((f) => f.endsWith('20-b.conf')));
});

test('agent socket: SSH_AUTH_SOCK by default, IdentityAgent none, explicit option', (t) => {
  const loaded = loadSshConfig(configFile('Host noagent\n  IdentityAgent none\n'), home);
  const saved = process.env['SSH_AUTH_SOCK'];
  process.env['SSH_AUTH_SOCK'] = '/run/agent.sock';
  try {
    t.is(resolveTarget({name: 'h'}, loaded, {home}).agentSocket, '/run/agent.sock');
    t.is(resolveTarget({name: 'noagent'}, loaded, {home}).agentSocket, undefined);
    t.is(resolveTarget({name: 'h'}, loaded, {home, agent: false}).agentSocket, undefined);
  } finally {
    if (saved === undefined) delete process.env['SSH_AUTH_SOCK'];
    else process.env['SSH_AUTH_SOCK'] = saved;
  }
});

test('known_hosts names: [host]:port off port 22, HostKeyAlias as is', (t) => {
  const loaded = loadSshConfig(configFile('Host aliased\n  HostName 10.1.1.1\n  Port 2222\n  HostKeyAlias shared-name\n'), home);
  t.deepEqual(knownHostsNames(resolveTarget({name: 'aliased'}, loaded, {home, agent: false})), ['shared-name']);
  t.deepEqual(knownHostsNames(resolveTarget({name: 'Plain.Example', port: 2200}, loaded, {home, agent: false})), ['[plain.example]:2200']);
});

test('agrees with ssh -G on hostname, user, port, identity files and jumps', (t) => {
  const file = configFile(base);
  for (const host of ['web-1', 'web-legacy', 'db']) {
    const g = execFileSync('ssh', ['-G', '-F', file, host], {encoding: 'utf8', env: {...process.env, HOME: home}, stdio: ['ignore', 'pipe', 'pipe']});
    const get = (k: string) => g.split('\n').filter((l) => l.startsWith(k + ' ')).map((l) => l.slice(k.length + 1));
    const r = resolveTarget({name: host}, loadSshConfig(file, home), {home, agent: false});
    t.is(r.hostname, get('hostname')[0] ?? '', host);
    t.is(String(r.port), get('port')[0] ?? '', host);
    t.is(r.user, get('user')[0] ?? '', host);
    // ssh -G prints IdentityFile before token expansion: expand the few tokens used here by hand.
    const expanded = get('identityfile').map((f) =>
      f
        .replace(/^~/, home)
        .replace(/%r/g, r.user)
        .replace(/%h/g, r.hostname)
        .replace(/%n/g, host)
        .replace(/%u/g, process.env['USER'] ?? 'root'),
    );
    // (without IdentityFile, ssh -G lists the default names; berth keeps only those that exist)
    if (host === 'web-1') t.deepEqual(r.identityFiles, expanded, host);
    const jump = get('proxyjump')[0];
    t.is(r.jumps.length, jump ? jump.split(',').length : 0, host);
  }
});

test('jump specs and tokens parse like OpenSSH', (t) => {
  t.deepEqual(parseJumpSpec('ssh://u@h:22'), {user: 'u', host: 'h', port: 22});
  t.deepEqual(parseJumpSpec('[fe80::1]:2222'), {host: 'fe80::1', port: 2222});
  t.throws(() => parseJumpSpec('h:99999'), {message: /invalid port/});
  t.is(expandPath('%d/%%/%p', {home: '/home/x', host: 'h', originalHost: 'o', port: 7, remoteUser: 'r'}), '/home/x/%/7');
  t.throws(() => expandPath('%Z', {home: '/', host: 'h', originalHost: 'o', port: 7, remoteUser: 'r'}), {message: /unsupported token %Z/});
});
