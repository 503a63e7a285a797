/**
 * When the link breaks: a command cut off mid-run is reported (never re-run), keepalives notice a silent
 * peer, the next call reconnects, and waitForReconnect waits for a host that went away (a reboot) — and for
 * a new boot_id when asked.
 */
import test from 'ava';
import {readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {HostError} from '../../src/errors.js';
import {connectSsh} from '../../src/transport/ssh.js';
import type {SshOptions} from '../../src/transport/ssh.js';
import {startSshd, tempFile} from './helpers/sshd.js';
import type {TestSshd} from './helpers/sshd.js';

/** Every descendant of `pid` (sshd's per-connection processes), from /proc. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(entry), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) if (pp === p) (out.push(child), walk(child));
  };
  walk(pid);
  return out;
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function setup(sshd: TestSshd, extra: SshOptions = {}) {
  const knownHostsFile = tempFile('known_hosts', sshd.knownHosts());
  return {
    target: {name: 'flaky', address: '127.0.0.1', port: sshd.port, user: 'root', identityFile: sshd.clientKey},
    options: {sshConfigFile: '/dev/null', knownHostsFile, agent: false as const, ...extra},
  };
}

test('a connection cut mid-command is reported, the command is not run again, the next call reconnects', async (t) => {
  const sshd = await startSshd();
  const {target, options} = setup(sshd);
  const counter = join(sshd.dir, 'runs');
  writeFileSync(counter, '');
  const tr = await connectSsh(target, options);
  try {
    const running = tr.exec(`echo run >> ${counter}; sleep 120`);
    await until('the command to start', () => readFileSync(counter, 'utf8') === 'run\n');
    signalAll(descendants(sshd.pid), 'SIGKILL');
    const e = await t.throwsAsync(running, {instanceOf: HostError});
    t.regex(e!.message, /connection was lost while the command ran; it may or may not have run/);
    t.is((await tr.exec('echo again')).stdout, 'again\n');
    t.is(readFileSync(counter, 'utf8'), 'run\n', 'the cut command ran again');
  } finally {
    await tr.close();
    await sshd.stop();
  }
});

test('keepalives notice a peer that stopped answering; a command not yet started goes to a new connection', async (t) => {
  const sshd = await startSshd();
  const transcript: string[] = [];
  const {target, options} = setup(sshd, {keepaliveIntervalMs: 1000, log: (l) => transcript.push(l)});
  const tr = await connectSsh(target, options);
  const frozen = descendants(sshd.pid);
  try {
    t.true(frozen.length > 0);
    signalAll(frozen, 'SIGSTOP');
    // The session request is never answered; keepalives give up on the connection, and since the command
    // never started, it is safe to open it on a fresh connection.
    const r = await tr.exec('echo after');
    t.is(r.stdout, 'after\n');
    t.true(transcript.some((l) => /connection error: Keepalive timeout/i.test(l)), transcript.join('\n'));
    t.true(transcript.some((l) => /reconnecting/.test(l)));
  } finally {
    signalAll(frozen, 'SIGCONT');
    signalAll(frozen, 'SIGKILL');
    await tr.close();
    await sshd.stop();
  }
});

test('waitForReconnect waits while the host is down and resolves once it answers; previousBootId is honoured', async (t) => {
  const sshd = await startSshd();
  const {target, options} = setup(sshd);
  const tr = await connectSsh(target, options);
  let again: TestSshd | undefined;
  try {
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    // The "reboot": the server goes away, connections die, and it comes back a little later.
    signalAll(descendants(sshd.pid), 'SIGKILL');
    await sshd.stop({keep: true});
    const back = tr.waitForReconnect!({timeoutMs: 120_000});
    await new Promise((r) => setTimeout(r, 1500));
    again = await startSshd({port: sshd.port, hostKeysFrom: sshd});
    again.authorize(sshd.clientPub);
    t.is(await back, bootId);
    t.is((await tr.exec('echo back')).stdout, 'back\n');
    // Same boot_id as before the "reboot": this host has not rebooted, keep waiting until the deadline.
    const e = await t.throwsAsync(tr.waitForReconnect!({timeoutMs: 4000, previousBootId: bootId}), {instanceOf: HostError});
    t.regex(e!.message, /did not come back within 4000 ms/);
  } finally {
    await tr.close();
    await again?.stop();
    rmSync(sshd.dir, {recursive: true, force: true});
  }
});
