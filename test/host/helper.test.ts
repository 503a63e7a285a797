import test from 'ava';
import {createHash} from 'node:crypto';
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {generationEntries, parseHelperOutput, usersTsv} from '../../src/host/helper.js';
import {buildManifest} from '../../src/host/manifest.js';
import {helperCommand, probeCommand, shellQuote} from '../../src/host/remote-scripts.js';
import {journalStatus, parseJournal} from '../../src/host/journal.js';
import {file, fileSet} from './helpers.js';

test('helper output: steps, lists and the result line', (t) => {
  const r = parseHelperOutput(
    [
      '@@step stage',
      '@@ok stage generation 3',
      '@@changed /etc/a b.conf',
      '@@restarted web.service',
      '@@restarted web.service',
      '@@warn sysctl /proc/sys is read-only',
      'noise from a tool',
      '@@fail health web.service failed to start: exit 1',
      '@@ok rollback back on generation 2',
      '@@result rolled-back 2 generation 3 failed and was rolled back to 2',
    ].join('\n'),
  );
  t.is(r.status, 'rolled-back');
  t.is(r.generation, 2);
  t.is(r.message, 'generation 3 failed and was rolled back to 2');
  t.deepEqual(r.changed, ['/etc/a b.conf']);
  t.deepEqual(r.restarted, ['web.service']);
  t.deepEqual(r.warnings, ['sysctl: /proc/sys is read-only']);
  t.deepEqual(r.steps.map((s) => [s.name, s.ok]), [
    ['stage', true],
    ['health', false],
    ['rollback', true],
  ]);
});

test('helper output without a result line is a failure', (t) => {
  t.is(parseHelperOutput('@@step stage\n').status, 'failed');
  t.is(parseHelperOutput('@@result locked - another apply holds /run/berth/apply.lock: pid=1').message, 'another apply holds /run/berth/apply.lock: pid=1');
});

test('journal: an unfinished pending is an interrupted switch; failed points back', (t) => {
  const j = parseJournal('t1 pending 1 base=0 op=apply\nt2 done 1\nt3 pending 2 base=1 op=apply\nt4 failed 2 back=1 reason=apply-failed\nt5 pending 3 base=1 op=apply\n');
  t.deepEqual(journalStatus(j), {interrupted: {target: 3, base: 1, op: 'apply', time: 't5'}, lastGood: 1});
  t.deepEqual(journalStatus(j.slice(0, 4)), {interrupted: null, lastGood: 1});
  t.deepEqual(journalStatus([]), {interrupted: null, lastGood: 0});
});

test('commands quote their inputs for sh', (t) => {
  t.is(shellQuote("it's"), `'it'\\''s'`);
  const cmd = probeCommand({dataRoot: '/var/lib/x y', paths: ['/etc/a', "/etc/b'c"], units: ['a.service'], engineVersion: '0.1.0-abc'});
  t.true(cmd.startsWith(`DATA_ROOT='/var/lib/x y'\nENGINE_WANT=0.1.0-abc\nPATHS='/etc/a\n/etc/b'\\''c'\nUNITS=a.service\n`));
  t.true(probeCommand({dataRoot: '/d', paths: [], units: []}).startsWith(`DATA_ROOT=/d\nENGINE_WANT=''\n`));
  t.regex(helperCommand('f'.repeat(64), ['apply', '2', '1'], {BERTH_BY: 'me@here'}), /export BERTH_BY=me@here\nexec sh "\$d\/berth-host.sh" start apply 2 1$/);
});

test('users.tsv comes from the users.json render writes', (t) => {
  const fs = fileSet([file('/etc/berth/users.json', JSON.stringify({users: [{name: 'deploy', uid: 1500, shell: '/bin/bash', home: '/home/deploy', groups: ['docker', 'adm'], sudo: true}, {name: 'x', shell: '/bin/sh', home: '/home/x', groups: [], sudo: false}]}))]);
  t.is(usersTsv(fs), 'deploy\t1500\t/bin/bash\t/home/deploy\tdocker,adm\t-\nx\t-\t/bin/sh\t/home/x\t-\t-\n');
});

test('generation upload: blobs the host holds are left out, a source file is read from disk, every blob is 0600', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-gen-'));
  const image = Buffer.from([0, 255, 10, 13, 0x80, 0xfe]);
  writeFileSync(path.join(dir, 'img.tar'), image);
  const imageSha = createHash('sha256').update(image).digest('hex');
  const kept = file('/etc/kept', 'same as before\n');
  const changed = file('/etc/changed', 'new\n');
  const img = file('/opt/img.tar', '', {sha256: imageSha, source: {path: path.join(dir, 'img.tar'), size: image.length}});
  const fs = fileSet([kept, changed, img]);
  const manifest = buildManifest(fs, 2, null, 'test');
  const blobs = (onHost: string[]) =>
    generationEntries('h1', manifest, fs, new Set(onHost))
      .filter((e) => e.name.startsWith('gen/files/'))
      .map((e) => [e.name.slice('gen/files/'.length), e.content, e.mode]);
  t.deepEqual(blobs([kept.sha256, imageSha]), [[changed.sha256, 'new\n', 0o600]]);
  t.deepEqual(blobs([]), [
    [changed.sha256, 'new\n', 0o600],
    [kept.sha256, 'same as before\n', 0o600],
    [imageSha, {file: path.join(dir, 'img.tar'), size: image.length}, 0o600],
  ]);
});
