/**
 * Turn a valid Spec into one ResolvedHost per inventory host: merge the layers, fill defaults, parse the
 * short string forms, drop disabled entries. Pure; expects a spec that passed validation.
 */
import {defaults} from './defaults.js';
import type {
  Connection,
  ContainerSpec,
  HostEntry,
  MaintenanceWindow,
  PortMapping,
  ResolvedContainer,
  ResolvedHost,
  Sections,
  Spec,
  VolumeMount,
} from './types.js';

/** The section keys a group or host may override; everything else on a host entry is about connecting. */
export const sectionKeys = [
  'engine',
  'kernel',
  'containers',
  'units',
  'dropins',
  'files',
  'updates',
  'users',
  'journald',
  'timesync',
] as const satisfies readonly (keyof Sections)[];

/**
 * Keys that exclude each other inside one object: when a higher layer sets one of them, the others are
 * dropped from the layers below instead of merged (otherwise a host could never switch a group's
 * devicemapper `device` to a `pool`, or an etcd lock to a FleetLock one).
 */
const exclusiveKeys: readonly (readonly string[])[] = [
  ['device', 'pool'],
  ['etcd', 'fleetlock'],
];

/** One source of a host's configuration, with the JSON pointer where it was written. */
export interface Layer {
  pointer: string;
  value: Sections;
}

/** A host's layers, lowest precedence first: top level, each group in listed order, the host itself. */
export function hostLayers(spec: Spec, name: string): Layer[] {
  const host = (Object.hasOwn(spec.inventory.hosts, name) ? spec.inventory.hosts[name] : undefined) ?? {};
  const layers: Layer[] = [{pointer: '', value: pickSections(spec)}];
  for (const group of host.groups ?? []) {
    const value = spec.groups && Object.hasOwn(spec.groups, group) ? spec.groups[group] : undefined;
    if (value) layers.push({pointer: `/groups/${escapePointer(group)}`, value: pickSections(value)});
  }
  layers.push({pointer: `/inventory/hosts/${escapePointer(name)}`, value: pickSections(host)});
  return layers;
}

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function pickSections(from: Sections): Sections {
  const out: Record<string, unknown> = {};
  for (const key of sectionKeys) if (from[key] !== undefined) out[key] = from[key];
  return out as Sections;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Objects merge key by key (recursively); scalars and lists are replaced whole. Inputs are not modified. */
export function mergeLayer(lower: unknown, higher: unknown): unknown {
  if (higher === undefined) return lower;
  if (!isPlainObject(lower) || !isPlainObject(higher)) return higher;
  const out: Record<string, unknown> = {...lower};
  for (const group of exclusiveKeys) {
    if (group.some((key) => higher[key] !== undefined)) for (const key of group) delete out[key];
  }
  for (const [key, value] of Object.entries(higher)) {
    // defineProperty, not assignment: a key named `__proto__` (a valid user or env name) must stay data.
    const merged = mergeLayer(Object.hasOwn(out, key) ? out[key] : undefined, value);
    Object.defineProperty(out, key, {value: merged, enumerable: true, writable: true, configurable: true});
  }
  return out;
}

/** The layers merged, before defaults: what the user wrote, combined. */
export function mergedSections(layers: Layer[]): Sections {
  let merged: unknown = {};
  for (const layer of layers) merged = mergeLayer(merged, layer.value);
  return merged as Sections;
}

function enabledEntries<T extends {enabled?: boolean}>(map: Record<string, T> | undefined): [string, T][] {
  return Object.entries(map ?? {}).filter(([, value]) => value.enabled !== false);
}

/** `[ADDRESS:]HOST:CONTAINER[/PROTO]`; an IPv6 address is written in brackets: `[::1]:8080:80`. */
export function parsePort(value: string | PortMapping): Required<PortMapping> {
  if (typeof value !== 'string') {
    return {
      host: value.host,
      container: value.container,
      protocol: value.protocol ?? defaults.port.protocol,
      address: value.address ?? defaults.port.address,
    };
  }
  let rest = value;
  let protocol: 'tcp' | 'udp' = defaults.port.protocol;
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    protocol = rest.slice(slash + 1) === 'udp' ? 'udp' : 'tcp';
    rest = rest.slice(0, slash);
  }
  let address: string = defaults.port.address;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    address = rest.slice(1, close);
    rest = rest.slice(close + 2);
  }
  const parts = rest.split(':');
  if (parts.length === 3) address = parts.shift()!;
  return {host: Number(parts[0]), container: Number(parts[1]), protocol, address};
}

/** `SOURCE:TARGET[:ro|:rw]`. */
export function parseVolume(value: string | VolumeMount): Required<VolumeMount> {
  if (typeof value !== 'string') {
    return {source: value.source, target: value.target, readOnly: value.readOnly ?? false};
  }
  const parts = value.split(':');
  let readOnly = false;
  if (parts.length >= 3 && (parts.at(-1) === 'ro' || parts.at(-1) === 'rw')) readOnly = parts.pop() === 'ro';
  const target = parts.pop() ?? '';
  return {source: parts.join(':'), target, readOnly};
}

/** sysctl.d wants text: booleans become 1/0. */
export function sysctlValue(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  return String(value);
}

function resolveContainer(spec: ContainerSpec): ResolvedContainer {
  const out: ResolvedContainer = {
    image: spec.image ?? '',
    command: spec.command ?? [],
    env: spec.env ?? {},
    ports: (spec.ports ?? []).map(parsePort),
    volumes: (spec.volumes ?? []).map(parseVolume),
    readOnly: spec.readOnly ?? defaults.container.readOnly,
    restart: spec.restart ?? defaults.container.restart,
    dependsOn: spec.dependsOn ?? [],
    network: spec.network ?? defaults.container.network,
  };
  if (spec.memory !== undefined) out.memory = spec.memory;
  if (spec.cpus !== undefined) out.cpus = spec.cpus;
  if (spec.pids !== undefined) out.pids = spec.pids;
  if (spec.health !== undefined) out.health = spec.health;
  if (spec.user !== undefined) out.user = spec.user;
  return out;
}

export function resolveConnection(name: string, defaultsEntry: Connection, host: HostEntry): ResolvedHost['connection'] {
  const merged = {...defaultsEntry};
  for (const key of ['address', 'port', 'user', 'identityFile', 'jump', 'become'] as const) {
    if (host[key] !== undefined) (merged as Record<string, unknown>)[key] = host[key];
  }
  const user = merged.user ?? defaults.connection.user;
  const out: ResolvedHost['connection'] = {
    address: merged.address ?? name,
    port: merged.port ?? defaults.connection.port,
    user,
    become: merged.become ?? (user === 'root' ? 'none' : 'sudo'),
  };
  if (merged.identityFile !== undefined) out.identityFile = merged.identityFile;
  if (merged.jump !== undefined) out.jump = merged.jump;
  return out;
}

function resolveWindow(window: MaintenanceWindow): Required<MaintenanceWindow> {
  return {...window, timeZone: window.timeZone ?? defaults.window.timeZone};
}

/** Resolve one inventory host. */
export function resolveHost(spec: Spec, name: string): ResolvedHost {
  const host = spec.inventory.hosts[name] ?? {};
  const s = mergedSections(hostLayers(spec, name));
  const engine = s.engine ?? {};
  const kernel = s.kernel ?? {};
  const updates = s.updates ?? {};

  const resolved: ResolvedHost = {
    name,
    connection: resolveConnection(name, spec.inventory.defaults ?? {}, host),
    groups: host.groups ?? [],
    labels: host.labels ?? {},
    engine: {
      version: engine.version ?? defaults.engine.version,
      dataRoot: engine.dataRoot ?? defaults.engine.dataRoot,
      storage: engine.storage ?? defaults.engine.storage,
      logs: {
        rateLimitInterval: engine.logs?.rateLimitInterval ?? defaults.engine.logs.rateLimitInterval,
        rateLimitBurst: engine.logs?.rateLimitBurst ?? defaults.engine.logs.rateLimitBurst,
      },
    },
    kernel: {
      sysctls: Object.fromEntries(Object.entries(kernel.sysctls ?? {}).map(([k, v]) => [k, sysctlValue(v)])),
      modules: kernel.modules ?? [],
      bootParams: kernel.bootParams ?? [],
      version: kernel.version ?? defaults.kernel.version,
      updates: kernel.updates ?? defaults.kernel.updates,
    },
    containers: Object.fromEntries(enabledEntries(s.containers).map(([k, v]) => [k, resolveContainer(v)])),
    units: Object.fromEntries(
      enabledEntries(s.units).map(([k, v]) => [k, {content: v.content ?? '', enable: v.enable ?? defaults.unit.enable}]),
    ),
    dropins: s.dropins ?? {},
    files: Object.fromEntries(
      enabledEntries(s.files).map(([path, v]) => {
        const file: ResolvedHost['files'][string] = {
          content: v.content ?? '',
          mode: v.mode ?? defaults.file.mode,
          owner: v.owner ?? defaults.file.owner,
          group: v.group ?? defaults.file.group,
        };
        // As written; readSpec makes it absolute and reads its sha256 (src/spec/sources.ts).
        if (v.source !== undefined) file.source = {path: v.source, sha256: '', size: -1};
        return [path, file];
      }),
    ),
    updates: {
      strategy: updates.strategy ?? defaults.updates.strategy,
      windows: (updates.windows ?? []).map(resolveWindow),
      maxUnavailable: updates.maxUnavailable ?? defaults.updates.maxUnavailable,
      failureBudget: updates.failureBudget ?? defaults.updates.failureBudget,
      health: updates.health ?? [],
    },
    users: Object.fromEntries(
      enabledEntries(s.users).map(([userName, v]) => {
        const user: ResolvedHost['users'][string] = {
          shell: v.shell ?? defaults.user.shell,
          groups: v.groups ?? [],
          sudo: v.sudo ?? defaults.user.sudo,
          authorizedKeys: v.authorizedKeys ?? [],
        };
        if (v.uid !== undefined) user.uid = v.uid;
        return [userName, user];
      }),
    ),
    journald: s.journald ?? {},
    timesync: {enabled: s.timesync?.enabled ?? defaults.timesync.enabled, servers: s.timesync?.servers ?? []},
  };
  if (engine.devicemapper !== undefined) resolved.engine.devicemapper = engine.devicemapper;
  if (updates.lock !== undefined) resolved.updates.lock = updates.lock;
  return resolved;
}

/** Every inventory host, resolved, sorted by name. */
export function resolveHosts(spec: Spec): ResolvedHost[] {
  return Object.keys(spec.inventory.hosts)
    .sort()
    .map((name) => resolveHost(spec, name));
}
