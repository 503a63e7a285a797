/**
 * Hand-built ResolvedHosts for render's unit tests (the golden tests go through the real spec loader).
 */
import type {ResolvedHost} from '../../src/spec/types.js';

/** A host with every section empty and every default filled, like resolveHosts gives for a bare entry (with overlay2 where resolve leaves `auto`). */
export function bareHost(name = 'web-1'): ResolvedHost {
  return {
    name,
    connection: {address: name, port: 22, user: 'root', become: 'none'},
    groups: [],
    labels: {},
    engine: {
      version: 'bundled',
      dataRoot: '/var/lib/berth-engine',
      storage: 'overlay2',
      logs: {rateLimitInterval: '30s', rateLimitBurst: 10000},
    },
    kernel: {sysctls: {}, modules: [], bootParams: [], version: 'latest', updates: 'security'},
    containers: {},
    units: {},
    dropins: {},
    files: {},
    updates: {strategy: 'off', windows: [], maxUnavailable: 1, failureBudget: 0, health: []},
    users: {},
    journald: {},
    timesync: {enabled: true, servers: []},
  };
}

/** A host that uses every section, to exercise every template. */
export function fullHost(name = 'db-1'): ResolvedHost {
  const host = bareHost(name);
  host.engine.storage = 'devicemapper';
  host.engine.devicemapper = {device: '/dev/vdb', wipe: true, thinPoolSize: '90%VG', autoextend: {threshold: 70, percent: 25}};
  host.kernel = {
    sysctls: {'vm.max_map_count': '262144', 'net.ipv4.ip_forward': '1'},
    modules: ['overlay', 'br_netfilter'],
    bootParams: ['systemd.unified_cgroup_hierarchy=1', 'quiet'],
    version: '6.1.0-28',
    updates: 'all',
  };
  host.containers = {
    db: {
      image: '/srv/images/postgres-16.tar',
      command: ['postgres', '-c', 'shared_buffers=256MB'],
      env: {POSTGRES_PASSWORD: 'p@ss "word" 100% $HOME \\ end', PGDATA: '/var/lib/postgresql/data'},
      ports: [{host: 5432, container: 5432, protocol: 'tcp', address: '127.0.0.1'}],
      volumes: [{source: '/srv/pg', target: '/var/lib/postgresql/data', readOnly: false}],
      readOnly: false,
      memory: '1G',
      cpus: 1.5,
      pids: 512,
      restart: 'always',
      health: {command: ['pg_isready', '-U', 'postgres'], interval: '15s', timeout: '5s', retries: 4},
      dependsOn: [],
      user: '999:999',
      network: 'bridge',
    },
    app: {
      image: 'registry.example.org/app:1.2',
      command: [],
      env: {},
      ports: [{host: 53, container: 5353, protocol: 'udp', address: '::1'}],
      volumes: [{source: '/etc/app', target: '/etc/app', readOnly: true}],
      readOnly: true,
      restart: 'on-failure',
      dependsOn: ['db'],
      network: 'host',
    },
  };
  host.units = {
    'backup.service': {content: '[Unit]\nDescription=backup\n\n[Service]\nType=oneshot\nExecStart=/bin/true\n', enable: false},
    'backup.timer': {content: '[Unit]\nDescription=nightly backup\n\n[Timer]\nOnCalendar=daily\n\n[Install]\nWantedBy=timers.target\n', enable: true},
  };
  host.dropins = {'backup.service': {'10-limits.conf': '[Service]\nMemoryMax=512M\n'}};
  host.files = {'/etc/motd': {content: 'managed by berth\n', mode: '0644', owner: 'root', group: 'root'}};
  host.updates = {
    strategy: 'fleet-lock',
    windows: [{days: ['sat', 'sun'], start: '23:30', length: '2h', timeZone: 'Europe/Berlin'}],
    maxUnavailable: '25%',
    failureBudget: 1,
    health: [{http: 'http://127.0.0.1:8080/health', status: 200}],
    lock: {fleetlock: {url: 'https://lock.example.org/', group: 'db'}},
  };
  host.users = {
    ops: {uid: 1500, shell: '/bin/bash', groups: ['adm'], sudo: true, authorizedKeys: ['ssh-ed25519 AAAAC3Nza ops@laptop']},
  };
  host.journald = {storage: 'persistent', systemMaxUse: '1G', maxRetention: '1month'};
  host.timesync = {enabled: true, servers: ['ntp1.example.org', 'ntp2.example.org']};
  return host;
}
