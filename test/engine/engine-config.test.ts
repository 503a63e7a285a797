// The engine's settings file (/etc/berth/engine.json, here through the global --config FILE): precedence flag >
// BERTH_ENGINE_* environment > file > built-in default, the file berth's renderer writes is accepted as is, and
// a bad file is an error naming it. What each command picked is read back from DATA_ROOT/driver.
import test from 'ava';
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {renderStorage, engineConfig} from '../../src/render/storage.js';
import {bareHost} from '../render/hosts.js';
import {Scratch, engine, requireEngine, run} from './helpers/engine.js';

const scratch = new Scratch();
requireEngine();
test.after.always(() => scratch.cleanup());

const noEnv = {BERTH_ENGINE_DATA_ROOT: undefined, BERTH_ENGINE_STORAGE_DRIVER: undefined};

function writeConfig(dir: string, value: unknown): string {
  const f = path.join(dir, 'engine.json');
  writeFileSync(f, typeof value === 'string' ? value : JSON.stringify(value));
  return f;
}
const recorded = (dr: string) => readFileSync(path.join(dr, 'driver'), 'utf8').trim();

test('file < environment < flag, for the data root and the storage driver', (t) => {
  const d = scratch.make('cfg');
  const [fileRoot, envRoot, flagRoot] = ['file-root', 'env-root', 'flag-root'].map((n) => path.join(d, n));
  const cfg = writeConfig(d, {driver: 'vfs', dataRoot: fileRoot});
  // The file alone.
  let r = run(engine, ['--config', cfg, 'image', 'ls', '-q'], {env: noEnv});
  t.is(r.status, 0, r.stderr);
  t.is(recorded(fileRoot!), 'vfs');
  // The environment beats the file (data root), the file's driver still applies.
  r = run(engine, ['--config', cfg, 'image', 'ls', '-q'], {env: {BERTH_ENGINE_DATA_ROOT: envRoot, BERTH_ENGINE_STORAGE_DRIVER: undefined}});
  t.is(r.status, 0, r.stderr);
  t.is(recorded(envRoot!), 'vfs');
  // The flag beats the environment; the environment's driver beats the file's.
  r = run(engine, ['--config', cfg, 'image', '--data-root', flagRoot!, 'ls', '-q'], {env: {BERTH_ENGINE_DATA_ROOT: envRoot, BERTH_ENGINE_STORAGE_DRIVER: 'overlay2'}});
  t.is(r.status, 0, r.stderr);
  t.is(recorded(flagRoot!), 'overlay2');
  // --storage-driver beats BERTH_ENGINE_STORAGE_DRIVER (refused here: the data root recorded overlay2).
  r = run(engine, ['--config', cfg, 'ps', '--data-root', flagRoot!, '--storage-driver', 'vfs'], {env: {BERTH_ENGINE_STORAGE_DRIVER: 'overlay2'}});
  t.not(r.status, 0);
  t.regex(r.stderr, /holds images and containers of storage driver `overlay2`; starting with `vfs`/);
  // run and selftest read the same file.
  const st = run(engine, ['--root', scratch.make('cfg-rt'), '--config', cfg, 'selftest'], {env: noEnv});
  t.is(st.status, 0, st.stderr);
  t.regex(st.stdout, /ok \(vfs, /);
  const rn = run(engine, ['--root', scratch.make('cfg-rt2'), '--config', cfg, 'run', '--rm', 'nosuchimage'], {env: noEnv});
  t.not(rn.status, 0);
  t.true(existsSync(path.join(fileRoot!, 'containers')), rn.stderr);
  t.regex(rn.stderr, /nosuchimage/);
});

test('"auto" and a missing driver leave the choice to the preflight; storageDriver is another name for driver', (t) => {
  const d = scratch.make('cfg-auto');
  for (const [name, value] of [
    ['auto', {driver: 'auto'}],
    ['none', {}],
    ['alias', {storageDriver: 'vfs'}],
  ] as const) {
    const dr = path.join(d, name);
    const cfg = writeConfig(d, {...value, dataRoot: dr});
    const r = run(engine, ['--config', cfg, 'image', 'ls', '-q'], {env: noEnv});
    t.is(r.status, 0, r.stderr);
    t.is(recorded(dr), name === 'alias' ? 'vfs' : 'overlay2', name);
  }
});

test("the engine.json berth's renderer writes (src/render/storage.ts) is read as is", (t) => {
  const d = scratch.make('cfg-render');
  const host = bareHost('h1');
  host.engine.storage = 'vfs';
  host.engine.dataRoot = path.join(d, 'rendered-root');
  const file = renderStorage(host).files.find((f) => f.path === engineConfig)!;
  t.truthy(file);
  const cfg = writeConfig(d, file.content);
  t.regex(file.content, /"logs"/, 'the renderer also writes keys the engine does not use (logs, version)');
  const r = run(engine, ['--config', cfg, 'image', 'ls', '-q'], {env: noEnv});
  t.is(r.status, 0, r.stderr);
  t.is(recorded(host.engine.dataRoot), 'vfs');
  // devicemapper with an existing pool: the pool comes from the file (no flag, no env).
  const dm = bareHost('h2');
  dm.engine.storage = 'devicemapper';
  dm.engine.devicemapper = {pool: 'somevg/somepool'};
  const dmFile = renderStorage(dm).files.find((f) => f.path === engineConfig)!;
  t.is((JSON.parse(dmFile.content) as {pool: string}).pool, 'somevg/somepool');
});

test('bad files are errors naming the file: unknown key, bad JSON, wrong types, unknown driver, missing --config', (t) => {
  const d = scratch.make('cfg-bad');
  const cases: [unknown, RegExp][] = [
    [{driver: 'vfs', dataroot: '/x'}, /unknown key `dataroot`/],
    ['{"driver": "vfs",', /not valid JSON/],
    ['[1]', /must be a JSON object/],
    [{driver: 3}, /`driver` must be a string/],
    [{driver: 'zfs'}, /`zfs` is not a storage driver; use overlay2, vfs, devicemapper or auto/],
    [{dataRoot: 'relative/dir'}, /`dataRoot` `relative\/dir` must be an absolute path/],
    [{driver: 'vfs', storageDriver: 'overlay2'}, /disagree/],
  ];
  for (const [value, re] of cases) {
    const cfg = writeConfig(d, value);
    for (const args of [['image', 'ls'], ['run', '--rm', 'x'], ['selftest'], ['ps']]) {
      const r = run(engine, ['--root', d, '--config', cfg, ...args], {env: noEnv});
      t.not(r.status, 0, `${JSON.stringify(value)} ${args[0]}`);
      t.true(r.stderr.includes(`engine config \`${cfg}\``), r.stderr);
      t.regex(r.stderr, re);
    }
  }
  const missing = run(engine, ['--config', path.join(d, 'nope.json'), 'image', 'ls'], {env: noEnv});
  t.not(missing.status, 0);
  t.regex(missing.stderr, /engine config `.*nope\.json`: cannot open it/);
});
