/**
 * The host spec, v1, as TypeScript types. src/spec/schema.json is the source of truth for validation and
 * must describe exactly these shapes; the two are kept in step by test/spec/schema-types.test.ts.
 *
 * Shape in one paragraph: top-level *sections* (engine, kernel, containers, units, dropins, files, updates,
 * users, journald, timesync) apply to every host. `groups.NAME` holds the same sections for the hosts in that
 * group, and each `inventory.hosts.NAME` may hold them too. A host's effective configuration is
 * top-level ← each of its groups in the order listed ← the host itself: objects and maps merge key by key,
 * scalars and lists are replaced whole. Keyed collections are maps (containers by name, files by path, units
 * by name, users by name) so that an override can change one entry, or turn it off with `enabled: false`.
 */

/** Every section a host's configuration is made of. */
export interface Sections {
  engine?: EngineSection;
  kernel?: KernelSection;
  containers?: Record<string, ContainerSpec>;
  /** Extra systemd units, keyed by unit file name (`backup.service`, `backup.timer`). */
  units?: Record<string, UnitSpec>;
  /** Drop-ins for existing units: unit name → drop-in file name (`10-berth.conf`) → content. */
  dropins?: Record<string, Record<string, string>>;
  /** Plain files, keyed by absolute path. */
  files?: Record<string, FileSpec>;
  updates?: UpdatesSection;
  users?: Record<string, UserSpec>;
  journald?: JournaldSection;
  timesync?: TimesyncSection;
}

export interface Spec extends Sections {
  /** Optional schema reference for editors (JSON specs). */
  $schema?: string;
  /** Spec format version; only 1 exists. */
  version: 1;
  inventory: Inventory;
  groups?: Record<string, Sections>;
}

export interface Inventory {
  /** Connection settings every host starts from. */
  defaults?: Connection;
  hosts: Record<string, HostEntry>;
}

export interface Connection {
  /** DNS name or IP address; defaults to the host's name (then ~/.ssh/config may map it). */
  address?: string;
  port?: number;
  user?: string;
  identityFile?: string;
  /** A jump host: the name of another inventory host, or `user@host:port`. */
  jump?: string;
  /** How to become root: `none` when user is root, `sudo` (passwordless) or `sudo-password` (asked once). */
  become?: 'none' | 'sudo' | 'sudo-password';
}

export interface HostEntry extends Connection, Sections {
  groups?: string[];
  labels?: Record<string, string>;
}

export type StorageDriver = 'overlay2' | 'devicemapper' | 'vfs';

export interface EngineSection {
  /** berth-engine version to install; `bundled` means the one shipped with this berth. */
  version?: string;
  /** Absolute path of the engine's state (images, layers, containers). */
  dataRoot?: string;
  storage?: 'auto' | StorageDriver;
  devicemapper?: DevicemapperSettings;
  logs?: LogLimits;
}

export interface DevicemapperSettings {
  /** Block device for direct-lvm setup, e.g. /dev/vdb. Exclusive with `pool`. */
  device?: string;
  /** An existing LVM thin pool `VG/LV`. Exclusive with `device`. */
  pool?: string;
  /** Consent to destroy everything on `device` while setting it up. Never implied. */
  wipe?: boolean;
  /** Thin pool size as LVM understands it: `95%VG`, `10G`. */
  thinPoolSize?: string;
  /** Autoextend the pool when it is `threshold` percent full, by `percent` percent. */
  autoextend?: {threshold: number; percent: number};
}

export interface LogLimits {
  /** journald rate limit for each container unit: at most `burst` messages per `interval`. */
  rateLimitInterval?: string;
  rateLimitBurst?: number;
}

export interface KernelSection {
  sysctls?: Record<string, string | number | boolean>;
  /** Modules to load at boot (modules-load.d). */
  modules?: string[];
  /** Kernel command-line parameters added via a GRUB drop-in. */
  bootParams?: string[];
  /** Kernel package: an exact version (`6.1.0-28`) or `latest`. */
  version?: string;
  /** Which package updates to apply: security only, or all. */
  updates?: 'security' | 'all';
}

export interface PortMapping {
  host: number;
  container: number;
  protocol?: 'tcp' | 'udp';
  /** Host address to bind; default all. */
  address?: string;
}

export interface VolumeMount {
  source: string;
  target: string;
  readOnly?: boolean;
}

export interface HealthCheck {
  command: string[];
  interval?: string;
  timeout?: string;
  retries?: number;
}

export interface ContainerSpec {
  /**
   * An image archive path (OCI layout / oci-archive / docker-save tar) or an image reference. Required once
   * the layers are merged; a group or host that only changes other fields of an entry may leave it out.
   */
  image?: string;
  command?: string[];
  env?: Record<string, string>;
  /** `HOST:CONTAINER[/PROTO]` strings or objects. */
  ports?: (string | PortMapping)[];
  /** `SOURCE:TARGET[:ro]` strings or objects. */
  volumes?: (string | VolumeMount)[];
  readOnly?: boolean;
  /** Memory limit, e.g. `256M`, `1G`. */
  memory?: string;
  /** CPU limit in cores, e.g. 0.5. */
  cpus?: number;
  pids?: number;
  restart?: 'always' | 'on-failure' | 'no';
  health?: HealthCheck;
  /** Containers this one needs started first (systemd Requires= + After=). */
  dependsOn?: string[];
  user?: string;
  network?: 'bridge' | 'host' | 'none';
  enabled?: boolean;
}

export interface UnitSpec {
  /** The unit file; required once the layers are merged. */
  content?: string;
  /** `systemctl enable` it; default true. */
  enable?: boolean;
  enabled?: boolean;
}

export interface FileSpec {
  /** The file's text; exactly one of content and source once the layers are merged. */
  content?: string;
  /** A local file (relative to the spec file's directory, or absolute) whose bytes become the file. */
  source?: string;
  /** Octal string, e.g. `0644`. */
  mode?: string;
  owner?: string;
  group?: string;
  enabled?: boolean;
}

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

export interface MaintenanceWindow {
  days: Weekday[];
  /** `HH:MM`, 24-hour clock. */
  start: string;
  /** Duration like `2h`, `90m`, `1h30m`; at most 24h. */
  length: string;
  /** IANA time zone, e.g. `Europe/Berlin`; default UTC. */
  timeZone?: string;
}

export type HealthGate =
  | {command: string; timeout?: string}
  | {tcp: string; timeout?: string}
  | {http: string; status?: number; timeout?: string};

export interface EtcdLock {
  endpoints: string[];
  key?: string;
}

export interface FleetLock {
  url: string;
  group?: string;
}

/** Exactly one backend. */
export type RebootLock = {etcd: EtcdLock} | {fleetlock: FleetLock};

export interface UpdatesSection {
  strategy?: 'off' | 'window' | 'fleet-lock' | 'orchestrated';
  windows?: MaintenanceWindow[];
  /** How many hosts may be down at once: a count or a percentage string like `25%`. */
  maxUnavailable?: number | string;
  /** How many hosts may fail before a rolling update halts: a count or a percentage. */
  failureBudget?: number | string;
  /** Reboot lock for self-updating hosts (strategy fleet-lock). Exactly one backend. */
  lock?: RebootLock;
  health?: HealthGate[];
}

export interface UserSpec {
  uid?: number;
  shell?: string;
  groups?: string[];
  sudo?: boolean;
  authorizedKeys?: string[];
  enabled?: boolean;
}

export interface JournaldSection {
  storage?: 'persistent' | 'volatile' | 'auto';
  systemMaxUse?: string;
  maxRetention?: string;
  rateLimitInterval?: string;
  rateLimitBurst?: number;
}

export interface TimesyncSection {
  enabled?: boolean;
  servers?: string[];
}

/**
 * One host with everything merged and defaults filled in: what render, plan and apply work from.
 * Disabled entries (`enabled: false`) are removed by then.
 */
export interface ResolvedHost {
  name: string;
  connection: Required<Pick<Connection, 'address' | 'port' | 'user' | 'become'>> &
    Pick<Connection, 'identityFile' | 'jump'>;
  groups: string[];
  labels: Record<string, string>;
  engine: Required<Pick<EngineSection, 'version' | 'dataRoot' | 'storage'>> & {
    devicemapper?: DevicemapperSettings;
    logs: Required<LogLimits>;
  };
  kernel: {
    sysctls: Record<string, string>;
    modules: string[];
    bootParams: string[];
    version: string;
    updates: 'security' | 'all';
  };
  containers: Record<string, ResolvedContainer>;
  units: Record<string, {content: string; enable: boolean}>;
  dropins: Record<string, Record<string, string>>;
  files: Record<string, ResolvedFile>;
  updates: Required<Pick<UpdatesSection, 'strategy' | 'maxUnavailable' | 'failureBudget' | 'health'>> & {
    /** Every window has its time zone filled in (default UTC). */
    windows: Required<MaintenanceWindow>[];
  } & Pick<UpdatesSection, 'lock'>;
  users: Record<string, {uid?: number; shell: string; groups: string[]; sudo: boolean; authorizedKeys: string[]}>;
  journald: JournaldSection;
  timesync: {enabled: boolean; servers: string[]};
}

export interface ResolvedFile {
  /** The text ('' when the bytes come from source). */
  content: string;
  /**
   * A local file whose bytes become the file: as written in the spec after resolve, an absolute path with
   * its sha256 and size once readSpec has read it (src/spec/sources.ts).
   */
  source?: {path: string; sha256: string; size: number};
  mode: string;
  owner: string;
  group: string;
}

export interface ResolvedContainer {
  image: string;
  command: string[];
  env: Record<string, string>;
  ports: Required<PortMapping>[];
  volumes: Required<VolumeMount>[];
  readOnly: boolean;
  memory?: string;
  cpus?: number;
  pids?: number;
  restart: 'always' | 'on-failure' | 'no';
  health?: HealthCheck;
  dependsOn: string[];
  user?: string;
  network: 'bridge' | 'host' | 'none';
}
