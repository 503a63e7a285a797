/**
 * Every unit render writes must pass the real `systemd-analyze verify` (systemd 252 on Debian 12), drop-ins
 * together with their unit. Any line systemd prints about our units or files counts as a failure, warnings
 * included ("Unknown key … ignoring" exits 0); lines about the machine's own units are noise and ignored.
 */
import test from 'ava';
import {renderHost} from '../../src/render/index.js';
import type {ResolvedHost} from '../../src/spec/types.js';
import {exampleFiles, exampleHosts} from './examples.js';
import {bareHost, fullHost} from './hosts.js';
import {verifyUnits} from './systemd.js';

/** Our unit files plus the units our drop-ins attach to. */
function unitsToVerify(host: ResolvedHost): {files: ReturnType<typeof renderHost>['files']; units: string[]} {
  const fs = renderHost(host);
  const units = new Set(fs.units);
  for (const f of fs.files) {
    const m = /^\/etc\/systemd\/system\/([^/]+)\.d\/[^/]+\.conf$/.exec(f.path);
    if (m) units.add(m[1]!);
  }
  return {files: fs.files, units: [...units].sort()};
}

function variants(): [string, ResolvedHost][] {
  const window = bareHost('window-1');
  window.updates.strategy = 'window';
  window.updates.windows = [{days: ['mon'], start: '02:00', length: '2h', timeZone: 'Asia/Tokyo'}];
  window.containers = {solo: {...fullHost().containers.app!, dependsOn: [], restart: 'no'}};
  const etcd = bareHost('etcd-1');
  etcd.engine.storage = 'vfs';
  etcd.updates.strategy = 'fleet-lock';
  etcd.updates.lock = {etcd: {endpoints: ['http://127.0.0.1:2379']}};
  const auto = bareHost('auto-1');
  auto.engine.storage = 'auto';
  const pool = bareHost('pool-1');
  pool.engine.storage = 'devicemapper';
  pool.engine.devicemapper = {pool: 'vg/pool'};
  return [
    ['every section (devicemapper, fleet-lock, health checks, extra units)', fullHost()],
    ['overlay2 with a maintenance window', window],
    ['vfs with an etcd lock', etcd],
    ['storage auto', auto],
    ['an existing thin pool', pool],
  ];
}

for (const [title, host] of variants()) {
  test(`systemd-analyze verify passes: ${title}`, (t) => {
    const {files, units} = unitsToVerify(host);
    t.true(units.length > 0);
    const result = verifyUnits(files, units);
    t.log(`verified ${units.join(' ')}`);
    t.deepEqual(result.problems, [], result.output);
    t.is(result.exitCode, 0, result.output);
  });
}

test('the verify check catches a unit systemd objects to (so the tests above can fail)', (t) => {
  const {files, units} = unitsToVerify(fullHost());
  const broken = files.map((f) =>
    f.path.endsWith('/berth-container-db.service')
      ? {...f, content: f.content.replace('KillMode=mixed', 'KillMode=mixed\nKilMode=typo')}
      : f.path.endsWith('/backup.service.d/10-limits.conf')
        ? {...f, content: '[Service]\nMemoryMax=lots\n'}
        : f.path === '/usr/local/lib/berth/storage-setup'
          ? {...f, mode: '0644'}
          : f,
  );
  const result = verifyUnits(broken, units);
  t.true(result.problems.some((l) => /Unknown key 'KilMode'/.test(l)), result.output);
  t.true(result.problems.some((l) => /Invalid memory limit 'lots'/.test(l)), result.output);
  t.true(result.problems.some((l) => /storage-setup is not executable/.test(l)), result.output);
});

for (const file of exampleFiles()) {
  test(`systemd-analyze verify passes for every host of examples/${file}`, async (t) => {
    for (const host of await exampleHosts(file)) {
      const {files, units} = unitsToVerify(host);
      const result = verifyUnits(files, units);
      t.log(`${host.name}: verified ${units.join(' ')}`);
      t.deepEqual(result.problems, [], `${host.name}:\n${result.output}`);
      t.is(result.exitCode, 0, `${host.name}:\n${result.output}`);
    }
  });
}
