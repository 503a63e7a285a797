/**
 * The exec wrapper as data, then run for real through /bin/sh (dash on Debian) the way sshd would run it.
 */
import test from 'ava';
import {spawn} from 'node:child_process';
import {buildRemoteCommand, shellQuote, takePgid} from '../../src/transport/remote-command.js';

function runLocally(command: string, stdin: Buffer): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {stdio: ['pipe', 'pipe', 'pipe']});
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('close', (code) => resolve({code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString()}));
    child.stdin.end(stdin);
  });
}

test('shellQuote leaves safe words alone and quotes the rest', (t) => {
  t.is(shellQuote('/etc/berth/x.conf'), '/etc/berth/x.conf');
  t.is(shellQuote(''), "''");
  t.is(shellQuote("it's"), `'it'\\''s'`);
  t.is(shellQuote('a b$c'), `'a b$c'`);
});

test('the command line carries no env value and no password', (t) => {
  const r = buildRemoteCommand('echo hi', {become: 'sudo-password', sudoPassword: 'pw-123', env: {TOKEN: 'tok-456'}});
  t.true(r.command.startsWith(`sudo -S -k -p '' -- sh -c `));
  t.false(r.command.includes('pw-123'));
  t.false(r.command.includes('tok-456'));
  t.true(r.preamble.toString().startsWith('pw-123\n'));
  t.true(r.preamble.toString().includes(`export TOKEN=tok-456\n`));
  t.is(buildRemoteCommand('true', {become: 'sudo'}).command.slice(0, 12), 'sudo -n -- s');
});

test('bad env names and passwords with line breaks are refused', (t) => {
  t.throws(() => buildRemoteCommand('true', {env: {'A-B': 'x'}}), {message: /invalid environment variable name "A-B"/});
  t.throws(() => buildRemoteCommand('true', {become: 'sudo-password', sudoPassword: 'a\nb'}), {message: /line break/});
});

test('env arrives exactly (quotes, newlines, empty) and the rest of stdin goes to the command', async (t) => {
  const env = {A: "it's \"quoted\"\n$(not run) `nor this`", B: '', C: 'x\n\n'};
  const r = buildRemoteCommand(`printf '[%s][%s][%s]' "$A" "$B" "$C"; cat`, {env});
  const run = await runLocally(r.command, Buffer.concat([r.preamble, Buffer.from('rest of stdin\n')]));
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, `[${env.A}][][x\n\n]rest of stdin\n`);
  const split = takePgid(run.stderr);
  t.true(split.pgid! > 1);
  t.is(split.stderr, '');
});

test('exit codes pass through, a signal shows as 128+N, stderr keeps its order', async (t) => {
  const r1 = buildRemoteCommand('echo one >&2; echo two >&2; exit 42', {});
  const run1 = await runLocally(r1.command, r1.preamble);
  t.is(run1.code, 42);
  t.is(takePgid(run1.stderr).stderr, 'one\ntwo\n');
  const r2 = buildRemoteCommand('kill -TERM $$', {});
  const run2 = await runLocally(r2.command, r2.preamble);
  t.is(run2.code, 143);
  t.is(takePgid(run2.stderr).stderr, '');
});

test('the command runs in its own process group, whose id is reported', async (t) => {
  const r = buildRemoteCommand('ps -o pgid= -p $$', {});
  const run = await runLocally(r.command, r.preamble);
  const {pgid} = takePgid(run.stderr);
  t.is(Number(run.stdout.trim()), pgid ?? -1);
});

test('takePgid ignores a marker that is not at a line start', (t) => {
  t.deepEqual(takePgid('x\u001eberth-pgid 12\n'), {stderr: 'x\u001eberth-pgid 12\n'});
  t.deepEqual(takePgid('sudo: hi\n\u001eberth-pgid 12\nrest'), {pgid: 12, stderr: 'sudo: hi\nrest'});
});
