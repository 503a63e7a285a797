/**
 * Authentication and routing against real sshd servers: encrypted keys (passphrase through the prompt
 * function), ssh-agent (and IdentitiesOnly limiting it), ssh_config Host patterns, ProxyJump through a
 * second sshd.
 */
import test from 'ava';
import {execFileSync, spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {UserError} from '../../src/errors.js';
import {connectSsh} from '../../src/transport/ssh.js';
import type {SecretRequest} from '../../src/transport/types.js';
import {keygen, startSshd, tempFile} from './helpers/sshd.js';
import type {TestSshd} from './helpers/sshd.js';

let target: TestSshd;
let jump: TestSshd;
let work: string;
let home: string;
let knownHostsFile: string;
let agent: ChildProcess | undefined;
let agentSocket: string;
let encrypted: {file: string; pub: string};
let agentKey: {file: string; pub: string};
let stranger: {file: string; pub: string};

test.before(async () => {
  [target, jump] = await Promise.all([startSshd(), startSshd()]);
  work = mkdtempSync(join(tmpdir(), 'berth-auth-'));
  home = join(work, 'home');
  mkdirSync(home);
  knownHostsFile = tempFile('known_hosts', target.knownHosts() + jump.knownHosts());
  encrypted = keygen(join(work, 'encrypted'), 'ed25519', 'correct horse');
  agentKey = keygen(join(work, 'agent-key'), 'ed25519');
  stranger = keygen(join(work, 'stranger'), 'ed25519');
  target.authorize(encrypted.pub);
  target.authorize(agentKey.pub);
  jump.authorize(target.clientPub);
  // A private ssh-agent in the foreground (-D), stopped by PID in teardown.
  agentSocket = join(work, 'agent.sock');
  agent = spawn('ssh-agent', ['-D', '-a', agentSocket], {stdio: 'ignore'});
  for (let i = 0; i < 200 && !existsSync(agentSocket); i++) await new Promise((r) => setTimeout(r, 50));
  execFileSync('ssh-add', [agentKey.file], {env: {...process.env, SSH_AUTH_SOCK: agentSocket}, stdio: 'ignore'});
});

test.after.always(async () => {
  if (agent?.pid && agent.exitCode === null) {
    const gone = new Promise((r) => agent!.once('exit', r));
    agent.kill('SIGTERM');
    await gone;
  }
  await Promise.all([target?.stop(), jump?.stop()]);
  if (work) rmSync(work, {recursive: true, force: true});
});

const base = () => ({name: 't', address: '127.0.0.1', port: target.port, user: 'root'});

test('an encrypted key asks for its passphrase once, through the prompt function', async (t) => {
  const asked: SecretRequest[] = [];
  const tr = await connectSsh(
    {...base(), identityFile: encrypted.file},
    {sshConfigFile: '/dev/null', knownHostsFile, agent: false, home, prompt: async (r) => (asked.push(r), 'correct horse')},
  );
  t.is((await tr.exec('echo in')).stdout, 'in\n');
  await tr.close();
  t.is(asked.length, 1);
  t.like(asked[0], {kind: 'passphrase', host: 't', subject: encrypted.file});
  t.regex(asked[0]!.message, /passphrase for key/);
});

test('a wrong passphrase three times is a clear error; no prompt possible is explained', async (t) => {
  let asked = 0;
  const wrong = await t.throwsAsync(
    connectSsh({...base(), identityFile: encrypted.file}, {
      sshConfigFile: '/dev/null',
      knownHostsFile,
      agent: false,
      home,
      prompt: async () => (asked++, 'wrong'),
    }),
    {instanceOf: UserError},
  );
  t.is(asked, 3);
  t.regex(wrong!.message, /unlock key .*encrypted: wrong passphrase \(3 attempts\)/);
  const noTty = await t.throwsAsync(
    connectSsh({...base(), identityFile: encrypted.file}, {
      sshConfigFile: '/dev/null',
      knownHostsFile,
      agent: false,
      home,
      prompt: async () => {
        throw new UserError('no terminal here');
      },
    }),
    {instanceOf: UserError},
  );
  t.regex(noTty!.message, /refused every key offered \(.*encrypted: encrypted, no terminal here\)/);
});

test('ssh-agent keys are used (SSH_AUTH_SOCK or the agent option)', async (t) => {
  const tr = await connectSsh(base(), {sshConfigFile: '/dev/null', knownHostsFile, agent: agentSocket, home});
  t.is((await tr.exec('echo via agent')).stdout, 'via agent\n');
  await tr.close();
  t.regex(target.log(), new RegExp(`Accepted publickey for root .*${execFileSync('ssh-keygen', ['-lf', agentKey.file + '.pub'], {encoding: 'utf8'}).split(' ')[1]!.replace(/[+/]/g, '\\$&')}`));
});

test('IdentitiesOnly yes keeps agent keys that are not configured out', async (t) => {
  const config = tempFile('ssh_config', `Host t-only\n  HostName 127.0.0.1\n  Port ${target.port}\n  User root\n  IdentityFile ${stranger.file}\n  IdentitiesOnly yes\n`);
  const e = await t.throwsAsync(connectSsh({name: 't-only'}, {sshConfigFile: config, knownHostsFile, agent: agentSocket, home}), {
    instanceOf: UserError,
  });
  t.regex(e!.message, /refused every key/);
  // Without IdentitiesOnly the agent's key gets in.
  const open = tempFile('ssh_config', `Host t-open\n  HostName 127.0.0.1\n  Port ${target.port}\n  User root\n  IdentityFile ${stranger.file}\n`);
  const tr = await connectSsh({name: 't-open'}, {sshConfigFile: open, knownHostsFile, agent: agentSocket, home});
  await tr.close();
  t.pass();
});

test('ssh_config Host patterns + ProxyJump reach the target through a second sshd', async (t) => {
  const config = tempFile(
    'ssh_config',
    [
      `Host app-* !app-direct`,
      `  ProxyJump jumpbox`,
      `Host app-*`,
      `  HostName 127.0.0.1`,
      `  Port ${target.port}`,
      `Host jumpbox`,
      `  HostName 127.0.0.1`,
      `  Port ${jump.port}`,
      `Host *`,
      `  User root`,
      `  IdentityFile ${target.clientKey}`,
    ].join('\n') + '\n',
  );
  const before = jump.log().length;
  const tr = await connectSsh({name: 'app-1'}, {sshConfigFile: config, knownHostsFile, agent: false, home});
  t.is((await tr.exec('echo through the jump')).stdout, 'through the jump\n');
  await tr.close();
  t.regex(jump.log().slice(before), new RegExp(`direct-tcpip.*127\\.0\\.0\\.1 port ${target.port}|target 127\\.0\\.0\\.1 port ${target.port}`));
  // app-direct is excluded from the jump pattern: the jump host sees nothing new.
  const mid = jump.log().length;
  const direct = await connectSsh({name: 'app-direct'}, {sshConfigFile: config, knownHostsFile, agent: false, home});
  await direct.close();
  t.notRegex(jump.log().slice(mid), /direct-tcpip|Accepted/);
});

test('an inventory jump (user@host:port) works and an unknown jump host key is refused by name', async (t) => {
  // The jump host is logged in to with ssh_config's IdentityFile (the inventory key is the target's).
  const config = tempFile('ssh_config', `Host *\n  IdentityFile ${target.clientKey}\n`);
  const ok = await connectSsh({...base(), jump: `root@127.0.0.1:${jump.port}`}, {sshConfigFile: config, knownHostsFile, agent: false, home});
  t.is((await ok.exec('echo hop')).stdout, 'hop\n');
  await ok.close();
  const onlyTarget = tempFile('known_hosts', target.knownHosts());
  const e = await t.throwsAsync(
    connectSsh({...base(), jump: `root@127.0.0.1:${jump.port}`}, {sshConfigFile: config, knownHostsFile: onlyTarget, agent: false, home}),
    {instanceOf: UserError},
  );
  t.regex(e!.message, new RegExp(`refuse unknown host key of 127\\.0\\.0\\.1 \\(127\\.0\\.0\\.1:${jump.port}\\)`));
});
