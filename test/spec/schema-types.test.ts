/**
 * schema.json and src/spec/types.ts describe the same shapes. TypeScript checks the typed objects below
 * (every key present: Required<…>; every enum value: Record<union, true>); the tests compare them with the
 * schema's properties and enums, validate the fully populated spec against the schema, and compare the
 * schema's `default`s with src/spec/defaults.ts.
 */
import test from 'ava';
import {readFileSync} from 'node:fs';
import {defaults} from '../../src/spec/defaults.js';
import {parseSpecText} from '../../src/spec/load.js';
import type {
  Connection,
  ContainerSpec,
  DevicemapperSettings,
  EngineSection,
  EtcdLock,
  FileSpec,
  FleetLock,
  HealthCheck,
  HostEntry,
  Inventory,
  JournaldSection,
  KernelSection,
  LogLimits,
  MaintenanceWindow,
  PortMapping,
  Sections,
  Spec,
  TimesyncSection,
  UnitSpec,
  UpdatesSection,
  UserSpec,
  VolumeMount,
  Weekday,
} from '../../src/spec/types.js';
import {validateSpec} from '../../src/spec/validate.js';

interface SchemaNode {
  $ref?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  enum?: unknown[];
  default?: unknown;
}
const schema = JSON.parse(readFileSync(new URL('../../src/spec/schema.json', import.meta.url), 'utf8')) as SchemaNode & {
  $defs: Record<string, SchemaNode>;
};

function resolve(node: SchemaNode | undefined): SchemaNode {
  if (!node) throw new Error('no schema node');
  if (node.$ref) return {...resolve(schema.$defs[node.$ref.replace('#/$defs/', '')]), ...node, $ref: undefined};
  return node;
}

/** The schema node at a path of property names; `*` steps into additionalProperties, `[]` into items. */
function at(...path: string[]): SchemaNode {
  let node = resolve(schema);
  for (const step of path) {
    const next =
      step === '*' ? (node.additionalProperties as SchemaNode) : step === '[]' ? node.items : node.properties?.[step];
    node = resolve(next);
  }
  return node;
}

function keys(node: SchemaNode): string[] {
  return Object.keys(node.properties ?? {}).sort();
}

const connection: Required<Connection> = {
  address: '10.0.0.1',
  port: 2222,
  user: 'admin',
  identityFile: '~/.ssh/id_ed25519',
  jump: 'ops@192.0.2.1:22',
  become: 'sudo',
};
const logs: Required<LogLimits> = {rateLimitInterval: '30s', rateLimitBurst: 100};
const devicemapper: Required<DevicemapperSettings> = {
  device: '/dev/vdb',
  pool: 'vg0/thin',
  wipe: true,
  thinPoolSize: '95%VG',
  autoextend: {threshold: 80, percent: 20},
};
const engine: Required<EngineSection> = {
  version: 'bundled',
  dataRoot: '/var/lib/berth-engine',
  storage: 'devicemapper',
  devicemapper: {device: '/dev/vdb', wipe: true, thinPoolSize: '95%VG', autoextend: {threshold: 80, percent: 20}},
  logs,
};
const kernel: Required<KernelSection> = {
  sysctls: {'net.ipv4.ip_forward': true, 'vm.swappiness': 10, 'net.core.somaxconn': '4096'},
  modules: ['overlay'],
  bootParams: ['systemd.unified_cgroup_hierarchy=1'],
  version: '6.1.0-28',
  updates: 'all',
};
const port: Required<PortMapping> = {host: 8080, container: 80, protocol: 'udp', address: '127.0.0.1'};
const volume: Required<VolumeMount> = {source: '/srv/data', target: '/data', readOnly: true};
const health: Required<HealthCheck> = {command: ['true'], interval: '10s', timeout: '2s', retries: 3};
const container: Required<ContainerSpec> = {
  image: '/srv/images/app.tar',
  command: ['app'],
  env: {A: '1'},
  ports: ['80:8080', port],
  volumes: ['/srv/x:/x:ro', volume],
  readOnly: true,
  memory: '256M',
  cpus: 0.5,
  pids: 100,
  restart: 'on-failure',
  health,
  dependsOn: ['db'],
  user: '1000:1000',
  network: 'bridge',
  enabled: true,
};
const unit: Required<UnitSpec> = {content: '[Service]\n', enable: true, enabled: true};
const file: Required<FileSpec> = {content: 'hi\n', source: 'images/app.tar', mode: '0600', owner: 'root', group: 'adm', enabled: true};
const window: Required<MaintenanceWindow> = {days: ['sat'], start: '02:00', length: '2h', timeZone: 'Europe/Berlin'};
const etcd: Required<EtcdLock> = {endpoints: ['http://127.0.0.1:2379'], key: '/berth/lock'};
const fleetlock: Required<FleetLock> = {url: 'http://127.0.0.1:3333', group: 'default'};
const updates: Required<UpdatesSection> = {
  strategy: 'fleet-lock',
  windows: [window],
  maxUnavailable: '25%',
  failureBudget: 1,
  lock: {etcd},
  health: [{command: 'true', timeout: '1m'}, {tcp: '127.0.0.1:80'}, {http: 'http://127.0.0.1/', status: 204}],
};
const user: Required<UserSpec> = {
  uid: 1001,
  shell: '/bin/sh',
  groups: ['adm'],
  sudo: true,
  authorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB ops@laptop'],
  enabled: true,
};
const journald: Required<JournaldSection> = {
  storage: 'persistent',
  systemMaxUse: '500M',
  maxRetention: '30d',
  rateLimitInterval: '30s',
  rateLimitBurst: 1000,
};
const timesync: Required<TimesyncSection> = {enabled: true, servers: ['ntp.example.org']};
const sections: Required<Sections> = {
  engine,
  kernel,
  containers: {app: container, db: {image: 'postgres:16'}},
  units: {'backup.service': unit},
  dropins: {'ssh.service': {'10-berth.conf': '[Service]\n'}},
  // A file has content or source, never both: the typed `file` above lists every key for the shape check.
  files: {'/etc/motd': {...file, source: undefined}, '/opt/app.tar': {source: 'package.json', mode: '0600'}},
  updates,
  users: {ops: user},
  journald,
  timesync,
};
const host: Required<HostEntry> = {...connection, jump: 'bastion', groups: ['web'], labels: {rack: 'r1'}, ...sections};
const inventory: Required<Inventory> = {defaults: connection, hosts: {'web-1': host, bastion: {}}};
const spec: Required<Spec> = {$schema: './berth.schema.json', version: 1, inventory, groups: {web: sections}, ...sections};

const shapes: [string, object, SchemaNode][] = [
  ['Spec', spec, at()],
  ['Sections (groups)', sections, at('groups', '*')],
  ['Inventory', inventory, at('inventory')],
  ['Connection (inventory.defaults)', connection, at('inventory', 'defaults')],
  ['HostEntry', host, at('inventory', 'hosts', '*')],
  ['EngineSection', engine, at('engine')],
  ['DevicemapperSettings', devicemapper, at('engine', 'devicemapper')],
  ['LogLimits', logs, at('engine', 'logs')],
  ['KernelSection', kernel, at('kernel')],
  ['ContainerSpec', container, at('containers', '*')],
  ['HealthCheck', health, at('containers', '*', 'health')],
  ['PortMapping', port, resolve(schema.$defs.portObject)],
  ['VolumeMount', volume, resolve(schema.$defs.volumeObject)],
  ['UnitSpec', unit, at('units', '*')],
  ['FileSpec', file, at('files', '*')],
  ['UpdatesSection', updates, at('updates')],
  ['MaintenanceWindow', window, at('updates', 'windows', '[]')],
  ['RebootLock', {etcd, fleetlock}, at('updates', 'lock')],
  ['EtcdLock', etcd, at('updates', 'lock', 'etcd')],
  ['FleetLock', fleetlock, at('updates', 'lock', 'fleetlock')],
  ['HealthGate', Object.assign({}, ...updates.health, {timeout: '1m'}) as object, at('updates', 'health', '[]')],
  ['UserSpec', user, at('users', '*')],
  ['JournaldSection', journald, at('journald')],
  ['TimesyncSection', timesync, at('timesync')],
];

for (const [name, typed, node] of shapes) {
  test(`${name}: the type's keys are the schema's properties`, (t) => {
    t.deepEqual(Object.keys(typed).sort(), keys(node));
  });
}

test('Sections keys appear on the top level, in groups and on hosts alike', (t) => {
  const sectionKeys = Object.keys(sections).sort();
  t.deepEqual(keys(at('groups', '*')), sectionKeys);
  for (const k of sectionKeys) {
    t.truthy(at().properties?.[k], `top level has ${k}`);
    t.truthy(at('inventory', 'hosts', '*').properties?.[k], `host has ${k}`);
  }
});

// Every value of each union type, checked exhaustive by TypeScript (a missing or extra key fails tsc).
const enums: [string, Record<string, true>, SchemaNode][] = [
  ['become', {none: true, sudo: true, 'sudo-password': true} satisfies Record<NonNullable<Connection['become']>, true>, at('inventory', 'defaults', 'become')],
  ['engine.storage', {auto: true, overlay2: true, devicemapper: true, vfs: true} satisfies Record<NonNullable<EngineSection['storage']>, true>, at('engine', 'storage')],
  ['kernel.updates', {security: true, all: true} satisfies Record<NonNullable<KernelSection['updates']>, true>, at('kernel', 'updates')],
  ['restart', {always: true, 'on-failure': true, no: true} satisfies Record<NonNullable<ContainerSpec['restart']>, true>, at('containers', '*', 'restart')],
  ['network', {bridge: true, host: true, none: true} satisfies Record<NonNullable<ContainerSpec['network']>, true>, at('containers', '*', 'network')],
  ['protocol', {tcp: true, udp: true} satisfies Record<NonNullable<PortMapping['protocol']>, true>, resolve(schema.$defs.portObject?.properties?.protocol)],
  ['strategy', {off: true, window: true, 'fleet-lock': true, orchestrated: true} satisfies Record<NonNullable<UpdatesSection['strategy']>, true>, at('updates', 'strategy')],
  ['weekday', {mon: true, tue: true, wed: true, thu: true, fri: true, sat: true, sun: true} satisfies Record<Weekday, true>, at('updates', 'windows', '[]', 'days', '[]')],
  ['journald.storage', {persistent: true, volatile: true, auto: true} satisfies Record<NonNullable<JournaldSection['storage']>, true>, at('journald', 'storage')],
];
for (const [name, values, node] of enums) {
  test(`enum ${name}: the type's values are the schema's`, (t) => {
    t.deepEqual(Object.keys(values).sort(), [...(node.enum ?? [])].map(String).sort());
  });
}

test('the fully populated typed spec passes validation', (t) => {
  const text = JSON.stringify(spec, null, 2);
  const report = validateSpec(parseSpecText(text, 'typed.json'));
  t.deepEqual(
    report.entries.filter((e) => e.severity === 'error').map((e) => `${e.path}: ${e.message}`),
    [],
  );
});

test("the schema's defaults are src/spec/defaults.ts", (t) => {
  const pairs: [SchemaNode, unknown][] = [
    [at('inventory', 'defaults', 'port'), defaults.connection.port],
    [at('inventory', 'defaults', 'user'), defaults.connection.user],
    [at('engine', 'version'), defaults.engine.version],
    [at('engine', 'dataRoot'), defaults.engine.dataRoot],
    [at('engine', 'storage'), defaults.engine.storage],
    [at('engine', 'logs', 'rateLimitInterval'), defaults.engine.logs.rateLimitInterval],
    [at('engine', 'logs', 'rateLimitBurst'), defaults.engine.logs.rateLimitBurst],
    [at('kernel', 'version'), defaults.kernel.version],
    [at('kernel', 'updates'), defaults.kernel.updates],
    [at('containers', '*', 'restart'), defaults.container.restart],
    [at('containers', '*', 'network'), defaults.container.network],
    [at('containers', '*', 'readOnly'), defaults.container.readOnly],
    [resolve(schema.$defs.portObject?.properties?.protocol), defaults.port.protocol],
    [resolve(schema.$defs.portObject?.properties?.address), defaults.port.address],
    [at('units', '*', 'enable'), defaults.unit.enable],
    [at('files', '*', 'mode'), defaults.file.mode],
    [at('files', '*', 'owner'), defaults.file.owner],
    [at('files', '*', 'group'), defaults.file.group],
    [at('updates', 'strategy'), defaults.updates.strategy],
    [at('updates', 'maxUnavailable'), defaults.updates.maxUnavailable],
    [at('updates', 'failureBudget'), defaults.updates.failureBudget],
    [at('updates', 'windows', '[]', 'timeZone'), defaults.window.timeZone],
    [at('users', '*', 'shell'), defaults.user.shell],
    [at('users', '*', 'sudo'), defaults.user.sudo],
    [at('timesync', 'enabled'), defaults.timesync.enabled],
  ];
  for (const [node, value] of pairs) t.is(node.default, value);
});
