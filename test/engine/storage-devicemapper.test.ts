// devicemapper (direct-lvm) in a VM of the test fleet: this machine's kernel has no device-mapper. The static
// engine binary and an oci-archive of the multi-layer image are copied in; the pool goes on the VM's spare
// disk (/dev/vdb). Checks: each layer is a thin snapshot of its parent, the unpacked tree equals umoci's, a
// container runs, loop-file pools are refused, everything is removed again. The VM boots with cgroup v2 (this
// machine is hybrid), so `selftest` and the --memory/--pids/--cpus limits are checked on a real v2 host here too.
import test from 'ava';
import {execFileSync} from 'node:child_process';
import path from 'node:path';
import {startFleet, type Fleet, type FleetHost} from '../../src/testfleet/index.js';
import {Scratch, cgroupLimitsScript, engine, must, requireEngine} from './helpers/engine.js';
import {makeMultiLayerImage} from './helpers/images.js';

const scratch = new Scratch();
let fleet: Fleet | undefined;
let vm: FleetHost;

test.after.always(async () => {
  await fleet?.stop();
  scratch.cleanup();
});

async function root(t: {is: (a: unknown, b: unknown, m?: string) => void}, command: string, expectCode = 0) {
  const r = await fleet!.ssh(vm, `sudo sh -c '${command.replace(/'/g, `'\\''`)}'`, {timeoutMs: 15 * 60_000});
  t.is(r.code, expectCode, `${command}\n${r.stderr}`);
  return r;
}

const listCmd = (dir: string) =>
  `cd ${dir} && find . -mindepth 1 -printf '%P|%y|%m|%U|%G|%l\\n' | sort && find . -type f -printf '%P\\n' | sort | xargs -d '\\n' sha256sum`;

test.serial('devicemapper: layers as thin snapshots, tree equals umoci unpack, a container runs, cleanup', async (t) => {
  t.timeout(45 * 60_000, 'a cold run builds the VM image first; TCG is slow');
  requireEngine();
  const dir = scratch.make('dm');
  const layout = path.join(dir, 'multi');
  makeMultiLayerImage(scratch, layout);
  const archive = path.join(dir, 'multi.tar');
  must('skopeo', ['copy', '--quiet', `oci:${layout}:latest`, `oci-archive:${archive}:latest`]);
  const umociRoot = path.join(dir, 'bundle');
  must('umoci', ['unpack', '--image', `${layout}:latest`, umociRoot]);
  const expected = execFileSync('sh', ['-c', listCmd(path.join(umociRoot, 'rootfs'))], {encoding: 'utf8'});

  fleet = await startFleet({vms: 1});
  vm = fleet.hosts[0]!;
  must('scp', ['-F', fleet.sshConfigFile, '-q', engine, `${vm.name}:/tmp/berth-engine`]);
  must('scp', ['-F', fleet.sshConfigFile, '-q', archive, `${vm.name}:/tmp/multi.tar`]);
  const E = '/tmp/berth-engine';
  const D = '--data-root /var/lib/berth-dm --storage-driver devicemapper --dm-pool berth/thinpool';
  await root(t, 'modprobe dm_thin_pool');
  t.regex((await root(t, `${E} storage dm-setup /dev/vdb`)).stdout, /^berth\/thinpool$/m);
  t.regex((await root(t, 'lvs --noheadings -o lv_profile berth/thinpool')).stdout, /berth-thinpool/);
  t.regex((await root(t, `${E} image ${D} load --tag multi /tmp/multi.tar`)).stdout, /Loaded image: multi/);
  // Each layer is a thin snapshot of its parent; the first one of the base volume.
  const lvs = (await root(t, 'lvs --noheadings --separator , -o lv_name,origin,pool_lv berth')).stdout;
  const rows = lvs.trim().split('\n').map((l) => l.trim().split(','));
  const layers = rows.filter((r) => r[0]!.startsWith('bl-'));
  t.is(layers.length, 3, lvs);
  for (const l of layers) t.is(l[2], 'thinpool');
  const origins = new Set(layers.map((l) => l[1]));
  t.true(origins.has('berth-base'), lvs);
  t.is(layers.filter((l) => l[1]!.startsWith('bl-')).length, 2, 'layers 2 and 3 snapshot their parents');

  const rootfs = (await root(t, `${E} image ${D} mount multi cmp`)).stdout.trim();
  t.is((await root(t, listCmd(rootfs))).stdout, expected);
  await root(t, `${E} image ${D} umount cmp`);

  const run = await root(t, `${E} --root /run/berth-dm run ${D} --rm --name dm1 multi sh -c "cat /etc/a; ls /data"`);
  t.is(run.stdout, 'a from layer 3\nnew\nold\n');
  t.false((await root(t, 'lvs --noheadings -o lv_name berth')).stdout.includes('bc-dm1'), 'the container snapshot is gone');

  // The health check berth apply runs, on devicemapper and cgroup v2; it leaves no volume, state or cgroup.
  t.regex((await root(t, 'stat -fc %T /sys/fs/cgroup')).stdout, /cgroup2fs/, 'the VM has cgroup v2');
  const st = await root(t, `${E} --root /run/berth-dm selftest ${D}`);
  t.regex(st.stdout, /^berth-engine selftest: ok \(devicemapper, cgroup v2, \d+ ms\)\n$/);
  t.is((await root(t, 'ls /var/lib/berth-dm/tmp; ls /run/berth-dm; ls /sys/fs/cgroup/berth-engine 2>/dev/null | grep -c selftest || true')).stdout, '0\n');

  // cgroup v2 limits seen from inside the container and from the host.
  const script = Buffer.from(cgroupLimitsScript).toString('base64');
  const inside = await root(t, `${E} --root /run/berth-dm run ${D} --rm --name lim1 --cpus 1.5 --memory 40m --pids 21 multi sh -c "$(echo ${script} | base64 -d)"`);
  t.is(inside.stdout, 'cpu=150000 100000\nmemory=41943040\npids=21\n');
  const outside = await root(
    t,
    `(${E} --root /run/berth-dm run ${D} --rm --name lim2 --cpus 0.25 --memory 24m --pids 9 multi sleep 60 >/dev/null &) ; ` +
      'c=/sys/fs/cgroup/berth-engine/lim2; for i in $(seq 1 600); do grep -q . $c/cgroup.procs 2>/dev/null && break; sleep 0.1; done; ' +
      `cat $c/cpu.max $c/memory.max $c/pids.max; ${E} --root /run/berth-dm stop -t 5 lim2 >/dev/null; ` +
      // Up to 120 s: the VM runs under TCG on a shared, loaded machine (30 s was once too short there).
      'for i in $(seq 1 1200); do [ -d $c ] || break; sleep 0.1; done; [ -d $c ] && echo cgroup-left || echo cgroup-gone',
  );
  t.is(outside.stdout, '25000 100000\n25165824\n9\ncgroup-gone\n');

  // Loop-file pools are refused unless --allow-loopback.
  const loop = (await root(t, 'truncate -s 300M /tmp/loop.img && losetup -f --show /tmp/loop.img')).stdout.trim();
  const refused = await root(t, `${E} storage dm-setup --vg loopvg ${loop}`, 1);
  t.regex(refused.stderr, /is a loop device; loop-backed pools are refused unless --allow-loopback/);
  await root(t, `losetup -d ${loop} && rm /tmp/loop.img`);

  await root(t, `${E} image ${D} rm multi`);
  const left = (await root(t, 'lvs --noheadings -o lv_name berth')).stdout;
  t.notRegex(left, /bl-/, 'gc removed every layer volume');
  await root(t, 'vgremove -q -f berth && pvremove -q /dev/vdb');
});
