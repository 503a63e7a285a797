/**
 * The exec wrapper as data, then run for real through /bin/sh (dash on Debian) the way sshd would run it.
 */
import test from 'ava';
import {spawn} from 'node:child_process';
import {buildRemoteCommand, shellQuote, takeMarkers} from '../../src/transport/remote-command.js';

function runLocally(command: string, stdin: Buffer): Promise<{code: number | null; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {stdio: ['pipe', 'pipe', 'pipe']});
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('close', (code) => resolve({code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString()}));
    // A command that exits before reading stdin (sudo refusing) closes the pipe: not an error here.
    child.stdin.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
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
  const split = takeMarkers(run.stderr);
  t.true(split.started);
  t.is(split.pgid, undefined, 'a command without a timeout does not get its own process group');
  t.is(split.stderr, '');
  const killable = buildRemoteCommand(`printf '[%s]' "$A"; cat`, {env, killable: true});
  const run2 = await runLocally(killable.command, Buffer.concat([killable.preamble, Buffer.from('rest\n')]));
  t.is(run2.stdout, `[${env.A}]rest\n`);
  t.true(takeMarkers(run2.stderr).pgid! > 1);
});

test('without a timeout the wrapper is one extra sh, no setsid; with one, setsid', (t) => {
  t.false(buildRemoteCommand('true', {}).command.includes('setsid'));
  t.true(buildRemoteCommand('true', {killable: true}).command.includes('setsid'));
});

test('exit codes pass through, a signal shows as 128+N or as the signal, stderr keeps its order', async (t) => {
  for (const killable of [false, true]) {
    const r1 = buildRemoteCommand('echo one >&2; echo two >&2; exit 42', {killable});
    const run1 = await runLocally(r1.command, r1.preamble);
    t.is(run1.code, 42);
    t.is(takeMarkers(run1.stderr).stderr, 'one\ntwo\n');
  }
  // killable: the wrapper waits for the command, so a signal shows as 128+N.
  const r2 = buildRemoteCommand('kill -TERM $$', {killable: true});
  const run2 = await runLocally(r2.command, r2.preamble);
  t.is(run2.code, 143);
  t.is(takeMarkers(run2.stderr).stderr, '');
});

test('sudo that does not let the command in leaves no start marker', async (t) => {
  // What `sudo -n` does when it wants a password: a message and exit 1, the wrapper never runs.
  const r = buildRemoteCommand('echo ran', {});
  const refused = await runLocally(`echo 'sudo: a password is required' >&2; exit 1; ${r.command}`, r.preamble);
  t.false(takeMarkers(refused.stderr).started);
  const ran = await runLocally(r.command, r.preamble);
  t.true(takeMarkers(ran.stderr).started);
  t.is(ran.stdout, 'ran\n');
});

test('the command runs in its own process group, whose id is reported', async (t) => {
  const r = buildRemoteCommand('ps -o pgid= -p $$', {killable: true});
  const run = await runLocally(r.command, r.preamble);
  const {pgid} = takeMarkers(run.stderr);
  t.is(Number(run.stdout.trim()), pgid ?? -1);
});

test('takeMarkers ignores a marker that is not at a line start', (t) => {
  t.deepEqual(takeMarkers('x\u001eberth-pgid 12\n'), {started: false, stderr: 'x\u001eberth-pgid 12\n'});
  t.deepEqual(takeMarkers('sudo: hi\n\u001eberth-pgid 12\nrest'), {started: true, pgid: 12, stderr: 'sudo: hi\nrest'});
  t.deepEqual(takeMarkers('\u001eberth-start\nout\n'), {started: true, stderr: 'out\n'});
});
