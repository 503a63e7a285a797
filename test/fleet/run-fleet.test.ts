import test from 'ava';
import {FleetEvents, type FleetEvent} from '../../src/fleet/events.js';
import {runFleet} from '../../src/fleet/run-fleet.js';
import {formatEvent} from '../../src/fleet/line-reporter.js';
import {formatSummary} from '../../src/fleet/summary.js';
import {HostError} from '../../src/errors.js';

const tick = () => new Promise((r) => setImmediate(r));

function collect(events: FleetEvents): FleetEvent[] {
  const seen: FleetEvent[] = [];
  events.subscribe((e) => seen.push(e));
  return seen;
}

test('never more than `concurrency` hosts at once, and every host runs', async (t) => {
  const events = new FleetEvents();
  let running = 0;
  let peak = 0;
  const hosts = Array.from({length: 12}, (_, i) => `h${i}`);
  const out = await runFleet({
    hosts,
    concurrency: 3,
    failFast: false,
    events,
    task: async (h) => {
      running++;
      peak = Math.max(peak, running);
      for (let i = 0; i < 3; i++) await tick();
      running--;
      return h;
    },
    describe: (r) => ({outcome: 'ok', summary: r}),
  });
  t.is(peak, 3);
  t.deepEqual(out.map((o) => o.host), hosts);
  t.true(out.every((o) => o.ok));
});

test('one failed host never stops the others; its error keeps step and next step', async (t) => {
  const events = new FleetEvents();
  const seen = collect(events);
  const out = await runFleet({
    hosts: ['a', 'b', 'c'],
    concurrency: 1,
    failFast: false,
    events,
    task: async (h) => {
      if (h === 'a') throw new HostError('a', 'probe', 'no systemd', {nextStep: 'boot with systemd'});
      return h;
    },
    describe: (r) => ({outcome: 'ok', summary: r}),
  });
  t.deepEqual(out.map((o) => o.ok), [false, true, true]);
  t.deepEqual(out[0]!.error, {message: 'probe on a: no systemd', step: 'probe', nextStep: 'boot with systemd'});
  t.deepEqual(seen.at(-1), {...(seen.at(-1) as object), type: 'run-done', ok: 2, failed: 1, skipped: 0} as FleetEvent);
});

test('--fail-fast skips hosts not yet started after the first failure', async (t) => {
  const events = new FleetEvents();
  const seen = collect(events);
  const out = await runFleet({
    hosts: ['a', 'b', 'c'],
    concurrency: 1,
    failFast: true,
    events,
    task: async (h) => h,
    describe: (r) => (r === 'a' ? {outcome: 'rolled-back', summary: 'x', failed: {message: 'apply failed', step: 'apply'}} : {outcome: 'ok', summary: r}),
  });
  t.deepEqual(out.map((o) => [o.host, o.ok, o.skipped ?? null]), [
    ['a', false, null],
    ['b', false, 'skipped: --fail-fast after an earlier failure'],
    ['c', false, 'skipped: --fail-fast after an earlier failure'],
  ]);
  t.deepEqual(seen.map((e) => e.type), ['host-start', 'host-failed', 'host-skipped', 'host-skipped', 'run-done']);
});

test('events can be consumed as an async iterator until run-done', async (t) => {
  const events = new FleetEvents();
  const types: string[] = [];
  const consumer = (async () => {
    for await (const e of events) types.push(e.type);
  })();
  await tick();
  await runFleet({hosts: ['a'], concurrency: 2, failFast: false, events, task: async () => 1, describe: () => ({outcome: 'ok', summary: 'fine'})});
  await consumer;
  t.deepEqual(types, ['host-start', 'host-done', 'run-done']);
});

test('line reporter: one line per event, host first', (t) => {
  t.is(formatEvent({type: 'step', host: 'web-1', step: 'apply', detail: 'generation 3'}, 5), '[web-1] apply generation 3');
  t.is(formatEvent({type: 'host-done', host: 'db', outcome: 'unchanged', summary: 'no changes (generation 2)', ms: 1234}, 5), '[db]    ✓ no changes (generation 2) (1.2s)');
  t.is(
    formatEvent({type: 'host-failed', host: 'db', error: {message: 'probe on db: no systemd', step: 'probe', nextStep: 'boot it with systemd'}, ms: 10}, 2),
    '[db] ✗ probe on db: no systemd\n     next: boot it with systemd',
  );
  t.is(formatEvent({type: 'run-done', ok: 2, failed: 1, skipped: 0, ms: 3000}), 'done in 3.0s: 2 ok, 1 failed');
});

test('summary table aligns columns', (t) => {
  t.is(
    formatSummary([
      {host: 'c1', result: 'applied', generation: '3', time: '2.0s', details: 'generation 3: 2 written'},
      {host: 'web-10', result: 'unchanged', generation: '7', time: '0.9s', details: 'no changes (generation 7)'},
    ]),
    [
      'HOST    RESULT     GENERATION  TIME  DETAILS',
      '------  ---------  ----------  ----  -------------------------',
      'c1      applied    3           2.0s  generation 3: 2 written',
      'web-10  unchanged  7           0.9s  no changes (generation 7)',
    ].join('\n'),
  );
});
