import {spawnSync} from 'node:child_process';
import test from 'ava';
import {clockMinutes, durationSeconds, isoDays, onCalendar} from '../../src/render/calendar.js';
import {ensureSystemd} from './systemd.js';

test('onCalendar: days in week order, the clock time, and the time zone', (t) => {
  t.is(onCalendar({days: ['sun', 'mon'], start: '3:05', length: '1h', timeZone: 'Europe/Berlin'}), 'Mon,Sun *-*-* 03:05:00 Europe/Berlin');
  t.is(onCalendar({days: ['fri'], start: '23:30', length: '2h'}), 'Fri *-*-* 23:30:00 UTC');
});

test('systemd-analyze accepts the calendar specs and computes them in the window time zone', (t) => {
  ensureSystemd();
  const spec = onCalendar({days: ['tue', 'thu'], start: '03:00', length: '1h30m', timeZone: 'America/New_York'});
  const r = spawnSync('systemd-analyze', ['calendar', spec], {encoding: 'utf8', env: {...process.env, TZ: 'UTC'}});
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /Normalized form: Tue,Thu \*-\*-\* 03:00:00 America\/New_York/);
  // 03:00 in New York is 07:00 or 08:00 UTC, depending on daylight saving time.
  t.regex(r.stdout, /Next elapse: (Tue|Thu) \d{4}-\d\d-\d\d 0[78]:00:00 UTC/);
});

test('durations and clock times', (t) => {
  t.is(durationSeconds('90m'), 5400);
  t.is(durationSeconds('1h30m'), 5400);
  t.is(durationSeconds('2h'), 7200);
  t.is(durationSeconds('5s'), 5);
  t.is(durationSeconds('500ms'), 0.5);
  t.is(durationSeconds('12'), 12);
  t.throws(() => durationSeconds('soon'), {message: /not like 30s/});
  t.is(clockMinutes('23:30'), 1410);
  t.deepEqual(isoDays({days: ['sun', 'mon', 'sat'], start: '00:00', length: '1h'}), [1, 6, 7]);
});
