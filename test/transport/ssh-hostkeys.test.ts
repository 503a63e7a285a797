/**
 * Host key checking against a real sshd: unknown and changed keys are refused before any authentication
 * (sshd's own DEBUG log shows no userauth request), hashed/wildcard/several-key known_hosts are accepted,
 * @revoked is refused, accept-new records, and `berth trust` records what it shows.
 */
import test from 'ava';
import {execFileSync, spawnSync} from 'node:child_process';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {UserError} from '../../src/errors.js';
import {connectSsh} from '../../src/transport/ssh.js';
import type {SshOptions} from '../../src/transport/ssh.js';
import {trustHosts} from '../../src/transport/trust.js';
import type {SshTarget} from '../../src/transport/types.js';
import {keygen, startSshd, tempFile} from './helpers/sshd.js';
import type {TestSshd} from './helpers/sshd.js';

let sshd: TestSshd;
let target: SshTarget;

test.before(async () => {
  sshd = await startSshd({keyTypes: ['ed25519', 'rsa']});
  target = {name: 'box', address: '127.0.0.1', port: sshd.port, user: 'root', identityFile: sshd.clientKey};
});
test.after.always(async () => {
  await sshd?.stop();
});

const opts = (knownHostsFile: string, extra: SshOptions = {}): SshOptions => ({
  sshConfigFile: '/dev/null',
  knownHostsFile,
  agent: false,
  connectAttempts: 1,
  ...extra,
});

function fingerprintOf(pubLine: string): string {
  const file = tempFile('k.pub', pubLine + '\n');
  return execFileSync('ssh-keygen', ['-lf', file], {encoding: 'utf8'}).split(' ')[1]!;
}

const edLine = () => sshd.hostKeys.find((k) => k.startsWith('ssh-ed25519'))!;
const rsaLine = () => sshd.hostKeys.find((k) => k.startsWith('ssh-rsa'))!;
const kh = (pattern: string, pub: string, marker = '') => `${marker ? marker + ' ' : ''}${pattern} ${pub.split(' ').slice(0, 2).join(' ')}\n`;

/** Run `attempt` and return what sshd logged meanwhile (tests that read the log run serially). */
async function sshdLogDuring(attempt: () => Promise<unknown>): Promise<{log: string; error: unknown}> {
  const before = sshd.log().length;
  let error: unknown;
  try {
    await attempt();
  } catch (e) {
    error = e;
  }
  // sshd logs the disconnect asynchronously: wait until the connection it saw has closed.
  for (let i = 0; i < 100; i++) {
    const log = sshd.log().slice(before);
    if (/Connection (closed|reset)|Disconnected|disconnect/i.test(log)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {log: sshd.log().slice(before), error};
}

test.serial('an unknown host key is refused before anything is sent, with the fingerprint and the next step', async (t) => {
  const file = tempFile('known_hosts', '');
  const {log, error} = await sshdLogDuring(() => connectSsh(target, opts(file)));
  t.true(error instanceof UserError, String(error));
  const e = error as UserError;
  t.regex(e.message, /^refuse unknown host key of box \(127\.0\.0\.1:\d+\): it shows ED25519 key SHA256:/);
  t.true(e.message.includes(fingerprintOf(edLine())), e.message);
  t.true(e.message.includes('nothing was sent'));
  t.is(e.nextStep?.includes(`berth trust --ssh-config /dev/null --known-hosts ${file} 127.0.0.1 --port ${sshd.port}`), true, e.nextStep);
  t.regex(log, /Connection from 127\.0\.0\.1/, 'sshd never saw the connection');
  t.notRegex(log, /userauth-request|Accepted|Failed publickey/, 'authentication was attempted');
  t.is(readFileSync(file, 'utf8'), '', 'known_hosts was written');
});

test.serial('a changed host key is refused before authentication and named as such', async (t) => {
  const impostor = keygen(join(sshd.dir, 'impostor'), 'ed25519');
  const file = tempFile('known_hosts', kh(`[127.0.0.1]:${sshd.port}`, impostor.pub));
  const {log, error} = await sshdLogDuring(() => connectSsh(target, opts(file)));
  t.true(error instanceof UserError, String(error));
  const e = error as UserError;
  t.regex(e.message, /it CHANGED — the host shows ED25519 key SHA256:\S+, known_hosts has a different ssh-ed25519 key \(.*known_hosts:1\)/);
  t.true(e.message.includes(fingerprintOf(edLine())));
  t.regex(e.nextStep ?? '', new RegExp(`ssh-keygen -R '\\[127\\.0\\.0\\.1\\]:${sshd.port}'`));
  t.notRegex(log, /userauth-request|Accepted/);
});

test.serial('@revoked refuses the key even when a plain line trusts it', async (t) => {
  const file = tempFile('known_hosts', kh(`[127.0.0.1]:${sshd.port}`, edLine()) + kh('*', edLine(), '@revoked'));
  const {log, error} = await sshdLogDuring(() => connectSsh(target, opts(file)));
  t.true(error instanceof UserError);
  t.regex((error as Error).message, /is marked @revoked in .*known_hosts:2/);
  t.notRegex(log, /userauth-request|Accepted/);
});

test('hashed known_hosts entries (ssh-keygen -H) are accepted', async (t) => {
  const file = tempFile('known_hosts', kh(`[127.0.0.1]:${sshd.port}`, edLine()));
  execFileSync('ssh-keygen', ['-q', '-H', '-f', file], {stdio: 'ignore'});
  t.true(readFileSync(file, 'utf8').startsWith('|1|'));
  const tr = await connectSsh(target, opts(file));
  t.is((await tr.exec('echo ok')).stdout, 'ok\n');
  await tr.close();
});

test('a wildcard [127.0.0.1]:* line and a host known only by its RSA key are accepted', async (t) => {
  // sshd offers ed25519 first; known_hosts only has RSA, so berth must ask for RSA (as OpenSSH does).
  const file = tempFile('known_hosts', `# fleet\n` + kh('[127.0.0.1]:*,!10.0.0.1', rsaLine()));
  const tr = await connectSsh(target, opts(file));
  t.is((await tr.exec('echo ok')).stdout, 'ok\n');
  await tr.close();
});

test('@cert-authority alone does not vouch for a plain key, and says why', async (t) => {
  const ca = keygen(join(sshd.dir, 'ca'), 'ed25519');
  const file = tempFile('known_hosts', kh('[127.0.0.1]:*', ca.pub, '@cert-authority'));
  const error = await t.throwsAsync(connectSsh(target, opts(file)), {instanceOf: UserError});
  t.regex(error!.message, /an @cert-authority line matches it, but berth cannot check host certificates/);
});

test('StrictHostKeyChecking accept-new (ssh_config) records an unknown key, hashed with HashKnownHosts', async (t) => {
  const file = tempFile('known_hosts', '');
  const config = tempFile('ssh_config', `Host box-alias\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${sshd.clientKey}\n  StrictHostKeyChecking accept-new\n  HashKnownHosts yes\n`);
  const tr = await connectSsh({name: 'box-alias'}, {sshConfigFile: config, knownHostsFile: file, agent: false});
  t.is((await tr.exec('echo ok')).stdout, 'ok\n');
  await tr.close();
  const text = readFileSync(file, 'utf8');
  t.regex(text, /^\|1\|\S+ ssh-ed25519 \S+\n$/);
  t.is(spawnSync('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', file]).status, 0);
  // The next connection trusts the recorded key.
  const again = await connectSsh({name: 'box-alias'}, {sshConfigFile: config, knownHostsFile: file, agent: false});
  await again.close();
});

test.serial('berth trust shows the fingerprint, records the key (hashed when asked) and then connecting works', async (t) => {
  const file = tempFile('known_hosts', '');
  const config = tempFile('ssh_config', 'Host *\n  HashKnownHosts yes\n');
  const out: string[] = [];
  const questions: string[] = [];
  const {log} = await sshdLogDuring(() =>
    trustHosts([`127.0.0.1`], {
      port: sshd.port,
      knownHostsFile: file,
      sshConfigFile: config,
      agent: false,
      out: {write: (s: string) => out.push(s)},
      confirm: async (q) => {
        questions.push(q);
        return true;
      },
    }),
  );
  t.notRegex(log, /userauth-request/, 'trust must not authenticate');
  t.regex(out.join(''), new RegExp(`127\\.0\\.0\\.1 \\(127\\.0\\.0\\.1:${sshd.port}\\): ssh-ed25519 key ${fingerprintOf(edLine()).replace(/[+/]/g, '\\$&')}`));
  t.regex(questions[0] ?? '', /Trust this key for 127\.0\.0\.1\?/);
  t.regex(readFileSync(file, 'utf8'), /^\|1\|/);
  const tr = await connectSsh(target, opts(file));
  await tr.close();
  // Trusting again changes nothing.
  out.length = 0;
  await trustHosts(['127.0.0.1'], {port: sshd.port, knownHostsFile: file, sshConfigFile: config, agent: false, out: {write: (s: string) => out.push(s)}, yes: true});
  t.regex(out.join(''), /already trusted/);
  t.is(readFileSync(file, 'utf8').split('\n').filter(Boolean).length, 1);
});

test('berth trust refuses a changed key and does not touch known_hosts; declining records nothing', async (t) => {
  const impostor = keygen(join(sshd.dir, 'impostor2'), 'ed25519');
  const before = kh(`[127.0.0.1]:${sshd.port}`, impostor.pub);
  const file = tempFile('known_hosts', before);
  const base = {port: sshd.port, knownHostsFile: file, sshConfigFile: '/dev/null', agent: false as const, out: {write: () => undefined}};
  const e = await t.throwsAsync(trustHosts(['127.0.0.1'], {...base, yes: true}), {instanceOf: UserError});
  t.regex(e!.message, /known_hosts has a different ssh-ed25519 key/);
  t.is(readFileSync(file, 'utf8'), before);
  const empty = tempFile('known_hosts', '');
  await t.throwsAsync(trustHosts(['127.0.0.1'], {...base, knownHostsFile: empty, confirm: async () => false}), {message: /not confirmed/});
  t.is(readFileSync(empty, 'utf8'), '');
});

test('the berth trust command: --yes records; without a terminal and without --yes it refuses', async (t) => {
  const file = tempFile('known_hosts', '');
  const cli = (args: string[]) =>
    // setsid: a new session without a controlling terminal, as in CI
    spawnSync('setsid', ['-w', process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'trust', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const common = ['127.0.0.1', '--port', String(sshd.port), '--known-hosts', file, '--ssh-config', '/dev/null'];
  const refused = cli(common);
  t.is(refused.status, 2, refused.stderr);
  t.regex(refused.stderr, /there is no terminal/);
  t.is(readFileSync(file, 'utf8'), '');
  const ok = cli([...common, '--yes']);
  t.is(ok.status, 0, ok.stderr);
  t.true(ok.stdout.includes(fingerprintOf(edLine())));
  t.regex(ok.stdout, /recorded in /);
  t.is(readFileSync(file, 'utf8'), kh(`[127.0.0.1]:${sshd.port}`, edLine()));
});
