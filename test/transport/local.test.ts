/**
 * localTransport: the same contract as the SSH transport, on this machine, with file paths under a root.
 */
import test from 'ava';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {HostError} from '../../src/errors.js';
import {localTransport} from '../../src/transport/local.js';

let root: string;
test.before(() => {
  root = mkdtempSync(join(tmpdir(), 'berth-local-'));
  mkdirSync(join(root, 'etc'));
});
test.after.always(() => rmSync(root, {recursive: true, force: true}));

test('exec: exit code, stdout, stderr, stdin, env, cwd is the root', async (t) => {
  const tr = localTransport(root);
  const r = await tr.exec('cat; echo "$X"; pwd; echo e >&2; exit 5', {stdin: 'in\n', env: {X: 'x y'}});
  t.deepEqual(r, {code: 5, stdout: `in\nx y\n${root}\n`, stderr: 'e\n'});
});

test('exec: a timeout kills the whole process group', async (t) => {
  const tr = localTransport(root);
  const pidFile = join(root, 'pid');
  await t.throwsAsync(tr.exec(`sh -c 'echo $$ > ${pidFile}; exec sleep 300' & wait`, {timeoutMs: 3000}), {
    instanceOf: HostError,
    message: /timed out after 3000 ms/,
  });
  const pid = readFileSync(pidFile, 'utf8').trim();
  let alive = true;
  for (let i = 0; i < 100 && alive; i++) {
    alive = existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
    if (alive) await new Promise((r) => setTimeout(r, 100));
  }
  t.false(alive);
});

test('put/get under the root: atomic, mode, owner; missing file is null', async (t) => {
  const tr = localTransport(root);
  await tr.put('/etc/app.conf', 'hello\n', {mode: '0600', owner: 'nobody', root: true});
  const file = join(root, 'etc/app.conf');
  t.is(readFileSync(file, 'utf8'), 'hello\n');
  t.is(statSync(file).mode & 0o777, 0o600);
  t.not(statSync(file).uid, 0);
  t.deepEqual(readdirSync(join(root, 'etc')), ['app.conf']);
  t.deepEqual(await tr.get('/etc/app.conf'), Buffer.from('hello\n'));
  t.is(await tr.get('/etc/missing'), null);
  await t.throwsAsync(tr.put('/no/dir/x', 'x'));
});
