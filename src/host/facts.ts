/**
 * Facts: what one probe round trip learns about a host (DESIGN.md "probe"). Plain data only — JSON-safe, no
 * classes, no Maps — so that decide steps (storage advice, kernel actions) and `--json` can use them as they
 * are. `parseProbeOutput` is pure: it turns the text printed by src/host/remote/probe.sh into Facts plus the
 * berth state of the host (HostState), and is unit-tested on recorded outputs.
 */
import {HostError} from '../errors.js';
import {parseJournal, type JournalEntry} from './journal.js';
import {parseManifest, type Manifest} from './manifest.js';

export type CgroupMode = 'v1' | 'hybrid' | 'v2' | 'none';
export type DistroFamily = 'debian' | 'rhel' | 'suse' | 'alpine' | 'arch' | 'unknown';
export type PackageManager = 'apt' | 'dnf' | 'yum' | 'zypper' | 'apk';

export interface BlockDevice {
  name: string;
  path: string;
  type: string;
  sizeBytes: number;
  fsType: string | null;
  mountpoint: string | null;
  readOnly: boolean;
  removable: boolean;
  children: BlockDevice[];
}

export interface Facts {
  hostname: string;
  bootId: string;
  /** The login's uid after becoming root: 0 when privilege works. */
  uid: number;
  os: {id: string; idLike: string[]; versionId: string; prettyName: string; codename: string; family: DistroFamily};
  /** `uname -r` */
  kernel: string;
  /** Kernel versions with a /boot/vmlinuz-* image, as listed (unsorted). */
  kernelsInstalled: string[];
  /** `uname -m`, e.g. x86_64, aarch64. */
  arch: string;
  cgroup: CgroupMode;
  systemd: {booted: boolean; version: number | null};
  /** Command name of PID 1 (`systemd` on supported hosts). */
  init: string;
  /** `systemd-detect-virt -c` when it found a container (e.g. `systemd-nspawn`), else null. */
  container: string | null;
  virtualization: string | null;
  packageManager: PackageManager | null;
  rebootRequired: boolean;
  /** False inside containers such as systemd-nspawn, where `sysctl --system` cannot work. */
  procSysWritable: boolean;
  dataRoot: {
    /** The engine data root asked about. */
    requested: string;
    /** The nearest existing directory: where the data root will live. */
    measured: string;
    fsType: string;
    device: string;
    mountpoint: string;
    mountOptions: string[];
    sizeBytes: number | null;
    availableBytes: number | null;
    /** Whether the filesystem returns d_type (overlay2 needs it); null when unknown. */
    dType: boolean | null;
    /** How dType was decided, e.g. `xfs_info ftype=1`, `ext4 filetype feature`. */
    dTypeSource: string;
  };
  blockDevices: BlockDevice[];
  engine: {
    /** Version of the active berth-engine (the symlink's target directory), null when none. */
    active: string | null;
    installed: {version: string; sha256: string}[];
  };
  /** Host clock, seconds since the epoch. */
  time: number;
}

export interface ManagedFileState {
  /** null when the path does not exist; `other` when it is not a regular file. */
  sha256: string | null;
  kind: 'file' | 'absent' | 'other';
  mode: string | null;
  owner: string | null;
  group: string | null;
}

export interface UnitState {
  unit: string;
  loadState: string;
  activeState: string;
  subState: string;
  unitFileState: string;
  type: string;
  remainAfterExit: boolean;
  result: string;
}

/** berth's own state on the host: what plan diffs against. */
export interface HostState {
  /** The generation `current` points to, null before the first apply. */
  generation: number | null;
  generations: number[];
  journal: JournalEntry[];
  manifest: Manifest | null;
  files: Record<string, ManagedFileState>;
  units: Record<string, UnitState>;
  /** Set when another apply holds the host lock right now. */
  lock: {held: boolean; owner: Record<string, string>};
}

export interface ProbeResult {
  facts: Facts;
  state: HostState;
}

/** Splits probe output into its `@@berth NAME` sections. */
export function splitSections(text: string): Map<string, string> {
  const sections = new Map<string, string>();
  let name: string | null = null;
  let lines: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^@@berth ([a-z0-9-]+)$/.exec(line);
    if (m) {
      if (name !== null) sections.set(name, lines.join('\n').trim());
      name = m[1]!;
      lines = [];
    } else if (name !== null) {
      lines.push(line);
    }
  }
  if (name !== null) sections.set(name, lines.join('\n').trim());
  return sections;
}

/** `key=value` lines; repeated keys keep every value. */
function keyValues(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    const key = line.slice(0, i);
    const list = out.get(key) ?? [];
    list.push(line.slice(i + 1));
    out.set(key, list);
  }
  return out;
}

/** os-release(5): KEY=value with optional shell quoting. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!;
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) {
      v = v.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    }
    out[m[1]!] = v;
  }
  return out;
}

export function distroFamily(id: string, idLike: string[]): DistroFamily {
  const all = [id, ...idLike];
  if (all.some((x) => x === 'debian' || x === 'ubuntu')) return 'debian';
  if (all.some((x) => x === 'rhel' || x === 'fedora' || x === 'centos')) return 'rhel';
  if (all.some((x) => x === 'suse' || x === 'opensuse')) return 'suse';
  if (all.includes('alpine')) return 'alpine';
  if (all.includes('arch')) return 'arch';
  return 'unknown';
}

/** `findmnt -P` output: KEY="value" pairs. */
function parsePairs(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of line.matchAll(/([A-Z_]+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!.replace(/\\x20/g, ' ');
  return out;
}

function toBlockDevice(raw: unknown): BlockDevice {
  const r = (raw ?? {}) as Record<string, unknown>;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const bool = (v: unknown): boolean => v === true || v === '1' || v === 1;
  return {
    name: str(r.name) ?? '',
    path: str(r.path) ?? (str(r.name) ? `/dev/${str(r.name)}` : ''),
    type: str(r.type) ?? '',
    sizeBytes: typeof r.size === 'number' ? r.size : Number(r.size ?? 0),
    fsType: str(r.fstype),
    mountpoint: str(r.mountpoint),
    readOnly: bool(r.ro),
    removable: bool(r.rm),
    children: Array.isArray(r.children) ? r.children.map(toBlockDevice) : [],
  };
}

function parseLsblk(text: string): BlockDevice[] {
  if (!text) return [];
  try {
    const doc = JSON.parse(text) as {blockdevices?: unknown[]};
    return (doc.blockdevices ?? []).map(toBlockDevice);
  } catch {
    return [];
  }
}

function decideDType(fsType: string, kv: Map<string, string[]>): {dType: boolean | null; source: string} {
  const ftype = kv.get('ftype')?.[0];
  const extFiletype = kv.get('ext_filetype')?.[0];
  switch (fsType) {
    case 'xfs':
      if (ftype === undefined) return {dType: null, source: 'xfs without xfs_info (install xfsprogs to check ftype)'};
      return {dType: ftype === '1', source: `xfs_info ftype=${ftype}`};
    case 'ext2':
    case 'ext3':
    case 'ext4':
      if (extFiletype === undefined) {
        // mke2fs has enabled `filetype` by default since e2fsprogs 1.x for every ext2/3/4 it creates.
        return {dType: true, source: `${fsType} (filetype is the mke2fs default; superblock not readable)`};
      }
      return {dType: extFiletype === '1', source: `${fsType} filetype feature ${extFiletype === '1' ? 'on' : 'off'}`};
    case 'btrfs':
    case 'tmpfs':
    case 'f2fs':
    case 'zfs':
      return {dType: true, source: `${fsType} always returns d_type`};
    default:
      return {dType: null, source: `${fsType || 'unknown filesystem'}: d_type not known`};
  }
}

/**
 * The managed paths: `files` lists absent and non-regular ones (`absent|other TAB - TAB path`; recordings of
 * older probes also have `sha256 TAB mode owner group TAB path` lines there), `file-sums` is one sha256sum of
 * all regular ones and `file-stats` one `stat -c '%a %U %G %n'` of them.
 */
function parseFiles(text: string, sums = '', stats = ''): Record<string, ManagedFileState> {
  const out: Record<string, ManagedFileState> = {};
  const stat = new Map<string, string[]>();
  for (const line of stats.split('\n')) {
    const m = /^(\d+) (\S+) (\S+) (.+)$/.exec(line);
    if (m) stat.set(m[4]!, [m[1]!, m[2]!, m[3]!]);
  }
  for (const line of sums.split('\n')) {
    // sha256sum escapes a name holding a backslash or newline and marks that line with a leading backslash.
    const m = /^(\\?)([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) continue;
    const path = m[1] ? m[3]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)) : m[3]!;
    const [mode, owner, group] = stat.get(path) ?? [];
    out[path] = {sha256: m[2]!, kind: 'file', mode: mode ? mode.padStart(4, '0') : null, owner: owner ?? null, group: group ?? null};
  }
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [sha, meta, ...rest] = line.split('\t');
    const path = rest.join('\t');
    if (!path || sha === undefined) continue;
    if (sha === 'absent' || sha === 'other') {
      out[path] = {sha256: null, kind: sha, mode: null, owner: null, group: null};
    } else {
      const [mode, owner, group] = (meta ?? '').split(' ');
      out[path] = {
        sha256: sha,
        kind: 'file',
        mode: mode ? mode.padStart(4, '0') : null,
        owner: owner ?? null,
        group: group ?? null,
      };
    }
  }
  return sortedByKey(out);
}

/** The same record with its keys in sorted order (output does not depend on the order the host listed them). */
function sortedByKey<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `systemctl show -p …` of several units: blocks of KEY=value separated by blank lines. */
export function parseUnitStates(text: string): Record<string, UnitState> {
  const out: Record<string, UnitState> = {};
  for (const block of text.split(/\n\s*\n/)) {
    const kv = keyValues(block);
    const get = (k: string): string => kv.get(k)?.[0] ?? '';
    const id = get('Id');
    if (!id) continue;
    out[id] = {
      unit: id,
      loadState: get('LoadState'),
      activeState: get('ActiveState'),
      subState: get('SubState'),
      unitFileState: get('UnitFileState'),
      type: get('Type'),
      remainAfterExit: get('RemainAfterExit') === 'yes',
      result: get('Result'),
    };
  }
  return out;
}

function generationOf(target: string | undefined): number | null {
  if (!target) return null;
  const m = /(?:^|\/)(\d+)\/?$/.exec(target);
  return m ? Number(m[1]) : null;
}

/** systemd's container types (src/basic/virt.c): what `Virtualization` names when the host is a container. */
const containerTypes = new Set(['openvz', 'lxc', 'lxc-libvirt', 'systemd-nspawn', 'docker', 'podman', 'rkt', 'wsl', 'proot', 'pouch']);

/**
 * Parses the output of probe.sh. Throws a HostError only when the output is not a probe's at all (the
 * script did not run to its end); odd values become nulls, and `checkSupported` judges them.
 */
export function parseProbeOutput(host: string, text: string): ProbeResult {
  const s = splitSections(text);
  if (s.get('probe') !== '1' || !s.has('end')) {
    throw new HostError(host, 'probe', 'the probe script did not finish; its output is incomplete', {
      stderr: text.slice(-2000),
      nextStep: 'check that the login shell on the host is POSIX (sh) and that the connection is stable',
    });
  }
  const id = keyValues(s.get('id') ?? '');
  const one = (k: string): string => id.get(k)?.[0] ?? '';
  const os = parseOsRelease(s.get('os-release') ?? '');
  const idLike = (os.ID_LIKE ?? '').split(/\s+/).filter(Boolean);
  // The booted manager's Version (`252.33-1~deb12u1`), else `systemctl --version` (`systemd 252 (…)`).
  const managerVersion = one('manager.Version');
  const systemdVersion = managerVersion ? /^(\d+)/.exec(managerVersion) : /^systemd (\d+)/.exec(s.get('systemd') ?? '');
  const dr = keyValues(s.get('data-root') ?? '');
  const mountLine = (s.get('data-root') ?? '').split('\n').find((l) => l.startsWith('FSTYPE='));
  const mount = parsePairs(mountLine ?? '');
  const fsType = mount.FSTYPE ?? '';
  const dtype = decideDType(fsType, dr);
  const num = (v: string | undefined): number | null => (v !== undefined && /^\d+$/.test(v) ? Number(v) : null);
  const pkg = id.get('pkg') ?? [];
  const packageManager: PackageManager | null = pkg.includes('apt-get')
    ? 'apt'
    : pkg.includes('dnf')
      ? 'dnf'
      : pkg.includes('yum')
        ? 'yum'
        : pkg.includes('zypper')
          ? 'zypper'
          : pkg.includes('apk')
            ? 'apk'
            : null;
  const engineKv = keyValues(s.get('engine') ?? '');
  const installed = (engineKv.get('installed') ?? []).map((line) => {
    const [sha256, file] = line.split(' ');
    return {version: versionFromEnginePath(file ?? '') ?? '', sha256: sha256 ?? ''};
  });
  const activeTarget = engineKv.get('active')?.[0];
  const cgroupText = (s.get('cgroup') ?? '').trim();
  const cgroup: CgroupMode = cgroupText === 'v1' || cgroupText === 'hybrid' || cgroupText === 'v2' ? cgroupText : 'none';
  // The manager's Virtualization (empty: none) when it answered, else systemd-detect-virt's.
  const managerVirt = id.has('manager.Virtualization') ? one('manager.Virtualization') : undefined;
  const container = managerVirt !== undefined ? (containerTypes.has(managerVirt) ? managerVirt : '') : one('container');
  const virt = managerVirt ?? one('virt');

  const facts: Facts = {
    hostname: one('hostname'),
    bootId: one('boot_id'),
    uid: Number(one('uid') || -1),
    os: {
      id: os.ID ?? '',
      idLike,
      versionId: os.VERSION_ID ?? '',
      prettyName: os.PRETTY_NAME ?? '',
      codename: os.VERSION_CODENAME ?? '',
      family: distroFamily(os.ID ?? '', idLike),
    },
    kernel: one('kernel'),
    kernelsInstalled: (s.get('kernels') ?? '').split('\n').filter(Boolean),
    arch: one('arch'),
    cgroup,
    systemd: {booted: one('systemd_booted') === '1', version: systemdVersion ? Number(systemdVersion[1]) : null},
    init: one('pid1'),
    container: container && container !== 'none' ? container : null,
    virtualization: virt && virt !== 'none' ? virt : null,
    packageManager,
    rebootRequired: one('reboot_required') === '1',
    procSysWritable: one('procsys') !== 'ro',
    dataRoot: {
      requested: dr.get('requested')?.[0] ?? '',
      measured: dr.get('existing')?.[0] ?? '',
      fsType,
      device: mount.SOURCE ?? '',
      mountpoint: mount.TARGET ?? '',
      mountOptions: (mount.OPTIONS ?? '').split(',').filter(Boolean),
      sizeBytes: num(dr.get('size')?.[0]),
      availableBytes: num(dr.get('avail')?.[0]),
      dType: dtype.dType,
      dTypeSource: dtype.source,
    },
    blockDevices: parseLsblk(s.get('lsblk') ?? ''),
    engine: {
      active: activeTarget ? versionFromEnginePath(activeTarget) : null,
      installed,
    },
    time: Number(one('now') || 0),
  };

  const b = keyValues(s.get('berth') ?? '');
  const owner: Record<string, string> = {};
  for (const [k, v] of b) if (k.startsWith('owner.')) owner[k.slice(6)] = v[0] ?? '';
  const manifestText = s.get('manifest') ?? '';
  const state: HostState = {
    generation: generationOf(b.get('current')?.[0]),
    generations: (b.get('generation') ?? [])
      .filter((g) => /^\d+$/.test(g))
      .map(Number)
      .sort((x, y) => x - y),
    journal: parseJournal(s.get('journal') ?? ''),
    manifest: manifestText ? parseManifest(host, manifestText) : null,
    files: parseFiles(s.get('files') ?? '', s.get('file-sums') ?? '', s.get('file-stats') ?? ''),
    units: sortedByKey(parseUnitStates(s.get('units') ?? '')),
    lock: {held: b.get('locked')?.[0] === '1', owner},
  };
  return {facts, state};
}

/** `/usr/local/lib/berth/engine/<version>/berth-engine` → version. */
export function versionFromEnginePath(file: string): string | null {
  const m = /\/engine\/([^/]+)\/berth-engine$/.exec(file);
  return m ? m[1]! : null;
}

export const supportedArches = ['x86_64', 'aarch64'] as const;

/**
 * berth manages systemd hosts of the Debian or RHEL families on x86_64/aarch64, as root. Anything else fails
 * here, before a single file is planned, with what was found and what to do.
 */
export function checkSupported(host: string, facts: Facts): void {
  const fail = (message: string, nextStep: string): never => {
    throw new HostError(host, 'probe', message, {nextStep});
  };
  if (facts.uid !== 0) {
    fail(
      `could not become root (uid ${facts.uid})`,
      'log in as root, or give the user sudo rights and set `become: sudo` (or `sudo-password`) in the inventory',
    );
  }
  if (!facts.systemd.booted || facts.systemd.version === null) {
    fail(
      `unsupported host: systemd is not running as init (PID 1 is "${facts.init || 'unknown'}")`,
      'berth manages systemd hosts only (Debian 12, Ubuntu, RHEL/Fedora families); boot the host with systemd',
    );
  }
  if (facts.os.family !== 'debian' && facts.os.family !== 'rhel') {
    fail(
      `unsupported host: distribution "${facts.os.prettyName || facts.os.id || 'unknown'}" (family ${facts.os.family})`,
      'berth supports the Debian (Debian, Ubuntu) and RHEL (RHEL, Fedora, Rocky, Alma) families',
    );
  }
  if (!(supportedArches as readonly string[]).includes(facts.arch)) {
    fail(
      `unsupported host: architecture ${facts.arch || 'unknown'}`,
      `berth-engine is built for ${supportedArches.join(' and ')}`,
    );
  }
}
