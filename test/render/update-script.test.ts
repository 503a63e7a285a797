/**
 * The host-side updater's decisions (inside a window or not, windows past midnight, time zones, lock, reboot),
 * run for real under /bin/sh. PATH holds stubs for everything that would change the machine (apt, systemctl,
 * curl, etcdctl) and a `date` that answers for a fixed instant through the real date(1), so time-zone maths
 * are GNU date's own.
 */
import {spawnSync} from 'node:child_process';
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {renderHost} from '../../src/render/index.js';
import type {ResolvedHost} from '../../src/spec/types.js';
import {bareHost} from './hosts.js';

/** Instants (UTC) used below; 2026-12-01 is a Tuesday, and Berlin is UTC+1 in December. */
const at = {
  tue0230: 1796092200,
  tue0400: 1796097600,
  sun0045: 1796517900,
  sun0200: 1796522400,
};

function run(t: {teardown: (fn: () => void) => void}, host: ResolvedHost, now: number, args: string[], env: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-update-'));
  t.teardown(() => rmSync(dir, {recursive: true, force: true}));
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const log = path.join(dir, 'calls.log');
  const stub = (name: string, body: string) =>
    writeFileSync(path.join(bin, name), `#!/bin/sh\necho "${name} $*" >>${log}\n${body}\n`, {mode: 0o755});
  writeFileSync(path.join(bin, 'date'), `#!/bin/sh\nexec /usr/bin/date -d @${now} "$@"\n`, {mode: 0o755});
  stub('apt-get', 'exit 0');
  stub('unattended-upgrade', 'exit 0');
  stub('needs-restarting', '[ "${REBOOT:-0}" = 0 ]');
  stub('systemctl', 'exit 0');
  stub('curl', 'exit ${CURL_EXIT:-0}');
  stub('sleep', 'exit 0');
  for (const tool of ['cat', 'tr']) symlinkSync(`/usr/bin/${tool}`, path.join(bin, tool));
  const script = renderHost(host).files.find((f) => f.path === '/usr/local/lib/berth/update')!;
  const file = path.join(dir, 'update');
  writeFileSync(file, script.content);
  chmodSync(file, 0o755);
  const r = spawnSync('/bin/sh', [file, ...args], {encoding: 'utf8', env: {PATH: bin, ...env}});
  let calls: string[] = [];
  try {
    calls = readFileSync(log, 'utf8').trim().split('\n');
  } catch {
    calls = [];
  }
  return {code: r.status, stderr: r.stderr, calls};
}

function windowHost(): ResolvedHost {
  const host = bareHost();
  host.updates.strategy = 'window';
  host.updates.windows = [
    {days: ['tue', 'thu'], start: '03:00', length: '1h30m', timeZone: 'Europe/Berlin'},
    {days: ['sat'], start: '23:30', length: '2h', timeZone: 'UTC'},
  ];
  return host;
}

test('inside a window (in its time zone): upgrades, and stops when no reboot is needed', (t) => {
  const r = run(t, windowHost(), at.tue0230, ['update']);
  t.is(r.code, 0, r.stderr);
  t.true(r.calls.includes('unattended-upgrade -v'), r.calls.join('\n'));
  t.regex(r.stderr, /upgraded; no reboot needed/);
  t.false(r.calls.some((c) => c.startsWith('systemctl')));
});

test('outside every window: does nothing', (t) => {
  const r = run(t, windowHost(), at.tue0400, ['update']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /outside every maintenance window/);
  t.false(r.calls.some((c) => c.startsWith('apt-get') || c.startsWith('unattended-upgrade')));
});

test('a window that runs past midnight is still open the next day, and closes on time', (t) => {
  const open = run(t, windowHost(), at.sun0045, ['update'], {REBOOT: '1'});
  t.is(open.code, 0, open.stderr);
  t.true(open.calls.includes('systemctl reboot'), 'no lock configured: reboots straight away');
  const closed = run(t, windowHost(), at.sun0200, ['update']);
  t.regex(closed.stderr, /outside every maintenance window/);
});

test('fleet-lock: takes the FleetLock before rebooting, releases it with unlock', (t) => {
  const host = windowHost();
  host.updates.strategy = 'fleet-lock';
  host.updates.lock = {fleetlock: {url: 'http://127.0.0.1:9/', group: 'web'}};
  const r = run(t, host, at.tue0230, ['update'], {REBOOT: '1'});
  t.is(r.code, 0, r.stderr);
  const curl = r.calls.findIndex((c) => c.startsWith('curl') && c.endsWith('http://127.0.0.1:9/v1/pre-reboot'));
  t.true(curl >= 0, r.calls.join('\n'));
  t.regex(r.calls[curl]!, /fleet-lock-protocol: true .*"group":"web"/);
  t.true(r.calls.indexOf('systemctl reboot') > curl);
  const unlock = run(t, host, at.tue0400, ['unlock']);
  t.is(unlock.code, 0, unlock.stderr);
  t.true(unlock.calls.some((c) => c.startsWith('curl') && c.endsWith('/v1/steady-state')));
});

test('fleet-lock: a busy lock is retried until the window closes, then no reboot', (t) => {
  const host = windowHost();
  host.updates.strategy = 'fleet-lock';
  host.updates.lock = {fleetlock: {url: 'http://127.0.0.1:9'}};
  // The stubbed clock never moves, so use an instant with under a minute of the window left: 04:29:30 Berlin.
  const r = run(t, host, at.tue0230 + 3600 - 30, ['update'], {REBOOT: '1', CURL_EXIT: '22'});
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /the window closed before the lock was free/);
  t.false(r.calls.includes('systemctl reboot'));
});
