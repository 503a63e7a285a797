/**
 * The health step's engine check in berth-host.sh (engine_selftest), run by dash with stand-in engines that
 * keep the `berth-engine selftest` contract: exit 0 when healthy, else non-zero and one line on stderr.
 */
import test from 'ava';
import {spawnSync} from 'node:child_process';
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {repo} from '../e2e/helpers/berth.js';

const script = readFileSync(path.join(repo, 'src/host/remote/berth-host.sh'), 'utf8');
/** One shell function of the script, by name. */
const fn = (name: string) => {
  const m = new RegExp(`^${name}\\(\\) \\{[^]*?^\\}$`, 'm').exec(script);
  if (!m) throw new Error(`berth-host.sh has no function ${name}`);
  return m[0];
};
const say = /^say\(\) .*$/m.exec(script)![0];

function selftest(engineBody: string | null, units: string, config = '') {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-selftest-'));
  mkdirSync(path.join(dir, 'gen'));
  writeFileSync(path.join(dir, 'gen/units.tsv'), units);
  writeFileSync(path.join(dir, 'engine.json'), config);
  const engine = path.join(dir, 'berth-engine');
  if (engineBody !== null) {
    writeFileSync(engine, `#!/bin/sh\n${engineBody}\n`);
    chmodSync(engine, 0o755);
  }
  const program = [say, fn('engine_selftest'), `engine_selftest "${dir}/gen"; echo "rc=$?"`].join('\n');
  const r = spawnSync('dash', ['-c', program], {
    encoding: 'utf8',
    env: {PATH: process.env.PATH, ENGINE_LINK: engine, ENGINE_CONFIG: path.join(dir, 'engine.json'), HEALTH_TIMEOUT: '2'},
  });
  return r.stdout;
}

const containers = 'berth-container-web.service\t1\t1\nberth-storage.service\t1\t1\n';

test('a healthy engine passes; the engine sees the data root and driver of engine.json', (t) => {
  const out = selftest(
    '[ "$1" = selftest ] && [ "$BERTH_ENGINE_DATA_ROOT" = /srv/engine ] && [ "$BERTH_ENGINE_STORAGE_DRIVER" = vfs ] || { echo "bad call: $* $BERTH_ENGINE_DATA_ROOT" >&2; exit 3; }',
    containers,
    '{\n  "dataRoot": "/srv/engine",\n  "driver": "vfs",\n  "version": "1"\n}\n',
  );
  t.is(out, 'engine selftest ok\nrc=0\n');
});

test('a failing engine fails the health step with its one-line reason', (t) => {
  const out = selftest('echo "noise" >&2; echo "cannot create cgroup: read-only file system" >&2; exit 1', containers);
  t.is(out, '@@fail health berth-engine selftest failed: cannot create cgroup: read-only file system\nrc=1\n');
});

test('an engine that hangs fails after the health timeout', (t) => {
  const out = selftest('sleep 30', containers);
  t.is(out, '@@fail health berth-engine selftest failed: no answer within 2s\nrc=1\n');
});

test('no containers in the generation, or no engine on the host: nothing to test', (t) => {
  t.is(selftest('exit 1', 'web.service\t1\t1\n'), 'rc=0\n');
  t.is(selftest(null, containers), 'rc=0\n');
});
