// One VM host (qemu, real Debian kernel booted by GRUB) for everything that needs a real kernel: device-mapper
// thin provisioning on the spare disk, then a kernel upgrade from the local repository and a reboot into it.
// One boot for the whole file (a VM under TCG takes about a minute to boot, the kernel install ~4 minutes).
import test from 'ava';
import {startFleet, type Fleet, type FleetHost} from '../../src/testfleet/index.js';

let fleet: Fleet | undefined;
let vm: FleetHost;

test.after.always(async () => {
  await fleet?.stop();
});

async function root(t: {log: (...a: unknown[]) => void; is: (a: unknown, b: unknown, m?: string) => void}, command: string, timeoutMs = 10 * 60_000) {
  const r = await fleet!.ssh(vm, `sudo sh -c '${command.replace(/'/g, `'\\''`)}'`, {timeoutMs});
  t.is(r.code, 0, `${command}\n${r.stderr}`);
  return r.stdout;
}

test.serial('a VM host boots from its GRUB disk and answers SSH', async (t) => {
  t.timeout(40 * 60_000, 'a cold run builds the image and bakes the VM disk first');
  const started = Date.now();
  fleet = await startFleet({vms: 1});
  t.log(`VM up in ${Math.round((Date.now() - started) / 1000)} s`);
  vm = fleet.hosts[0]!;
  t.is(vm.kind, 'vm');
  const out = await fleet.ssh(vm, 'hostname; cat /proc/cmdline; systemd-detect-virt; test -e /boot/grub/grub.cfg && echo grub');
  t.is(out.code, 0, out.stderr);
  const [hostname, cmdline, virt, grub] = out.stdout.trim().split('\n');
  t.is(hostname, 'vm1');
  t.regex(cmdline!, /^BOOT_IMAGE=\/boot\/vmlinuz-/, 'booted by GRUB, not by qemu -kernel');
  t.is(virt, 'qemu');
  t.is(grub, 'grub');
});

test.serial('dm_thin_pool loads and an LVM thin pool, thin volume and snapshot work on the spare disk', async (t) => {
  t.timeout(20 * 60_000);
  t.truthy(fleet, 'needs the VM of the first test');
  // One SSH round trip: every login costs seconds of emulated CPU under TCG.
  const out = await root(
    t,
    [
      'set -e',
      'modprobe dm_thin_pool',
      'grep -q "^dm_thin_pool " /proc/modules && echo module=loaded',
      'echo disk=$(readlink -f /dev/disk/by-id/virtio-berth-data) size=$(blockdev --getsize64 /dev/vdb)',
      'pvcreate -q /dev/vdb && vgcreate -q vgtest /dev/vdb',
      'lvcreate -q --type thin-pool -L 1G -n pool vgtest',
      'lvcreate -q -V 4G --thin -n thin1 vgtest/pool',
      'mkfs.ext4 -q /dev/vgtest/thin1 && mkdir -p /mnt/thin1 && mount /dev/vgtest/thin1 /mnt/thin1',
      'echo one > /mnt/thin1/file && sync',
      'lvcreate -q -s -kn -n snap1 vgtest/thin1',
      'echo two > /mnt/thin1/file && sync',
      'mkdir -p /mnt/snap1 && mount -o ro /dev/vgtest/snap1 /mnt/snap1',
      'echo snap=$(cat /mnt/snap1/file) origin=$(cat /mnt/thin1/file)',
      'lvs --noheadings -o lv_name,segtype,pool_lv,origin vgtest | sed "s/^ */lv: /"',
      'dmsetup status | grep -q " thin-pool " && echo dm=thin-pool',
      'umount /mnt/snap1 /mnt/thin1 && vgremove -q -f vgtest >/dev/null && pvremove -q /dev/vdb',
      'echo cleaned=yes',
    ].join('\n'),
    15 * 60_000,
  );
  t.regex(out, /^module=loaded$/m);
  t.regex(out, new RegExp(`^disk=/dev/vdb size=${2 * 1024 ** 3}$`, 'm'));
  t.regex(out, /^snap=one origin=two$/m, 'the snapshot keeps the old content');
  t.regex(out, /^lv: pool\s+thin-pool\s*$/m);
  t.regex(out, /^lv: thin1\s+thin\s+pool\s*$/m);
  t.regex(out, /^lv: snap1\s+thin\s+pool\s+thin1\s*$/m);
  t.regex(out, /^dm=thin-pool$/m);
  t.regex(out, /^cleaned=yes$/m);
});

test.serial('a kernel upgrade from the local repository and a reboot run the new kernel', async (t) => {
  t.timeout(40 * 60_000, 'kernel install (~4 min under TCG) and reboot');
  t.truthy(fleet, 'needs the VM of the first test');
  const expected = fleet!.apt!.newKernelRelease;
  const [before, ...sources] = (await root(t, 'uname -r; cat /etc/apt/sources.list /etc/apt/sources.list.d/*')).trim().split('\n');
  t.not(before, expected);
  t.deepEqual(sources, [`deb [trusted=yes] ${fleet!.apt!.vmUrl} ./`], 'the VM has no other apt source');
  const started = Date.now();
  await root(t, 'apt-get -q update && DEBIAN_FRONTEND=noninteractive apt-get -q -y --no-install-recommends install linux-image-amd64', 30 * 60_000);
  t.log(`kernel install: ${Math.round((Date.now() - started) / 1000)} s`);
  t.regex(await root(t, 'cat /boot/grub/grub.cfg'), new RegExp(`vmlinuz-${expected.replace(/[.]/g, '\\.')}`));
  const bootBefore = await vm.bootId();
  const rebootStarted = Date.now();
  await fleet!.reboot(vm);
  t.log(`reboot: ${Math.round((Date.now() - rebootStarted) / 1000)} s`);
  t.not(await vm.bootId(), bootBefore);
  t.is((await root(t, 'uname -r')).trim(), expected);
});
