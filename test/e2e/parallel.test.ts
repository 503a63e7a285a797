/**
 * 10 container hosts in parallel: one apply brings all of them to generation 1, the second changes nothing;
 * a host that cannot be reached fails alone (exit 4) while the others complete.
 */
import test from 'ava';
import {rmSync} from 'node:fs';
import path from 'node:path';
import {startFleet, type Fleet} from '../../src/testfleet/index.js';
import {applyJson, berth, pinEngine, sh, writeSpec} from './helpers/berth.js';

let fleet: Fleet;

test.before(async () => {
  process.env.BERTH_ENGINE_BINARY = pinEngine();
  fleet = await startFleet({containers: 10, aptRepo: false});
});

test.after.always(async () => {
  await fleet?.stop();
  rmSync(path.dirname(process.env.BERTH_ENGINE_BINARY!), {recursive: true, force: true});
});

const sections = {
  units: {
    'tick.service': {content: '[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n'},
  },
  files: {'/etc/tick.conf': {content: 'interval=1\n'}},
};

test.serial('10 hosts at once: all applied, then all unchanged with nothing restarted', async (t) => {
  const spec = writeSpec(fleet, fleet.hosts, sections);
  const args = ['apply', spec, '--known-hosts', fleet.knownHostsFile, '--yes', '--json', '--concurrency', '10'];
  const first = await berth(args);
  t.is(first.code, 0, first.stderr);
  const doc = applyJson(first);
  t.is(doc.hosts.length, 10);
  t.deepEqual(
    doc.hosts.map((h) => [h.host, h.result?.status]).sort(),
    fleet.hosts.map((h) => [h.name, 'applied']).sort(),
  );
  // Progress lines of several hosts interleave on stderr while they run.
  for (const h of fleet.hosts) t.regex(first.stderr, new RegExp(`\\[${h.name}\\] +✓ generation 1`));
  t.is((await sh(fleet, fleet.hosts[9]!, 'systemctl is-active tick.service')).trim(), 'active');

  const second = applyJson(await berth(args));
  for (const h of second.hosts) {
    t.is(h.result?.status, 'unchanged', h.host);
    t.deepEqual(h.result?.restarted, [], h.host);
  }
});

test.serial('one unreachable host fails alone; the others complete', async (t) => {
  const spec = writeSpec(fleet, fleet.hosts, {...sections, files: {'/etc/tick.conf': {content: 'interval=2\n'}}});
  // Point c3 at a port nobody listens on.
  const {readFileSync, writeFileSync} = await import('node:fs');
  const port = fleet.hosts[2]!.port;
  writeFileSync(spec, readFileSync(spec, 'utf8').replace(`port: ${port}`, 'port: 1'));
  const run = await berth(['apply', spec, '--known-hosts', fleet.knownHostsFile, '--yes', '--json']);
  t.is(run.code, 4);
  const doc = applyJson(run);
  const failed = doc.hosts.filter((h) => !h.ok).map((h) => h.host);
  t.deepEqual(failed, ['c3']);
  t.true(doc.hosts.filter((h) => h.ok).every((h) => h.result.status === 'applied' && h.result.restarted.length === 0));
  t.regex(run.stdout, /c3/);
});
