import test from 'ava';
import {formatPlan, planHost} from '../../src/host/plan.js';
import {buildManifest} from '../../src/host/manifest.js';
import type {FileSet} from '../../src/render/types.js';
import type {HostState} from '../../src/host/facts.js';
import {appliedState, emptyState, file, fileSet, onDisk, running} from './helpers.js';

const unitPath = '/etc/systemd/system/web.service';
const web = file(unitPath, '[Service]\nExecStart=/bin/sleep infinity\n', {affects: ['web.service']});
const conf = file('/etc/web/web.conf', 'port=80\n', {affects: ['web.service']});
const sysctl = file('/etc/sysctl.d/90-berth.conf', 'vm.swappiness = 10\n');
const other = file('/etc/other.conf', 'x\n');

function spec(files = [web, conf, sysctl]): FileSet {
  return fileSet(files, ['web.service'], [
    {kind: 'daemon-reload', triggers: [unitPath]},
    {kind: 'sysctl-reload', triggers: ['/etc/sysctl.d/90-berth.conf']},
    {kind: 'enable-unit', unit: 'web.service', triggers: [unitPath]},
  ]);
}

const plan = (fs: FileSet, state: HostState) => planHost({fileSet: fs, state, engine: null, installedEngines: []});

test('fresh host: every file is created, units enabled and started, triggered actions run', (t) => {
  const p = plan(spec(), emptyState());
  t.deepEqual(p.create, ['/etc/sysctl.d/90-berth.conf', unitPath, '/etc/web/web.conf']);
  t.deepEqual(p.modify, []);
  t.deepEqual(p.unitsToEnable, ['web.service']);
  t.deepEqual(p.unitsToStart, ['web.service']);
  t.deepEqual(p.unitsToRestart, []);
  t.deepEqual(p.actions.map((a) => a.kind), ['daemon-reload', 'sysctl-reload']);
  t.true(p.newGeneration);
  t.is(p.nextGeneration, 1);
  t.false(p.empty);
});

test('the same FileSet again, after apply: empty plan, nothing restarted', (t) => {
  const fs = spec();
  const p = plan(fs, appliedState(fs));
  t.true(p.empty);
  t.false(p.newGeneration);
  t.deepEqual(p.files, []);
  t.deepEqual([...p.unitsToRestart, ...p.unitsToStart, ...p.unitsToEnable], []);
  t.is(formatPlan(p), 'h1: no changes (generation 1)');
});

test('a changed config restarts only the units it affects, and no other action runs', (t) => {
  const before = spec();
  const conf2 = file('/etc/web/web.conf', 'port=8080\n', {affects: ['web.service']});
  const p = plan(spec([web, conf2, sysctl]), appliedState(before));
  t.deepEqual(p.modify, ['/etc/web/web.conf']);
  t.deepEqual(p.unitsToRestart, ['web.service']);
  t.deepEqual(p.actions, []);
  t.is(p.nextGeneration, 2);
  t.regex(formatPlan(p), /~ \/etc\/web\/web.conf \(content\)/);
});

test('a hand edit shows as drift and is repaired in the same generation', (t) => {
  const fs = spec();
  const state = appliedState(fs);
  state.files['/etc/web/web.conf'] = {...onDisk(conf), sha256: 'f'.repeat(64)};
  const p = plan(fs, state);
  t.deepEqual(p.drift.map((d) => [d.path, d.kind]), [['/etc/web/web.conf', 'edited']]);
  t.deepEqual(p.files.map((f) => [f.path, f.kind]), [['/etc/web/web.conf', 'repair']]);
  t.false(p.newGeneration);
  t.deepEqual(p.unitsToRestart, ['web.service']);
  t.regex(formatPlan(p), /~ \/etc\/web\/web.conf \(drift: edited on host; content\)/);
});

test('a deleted managed file is drift too; a mode change is drift of kind mode', (t) => {
  const fs = spec();
  const state = appliedState(fs);
  state.files['/etc/web/web.conf'] = {sha256: null, kind: 'absent', mode: null, owner: null, group: null};
  state.files['/etc/sysctl.d/90-berth.conf'] = {...onDisk(sysctl), mode: '0600'};
  const p = plan(fs, state);
  t.deepEqual(p.drift.map((d) => [d.path, d.kind]).sort(), [
    ['/etc/sysctl.d/90-berth.conf', 'mode'],
    ['/etc/web/web.conf', 'missing'],
  ]);
  // The sysctl file is rewritten, so sysctl --system runs again.
  t.deepEqual(p.actions.map((a) => a.kind), ['sysctl-reload']);
});

test('files that vanished from the spec are deleted; their units are stopped and disabled', (t) => {
  const before = spec([web, conf, sysctl, other]);
  const after = fileSet([sysctl], [], [{kind: 'sysctl-reload', triggers: ['/etc/sysctl.d/90-berth.conf']}]);
  const p = plan(after, appliedState(before));
  t.deepEqual(p.delete, ['/etc/other.conf', unitPath, '/etc/web/web.conf']);
  t.deepEqual(p.unitsToDisable, ['web.service']);
  t.deepEqual(p.unitsToRestart, []);
  // daemon-reload comes from the generation left behind: its unit file goes away.
  t.deepEqual(p.actions.map((a) => a.kind), ['daemon-reload']);
  t.regex(formatPlan(p), /- \/etc\/other.conf/);
});

test('a removed sysctl file still calls for sysctl --system', (t) => {
  const before = spec();
  const after = fileSet([web, conf], ['web.service'], [{kind: 'enable-unit', unit: 'web.service', triggers: [unitPath]}]);
  const p = plan(after, appliedState(before));
  t.deepEqual(p.delete, ['/etc/sysctl.d/90-berth.conf']);
  t.deepEqual(p.actions.map((a) => a.kind), ['sysctl-reload']);
});

test('an unmanaged file at a wanted path is replaced and noted; an identical one is only adopted', (t) => {
  const state = emptyState();
  state.files[conf.path] = {...onDisk(conf), sha256: 'a'.repeat(64)};
  state.files[sysctl.path] = onDisk(sysctl);
  const p = plan(spec(), state);
  const byPath = new Map(p.files.map((f) => [f.path, f]));
  t.deepEqual(byPath.get(conf.path)?.notes, ['replaces an unmanaged file (kept for rollback)']);
  t.false(byPath.get(sysctl.path)!.writes);
  t.deepEqual(p.actions.map((a) => a.kind), ['daemon-reload']);
});

test('a stopped or disabled declared unit is started/enabled again, without a new generation', (t) => {
  const fs = spec();
  const state = appliedState(fs);
  state.units['web.service'] = running('web.service', {activeState: 'failed', unitFileState: 'disabled'});
  const p = plan(fs, state);
  t.false(p.newGeneration);
  t.deepEqual(p.unitsToEnable, ['web.service']);
  t.deepEqual(p.unitsToStart, ['web.service']);
  t.false(p.empty);
});

test('a finished oneshot without RemainAfterExit counts as running', (t) => {
  const job = file('/etc/systemd/system/job.service', '[Service]\nType=oneshot\n', {affects: ['job.service']});
  const fs = fileSet([job], ['job.service'], [{kind: 'enable-unit', unit: 'job.service'}]);
  const state = appliedState(fs);
  state.units['job.service'] = running('job.service', {activeState: 'inactive', type: 'oneshot', remainAfterExit: false});
  t.true(plan(fs, state).empty);
});

test('an interrupted apply in the journal is reported and forces work', (t) => {
  const fs = spec();
  const state = appliedState(fs);
  state.journal.push({time: '2026-12-01T00:00:00Z', event: 'pending', generation: 2, fields: {base: '1'}});
  const p = plan(fs, state);
  t.deepEqual(p.interrupted, {target: 2, restore: 1, since: '2026-12-01T00:00:00Z'});
  t.false(p.empty);
  t.regex(formatPlan(p), /interrupted apply of generation 2/);
});

test('a new engine version is planned once, and not uploaded when already on the host', (t) => {
  const fs = spec();
  const state = appliedState(fs);
  const engine = {version: '0.1.0-abc', sha256: 'e'.repeat(64)};
  const p = planHost({fileSet: fs, state, engine, installedEngines: []});
  t.deepEqual(p.engine, {from: null, to: '0.1.0-abc', upload: true});
  t.true(p.newGeneration);
  const p2 = planHost({fileSet: fs, state, engine, installedEngines: [engine]});
  t.deepEqual(p2.engine, {from: null, to: '0.1.0-abc', upload: false});
});

test('the current engine deleted, changed or unlinked on the host is drift, repaired in the same generation', (t) => {
  const fs = spec();
  const engine = {version: '0.1.0-abc', sha256: 'e'.repeat(64)};
  const state = appliedState(fs);
  state.manifest = buildManifest(fs, 1, engine, 'test');
  const base = {fileSet: fs, state, engine};
  const ok = planHost({...base, installedEngines: [engine], activeEngine: engine.version});
  t.true(ok.empty, 'the engine as installed: nothing to do');
  t.is(ok.engine, null);

  const gone = planHost({...base, installedEngines: [], activeEngine: engine.version});
  t.false(gone.empty);
  t.false(gone.newGeneration);
  t.deepEqual(gone.engine, {from: '0.1.0-abc', to: '0.1.0-abc', upload: true});
  t.deepEqual(gone.drift.map((d) => [d.path, d.kind]), [['/usr/local/lib/berth/engine/0.1.0-abc/berth-engine', 'missing']]);
  t.regex(formatPlan(gone), /~ berth-engine 0\.1\.0-abc → 0\.1\.0-abc \(drift: deleted on host; upload\)/);

  const edited = planHost({...base, installedEngines: [{...engine, sha256: 'f'.repeat(64)}], activeEngine: engine.version});
  t.deepEqual(edited.drift.map((d) => d.kind), ['edited']);
  t.true(edited.engine!.upload);

  const relinked = planHost({...base, installedEngines: [engine], activeEngine: '0.0.9-old'});
  t.deepEqual(relinked.drift.map((d) => [d.path, d.kind]), [['/usr/local/bin/berth-engine', 'edited']]);
  t.false(relinked.engine!.upload, 'the binary is there: only the link is reset');
  t.regex(formatPlan(relinked), /drift: link changed on host; already on host/);

  // Not probed (old callers): the link is not judged.
  t.true(planHost({...base, installedEngines: [engine]}).empty);
});
