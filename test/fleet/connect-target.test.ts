/**
 * Connecting to inventory hosts the way a fleet run does (a spec file on disk → loadTargets → connectTarget)
 * against real OpenSSH servers on 127.0.0.1: ssh_config's Port/User apply where the inventory is silent, the
 * inventory wins where it speaks, and a `jump` naming an inventory host goes through that host — shown by the
 * jump host's own sshd log — with every hop's host key checked. Creates one local user, removed in teardown.
 */
import test from 'ava';
import {execFileSync, spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {UserError} from '../../src/errors.js';
import {run as runTrust} from '../../src/cli/trust.js';
import {connectTarget, loadTargets, type ConnectOptions} from '../../src/fleet/targets.js';
import {ensurePackages, freePort, startSshd, type TestSshd} from '../transport/helpers/sshd.js';

const cfgUser = `berth-cfg-${process.pid}`;
let dir: string;
let target: TestSshd;
let bastion: TestSshd;
let hop: TestSshd;
let knownHostsFile: string;

test.before(async () => {
  ensurePackages({'/usr/sbin/useradd': 'passwd'});
  if (spawnSync('id', [cfgUser]).status !== 0) execFileSync('useradd', ['-M', '-d', '/nonexistent', '-s', '/bin/sh', cfgUser]);
  // sshd without PAM refuses a locked account (no password set) even for key logins.
  execFileSync('chpasswd', {input: `${cfgUser}:unused-${Math.random().toString(36).slice(2)}\n`});
  dir = mkdtempSync(join(tmpdir(), 'berth-connect-target-'));
  // Each server lets in only its own client key: a hop that logged in with another host's key would fail.
  [target, bastion, hop] = await Promise.all([startSshd(), startSshd(), startSshd()]);
  knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, target.knownHosts() + bastion.knownHosts() + hop.knownHosts());
});

test.after.always(async () => {
  await Promise.all([target?.stop(), bastion?.stop(), hop?.stop()]);
  if (dir) rmSync(dir, {recursive: true, force: true});
  if (spawnSync('id', [cfgUser]).status === 0) execFileSync('userdel', [cfgUser]);
});

function file(name: string, text: string): string {
  const path = join(dir, `${Math.random().toString(36).slice(2)}-${name}`);
  writeFileSync(path, text);
  return path;
}

async function connect(spec: string, name: string, options: ConnectOptions, log: string[] = []) {
  const targets = await loadTargets(spec, [name], false);
  return connectTarget(targets[0]!, options, (line) => log.push(line));
}

test.serial('ssh_config Port and User apply when the inventory writes none; written values win', async (t) => {
  const closed = await freePort();
  const sshConfigFile = file(
    'ssh_config',
    [
      'Host cfg-target',
      '  HostName 127.0.0.1',
      `  Port ${target.port}`,
      `  User ${cfgUser}`,
      `  IdentityFile ${target.clientKey}`,
      'Host cfg-wrong',
      '  HostName 127.0.0.1',
      `  Port ${closed}`,
      '  User nobody-here',
    ].join('\n') + '\n',
  );
  const spec = file(
    'spec.yaml',
    [
      'version: 1',
      'inventory:',
      '  hosts:',
      '    from-config: {address: cfg-target}',
      `    written: {address: cfg-wrong, port: ${target.port}, user: root, identityFile: ${target.clientKey}}`,
    ].join('\n') + '\n',
  );
  const options = {sshConfigFile, knownHostsFile};
  const log: string[] = [];
  const a = await connect(spec, 'from-config', options, log);
  t.teardown(() => a.close());
  const seen = await a.exec('id -un; echo "$SSH_CONNECTION"');
  t.is(seen.stdout.split('\n')[0], cfgUser, 'ssh_config User');
  t.regex(seen.stdout, new RegExp(`127\\.0\\.0\\.1 ${target.port}\\n$`), 'ssh_config Port');
  t.deepEqual(log.filter((l) => l.startsWith('connect ')), [`connect from-config: ${cfgUser}@127.0.0.1:${target.port}`]);

  const b = await connect(spec, 'written', options);
  t.teardown(() => b.close());
  const written = await b.exec('id -un; echo "$SSH_CONNECTION"');
  t.is(written.stdout.split('\n')[0], 'root', 'the inventory user beats ssh_config');
  t.regex(written.stdout, new RegExp(`127\\.0\\.0\\.1 ${target.port}\\n$`), 'the inventory port beats ssh_config');
});

function jumpSpec(knownExtra = ''): string {
  return file(
    'spec.yaml',
    [
      'version: 1',
      'inventory:',
      '  hosts:',
      `    bastion: {address: 127.0.0.1, port: ${bastion.port}, user: root, identityFile: ${bastion.clientKey}}`,
      `    inner: {address: 127.0.0.1, port: ${hop.port}, user: root, identityFile: ${hop.clientKey}, jump: bastion}`,
      `    app: {address: 127.0.0.1, port: ${target.port}, user: root, identityFile: ${target.clientKey}, jump: bastion}`,
      `    deep: {address: 127.0.0.1, port: ${target.port}, user: root, identityFile: ${target.clientKey}, jump: inner}`,
      knownExtra,
    ].join('\n') + '\n',
  );
}

/** The PID holding the local end of the established TCP connection from 127.0.0.1:PORT (`ss -p`). */
function socketOwner(port: number): number {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', 'src', `127.0.0.1:${port}`], {encoding: 'utf8'});
  const pid = /pid=(\d+)/.exec(out)?.[1];
  if (!pid) throw new Error(`no process holds 127.0.0.1:${port}:\n${out}`);
  return Number(pid);
}

function ancestors(pid: number): number[] {
  const out: number[] = [];
  for (let p = pid; p > 1; ) {
    out.push(p);
    p = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
  }
  return out;
}

/** The line OpenSSH's sshd (LogLevel DEBUG1) writes when a client asks it to open a TCP connection onward. */
const forwardedTo = (port: number) => new RegExp(`server_request_direct_tcpip: originator [^\\n]* target 127\\.0\\.0\\.1 port ${port}\\b`);

test.serial('a jump naming an inventory host goes through it with its own port, user and key', async (t) => {
  // An empty ssh_config: nothing but the inventory says how to reach the bastion.
  const options = {sshConfigFile: file('ssh_config', ''), knownHostsFile};
  const spec = jumpSpec();
  const before = {bastion: bastion.log().length, target: target.log().length};
  const log: string[] = [];
  const app = await connect(spec, 'app', options, log);
  t.is((await app.exec('echo through the bastion')).stdout, 'through the bastion\n');
  // The TCP connection the target sees comes from the bastion's sshd: its client port belongs to a socket
  // held by a process descended from the bastion's sshd (not by this test process).
  const clientPort = Number((await app.exec('echo "$SSH_CONNECTION"')).stdout.split(' ')[1]);
  t.true(ancestors(socketOwner(clientPort)).includes(bastion.pid), `port ${clientPort} is not held by the bastion's sshd`);
  await app.close();
  t.regex(bastion.log().slice(before.bastion), /Accepted publickey for root/);
  t.regex(bastion.log().slice(before.bastion), forwardedTo(target.port));
  t.regex(target.log().slice(before.target), /Accepted publickey for root/);
  t.true(log.includes(`connect app: root@127.0.0.1:${target.port} via bastion (root@127.0.0.1:${bastion.port})`), log.join('\n'));

  // a → inner → bastion: two hops, each forwards to the next.
  const mid = {bastion: bastion.log().length, hop: hop.log().length};
  const deep = await connect(spec, 'deep', options);
  t.is((await deep.exec('echo two hops')).stdout, 'two hops\n');
  await deep.close();
  t.regex(bastion.log().slice(mid.bastion), forwardedTo(hop.port));
  t.regex(hop.log().slice(mid.hop), forwardedTo(target.port));
});

test.serial('an unknown host key is refused at every hop: at the jump host, nothing reaches the target', async (t) => {
  const spec = jumpSpec();
  const sshConfigFile = file('ssh_config', '');
  // The bastion's key is missing from known_hosts: refused at the first hop, naming it and the way to trust it.
  const onlyTargets = file('known_hosts', target.knownHosts() + hop.knownHosts());
  const before = {bastion: bastion.log().length, target: target.log().length};
  const e = await t.throwsAsync(connect(spec, 'app', {sshConfigFile, knownHostsFile: onlyTargets}), {instanceOf: UserError});
  t.regex(e!.message, new RegExp(`refuse unknown host key of bastion \\(127\\.0\\.0\\.1:${bastion.port}\\)`));
  t.is(e!.nextStep?.includes(`berth trust --spec ${spec} --ssh-config ${sshConfigFile} --known-hosts ${onlyTargets} bastion`), true, e!.nextStep);
  t.notRegex(bastion.log().slice(before.bastion), /Accepted publickey|direct_tcpip/);
  t.notRegex(target.log().slice(before.target), /Connection from/);
  // The last hop is checked as strictly: the target's key missing is refused at the target, after the hop.
  const onlyBastion = file('known_hosts', bastion.knownHosts());
  const e2 = await t.throwsAsync(connect(spec, 'app', {sshConfigFile, knownHostsFile: onlyBastion}), {instanceOf: UserError});
  t.regex(e2!.message, new RegExp(`refuse unknown host key of app \\(127\\.0\\.0\\.1:${target.port}\\)`));
  t.is(e2!.nextStep?.includes(`--known-hosts ${onlyBastion} app`), true, e2!.nextStep);
  // That next step works: `berth trust --spec` reaches app through the bastion and records app's key.
  const mid = bastion.log().length;
  t.is(await runTrust(['--spec', spec, '--ssh-config', sshConfigFile, '--known-hosts', onlyBastion, '--yes', 'app']), 0);
  t.regex(bastion.log().slice(mid), forwardedTo(target.port));
  const app = await connect(spec, 'app', {sshConfigFile, knownHostsFile: onlyBastion});
  t.is((await app.exec('echo trusted')).stdout, 'trusted\n');
  await app.close();
});
