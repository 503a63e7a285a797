/**
 * known_hosts parsing and matching, checked against what OpenSSH's own ssh-keygen writes and reports.
 */
import test from 'ava';
import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {
  checkHostKey,
  fingerprint,
  hashHostName,
  hostFieldMatches,
  knownHostsLine,
  knownHostsName,
  knownKeyTypes,
  matchPatternList,
  parseKnownHosts,
} from '../../src/transport/known-hosts.js';
import {ensureSshTools, keygen} from './helpers/sshd.js';

let dir: string;
let ed: {pub: string; blob: Buffer; file: string};
let rsa: {pub: string; blob: Buffer; file: string};
let other: {pub: string; blob: Buffer; file: string};

function key(name: string, type: 'ed25519' | 'rsa') {
  const k = keygen(join(dir, name), type);
  return {...k, blob: Buffer.from(k.pub.split(' ')[1]!, 'base64')};
}

test.before(() => {
  ensureSshTools();
  dir = mkdtempSync(join(tmpdir(), 'berth-kh-'));
  ed = key('ed', 'ed25519');
  rsa = key('rsa', 'rsa');
  other = key('other', 'ed25519');
});
test.after.always(() => rmSync(dir, {recursive: true, force: true}));

test('fingerprints match ssh-keygen -lf', (t) => {
  for (const k of [ed, rsa]) {
    const out = execFileSync('ssh-keygen', ['-lf', `${k.file}.pub`], {encoding: 'utf8'});
    t.is(fingerprint(k.blob), out.split(' ')[1] ?? '');
  }
  t.regex(fingerprint(ed.blob), /^SHA256:[A-Za-z0-9+/]{43}$/);
});

test('hashed entries written by ssh-keygen -H are recognised, and ours by ssh-keygen -F', (t) => {
  const file = join(dir, 'hashed');
  const edType = ed.pub.split(' ')[0];
  writeFileSync(file, `web-1.example.org ${edType} ${ed.blob.toString('base64')}\n[10.0.0.7]:2222 ${edType} ${ed.blob.toString('base64')}\n`);
  execFileSync('ssh-keygen', ['-q', '-H', '-f', file], {stdio: 'ignore'});
  const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
  t.true(entries.every((e) => e.hosts.startsWith('|1|')));
  t.is(checkHostKey(entries, [knownHostsName('web-1.example.org', 22)], ed.blob).status, 'known');
  t.is(checkHostKey(entries, [knownHostsName('10.0.0.7', 2222)], ed.blob).status, 'known');
  t.is(checkHostKey(entries, [knownHostsName('10.0.0.7', 22)], ed.blob).status, 'unknown');
  t.is(checkHostKey(entries, [knownHostsName('WEB-1.example.org', 22)], ed.blob).status, 'known', 'host names are case-insensitive');

  const ours = join(dir, 'ours');
  writeFileSync(ours, knownHostsLine('[db.internal]:2200', rsa.blob, true) + '\n');
  const found = execFileSync('ssh-keygen', ['-F', '[db.internal]:2200', '-f', ours], {encoding: 'utf8'});
  t.true(found.includes(rsa.blob.toString('base64')));
  t.regex(hashHostName('x'), /^\|1\|[A-Za-z0-9+/]{27}=\|[A-Za-z0-9+/]{27}=$/);
});

test('pattern lists: wildcards, ?, negation, [host]:port', (t) => {
  t.true(matchPatternList('web-1.example.org', '*.example.org'));
  t.true(matchPatternList('web-1', 'web-?'));
  t.false(matchPatternList('web-10', 'web-?'));
  t.false(matchPatternList('web-1.example.org', '*.example.org,!web-1.example.org'));
  t.true(matchPatternList('db.example.org', '*.example.org,!web-1.example.org'));
  t.false(matchPatternList('anything', '!nothing'), 'a negation alone matches nothing');
  t.true(hostFieldMatches('[127.0.0.1]:2222', '[127.0.0.1]:*'));
  t.false(hostFieldMatches('127.0.0.1', '[127.0.0.1]:*'));
  t.true(hostFieldMatches('10.1.2.3', 'a.example,10.1.2.*'));
});

test('verdicts: known, changed, unknown, several keys, revoked wins, cert-authority noted', (t) => {
  const edType = ed.pub.split(' ')[0]!;
  const rsaType = rsa.pub.split(' ')[0]!;
  const text = [
    '# comment',
    '',
    `web-1,web-1.example.org ${edType} ${ed.blob.toString('base64')} a comment`,
    `web-1 ${rsaType} ${rsa.blob.toString('base64')}`,
    `@cert-authority *.example.org ${edType} ${other.blob.toString('base64')}`,
    `@revoked * ${rsaType} ${rsa.blob.toString('base64')}`,
    `@bogus web-2 ${edType} ${ed.blob.toString('base64')}`,
    `not-enough-fields`,
  ].join('\n');
  const entries = parseKnownHosts(text, 'kh');
  t.is(entries.length, 4, 'unknown markers and broken lines are skipped');
  t.like(checkHostKey(entries, ['web-1'], ed.blob), {status: 'known', line: {line: 3, file: 'kh'}});
  t.like(checkHostKey(entries, ['web-1'], rsa.blob), {status: 'revoked', line: {line: 6}});
  t.like(checkHostKey(entries, ['web-1'], other.blob), {status: 'changed'});
  t.deepEqual(checkHostKey(entries, ['web-9.example.org'], other.blob), {status: 'unknown', otherTypes: [], certAuthority: true});
  t.deepEqual(checkHostKey(entries, ['web-2'], ed.blob), {status: 'unknown', otherTypes: [], certAuthority: false});
  t.deepEqual(knownKeyTypes(entries, ['web-1']), [edType, rsaType]);
  // A host known only by an RSA key, shown an ed25519 key: unknown (not changed), with the known types named.
  const onlyRsa = parseKnownHosts(`h ${rsaType} ${rsa.blob.toString('base64')}`);
  t.deepEqual(checkHostKey(onlyRsa, ['h'], ed.blob), {status: 'unknown', otherTypes: [rsaType], certAuthority: false});
});
