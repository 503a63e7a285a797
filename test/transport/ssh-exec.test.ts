/**
 * exec / put / get against a real OpenSSH server on 127.0.0.1, logged in as root with a test key.
 */
import test from 'ava';
import {execFileSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync, readdirSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {HostError} from '../../src/errors.js';
import {connectSsh} from '../../src/transport/ssh.js';
import type {Transport} from '../../src/transport/types.js';
import {freePort, startSshd, tempFile} from './helpers/sshd.js';
import type {TestSshd} from './helpers/sshd.js';

let sshd: TestSshd;
let transport: Transport;
let knownHostsFile: string;
let work: string;
const log: string[] = [];

test.before(async () => {
  sshd = await startSshd();
  knownHostsFile = tempFile('known_hosts', sshd.knownHosts());
  work = mkdtempSync(join(tmpdir(), 'berth-exec-'));
  transport = await connectSsh(
    {name: 'h1', address: '127.0.0.1', port: sshd.port, user: 'root', identityFile: sshd.clientKey},
    {sshConfigFile: '/dev/null', knownHostsFile, agent: false, log: (l) => log.push(l)},
  );
});

test.after.always(async () => {
  await transport?.close();
  await sshd?.stop();
  if (work) rmSync(work, {recursive: true, force: true});
});

test('exec returns exit code, stdout and stderr', async (t) => {
  const r = await transport.exec('echo out; echo err >&2; exit 3');
  t.is(r.code, 3);
  t.is(r.stdout, 'out\n');
  t.is(r.stderr, 'err\n');
  const ok = await transport.exec('printf "%s" "$(id -un)"');
  t.deepEqual({code: ok.code, stdout: ok.stdout, stderr: ok.stderr}, {code: 0, stdout: 'root', stderr: ''});
});

test('exec feeds stdin and keeps binary-safe output', async (t) => {
  const input = Buffer.from('line one\nline two\n\u00e9\n');
  const r = await transport.exec('cat; echo done', {stdin: input});
  t.is(r.stdout, 'line one\nline two\n\u00e9\ndone\n');
});

test('env reaches the command through stdin, not its argument list', async (t) => {
  const secret = `s3cret-${Date.now()}-'quote"\n second line`;
  const marker = join(work, 'env-seen');
  const r = await transport.exec(
    `printf '%s' "$BERTH_SECRET" > ${marker}; ps -eo args > ${marker}.ps; cat; printf '%s' "$OTHER"`,
    {env: {BERTH_SECRET: secret, OTHER: 'x y'}, stdin: 'from-stdin\n'},
  );
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'from-stdin\nx y');
  t.is(readFileSync(marker, 'utf8'), secret);
  t.false(readFileSync(`${marker}.ps`, 'utf8').includes('s3cret'), 'the secret shows in ps');
  t.false(log.join('\n').includes('s3cret'), 'the secret is in the transcript');
});

test.serial('a timeout kills the remote process group and rejects', async (t) => {
  const pidFile = join(work, 'sleeper.pid');
  const error = await t.throwsAsync(
    transport.exec(`sh -c 'echo $$ > ${pidFile}; exec sleep 300' & wait`, {timeoutMs: 10_000}),
    {instanceOf: HostError},
  );
  t.regex(error!.message, /timed out after 10000 ms/);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  // The grandchild (sleep) must be gone too: the whole group is killed.
  let alive = true;
  for (let i = 0; i < 100 && alive; i++) {
    alive = existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
    if (alive) await new Promise((r) => setTimeout(r, 100));
  }
  t.false(alive, `sleep (pid ${pid}) still runs`);
  // The connection is still usable.
  t.is((await transport.exec('echo still here')).stdout, 'still here\n');
});

test('a command killed by a signal reports it', async (t) => {
  const r = await transport.exec('kill -TERM $$');
  t.true(r.code === null ? r.signal === 'TERM' : r.code === 143, JSON.stringify(r));
});

test('many concurrent execs share one connection (more than MaxSessions)', async (t) => {
  const before = sshd.log().split('Accepted publickey').length;
  const results = await Promise.all(
    Array.from({length: 25}, (_, i) => transport.exec(`sleep 0.2; echo ${i}`)),
  );
  t.deepEqual(
    results.map((r) => r.stdout.trim()),
    Array.from({length: 25}, (_, i) => String(i)),
  );
  t.is(sshd.log().split('Accepted publickey').length, before, 'a second login happened');
});

test('put writes atomically with mode and owner, verified; get reads it back', async (t) => {
  const path = join(work, 'sub-file.conf');
  const content = Buffer.from(Array.from({length: 100_000}, (_, i) => String.fromCharCode(32 + (i % 90))).join(''));
  await transport.put(path, content, {mode: '0640', owner: 'nobody', group: 'nogroup'});
  t.true(readFileSync(path).equals(content));
  const st = statSync(path);
  t.is(st.mode & 0o777, 0o640);
  t.is(st.uid, Number(execFileSync('id', ['-u', 'nobody'], {encoding: 'utf8'})));
  t.deepEqual(
    readdirSync(work).filter((f) => f.includes('.berth-')),
    [],
    'a temp file was left behind',
  );
  const back = await transport.get(path);
  t.is(createHash('sha256').update(back!).digest('hex'), createHash('sha256').update(content).digest('hex'));
  t.is(await transport.get(join(work, 'does-not-exist')), null);
  // Replacing keeps other readers safe: a reader holding the old inode still sees the old content.
  writeFileSync(path + '.2', 'old');
  await transport.put(path + '.2', 'new content\n');
  t.is(readFileSync(path + '.2', 'utf8'), 'new content\n');
  t.is(statSync(path + '.2').mode & 0o777, 0o644);
});

test('put into a missing directory fails with a HostError naming the path', async (t) => {
  const error = await t.throwsAsync(transport.put(join(work, 'no/such/dir/f'), 'x'), {instanceOf: HostError});
  t.regex(error!.message, /no\/such\/dir/);
});

test('connect retries ECONNREFUSED until the server comes up', async (t) => {
  const port = await freePort();
  const khFile = tempFile('known_hosts', '');
  let late: TestSshd | undefined;
  const retries: string[] = [];
  const connecting = connectSsh(
    {name: 'late', address: '127.0.0.1', port, user: 'root', identityFile: sshd.clientKey},
    {sshConfigFile: '/dev/null', knownHostsFile: khFile, agent: false, connectAttempts: 40, log: (l) => retries.push(l)},
  );
  try {
    // Start the server only after the first refusal has been seen.
    for (let i = 0; i < 200 && !retries.some((l) => /ECONNREFUSED/.test(l)); i++) await new Promise((r) => setTimeout(r, 50));
    t.true(retries.some((l) => /ECONNREFUSED/.test(l)), 'no refused attempt seen');
    // Same host keys as the first server: known_hosts is ready before the port opens.
    writeFileSync(khFile, sshd.knownHosts().replaceAll(`:${sshd.port} `, `:${port} `));
    late = await startSshd({port, hostKeysFrom: sshd});
    late.authorize(sshd.clientPub);
    const tr = await connecting;
    t.is((await tr.exec('echo up')).stdout, 'up\n');
    await tr.close();
  } finally {
    await connecting.then((tr) => tr.close()).catch(() => undefined);
    await late?.stop();
  }
});

test('a refused login is not retried and says what to do', async (t) => {
  const otherKey = join(work, 'stranger');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-f', otherKey, '-N', '']);
  const before = (sshd.log().match(/Connection from/g) ?? []).length;
  const error = await t.throwsAsync(
    connectSsh(
      {name: 'h1', address: '127.0.0.1', port: sshd.port, user: 'root', identityFile: otherKey},
      {sshConfigFile: '/dev/null', knownHostsFile, agent: false},
    ),
  );
  t.regex(error!.message, /log in to h1 as root@127\.0\.0\.1:\d+: the server refused every key/);
  t.is((sshd.log().match(/Connection from/g) ?? []).length, before + 1, 'login was retried');
});
