/**
 * The `--json` document every fleet command prints (fleetJson in src/fleet/session.ts), as data: key order,
 * per-command fields, error and skipped hosts.
 */
import test from 'ava';
import {fleetJson, type SessionResult} from '../../src/fleet/session.js';

const session: SessionResult<{n: number}> = {
  exitCode: 4,
  logDir: '/logs/run-1',
  outcomes: [
    {host: 'a', ok: true, result: {n: 1}, ms: 10},
    {host: 'b', ok: false, error: {message: 'connect to b: refused', step: 'connect'}, ms: 5},
    {host: 'c', ok: false, skipped: 'skipped: --fail-fast after an earlier failure', ms: 0},
  ],
};

test('one document: command, ok, extra keys, then each host with its fields, error and skipped', (t) => {
  const text = fleetJson('apply', session, (o) => ({ms: o.ms, ...(o.result ? {result: o.result} : {})}), {logDir: session.logDir});
  t.true(text.endsWith('}\n'));
  t.is(text.split('\n').filter((l) => l.startsWith('{')).length, 1);
  t.deepEqual(Object.keys(JSON.parse(text)), ['command', 'ok', 'logDir', 'hosts']);
  t.deepEqual(JSON.parse(text), {
    command: 'apply',
    ok: false,
    logDir: '/logs/run-1',
    hosts: [
      {host: 'a', ok: true, ms: 10, result: {n: 1}},
      {host: 'b', ok: false, ms: 5, error: {message: 'connect to b: refused', step: 'connect'}},
      {host: 'c', ok: false, ms: 0, skipped: 'skipped: --fail-fast after an earlier failure'},
    ],
  });
  const status = JSON.parse(fleetJson('status', {...session, exitCode: 0}, (o) => (o.result ? {status: o.result} : {})));
  t.is(status.ok, true);
  t.deepEqual(Object.keys(status.hosts[0]), ['host', 'ok', 'status']);
});
