/**
 * VM hosts: qemu on a qcow2 overlay over the baked GRUB disk (so a kernel installed inside really boots), a
 * second 2 GiB disk for storage tests, user-mode network with SSH forwarded from 127.0.0.1:PORT, the host's
 * identity through fw_cfg, serial console to console.log. A reboot inside stays inside the same qemu process.
 * Accelerator: TCG unless a probe boot under KVM succeeded on this machine (see accel.ts).
 */
import {spawn} from 'node:child_process';
import {closeSync, openSync} from 'node:fs';
import path from 'node:path';
import {randomUUID} from 'node:crypto';
import {run, FleetError} from './run.js';
import {startTimeOf, type TrackedProcess} from './state.js';

export interface VmSpec {
  name: string;
  port: number;
  dir: string;
  baseDisk: string;
  identityTar: string;
  accel: 'tcg' | 'kvm';
  memoryMiB?: number;
}

export const vmConsoleLog = (dir: string): string => path.join(dir, 'console.log');

export async function prepareVm(spec: VmSpec): Promise<void> {
  const step = `prepare VM host ${spec.name}`;
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', spec.baseDisk, path.join(spec.dir, 'root.qcow2')], {step});
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(spec.dir, 'data.qcow2'), '2G'], {step});
}

export function qemuArgs(spec: VmSpec, uuid: string): string[] {
  const accel = spec.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,tb-size=256', '-cpu', 'max'];
  return [
    '-name', spec.name,
    // No floppy, CD-ROM or VGA to probe at every boot: only the devices below.
    '-nodefaults',
    ...accel,
    '-m', String(spec.memoryMiB ?? 1024),
    '-smp', '1',
    '-uuid', uuid,
    '-display', 'none',
    '-monitor', 'none',
    '-serial', `file:${vmConsoleLog(spec.dir)}`,
    // bootindex: without it SeaBIOS may pick the (empty) spare disk and sit there.
    '-drive', `file=${path.join(spec.dir, 'root.qcow2')},format=qcow2,if=none,id=root,cache=unsafe`,
    '-device', 'virtio-blk-pci,drive=root,bootindex=0',
    // The spare disk shows up as /dev/vdb and /dev/disk/by-id/virtio-berth-data.
    '-drive', `file=${path.join(spec.dir, 'data.qcow2')},format=qcow2,if=none,id=data,cache=unsafe`,
    '-device', 'virtio-blk-pci,drive=data,serial=berth-data',
    '-nic', `user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:${spec.port}-:22`,
    '-fw_cfg', `name=opt/berth/identity,file=${spec.identityTar}`,
    // Early boot otherwise waits for entropy (getrandom in chpasswd, sshd) for minutes under TCG.
    '-device', 'virtio-rng-pci',
  ];
}

export function startVm(spec: VmSpec): TrackedProcess {
  const log = openSync(path.join(spec.dir, 'qemu.log'), 'a');
  const child = spawn('qemu-system-x86_64', qemuArgs(spec, randomUUID()), {detached: true, stdio: ['ignore', log, log]});
  closeSync(log);
  if (!child.pid) throw new FleetError(`start VM host ${spec.name}: cannot run qemu-system-x86_64`);
  child.on('error', () => {});
  child.unref();
  return {pid: child.pid, startTime: startTimeOf(child.pid)};
}
