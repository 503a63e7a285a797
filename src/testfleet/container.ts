/**
 * Container hosts: systemd-nspawn -b on an overlayfs (copy-on-write over the shared rootfs).
 *
 * Network: the host shares the machine's network namespace and its sshd listens on its own 127.0.0.1 port.
 * Why not a netns + veth: the apt repository and SSH are then reachable at 127.0.0.1 with no address plan,
 * no NAT/forwarding rules and no sysctl change on the machine, and nothing is left behind if a run is killed;
 * 10 hosts start in a few seconds. The cost: hosts see each other's listening ports (tests that publish a
 * service on every host must pick per-host ports), and systemd-networkd is conditioned off inside.
 *
 * Process: `unshare -m` (private mount namespace: the overlay mount disappears with the last process in it, so
 * a killed run cannot leak a mount on the machine) → shell loop → systemd-nspawn. `systemctl reboot` inside
 * makes nspawn exit with 133; the loop starts it again on the same overlay (a reboot: new boot_id, same disk).
 * The loop is spawned detached (own process group) and tracked by PID + start time.
 */
import {spawn} from 'node:child_process';
import {closeSync, copyFileSync, mkdirSync, openSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {startTimeOf, type TrackedProcess} from './state.js';
import {FleetError} from './run.js';

export interface ContainerSpec {
  name: string;
  port: number;
  dir: string;
  rootfs: string;
  identityTar: string;
  machineId: string;
}

export const consoleLog = (dir: string): string => path.join(dir, 'console.log');

/** Writes the host's own files into its overlay's upper layer (before the first boot). */
export function prepareContainer(spec: ContainerSpec): void {
  const upper = path.join(spec.dir, 'upper');
  for (const d of ['upper/etc/ssh/sshd_config.d', 'upper/etc/berth-fleet', 'work', 'merged']) mkdirSync(path.join(spec.dir, d), {recursive: true});
  writeFileSync(path.join(upper, 'etc/machine-id'), spec.machineId + '\n');
  writeFileSync(path.join(upper, 'etc/hostname'), spec.name + '\n');
  writeFileSync(path.join(upper, 'etc/ssh/sshd_config.d/00-berth-listen.conf'), `# this container host's own port on the machine's loopback\nPort ${spec.port}\nListenAddress 127.0.0.1\n`);
  copyFileSync(spec.identityTar, path.join(upper, 'etc/berth-fleet/identity.tar'));
}

const LOOP = `
set -u
mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4" || { echo "[testfleet] mount overlay on $4 failed" >&2; exit 90; }
while :; do
  systemd-nspawn --quiet --boot --directory="$4" --machine="$5" --register=no --keep-unit --capability=all \\
    --link-journal=no --console=read-only
  rc=$?
  [ "$rc" -eq 133 ] || exit "$rc"
  echo "[testfleet] $5: reboot" >&2
done
`;

export function startContainer(spec: Pick<ContainerSpec, 'name' | 'dir' | 'rootfs'>): TrackedProcess {
  const log = openSync(consoleLog(spec.dir), 'a');
  const child = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      LOOP,
      'berth-host',
      spec.rootfs,
      path.join(spec.dir, 'upper'),
      path.join(spec.dir, 'work'),
      path.join(spec.dir, 'merged'),
      spec.name,
    ],
    {detached: true, stdio: ['ignore', log, log]},
  );
  closeSync(log);
  if (!child.pid) throw new FleetError(`start container host ${spec.name}: cannot run unshare/systemd-nspawn`);
  child.on('error', () => {});
  child.unref();
  return {pid: child.pid, startTime: startTimeOf(child.pid)};
}
