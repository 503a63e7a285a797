import test from 'ava';
import {parsePort, parseVolume, resolveHosts} from '../../src/spec/resolve.js';
import type {ResolvedHost, Spec} from '../../src/spec/types.js';
import {bareHost} from '../render/hosts.js';

/** The resolved form of a host that sets nothing: render's bare host, with the storage driver left to the host. */
function bare(name: string): ResolvedHost {
  const host = bareHost(name);
  return {...host, engine: {...host.engine, storage: 'auto'}};
}

test('a host that sets nothing gets every default', (t) => {
  const spec: Spec = {version: 1, inventory: {hosts: {'web-1': {}}}};
  t.deepEqual(resolveHosts(spec), [bare('web-1')]);
});

test('hosts come out sorted by name', (t) => {
  const spec: Spec = {version: 1, inventory: {hosts: {zeta: {}, alpha: {}, 'web-10': {}, 'web-2': {}}}};
  t.deepEqual(
    resolveHosts(spec).map((h) => h.name),
    ['alpha', 'web-10', 'web-2', 'zeta'],
  );
});

test('connection: inventory defaults, then the host; become follows the user', (t) => {
  const spec: Spec = {
    version: 1,
    inventory: {
      defaults: {user: 'admin', port: 2222, identityFile: '~/.ssh/berth'},
      hosts: {
        a: {},
        b: {user: 'root', address: '10.0.0.2'},
        c: {become: 'sudo-password', jump: 'a'},
      },
    },
  };
  const [a, b, c] = resolveHosts(spec);
  t.deepEqual(a!.connection, {address: 'a', port: 2222, user: 'admin', become: 'sudo', identityFile: '~/.ssh/berth'});
  t.deepEqual(b!.connection, {address: '10.0.0.2', port: 2222, user: 'root', become: 'none', identityFile: '~/.ssh/berth'});
  t.deepEqual(c!.connection, {
    address: 'c',
    port: 2222,
    user: 'admin',
    become: 'sudo-password',
    identityFile: '~/.ssh/berth',
    jump: 'a',
  });
});

interface MergeCase {
  title: string;
  spec: Spec;
  host: string;
  expect: (h: ResolvedHost) => unknown;
  equals: unknown;
}

const merge: MergeCase[] = [
  {
    title: 'objects merge key by key: top level ← group ← host',
    spec: {
      version: 1,
      engine: {storage: 'overlay2', dataRoot: '/srv/engine'},
      groups: {big: {engine: {storage: 'devicemapper', devicemapper: {device: '/dev/vdb', wipe: true}}}},
      inventory: {hosts: {h: {groups: ['big'], engine: {version: '0.2.0'}}}},
    },
    host: 'h',
    expect: (h) => h.engine,
    equals: {
      version: '0.2.0',
      dataRoot: '/srv/engine',
      storage: 'devicemapper',
      logs: {rateLimitInterval: '30s', rateLimitBurst: 10000},
      devicemapper: {device: '/dev/vdb', wipe: true},
    },
  },
  {
    title: 'groups apply in the order listed, the later one wins',
    spec: {
      version: 1,
      groups: {a: {kernel: {updates: 'all', version: '6.1.0-28'}}, b: {kernel: {updates: 'security'}}},
      inventory: {hosts: {h: {groups: ['a', 'b']}, g: {groups: ['b', 'a']}}},
    },
    host: 'h',
    expect: (h) => [h.kernel.updates, h.kernel.version],
    equals: ['security', '6.1.0-28'],
  },
  {
    title: 'lists are replaced whole, not concatenated',
    spec: {
      version: 1,
      kernel: {modules: ['overlay', 'br_netfilter'], bootParams: ['quiet']},
      inventory: {hosts: {h: {kernel: {modules: ['dm_thin_pool']}}}},
    },
    host: 'h',
    expect: (h) => [h.kernel.modules, h.kernel.bootParams],
    equals: [['dm_thin_pool'], ['quiet']],
  },
  {
    title: 'maps merge: a host changes one container field and one env variable',
    spec: {
      version: 1,
      containers: {web: {image: 'nginx:1.25', env: {A: '1', B: '2'}, ports: ['80:80']}},
      inventory: {hosts: {h: {containers: {web: {image: 'nginx:1.27', env: {B: '3'}}}}}},
    },
    host: 'h',
    expect: (h) => [h.containers.web!.image, h.containers.web!.env, h.containers.web!.ports.length],
    equals: ['nginx:1.27', {A: '1', B: '3'}, 1],
  },
  {
    title: 'enabled: false drops an entry the top level defined',
    spec: {
      version: 1,
      containers: {web: {image: 'nginx'}, db: {image: 'postgres'}},
      units: {'backup.service': {content: '[Service]\n'}},
      files: {'/etc/motd': {content: 'hi\n'}},
      users: {ops: {}},
      inventory: {
        hosts: {
          h: {
            containers: {db: {enabled: false}},
            units: {'backup.service': {enabled: false}},
            files: {'/etc/motd': {enabled: false}},
            users: {ops: {enabled: false}},
          },
        },
      },
    },
    host: 'h',
    expect: (h) => [Object.keys(h.containers), h.units, h.files, h.users],
    equals: [['web'], {}, {}, {}],
  },
  {
    title: 'a host switching devicemapper from device to pool drops the inherited device',
    spec: {
      version: 1,
      engine: {storage: 'devicemapper', devicemapper: {device: '/dev/vdb', wipe: true, thinPoolSize: '95%VG'}},
      inventory: {hosts: {h: {engine: {devicemapper: {pool: 'vg0/thin'}}}}},
    },
    host: 'h',
    expect: (h) => h.engine.devicemapper,
    equals: {wipe: true, thinPoolSize: '95%VG', pool: 'vg0/thin'},
  },
  {
    title: 'a host switching the reboot lock from etcd to FleetLock drops the etcd one',
    spec: {
      version: 1,
      updates: {strategy: 'fleet-lock', lock: {etcd: {endpoints: ['http://127.0.0.1:2379']}}},
      inventory: {hosts: {h: {updates: {lock: {fleetlock: {url: 'http://127.0.0.1:8080'}}}}}},
    },
    host: 'h',
    expect: (h) => h.updates.lock,
    equals: {fleetlock: {url: 'http://127.0.0.1:8080'}},
  },
  {
    title: 'container defaults; short port and volume strings become objects',
    spec: {
      version: 1,
      containers: {
        web: {
          image: '/srv/images/web.tar',
          ports: ['8080:80', '127.0.0.1:53:53/udp', {host: 443, container: 8443}],
          volumes: ['/srv/data:/data', '/etc/web:/etc/web:ro', {source: 'cache', target: '/cache'}],
        },
      },
      inventory: {hosts: {h: {}}},
    },
    host: 'h',
    expect: (h) => h.containers.web,
    equals: {
      image: '/srv/images/web.tar',
      command: [],
      env: {},
      ports: [
        {host: 8080, container: 80, protocol: 'tcp', address: '0.0.0.0'},
        {host: 53, container: 53, protocol: 'udp', address: '127.0.0.1'},
        {host: 443, container: 8443, protocol: 'tcp', address: '0.0.0.0'},
      ],
      volumes: [
        {source: '/srv/data', target: '/data', readOnly: false},
        {source: '/etc/web', target: '/etc/web', readOnly: true},
        {source: 'cache', target: '/cache', readOnly: false},
      ],
      readOnly: false,
      restart: 'always',
      dependsOn: [],
      network: 'bridge',
    },
  },
  {
    title: 'sysctl values become strings, booleans 1/0',
    spec: {
      version: 1,
      kernel: {sysctls: {'net.ipv4.ip_forward': true, 'vm.swappiness': 10, 'net.core.somaxconn': '4096'}},
      inventory: {hosts: {h: {kernel: {sysctls: {'kernel.panic_on_oops': false}}}}},
    },
    host: 'h',
    expect: (h) => h.kernel.sysctls,
    equals: {'net.ipv4.ip_forward': '1', 'vm.swappiness': '10', 'net.core.somaxconn': '4096', 'kernel.panic_on_oops': '0'},
  },
  {
    title: 'file, unit and user defaults',
    spec: {
      version: 1,
      files: {'/etc/motd': {content: 'hi\n'}, '/etc/x': {content: '', mode: '0600', owner: 'ops', group: 'ops'}},
      units: {'a.service': {content: '[Service]\n'}, 'b.timer': {content: '[Timer]\n', enable: false}},
      users: {ops: {uid: 1001, authorizedKeys: ['ssh-ed25519 AAAA ops']}},
      inventory: {hosts: {h: {}}},
    },
    host: 'h',
    expect: (h) => [h.files, h.units, h.users],
    equals: [
      {
        '/etc/motd': {content: 'hi\n', mode: '0644', owner: 'root', group: 'root'},
        '/etc/x': {content: '', mode: '0600', owner: 'ops', group: 'ops'},
      },
      {'a.service': {content: '[Service]\n', enable: true}, 'b.timer': {content: '[Timer]\n', enable: false}},
      {ops: {uid: 1001, shell: '/bin/bash', groups: [], sudo: false, authorizedKeys: ['ssh-ed25519 AAAA ops']}},
    ],
  },
  {
    title: 'update windows get UTC unless they name a time zone',
    spec: {
      version: 1,
      updates: {
        strategy: 'window',
        windows: [
          {days: ['sat'], start: '02:00', length: '2h'},
          {days: ['sun'], start: '03:30', length: '90m', timeZone: 'Europe/Berlin'},
        ],
        maxUnavailable: '25%',
      },
      inventory: {hosts: {h: {}}},
    },
    host: 'h',
    expect: (h) => h.updates,
    equals: {
      strategy: 'window',
      windows: [
        {days: ['sat'], start: '02:00', length: '2h', timeZone: 'UTC'},
        {days: ['sun'], start: '03:30', length: '90m', timeZone: 'Europe/Berlin'},
      ],
      maxUnavailable: '25%',
      failureBudget: 0,
      health: [],
    },
  },
  {
    title: 'groups and labels come from the host entry; an unknown group adds nothing',
    spec: {
      version: 1,
      groups: {edge: {timesync: {servers: ['ntp.example']}}},
      inventory: {hosts: {h: {groups: ['edge', 'missing'], labels: {rack: 'r1'}}}},
    },
    host: 'h',
    expect: (h) => [h.groups, h.labels, h.timesync],
    equals: [['edge', 'missing'], {rack: 'r1'}, {enabled: true, servers: ['ntp.example']}],
  },
];

for (const c of merge) {
  test(`merge: ${c.title}`, (t) => {
    const host = resolveHosts(c.spec).find((h) => h.name === c.host);
    t.truthy(host);
    t.deepEqual(c.expect(host!), c.equals);
  });
}

test('resolve does not modify the spec it is given', (t) => {
  const spec: Spec = {
    version: 1,
    engine: {devicemapper: {device: '/dev/vdb'}},
    containers: {web: {image: 'a', env: {A: '1'}}},
    inventory: {hosts: {h: {engine: {devicemapper: {pool: 'vg/p'}}, containers: {web: {image: 'b'}}}}},
  };
  const before = structuredClone(spec);
  resolveHosts(spec);
  t.deepEqual(spec, before);
});

const ports: [string, ReturnType<typeof parsePort>][] = [
  ['80:8080', {host: 80, container: 8080, protocol: 'tcp', address: '0.0.0.0'}],
  ['53:53/udp', {host: 53, container: 53, protocol: 'udp', address: '0.0.0.0'}],
  ['10.0.0.1:80:80/tcp', {host: 80, container: 80, protocol: 'tcp', address: '10.0.0.1'}],
  ['[::1]:8080:80', {host: 8080, container: 80, protocol: 'tcp', address: '::1'}],
];
for (const [text, expected] of ports) {
  test(`parsePort ${text}`, (t) => t.deepEqual(parsePort(text), expected));
}

const volumes: [string, ReturnType<typeof parseVolume>][] = [
  ['/a:/b', {source: '/a', target: '/b', readOnly: false}],
  ['/a:/b:ro', {source: '/a', target: '/b', readOnly: true}],
  ['/a:/b:rw', {source: '/a', target: '/b', readOnly: false}],
  ['data:/var/lib/data', {source: 'data', target: '/var/lib/data', readOnly: false}],
];
for (const [text, expected] of volumes) {
  test(`parseVolume ${text}`, (t) => t.deepEqual(parseVolume(text), expected));
}
