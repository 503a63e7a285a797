// Pure parts of the test fleet: apt sources, the repository summary, known_hosts and ssh_config text.
import test from 'ava';
import {parseDeb822Sources, parseOneLineSources} from '../../src/testfleet/mirror.js';
import {summarizeRepo} from '../../src/testfleet/apt-repo.js';
import {knownHostsText, sshConfigText} from '../../src/testfleet/identity.js';

test('deb822 sources: every URI of enabled deb entries, continuation lines, Enabled: no skipped', (t) => {
  const text = [
    'Types: deb deb-src',
    'URIs: http://mirror.example/debian',
    '  http://second.example/debian',
    'Suites: bookworm bookworm-updates',
    'Components: main',
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
    '',
    '# a comment',
    'Types: deb',
    'URIs: http://security.example/debian-security',
    'Suites: bookworm-security',
    'Components: main',
    '',
    'Types: deb',
    'Enabled: no',
    'URIs: http://off.example/',
    'Suites: bookworm',
    'Components: main',
  ].join('\n');
  const sources = parseDeb822Sources(text);
  t.deepEqual(
    sources.map((s) => [s.uri, s.suites.join(',')]),
    [
      ['http://mirror.example/debian', 'bookworm,bookworm-updates'],
      ['http://second.example/debian', 'bookworm,bookworm-updates'],
      ['http://security.example/debian-security', 'bookworm-security'],
    ],
  );
  t.is(sources[0]!.signedBy, '/usr/share/keyrings/debian-archive-keyring.gpg');
});

test('one-line sources: options in brackets and comments', (t) => {
  const sources = parseOneLineSources('# x\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian bookworm main contrib # y\ndeb-src http://m.example/debian bookworm main\n');
  t.deepEqual(sources, [{uri: 'http://m.example/debian', suites: ['bookworm'], components: ['main', 'contrib']}]);
});

test('repository summary: newer versions of installed packages and the new kernel release', (t) => {
  const status = [
    'Package: zstd\nStatus: install ok installed\nVersion: 1.5.4+dfsg2-5',
    'Package: linux-image-6.1.0-50-amd64\nStatus: install ok installed\nVersion: 6.1.176-1',
    'Package: linux-image-amd64\nStatus: install ok installed\nVersion: 6.1.176-1',
    'Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0',
  ].join('\n\n');
  const index = [
    'Package: zstd\nVersion: 1.5.4+dfsg2-5+deb12u1',
    'Package: linux-image-6.1.0-57-amd64\nVersion: 6.1.192-3',
    'Package: linux-image-amd64\nVersion: 6.1.192-3',
    'Package: gone\nVersion: 2.0',
    'Package: unrelated\nVersion: 9',
  ].join('\n\n');
  t.deepEqual(summarizeRepo(status, index), {
    newKernelRelease: '6.1.0-57-amd64',
    updates: [
      {package: 'linux-image-amd64', installed: '6.1.176-1', available: '6.1.192-3'},
      {package: 'zstd', installed: '1.5.4+dfsg2-5', available: '1.5.4+dfsg2-5+deb12u1'},
    ],
  });
});

test('known_hosts: exactly one [127.0.0.1]:PORT line per host, key comment dropped', (t) => {
  const text = knownHostsText([
    {name: 'c1', port: 20001, hostKey: 'ssh-ed25519 AAAA1 c1@f'},
    {name: 'c2', port: 20002, hostKey: 'ssh-ed25519 AAAA2 c2@f'},
  ]);
  t.is(text, '[127.0.0.1]:20001 ssh-ed25519 AAAA1\n[127.0.0.1]:20002 ssh-ed25519 AAAA2\n');
});

test('ssh_config: strict checking, fleet known_hosts only, one admin and one operator entry per host', (t) => {
  const text = sshConfigText([{name: 'c1', port: 20001, hostKey: 'k'}], {knownHosts: '/f/known_hosts', adminKey: '/f/keys/berth', operatorKey: '/f/keys/operator'});
  t.regex(text, /^Host c1\n {2}Port 20001\n {2}User berth\n {2}IdentityFile \/f\/keys\/berth\n/m);
  t.regex(text, /^Host c1-operator\n {2}Port 20001\n {2}User operator\n {2}IdentityFile \/f\/keys\/operator\n/m);
  t.is(text.match(/StrictHostKeyChecking yes/g)?.length, 2);
  t.is(text.match(/UserKnownHostsFile \/f\/known_hosts/g)?.length, 2);
  t.is(text.match(/GlobalKnownHostsFile \/dev\/null/g)?.length, 2);
  t.notRegex(text, /StrictHostKeyChecking (no|accept-new)/);
});
