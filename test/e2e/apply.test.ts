/**
 * berth apply/plan/status/rollback end to end on container hosts of the test fleet (real systemd, real
 * sshd, the real CLI). Every scenario runs twice: the second run must report no changes and restart nothing.
 */
import test from 'ava';
import {readFileSync, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {startFleet, type Fleet, type FleetHost} from '../../src/testfleet/index.js';
import {applyFleet} from '../../src/fleet/apply-fleet.js';
import {applyJson, berth, pinEngine, sh, sleep, spawnBerth, writeSpec} from './helpers/berth.js';

let fleet: Fleet;
let c1: FleetHost;
let c2: FleetHost;

test.before(async () => {
  // berth uploads the engine it ships; pin a copy so a rebuild of native/ during the run is no spec change.
  process.env.BERTH_ENGINE_BINARY = pinEngine();
  fleet = await startFleet({containers: 2, aptRepo: false});
  [c1, c2] = fleet.hosts as [FleetHost, FleetHost];
});

test.after.always(async () => {
  await fleet?.stop();
  rmSync(path.dirname(process.env.BERTH_ENGINE_BINARY!), {recursive: true, force: true});
});

const unit = (description: string) => ({
  content: `[Unit]\nDescription=${description}\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n`,
});
const v1 = {
  units: {'web.service': unit('web v1'), 'worker.service': unit('worker')},
  dropins: {'web.service': {'10-env.conf': '[Service]\nEnvironment=MODE=one\n'}},
  files: {'/etc/web/web.conf': {content: 'port=80\n'}},
  kernel: {sysctls: {'vm.swappiness': 10}},
};
const v2 = {...v1, units: {...v1.units, 'web.service': unit('web v2')}};

const apply = (spec: string, ...extra: string[]) => berth(['apply', spec, '--known-hosts', fleet.knownHostsFile, '--yes', '--json', ...extra]);
const invocations = async (host: FleetHost) => {
  const out = await sh(fleet, host, 'systemctl show -p Id -p InvocationID web.service worker.service');
  return Object.fromEntries(
    out
      .trim()
      .split(/\n\s*\n/)
      .map((block) => {
        const kv = Object.fromEntries(block.split('\n').map((l) => l.split('=') as [string, string]));
        return [kv.Id, kv.InvocationID];
      }),
  );
};

async function expectNoChanges(t: any, spec: string, host: FleetHost) {
  const before = await invocations(host);
  const again = applyJson(await apply(spec, '--host', host.name));
  const r = again.hosts[0]!.result;
  t.is(r.status, 'unchanged', JSON.stringify(again));
  t.deepEqual([...r.restarted, ...r.started, ...r.changed], []);
  t.deepEqual(await invocations(host), before, 'a no-op apply restarted a unit');
}

test.serial('fresh host → apply → declared units active; the second apply changes nothing', async (t) => {
  const spec = writeSpec(fleet, [c1], v1);
  const run = await apply(spec, '--host', 'c1');
  t.is(run.code, 0, run.stderr);
  const doc = applyJson(run);
  const r = doc.hosts[0]!.result;
  t.is(r.status, 'applied');
  t.is(r.generation, 1);
  t.true(r.started.includes('web.service') && r.started.includes('worker.service'));
  // Report, don't hide: /proc/sys is read-only in a container host.
  t.true(r.warnings.some((w: string) => /read-only/.test(w)), JSON.stringify(r.warnings));
  t.is((await sh(fleet, c1, 'systemctl is-active web.service worker.service')).trim(), 'active\nactive');
  t.is((await sh(fleet, c1, 'systemctl show -p Environment --value web.service')).trim(), 'MODE=one');
  t.is((await sh(fleet, c1, 'readlink /var/lib/berth/current')).trim(), 'generations/1');
  t.regex(await sh(fleet, c1, 'readlink /usr/local/bin/berth-engine || echo none'), /engine\/|none/);
  t.regex(run.stderr, /\[c1\] +✓ generation 1/);
  await expectNoChanges(t, spec, c1);
  const plan = await berth(['plan', spec, '--known-hosts', fleet.knownHostsFile, '--host', 'c1']);
  t.is(plan.code, 0, plan.stderr);
  t.is(plan.stdout.trim(), 'c1: no changes (generation 1)');
});

test.serial('a spec change restarts only the changed unit', async (t) => {
  const before = await invocations(c1);
  const spec = writeSpec(fleet, [c1], v2);
  const plan = await berth(['plan', spec, '--known-hosts', fleet.knownHostsFile]);
  t.regex(plan.stdout, /~ \/etc\/systemd\/system\/web\.service \(content\)/);
  t.regex(plan.stdout, /> restart web\.service/);
  t.notRegex(plan.stdout, /worker/);
  const r = applyJson(await apply(spec)).hosts[0]!.result;
  t.is(r.status, 'applied');
  t.is(r.generation, 2);
  t.deepEqual(r.restarted, ['web.service']);
  const after = await invocations(c1);
  t.not(after['web.service'], before['web.service']);
  t.is(after['worker.service'], before['worker.service']);
  await expectNoChanges(t, spec, c1);
});

test.serial('a hand edit shows as drift (plan and status) and apply repairs it', async (t) => {
  const spec = writeSpec(fleet, [c1], v2);
  await sh(fleet, c1, 'echo "port=81" | sudo tee /etc/web/web.conf >/dev/null');
  const plan = await berth(['plan', spec, '--known-hosts', fleet.knownHostsFile, '--json']);
  const p = JSON.parse(plan.stdout).hosts[0].plan;
  t.deepEqual(p.drift.map((d: any) => [d.path, d.kind]), [['/etc/web/web.conf', 'edited']]);
  const status = await berth(['status', spec, '--known-hosts', fleet.knownHostsFile]);
  t.is(status.code, 0, status.stderr);
  t.regex(status.stdout, /c1 +2 +\/etc\/web\/web\.conf \(edited\)/);
  const r = applyJson(await apply(spec)).hosts[0]!.result;
  t.is(r.status, 'repaired');
  t.is(r.generation, 2);
  t.is(await sh(fleet, c1, 'cat /etc/web/web.conf'), 'port=80\n');
  await expectNoChanges(t, spec, c1);
  const status2 = await berth(['status', spec, '--known-hosts', fleet.knownHostsFile, '--json']);
  t.deepEqual(JSON.parse(status2.stdout).hosts[0].status.drift, []);
});

test.serial('the engine binary deleted, changed in place or unlinked on the host is drift; apply repairs it', async (t) => {
  const spec = writeSpec(fleet, [c1], v2);
  const bin = (await sh(fleet, c1, 'readlink /usr/local/bin/berth-engine')).trim();
  t.regex(bin, /^\/usr\/local\/lib\/berth\/engine\/[^/]+\/berth-engine$/);
  const sha = (await sh(fleet, c1, `sha256sum ${bin}`)).slice(0, 64);
  // berth left the sum beside the binary, so the probe does not hash it every time.
  t.regex(await sh(fleet, c1, `cat ${bin}.sum`), new RegExp(`^\\d+ \\d+ \\d+ ${sha}\\n$`));
  const breakages: [string, string, string][] = [
    ['deleted', `sudo rm -f ${bin}`, 'missing'],
    // Same size, one byte changed: only the ctime tells, and the probe hashes it again.
    ['changed in place', `printf X | sudo dd of=${bin} bs=1 seek=100 conv=notrunc status=none`, 'edited'],
    ['link pointing elsewhere', 'sudo ln -sfn /bin/true /usr/local/bin/berth-engine', 'edited'],
  ];
  for (const [what, cmd, kind] of breakages) {
    await sh(fleet, c1, cmd);
    const plan = await berth(['plan', spec, '--known-hosts', fleet.knownHostsFile, '--json']);
    const p = JSON.parse(plan.stdout).hosts[0].plan;
    t.deepEqual(p.drift.map((d: any) => d.kind), [kind], what);
    const r = applyJson(await apply(spec)).hosts[0]!.result;
    t.is(r.status, 'repaired', `${what}: ${JSON.stringify(r)}`);
    t.is((await sh(fleet, c1, `sha256sum ${bin}`)).slice(0, 64), sha, what);
    t.is((await sh(fleet, c1, 'readlink /usr/local/bin/berth-engine')).trim(), bin, what);
    await expectNoChanges(t, spec, c1);
  }
  // Another engine berth did not install (no sum, neither active nor wanted) is listed, not hashed.
  await sh(fleet, c1, 'sudo mkdir -p /usr/local/lib/berth/engine/0.0.9-other && sudo cp /bin/true /usr/local/lib/berth/engine/0.0.9-other/berth-engine');
  const plan = JSON.parse((await berth(['plan', spec, '--known-hosts', fleet.knownHostsFile, '--json'])).stdout).hosts[0];
  t.true(plan.plan.empty);
  const installed = Object.fromEntries(plan.facts.engine.installed.map((e: any) => [e.version, e.sha256]));
  t.is(installed['0.0.9-other'], '-');
  t.is(installed[bin.split('/').at(-2)!], sha, 'the active engine is known by its sum');
  await sh(fleet, c1, 'sudo rm -rf /usr/local/lib/berth/engine/0.0.9-other');
});

test.serial('rollback returns to the previous generation; applying that spec again changes nothing', async (t) => {
  const spec1 = writeSpec(fleet, [c1], v1);
  const run = await berth(['rollback', spec1, '--known-hosts', fleet.knownHostsFile, '--json']);
  t.is(run.code, 0, run.stderr);
  const r = JSON.parse(run.stdout).hosts[0].result;
  t.is(r.generation, 1);
  t.deepEqual(r.restarted, ['web.service']);
  t.is((await sh(fleet, c1, 'systemctl show -p Description --value web.service')).trim(), 'web v1');
  t.is((await sh(fleet, c1, 'readlink /var/lib/berth/current')).trim(), 'generations/1');
  await expectNoChanges(t, spec1, c1);
});

test.serial('files and units that vanish from the spec are removed; unmanaged files are never touched', async (t) => {
  await sh(fleet, c1, 'echo mine | sudo tee /etc/web/unmanaged.conf >/dev/null');
  const {dropins: _d, ...rest} = v1;
  const spec = writeSpec(fleet, [c1], {...rest, units: {'web.service': v1.units['web.service']}});
  const r = applyJson(await apply(spec)).hosts[0]!.result;
  t.is(r.status, 'applied');
  t.deepEqual(r.disabled, ['worker.service']);
  t.true(r.removed.includes('/etc/systemd/system/worker.service'));
  t.is((await fleet.ssh(c1, 'test -e /etc/systemd/system/worker.service')).code, 1);
  t.is((await fleet.ssh(c1, 'systemctl is-active worker.service')).stdout.trim(), 'inactive');
  t.is(await sh(fleet, c1, 'cat /etc/web/unmanaged.conf'), 'mine\n');
  await expectNoChanges(t, spec, c1);
  // Back to v1 for the next scenarios.
  t.is(applyJson(await apply(writeSpec(fleet, [c1], v1))).hosts[0]!.result.status, 'applied');
});

test.serial('an unknown host key is refused before anything is sent', async (t) => {
  const spec = writeSpec(fleet, [c2], v1);
  const empty = `${spec}.known_hosts`;
  writeFileSync(empty, '');
  const run = await berth(['apply', spec, '--known-hosts', empty, '--yes']);
  t.is(run.code, 4);
  t.regex(run.stderr, /host key/i);
  t.regex(run.stderr, /berth trust/);
  t.is((await fleet.ssh(c2, 'test -e /var/lib/berth')).code, 1, 'something reached the host');
  // Twice: still refused, still nothing there.
  t.is((await berth(['apply', spec, '--known-hosts', empty, '--yes'])).code, 4);
  t.is((await fleet.ssh(c2, 'test -e /var/lib/berth')).code, 1);
});

test.serial('the sudo-password user works; the password is asked once per host and never logged', async (t) => {
  const spec = writeSpec(fleet, [c2], v1, {user: 'operator'});
  const asked: string[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const options = {
    specFile: spec,
    knownHostsFile: fleet.knownHostsFile,
    yes: true,
    json: true,
    prompt: async (request: {kind: string; host: string}) => {
      asked.push(`${request.kind}@${request.host}`);
      return c2.operator.sudoPassword;
    },
    stdout: {write: (s: string) => out.push(s)},
    stderr: {write: (s: string) => err.push(s)},
  };
  t.is(await applyFleet(options), 0, err.join(''));
  const doc = JSON.parse(out.join(''));
  t.is(doc.hosts[0].result.status, 'applied');
  t.deepEqual(asked, ['sudo-password@c2']);
  const logs = readFileSync(`${doc.logDir}/c2.log`, 'utf8');
  t.false(logs.includes(c2.operator.sudoPassword), 'the sudo password is in the transcript');
  t.false(err.join('').includes(c2.operator.sudoPassword));
  out.length = 0;
  t.is(await applyFleet(options), 0, err.join(''));
  t.is(JSON.parse(out.join('')).hosts[0].result.status, 'unchanged');
});

test.serial('berth killed mid-apply, host helper killed too (a crash): the next run rolls back and converges', async (t) => {
  const spec = writeSpec(fleet, [c1], v2);
  const child = spawnBerth(['apply', spec, '--known-hosts', fleet.knownHostsFile, '--yes'], {BERTH_TEST_PAUSE: 'file-written'});
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // Wait until the helper sits after its first file, with `pending` in the journal.
  let owner = '';
  for (let i = 0; i < 180 && !owner; i++) {
    await sleep(500);
    const r = await fleet.ssh(c1, 'sudo sh -c "cat /run/berth/apply.owner && grep -c @@paused /var/lib/berth/incoming/*/log" 2>/dev/null');
    if (/pid=/.test(r.stdout) && r.code === 0) owner = r.stdout;
  }
  t.truthy(owner, `the apply never reached the pause point:\n${stderr}`);
  child.kill('SIGKILL');
  const pid = /pid=(\d+)/.exec(owner)![1];
  // The host "crashes" mid-switch: its helper (a process group of its own) dies where it stands.
  await sh(fleet, c1, `sudo kill -9 -- -${pid}`);
  const m = /pending (\d+) base=(\d+)/.exec(await sh(fleet, c1, 'tail -n 1 /var/lib/berth/journal'));
  t.truthy(m, 'no pending switch in the journal');
  const [, target, base] = m!;
  const status = await berth(['status', spec, '--known-hosts', fleet.knownHostsFile]);
  t.regex(status.stdout, /interrupted apply/);
  const run = await apply(spec);
  t.is(run.code, 0, run.stderr);
  const r = applyJson(run).hosts[0]!.result;
  t.regex(r.recovered, new RegExp(`switch to ${target} rolled back to ${base}`));
  t.is(r.status, 'applied');
  t.is(r.generation, Number(target) + 1);
  t.is((await sh(fleet, c1, 'systemctl show -p Description --value web.service')).trim(), 'web v2');
  await expectNoChanges(t, spec, c1);
});

test.serial('berth SIGKILLed during apply: the host finishes the switch alone; re-runs converge', async (t) => {
  const spec = writeSpec(fleet, [c1], v1);
  const child = spawnBerth(['apply', spec, '--known-hosts', fleet.knownHostsFile, '--yes']);
  // Kill as soon as the helper has started on the host.
  for (let i = 0; i < 300; i++) {
    await sleep(200);
    if ((await fleet.ssh(c1, 'test -e /run/berth/apply.owner')).code === 0) break;
  }
  child.kill('SIGKILL');
  let r;
  for (let i = 0; i < 30; i++) {
    const run = await apply(spec);
    const doc = applyJson(run);
    if (doc.hosts[0]!.ok) {
      r = doc.hosts[0]!.result;
      break;
    }
    t.regex(doc.hosts[0]!.error.message, /another apply is running/);
    await sleep(2000);
  }
  t.truthy(r);
  t.true(['unchanged', 'applied'].includes(r.status));
  t.is((await sh(fleet, c1, 'systemctl show -p Description --value web.service')).trim(), 'web v1');
  t.notRegex(await sh(fleet, c1, 'tail -n 1 /var/lib/berth/journal'), /pending/);
  await expectNoChanges(t, spec, c1);
});

test.serial('a second apply while one runs is refused with the holder named', async (t) => {
  const spec = writeSpec(fleet, [c1], v2);
  const child = spawnBerth(['apply', spec, '--known-hosts', fleet.knownHostsFile, '--yes'], {BERTH_TEST_PAUSE: 'pending'});
  let owner = '';
  for (let i = 0; i < 180 && !owner; i++) {
    await sleep(500);
    const r = await fleet.ssh(c1, 'sudo sh -c "cat /run/berth/apply.owner && grep -c @@paused /var/lib/berth/incoming/*/log" 2>/dev/null');
    if (/pid=/.test(r.stdout) && r.code === 0) owner = r.stdout;
  }
  t.truthy(owner, 'the apply never reached the pause point');
  const run = await apply(spec);
  t.is(run.code, 4);
  t.regex(applyJson(run).hosts[0]!.error.message, /another apply is running on this host \(.*pid=\d+.*by=/);
  child.kill('SIGKILL');
  const pid = /pid=(\d+)/.exec(owner)![1];
  await sh(fleet, c1, `sudo kill -9 -- -${pid}`);
  const again = applyJson(await apply(spec));
  t.is(again.hosts[0]!.result.status, 'applied');
  await expectNoChanges(t, spec, c1);
});
