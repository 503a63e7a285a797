/**
 * Becoming root through sudo on a real sshd: passwordless (`sudo -n`) and with a password asked once through
 * the prompt function and fed on stdin — never in an argument list (`ps`), the environment, or a log.
 * Creates two local users and their sudoers.d entries, removed again in teardown.
 */
import test from 'ava';
import {execFileSync, spawnSync} from 'node:child_process';
import {mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {HostError, UserError} from '../../src/errors.js';
import {connectSsh} from '../../src/transport/ssh.js';
import type {SshOptions} from '../../src/transport/ssh.js';
import type {SshTarget, Transport} from '../../src/transport/types.js';
import {ensurePackages, startSshd, tempFile} from './helpers/sshd.js';
import type {TestSshd} from './helpers/sshd.js';

const suffix = String(process.pid);
const pwUser = `berth-pw-${suffix}`;
const nopwUser = `berth-np-${suffix}`;
const password = `Pw-${suffix}-${Math.random().toString(36).slice(2)}`;
const sudoers = [`/etc/sudoers.d/berth-test-${pwUser}`, `/etc/sudoers.d/berth-test-${nopwUser}`];
let sshd: TestSshd;
let knownHostsFile: string;
let rootDir: string;
const transcript: string[] = [];

function addUser(name: string, pass: string, rule: string, file: string): void {
  if (spawnSync('id', [name]).status !== 0) execFileSync('useradd', ['-M', '-d', '/nonexistent', '-s', '/bin/sh', name]);
  execFileSync('chpasswd', {input: `${name}:${pass}\n`});
  writeFileSync(file, `${name} ${rule}\n`, {mode: 0o440});
  execFileSync('visudo', ['-cf', file], {stdio: 'ignore'});
}

test.before(async () => {
  ensurePackages({'/usr/bin/sudo': 'sudo', '/usr/sbin/useradd': 'passwd'});
  sshd = await startSshd();
  knownHostsFile = tempFile('known_hosts', sshd.knownHosts());
  addUser(pwUser, password, 'ALL=(ALL:ALL) ALL', sudoers[0]!);
  addUser(nopwUser, `unused-${password}`, 'ALL=(ALL:ALL) NOPASSWD: ALL', sudoers[1]!);
  // A directory only root may enter, to prove root writes really happen as root.
  rootDir = join(sshd.dir, 'root-only');
  mkdirSync(rootDir, {mode: 0o700});
});

test.after.always(async () => {
  await sshd?.stop();
  for (const file of sudoers) rmSync(file, {force: true});
  for (const user of [pwUser, nopwUser]) if (spawnSync('id', [user]).status === 0) execFileSync('userdel', [user]);
});

const target = (user: string, extra: Partial<SshTarget> = {}): SshTarget => ({
  name: `sudo-${user}`,
  address: '127.0.0.1',
  port: sshd.port,
  user,
  identityFile: sshd.clientKey,
  ...extra,
});
const options = (extra: SshOptions = {}): SshOptions => ({
  sshConfigFile: '/dev/null',
  knownHostsFile,
  agent: false,
  log: (l) => transcript.push(l),
  ...extra,
});

test('sudo with a password: asked once, root works for exec, put and get, the password never shows', async (t) => {
  const asked: string[] = [];
  const tr: Transport = await connectSsh(
    target(pwUser, {become: 'sudo-password'}),
    options({prompt: async (r) => (asked.push(`${r.kind}:${r.subject}`), password)}),
  );
  try {
    // Two root commands at once still ask only once.
    const [a, b] = await Promise.all([tr.exec('id -u', {root: true}), tr.exec('id -un', {root: true})]);
    t.is(a.stdout, '0\n');
    t.is(b.stdout, 'root\n');
    t.is((await tr.exec('id -un')).stdout, `${pwUser}\n`, 'without root: the login user');
    // stdin and env reach the command intact: the password line was consumed by sudo, not by the command.
    const io = await tr.exec('cat; printf "[%s]" "$TOKEN"; ps -eww -o args > ' + join(rootDir, 'ps.txt'), {
      root: true,
      stdin: 'exact stdin\n',
      env: {TOKEN: 'tok'},
    });
    t.is(io.code, 0, io.stderr);
    t.is(io.stdout, 'exact stdin\n[tok]');
    t.false(readFileSync(join(rootDir, 'ps.txt'), 'utf8').includes(password), 'the password is in ps output');
    // put as root into a directory the login user cannot enter; owner and mode as asked.
    const file = join(rootDir, 'secret.conf');
    await tr.put(file, 'key=value\n', {root: true, mode: '0600'});
    t.is(readFileSync(file, 'utf8'), 'key=value\n');
    t.is(statSync(file).uid, 0);
    t.is(statSync(file).mode & 0o777, 0o600);
    await tr.put(file, 'key=other\n', {root: true, mode: '0640', owner: 'nobody', group: 'nogroup'});
    t.is(readFileSync(file, 'utf8'), 'key=other\n');
    t.is(statSync(file).mode & 0o777, 0o640);
    t.deepEqual((await tr.get(file, {root: true}))?.toString(), 'key=other\n');
    t.is(await tr.get(join(rootDir, 'missing'), {root: true}), null);
    t.deepEqual(asked, [`sudo-password:${pwUser}`]);
  } finally {
    await tr.close();
  }
  t.false(transcript.join('\n').includes(password), 'the password is in the transcript');
  t.false(sshd.log().includes(password), 'the password is in sshd\'s log');
  const uid = Number(execFileSync('id', ['-u', pwUser], {encoding: 'utf8'}));
  const left = readdirSync('/tmp').filter((f) => f.startsWith('berth-upload.') && statSync(join('/tmp', f)).uid === uid);
  t.deepEqual(left, [], 'the private upload directory was left behind');
});

test('a wrong sudo password is refused clearly after three attempts, without echoing it', async (t) => {
  let asked = 0;
  const tr = await connectSsh(target(pwUser), options({prompt: async () => (asked++, 'not-the-password')}));
  try {
    const e = await t.throwsAsync(tr.exec('true', {root: true}), {instanceOf: UserError});
    t.regex(e!.message, new RegExp(`become root on sudo-${pwUser}: sudo rejected the password of ${pwUser} three times`));
    t.false(e!.message.includes('not-the-password'));
    t.is(asked, 3);
    // Plain commands still work on the same connection.
    t.is((await tr.exec('echo fine')).stdout, 'fine\n');
  } finally {
    await tr.close();
  }
});

test('passwordless sudo is detected: no prompt, sudo -n', async (t) => {
  const tr = await connectSsh(
    target(nopwUser),
    options({
      prompt: async () => {
        throw new Error('must not ask');
      },
    }),
  );
  try {
    t.is((await tr.exec('id -u', {root: true})).stdout, '0\n');
  } finally {
    await tr.close();
  }
});

test('become: sudo on a host that wants a password says to use sudo-password; become: none refuses root', async (t) => {
  const tr = await connectSsh(target(pwUser, {become: 'sudo'}), options());
  try {
    const e = await t.throwsAsync(tr.exec('true', {root: true}), {instanceOf: HostError});
    t.regex(e!.message, /sudo -n refused/);
    t.regex(e!.details.nextStep ?? '', /become: sudo-password/);
  } finally {
    await tr.close();
  }
  const none = await connectSsh(target(nopwUser, {become: 'none'}), options());
  try {
    await t.throwsAsync(none.exec('true', {root: true}), {instanceOf: UserError, message: /become is "none"/});
  } finally {
    await none.close();
  }
});
