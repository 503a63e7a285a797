/**
 * The test fleet's Node API: real Debian 12 hosts on this machine for tests (and `berth demo`).
 *
 *   const fleet = await startFleet({containers: 3, vms: 1});
 *   … ssh -F fleet.sshConfigFile c1 …  /  fleet.hosts[0].port, .admin.identityFile, fleet.knownHostsFile
 *   await fleet.reboot(fleet.hosts[0]);
 *   await fleet.stop();
 *
 * Everything a fleet creates lives under ~/.cache/berth/fleets/NAME/ and in processes tracked there by PID;
 * a detached reaper tears it all down when the owning process goes away without stop() (crash, SIGKILL,
 * ava timeout). Images are built on first use and cached (image.ts).
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {randomBytes} from 'node:crypto';
import {fileURLToPath} from 'node:url';
import {tail} from '../errors.js';
import {chooseAccel} from './accel.js';
import {ensureAptRepo, serveAptRepo, type AptRepo} from './apt-repo.js';
import {consoleLog, prepareContainer, startContainer} from './container.js';
import {generateKey, generateMachineId, generatePassword, knownHostsText, sshConfigText, writeIdentityTar, type KeyPair} from './identity.js';
import {ensureRootfs, ensureVmDisk} from './image.js';
import {fleetsDir, repoRoot} from './paths.js';
import {reservePorts} from './ports.js';
import {ensureTools, FleetError, run, sleep, type RunResult} from './run.js';
import {isAlive, readState, teardownFleet, writeState, type FleetState, type HostState} from './state.js';
import {prepareVm, startVm, vmConsoleLog} from './vm.js';

export {FleetError} from './run.js';
export {teardownFleet, readState, isAlive} from './state.js';
export type {FleetState} from './state.js';

export interface FleetHost {
  name: string;
  kind: 'container' | 'vm';
  address: '127.0.0.1';
  port: number;
  /** Passwordless sudo. */
  admin: {user: string; identityFile: string};
  /** sudo needs `sudoPassword`. */
  operator: {user: string; identityFile: string; sudoPassword: string};
  bootId(): Promise<string>;
}

export interface Fleet {
  name: string;
  dir: string;
  hosts: FleetHost[];
  knownHostsFile: string;
  sshConfigFile: string;
  /** The local apt repository as the machine (and container hosts) reach it; VMs use `apt.vmUrl`. */
  aptRepoUrl?: string;
  apt?: AptRepo & {url: string; vmUrl: string; requestLog: string};
  /** Runs `command` on the host through OpenSSH (strict host-key checking); never rejects on exit codes. */
  ssh(host: FleetHost, command: string, options?: {user?: 'admin' | 'operator'; input?: string; timeoutMs?: number}): Promise<RunResult>;
  /** `systemctl reboot` inside, then waits for SSH and a new boot_id. */
  reboot(host: FleetHost): Promise<void>;
  /** Stops every process, removes every file of the fleet. Idempotent. */
  stop(): Promise<void>;
}

export interface StartFleetOptions {
  containers?: number;
  vms?: number;
  /** Unique per running fleet; default `t<pid>-<random>`. */
  name?: string;
  /** Serve the local apt repository (built on first use, then cached). Default true. */
  aptRepo?: boolean;
  /** Leave the fleet running when this process exits (`npm run fleet -- up`). */
  persistent?: boolean;
  /** Per-host boot timeout; defaults: 300 s for containers, 20 min for VMs (TCG on a loaded machine). */
  bootTimeoutMs?: number;
}

const log = (msg: string) => process.stderr.write(`[testfleet] ${msg}\n`);

function startReaper(dir: string): ChildProcess {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  const script = path.join(path.dirname(here), ts ? 'reaper.ts' : 'reaper.js');
  const out = openSync(path.join(dir, 'reaper.log'), 'a');
  const child = spawn(process.execPath, [...(ts ? ['--import', 'tsx'] : []), script, dir], {
    cwd: repoRoot(),
    detached: true,
    stdio: ['pipe', out, out],
  });
  closeSync(out);
  child.on('error', () => {});
  child.unref();
  (child.stdin as unknown as {unref?: () => void}).unref?.();
  return child;
}

function hostLogTail(h: HostState): string {
  const file = h.kind === 'vm' ? vmConsoleLog(h.dir) : consoleLog(h.dir);
  const qemuLog = path.join(h.dir, 'qemu.log');
  const qemu = h.kind === 'vm' && existsSync(qemuLog) ? readFileSync(qemuLog, 'utf8').trim() : '';
  const text = existsSync(file) ? tail(readFileSync(file, 'utf8').replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''), 25) : '(no console output)';
  return qemu ? `${text}\nqemu: ${tail(qemu, 10)}` : text;
}

/** User + system CPU seconds of a process (/proc/PID/stat fields 14 and 15, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

function sshBanner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({host: '127.0.0.1', port});
    const timer = setTimeout(() => done(false), 5000);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    socket.once('data', (d: Buffer) => done(d.toString().startsWith('SSH-')));
    socket.once('error', () => done(false));
  });
}

export async function startFleet(options: StartFleetOptions = {}): Promise<Fleet> {
  const containers = options.containers ?? 0;
  const vms = options.vms ?? 0;
  const name = options.name ?? `t${process.pid}-${randomBytes(3).toString('hex')}`;
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(name)) throw new FleetError(`start fleet ${name}: names are lower-case letters, digits and '-' (max 31)`);
  if (process.getuid?.() !== 0) throw new FleetError('start the test fleet: needs root (systemd-nspawn, overlay mounts, qemu); run the tests as root');
  const dir = path.join(fleetsDir(), name);
  const previous = readState(dir);
  if (previous) {
    const running = [...previous.hosts.map((h) => h.process), previous.aptServer].some((p) => p && isAlive(p));
    if (running) throw new FleetError(`start fleet ${name}: it is already running (${dir}); stop it first: npm run fleet -- down ${name}`);
    await teardownFleet(dir);
  }
  mkdirSync(dir, {recursive: true});
  const state: FleetState = {name, dir, createdAt: new Date().toISOString(), ownerPid: process.pid, persistent: !!options.persistent, hosts: []};
  writeState(state);
  const reaper = startReaper(dir);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const {errors} = await teardownFleet(dir);
    reaper.stdin?.end();
    if (errors.length) throw new FleetError(`stop fleet ${name}: ${errors.join('; ')}`);
  };

  try {
    await ensureTools(
      {'systemd-nspawn': 'systemd-container', unshare: 'util-linux', ssh: 'openssh-client', 'ssh-keygen': 'openssh-client', tar: 'tar', flock: 'util-linux'},
      'start the test fleet',
    );
    const image = await ensureRootfs();
    state.imageDir = image.dir;
    writeState(state);
    const vmDisk = vms > 0 ? await ensureVmDisk(image) : undefined;
    const accel = vms > 0 ? await chooseAccel(image.rootfs) : 'tcg';
    const ports = await reservePorts(dir, containers + vms + 1);
    const aptPort = ports.pop()!;

    let apt: Fleet['apt'];
    if (options.aptRepo !== false) {
      const repo = await ensureAptRepo(image);
      const requestLog = path.join(dir, 'apt-requests.log');
      state.aptServer = {...(await serveAptRepo(repo.dir, aptPort, requestLog)), port: aptPort};
      writeState(state);
      apt = {...repo, url: `http://127.0.0.1:${aptPort}/`, vmUrl: `http://10.0.2.2:${aptPort}/`, requestLog};
    }

    const keysDir = path.join(dir, 'keys');
    const [adminKey, operatorKey] = await Promise.all([
      generateKey(path.join(keysDir, 'berth'), `berth@${name}`),
      generateKey(path.join(keysDir, 'operator'), `operator@${name}`),
    ]);
    const sudoPassword = generatePassword();

    const specs = [
      ...Array.from({length: containers}, (_, i) => ({name: `c${i + 1}`, kind: 'container' as const})),
      ...Array.from({length: vms}, (_, i) => ({name: `vm${i + 1}`, kind: 'vm' as const})),
    ].map((s, i) => ({...s, port: ports[i]!, dir: path.join(dir, 'hosts', s.name)}));

    const hostKeys = new Map<string, KeyPair>();
    await Promise.all(
      specs.map(async (s) => {
        mkdirSync(s.dir, {recursive: true});
        const hostKey = await generateKey(path.join(s.dir, 'ssh_host_ed25519_key'), `${s.name}@${name}`);
        hostKeys.set(s.name, hostKey);
        const aptUrl = apt ? (s.kind === 'vm' ? apt.vmUrl : apt.url) : undefined;
        await writeIdentityTar(path.join(s.dir, 'identity.tar'), {
          hostname: s.name,
          hostKey,
          adminKey: adminKey.publicKey,
          operatorKey: operatorKey.publicKey,
          operatorPassword: sudoPassword,
          aptSourceLine: aptUrl ? `deb [trusted=yes] ${aptUrl} ./` : undefined,
        });
      }),
    );

    const entries = specs.map((s) => ({name: s.name, port: s.port, hostKey: hostKeys.get(s.name)!.publicKey}));
    const knownHostsFile = path.join(dir, 'known_hosts');
    const sshConfigFile = path.join(dir, 'ssh_config');
    writeFileSync(knownHostsFile, knownHostsText(entries));
    writeFileSync(sshConfigFile, sshConfigText(entries, {knownHosts: knownHostsFile, adminKey: adminKey.privateFile, operatorKey: operatorKey.privateFile}));

    const ssh: Fleet['ssh'] = (host, command, opts = {}) =>
      run('ssh', ['-F', sshConfigFile, opts.user === 'operator' ? `${host.name}-operator` : host.name, command], {
        allowFailure: true,
        input: opts.input,
        timeoutMs: opts.timeoutMs ?? 10 * 60_000,
      });

    const hostStates: HostState[] = [];
    for (const s of specs) {
      const h: HostState = {name: s.name, kind: s.kind, port: s.port, dir: s.dir};
      if (s.kind === 'container') {
        prepareContainer({name: s.name, port: s.port, dir: s.dir, rootfs: image.rootfs, identityTar: path.join(s.dir, 'identity.tar'), machineId: generateMachineId()});
      } else {
        await prepareVm({name: s.name, port: s.port, dir: s.dir, baseDisk: vmDisk!, identityTar: path.join(s.dir, 'identity.tar'), accel});
      }
      hostStates.push(h);
    }
    state.hosts = hostStates;
    writeState(state);
    for (const h of hostStates) {
      h.process =
        h.kind === 'container'
          ? startContainer({name: h.name, dir: h.dir, rootfs: image.rootfs})
          : startVm({name: h.name, port: h.port, dir: h.dir, baseDisk: vmDisk!, identityTar: path.join(h.dir, 'identity.tar'), accel});
      writeState(state);
    }

    const hosts: FleetHost[] = hostStates.map((h) => {
      const host: FleetHost = {
        name: h.name,
        kind: h.kind,
        address: '127.0.0.1',
        port: h.port,
        admin: {user: 'berth', identityFile: adminKey.privateFile},
        operator: {user: 'operator', identityFile: operatorKey.privateFile, sudoPassword},
        bootId: async () => {
          const r = await ssh(host, 'cat /proc/sys/kernel/random/boot_id', {timeoutMs: 60_000});
          if (r.code !== 0) throw new FleetError(`read boot_id of ${h.name}: ssh exit ${r.code}: ${tail(r.stderr)}`);
          return r.stdout.trim();
        },
      };
      return host;
    });

    const timeoutFor = (h: HostState) => options.bootTimeoutMs ?? (h.kind === 'vm' ? 20 * 60_000 : 300_000);
    /** Waits until SSH logs in (and, when `notBootId` is given, reports another boot_id). */
    const waitReady = async (h: HostState, host: FleetHost, notBootId?: string): Promise<void> => {
      // Keeps the event loop alive while we wait: seen here, a process whose only pending work was this loop
      // reached 'beforeExit' during a container's reboot (ava: "Promise returned by test never resolved").
      const keepAlive = setInterval(() => {}, 1000);
      try {
        await waitReadyLoop(h, host, notBootId);
      } finally {
        clearInterval(keepAlive);
      }
    };
    const waitReadyLoop = async (h: HostState, host: FleetHost, notBootId?: string): Promise<void> => {
      const deadline = Date.now() + timeoutFor(h);
      let last = '';
      while (Date.now() < deadline) {
        if (stopped) throw new FleetError(`wait for ${h.name}: the fleet was stopped`);
        if (h.process && !isAlive(h.process)) {
          throw new FleetError(`boot ${h.kind} host ${h.name}: its ${h.kind === 'vm' ? 'qemu' : 'systemd-nspawn'} process exited. Console:\n${hostLogTail(h)}`);
        }
        if (await sshBanner(h.port)) {
          const r = await ssh(host, 'cat /proc/sys/kernel/random/boot_id', {timeoutMs: 60_000});
          if (r.code === 0 && (!notBootId || r.stdout.trim() !== notBootId)) return;
          last = r.stderr.trim();
        }
        await sleep(h.kind === 'vm' ? 1000 : 200);
      }
      throw new FleetError(
        `boot ${h.kind} host ${h.name}: no SSH login on 127.0.0.1:${h.port} within ${Math.round(timeoutFor(h) / 1000)} s${last ? ` (last ssh error: ${last})` : ''}. Console:\n${hostLogTail(h)}`,
      );
    };

    const started = Date.now();
    const results = await Promise.allSettled(hostStates.map((h, i) => waitReady(h, hosts[i]!)));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
    if (failures.length) throw new FleetError(failures.join('\n\n'));
    // qemu's CPU time is the boot cost independent of how busy the machine is (wall time is not, under TCG).
    const vmCpu = hostStates.filter((h) => h.kind === 'vm' && h.process).map((h) => `${h.name} ${cpuSeconds(h.process!.pid).toFixed(0)} CPU s`);
    log(`fleet ${name}: ${containers} container + ${vms} VM hosts up in ${((Date.now() - started) / 1000).toFixed(1)} s${vmCpu.length ? ` (qemu: ${vmCpu.join(', ')})` : ''}`);

    if (options.persistent) reaper.stdin?.end('keep\n');

    return {
      name,
      dir,
      hosts,
      knownHostsFile,
      sshConfigFile,
      aptRepoUrl: apt?.url,
      apt,
      ssh,
      async reboot(host) {
        const h = hostStates.find((x) => x.name === host.name);
        if (!h) throw new FleetError(`reboot ${host.name}: not a host of fleet ${name}`);
        const before = await host.bootId();
        // The session dies with the host: the exit status of this ssh says nothing.
        await ssh(host, 'sudo systemctl reboot', {timeoutMs: 60_000});
        await waitReady(h, host, before);
      },
      stop,
    };
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
}

/** Fleets with a state file under ~/.cache/berth/fleets/ (running or left over). */
export function listFleets(): FleetState[] {
  const dir = fleetsDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((n) => readState(path.join(dir, n)))
    .filter((s): s is FleetState => !!s)
    .sort((a, b) => a.name.localeCompare(b.name));
}
