import test from 'ava';
import {readFileSync} from 'node:fs';
import {checkSupported, parseOsRelease, parseProbeOutput, parseUnitStates} from '../../src/host/facts.js';
import {HostError} from '../../src/errors.js';

const fixture = (name: string): string => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

test('a container without systemd as init (recorded on the build machine) is refused early', (t) => {
  const {facts, state} = parseProbeOutput('dev', fixture('probe-docker-no-systemd.txt'));
  t.is(facts.os.family, 'debian');
  t.is(facts.os.versionId, '12');
  t.is(facts.arch, 'x86_64');
  t.is(facts.cgroup, 'hybrid');
  t.is(facts.packageManager, 'apt');
  t.is(facts.systemd.version, 252);
  t.false(facts.systemd.booted);
  t.is(facts.dataRoot.fsType, 'ext4');
  t.is(facts.dataRoot.measured, '/var/lib');
  t.true(facts.blockDevices.length > 0);
  t.is(state.generation, null);
  t.is(state.manifest, null);
  t.deepEqual(state.files['/etc/hostname']?.kind, 'file');
  const error = t.throws(() => checkSupported('dev', facts), {instanceOf: HostError});
  t.is(error?.message, 'probe on dev: unsupported host: systemd is not running as init (PID 1 is "process_api")');
});

test('an nspawn host with two generations, an engine, a lock holder and unit states', (t) => {
  const {facts, state} = parseProbeOutput('fleet-1', fixture('probe-nspawn-generation-2.txt'));
  t.notThrows(() => checkSupported('fleet-1', facts));
  t.false(facts.procSysWritable);
  t.is(facts.container, 'systemd-nspawn');
  t.deepEqual(facts.kernelsInstalled, ['6.1.0-28-amd64', '6.1.0-30-amd64']);
  t.is(facts.engine.active, '0.1.0-0123456789ab');
  t.deepEqual(facts.engine.installed, [{version: '0.1.0-0123456789ab', sha256: 'c'.repeat(64)}]);
  t.is(state.generation, 2);
  t.deepEqual(state.generations, [1, 2]);
  t.is(state.journal.length, 4);
  t.is(state.manifest?.generation, 2);
  t.deepEqual(state.lock, {held: true, owner: {pid: '4242', by: 'alice@laptop'}});
  t.is(state.units['web.service']?.activeState, 'failed');
  t.is(state.units['ssh.service']?.unitFileState, 'enabled');
  t.true(facts.dataRoot.dType);
  // Plain data: survives JSON unchanged.
  t.deepEqual(JSON.parse(JSON.stringify(facts)), facts);
});

test('unsupported distribution and architecture are refused with what was found', (t) => {
  const {facts} = parseProbeOutput('fleet-1', fixture('probe-nspawn-generation-2.txt'));
  const e1 = t.throws(() => checkSupported('h', {...facts, os: {...facts.os, family: 'alpine', prettyName: 'Alpine Linux v3.20'}}));
  t.regex(e1!.message, /unsupported host: distribution "Alpine Linux v3.20" \(family alpine\)/);
  const e2 = t.throws(() => checkSupported('h', {...facts, arch: 'riscv64'}));
  t.regex(e2!.message, /architecture riscv64/);
  const e3 = t.throws(() => checkSupported('h', {...facts, uid: 1000}));
  t.regex(e3!.message, /could not become root \(uid 1000\)/);
});

test('truncated probe output is a HostError naming the probe', (t) => {
  const text = fixture('probe-nspawn-generation-2.txt');
  const e = t.throws(() => parseProbeOutput('h', text.slice(0, text.indexOf('@@berth files'))), {instanceOf: HostError});
  t.regex(e!.message, /probe on h: the probe script did not finish/);
});

test('os-release quoting and ID_LIKE families', (t) => {
  const os = parseOsRelease('ID=rocky\nID_LIKE="rhel centos fedora"\nPRETTY_NAME="Rocky \\"Linux\\" 9"\n');
  t.is(os.PRETTY_NAME, 'Rocky "Linux" 9');
  t.is(os.ID_LIKE, 'rhel centos fedora');
});

test('systemctl show blocks parse per unit', (t) => {
  const u = parseUnitStates('Id=a.service\nActiveState=active\nType=oneshot\nRemainAfterExit=yes\n\nId=b.timer\nActiveState=inactive\n');
  t.deepEqual(Object.keys(u), ['a.service', 'b.timer']);
  t.true(u['a.service']!.remainAfterExit);
});

test('recorded on a real container host of the test fleet (generation 2 applied by berth)', (t) => {
  const {facts, state} = parseProbeOutput('c1', fixture('probe-nspawn-recorded.txt'));
  t.notThrows(() => checkSupported('c1', facts));
  t.is(facts.container, 'systemd-nspawn');
  t.false(facts.procSysWritable);
  t.is(facts.systemd.version, 252);
  t.is(state.generation, 2);
  t.is(state.manifest?.generation, 2);
  t.is(state.files['/etc/web/web.conf']?.kind, 'file');
  t.is(state.files['/usr/local/lib/berth/storage-setup']?.mode, '0755');
  t.is(state.files['/etc/nope']?.kind, 'absent');
  t.is(state.units['berth-storage.service']?.subState, 'exited');
  t.deepEqual(state.journal.map((e) => e.event), ['pending', 'done', 'pending', 'done']);
});

test('recorded with the manager query (systemctl show Version/Virtualization) and a cached engine sum', (t) => {
  // Recorded on a test fleet container host whose engine berth installed (berth-engine.sum beside it).
  const {facts, state} = parseProbeOutput('c2', fixture('probe-nspawn-manager.txt'));
  t.notThrows(() => checkSupported('c2', facts));
  t.is(facts.systemd.version, 252);
  t.true(facts.systemd.booted);
  t.is(facts.container, 'systemd-nspawn');
  t.is(facts.virtualization, 'systemd-nspawn');
  t.is(facts.engine.active, '0.1.0-101fc1252fac');
  t.deepEqual(facts.engine.installed, [{version: '0.1.0-101fc1252fac', sha256: '101fc1252faca4f4731df3ded1215bd434bdf1be744d5bc2999cb67664bbe87d'}]);
  t.is(state.generation, 1);
  t.is(state.files['/etc/nope']?.kind, 'absent');
  t.is(state.units['web.service']?.activeState, 'active');
});

test('manager Virtualization: a VM is virtualization without a container; empty is neither', (t) => {
  const text = fixture('probe-nspawn-manager.txt');
  const vm = parseProbeOutput('v', text.replace('manager.Virtualization=systemd-nspawn', 'manager.Virtualization=kvm')).facts;
  t.is(vm.virtualization, 'kvm');
  t.is(vm.container, null);
  const metal = parseProbeOutput('m', text.replace('manager.Virtualization=systemd-nspawn', 'manager.Virtualization=')).facts;
  t.is(metal.virtualization, null);
  t.is(metal.container, null);
});

test('an engine the probe did not hash (no current sum, neither active nor wanted) is listed with sum `-`', (t) => {
  const text = fixture('probe-nspawn-manager.txt').replace(
    /(installed=[0-9a-f]{64} \S+\n)/,
    '$1installed=- /usr/local/lib/berth/engine/0.0.9-0123456789ab/berth-engine\n',
  );
  const {facts} = parseProbeOutput('c2', text);
  t.deepEqual(facts.engine.installed.map((e) => e.version), ['0.1.0-101fc1252fac', '0.0.9-0123456789ab']);
  t.is(facts.engine.installed[1]!.sha256, '-');
});
