import test from 'ava';
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {brief, check, validSpec, yaml} from './helpers.js';

interface Case {
  title: string;
  spec: string;
  /** Every entry of the report, in order: JSON path, line:col, message, severity and hint. */
  expected: {path: string; at: string; message: string; severity: string; hint: string}[];
  file?: string;
}

/**
 * One case per class of error. Each asserts the whole report: no entry missing, none extra, and for each the
 * message, the JSON path and the line:col where the offending value was written.
 */
const cases: Case[] = [
  {
    title: 'a valid spec has no entries',
    spec: validSpec,
    expected: [],
  },
  {
    title: 'wrong type: a quoted number',
    spec: validSpec.replace('port: 2222', 'port: "22"'),
    expected: [
      {path: "/inventory/hosts/db-1/port",at: "11:13",message: "must be a number from 1 to 65535, not \"22\"",severity: "error",hint: "write a number from 1 to 65535 without quotes, e.g. `port: 22`"},
    ],
  },
  {
    title: 'wrong type: an unquoted octal mode',
    spec: yaml`
  version: 1
  inventory: {hosts: {h: {}}}
  files:
    /etc/motd: {content: hi, mode: 644}
`,
    expected: [
      {path: "/files/~1etc~1motd/mode",at: "4:34",message: "must be a mode written as text, not 644",severity: "error",hint: "write the mode as a quoted octal string, e.g. `mode: \"0644\"`"},
    ],
  },
  {
    title: 'unknown key with did-you-mean',
    spec: validSpec.replace('image: /srv/images/app.tar', 'imgae: /srv/images/app.tar'),
    expected: [
      {path: "/groups/web/containers/app/imgae",at: "16:9",message: "unknown key \"imgae\"",severity: "error",hint: "did you mean \"image\"?"},
    ],
  },
  {
    title: 'unknown key without a close match lists the allowed keys',
    spec: validSpec.replace('engine:\n  storage: overlay2', 'engine:\n  storage: overlay2\n  colour: blue'),
    expected: [
      {path: "/engine/colour",at: "23:3",message: "unknown key \"colour\"",severity: "error",hint: "remove it; keys allowed here: version, dataRoot, storage, devicemapper, logs"},
    ],
  },
  {
    title: 'missing required key in a window',
    spec: yaml`
  version: 1
  inventory:
    hosts:
      h: {}
  updates:
    strategy: window
    windows:
      - days: [sat]
        length: 2h
`,
    expected: [
      {path: "/updates/windows/0",at: "8:7",message: "missing required key \"start\"",severity: "error",hint: "add `start:` — start time on the 24-hour clock, `HH:MM`, e.g. `02:30`"},
    ],
  },
  {
    title: 'missing required inventory.hosts',
    spec: yaml`
  version: 1
  inventory:
    defaults: {user: root}
`,
    expected: [
      {path: "/inventory",at: "2:1",message: "missing required key \"hosts\"",severity: "error",hint: "add `hosts:` — every host, keyed by its name (used in output, in `--host`, and as the default address)"},
    ],
  },
  {
    title: 'bad enum value with did-you-mean',
    spec: validSpec.replace('storage: overlay2', 'storage: devicemaper'),
    expected: [
      {path: "/engine/storage",at: "22:12",message: "must be one of \"auto\", \"overlay2\", \"devicemapper\" or \"vfs\", not \"devicemaper\"",severity: "error",hint: "did you mean \"devicemapper\"?"},
    ],
  },
  {
    title: 'bad enum value without a close match',
    spec: validSpec.replace('image: docker.io/library/redis:7', 'image: docker.io/library/redis:7\n        restart: sometimes'),
    expected: [
      {path: "/groups/web/containers/cache/restart",at: "21:18",message: "must be one of \"always\", \"on-failure\" or \"no\", not \"sometimes\"",severity: "error",hint: "use one of \"always\", \"on-failure\" or \"no\" for restart"},
    ],
  },
  {
    title: 'bad time window: start not HH:MM, longer than 24h, unknown time zone',
    spec: validSpec.replace('start: "02:00"\n      length: 2h\n      timeZone: Europe/Berlin', 'start: "24:30"\n      length: 25h\n      timeZone: Europe/Berln'),
    expected: [
      {path: "/updates/windows/0/start",at: "31:14",message: "\"24:30\" is not a valid time of day",severity: "error",hint: "write the time as HH:MM on the 24-hour clock, e.g. `02:30`"},
      {path: "/updates/windows/0/length",at: "32:15",message: "window length 25h is longer than 24h",severity: "error",hint: "use at most `24h`; list more days instead of longer windows"},
      {path: "/updates/windows/0/timeZone",at: "33:17",message: "\"Europe/Berln\" is not a known time zone",severity: "error",hint: "did you mean \"Europe/Berlin\"?"},
    ],
  },
  {
    title: 'bad time window: zero length',
    spec: validSpec.replace('length: 2h', 'length: 0m'),
    expected: [
      {path: "/updates/windows/0/length",at: "32:15",message: "window length must be more than zero",severity: "error",hint: "write a length like `2h` or `90m`"},
    ],
  },
  {
    title: 'devicemapper without device or pool, for every host',
    spec: validSpec.replace('storage: overlay2', 'storage: devicemapper'),
    expected: [
      {path: "/engine/storage",at: "22:12",message: "storage devicemapper needs a block device or a thin pool (hosts db-1, web-1)",severity: "error",hint: "set `engine.devicemapper.device` (with `wipe: true`) or `engine.devicemapper.pool`"},
    ],
  },
  {
    title: 'devicemapper with both device and pool',
    spec: validSpec.replace('storage: overlay2', 'storage: devicemapper\n  devicemapper: {device: /dev/vdb, wipe: true, pool: vg0/thin}'),
    expected: [
      {path: "/engine/devicemapper/pool",at: "23:48",message: "devicemapper sets both device and pool (hosts db-1, web-1)",severity: "error",hint: "keep `device` to let berth build a new thin pool, or `pool` to use an existing one — not both"},
    ],
  },
  {
    title: 'wipe without a device',
    spec: validSpec.replace('storage: overlay2', 'storage: devicemapper\n  devicemapper: {pool: vg0/thin, wipe: true}'),
    expected: [
      {path: "/engine/devicemapper/wipe",at: "23:34",message: "wipe: true without a device (hosts db-1, web-1)",severity: "error",hint: "add `device: /dev/…` or remove `wipe`"},
    ],
  },
  {
    title: 'device without wipe consent',
    spec: validSpec.replace('storage: overlay2', 'storage: devicemapper\n  devicemapper: {device: /dev/vdb}'),
    expected: [
      {path: "/engine/devicemapper/device",at: "23:26",message: "setting up devicemapper destroys everything on /dev/vdb, but wipe is not true (hosts db-1, web-1)",severity: "error",hint: "add `wipe: true` to consent, or use an existing thin pool with `pool: VG/LV`"},
    ],
  },
  {
    title: 'dependsOn an unknown container',
    spec: validSpec.replace('dependsOn: [cache]', 'dependsOn: [cahce]'),
    expected: [
      {path: "/groups/web/containers/app/dependsOn/0",at: "18:21",message: "container \"app\" depends on \"cahce\", which is not defined under containers (host web-1)",severity: "error",hint: "did you mean \"cache\"?"},
    ],
  },
  {
    title: 'dependsOn cycle',
    spec: validSpec.replace('image: docker.io/library/redis:7', 'image: docker.io/library/redis:7\n        dependsOn: [app]'),
    expected: [
      {path: "/groups/web/containers/cache/dependsOn/0",at: "21:21",message: "containers depend on each other in a cycle: app → cache → app (host web-1)",severity: "error",hint: "remove one of these dependsOn entries so the containers can start in order"},
    ],
  },
  {
    title: 'two containers publish the same host port',
    spec: validSpec.replace('image: docker.io/library/redis:7', 'image: docker.io/library/redis:7\n        ports: ["127.0.0.1:8080:6379"]'),
    expected: [
      {path: "/groups/web/containers/cache/ports/0",at: "21:17",message: "host port 8080/tcp is already published by container \"app\" (host web-1)",severity: "error",hint: "publish a different host port, or bind the two to different addresses"},
    ],
  },
  {
    title: 'host in an unknown group',
    spec: validSpec.replace('groups: [web]', 'groups: [wbe]'),
    expected: [
      {path: "/inventory/hosts/web-1/groups/0",at: "8:16",message: "group \"wbe\" is not defined",severity: "error",hint: "did you mean \"web\"?"},
      {path: "/groups/web",at: "13:3",message: "group \"web\" is not used by any host",severity: "warning",hint: "list it in a host's `groups`, or remove it"},
    ],
  },
  {
    title: 'jump host not in the inventory',
    spec: validSpec.replace('port: 2222', 'port: 2222\n      jump: web-2'),
    expected: [
      {path: "/inventory/hosts/db-1/jump",at: "12:13",message: "jump host \"web-2\" is not an inventory host",severity: "error",hint: "did you mean \"web-1\"?"},
    ],
  },
  {
    title: 'jump host is the host itself',
    spec: validSpec.replace('port: 2222', 'port: 2222\n      jump: db-1'),
    expected: [
      {path: "/inventory/hosts/db-1/jump",at: "12:13",message: "host db-1 uses itself as its jump host",severity: "error",hint: "remove `jump`, or name another host"},
    ],
  },
  {
    title: 'jump hosts in a cycle',
    spec: validSpec.replace('port: 2222', 'port: 2222\n      jump: web-1').replace('groups: [web]', 'groups: [web]\n      jump: db-1'),
    expected: [
      {path: "/inventory/hosts/db-1/jump",at: "13:13",message: "jump hosts form a cycle: db-1 → web-1 → db-1",severity: "error",hint: "one of these hosts must be reachable directly: remove its `jump`"},
    ],
  },
  {
    title: 'strategy window without windows',
    spec: validSpec.replace(/  windows:\n(.*\n){4}/, ''),
    expected: [
      {path: "/updates/strategy",at: "28:13",message: "strategy window needs at least one maintenance window (hosts db-1, web-1)",severity: "error",hint: "add `updates.windows`, e.g. `[{days: [sat], start: \"02:00\", length: 2h}]`"},
    ],
  },
  {
    title: 'strategy fleet-lock without a lock',
    spec: validSpec.replace('strategy: window', 'strategy: fleet-lock'),
    expected: [
      {path: "/updates/strategy",at: "28:13",message: "strategy fleet-lock needs a reboot lock (hosts db-1, web-1)",severity: "error",hint: "add `updates.lock` with `etcd: {endpoints: [...]}` or `fleetlock: {url: ...}`"},
    ],
  },
  {
    title: 'percentages over 100%',
    spec: validSpec.replace('maxUnavailable: 25%', 'maxUnavailable: 150%\n  failureBudget: 100.5%'),
    expected: [
      {path: "/updates/maxUnavailable",at: "34:19",message: "150% is more than 100%",severity: "error",hint: "use a percentage from 0% to 100%"},
      {path: "/updates/failureBudget",at: "35:18",message: "100.5% is more than 100%",severity: "error",hint: "use a percentage from 0% to 100%"},
    ],
  },
  {
    title: 'duplicate uid',
    spec: validSpec.replace('  ops:\n    uid: 1001', '  ops:\n    uid: 1001\n  deploy:\n    uid: 1001'),
    expected: [
      {path: "/users/ops/uid",at: "37:10",message: "uid 1001 is already used by user \"deploy\" (hosts db-1, web-1)",severity: "error",hint: "give each user its own uid, or leave uid out"},
    ],
  },
  {
    title: 'file paths: relative, reserved, with ..',
    spec: validSpec + 'files:\n  etc/motd: {content: hi}\n  /var/lib/berth/current: {content: x}\n  /etc/../x: {content: x}\n',
    expected: [
      {path: "/files/etc~1motd",at: "40:3",message: "file path \"etc/motd\" is not absolute",severity: "error",hint: "key files by their absolute path, e.g. `/etc/motd`"},
      {path: "/files/~1var~1lib~1berth~1current",at: "41:3",message: "file path \"/var/lib/berth/current\" is under /var/lib/berth, which berth manages itself",severity: "error",hint: "choose a path outside /var/lib/berth"},
      {path: "/files/~1etc~1..~1x",at: "42:3",message: "file path \"/etc/../x\" contains \"..\", \".\" or an empty segment",severity: "error",hint: "write the path in its plain form, e.g. `/etc/app/config.yaml`"},
    ],
  },
  {
    title: 'YAML syntax error',
    spec: validSpec.replace('  modules: [overlay]', '  modules: [overlay\nx: 1'),
    expected: [
      {path: "",at: "27:1",message: "YAML syntax error: flow sequence in block collection must be sufficiently indented and end with a ]",severity: "error",hint: "check the indentation, and that every `[` and `{` is closed on this line or indented below it"},
    ],
  },
  {
    title: 'duplicate key',
    spec: validSpec.replace('    uid: 1001', '    uid: 1001\n    sudo: false'),
    expected: [
      {path: "/users/ops/sudo",at: "39:5",message: "key \"sudo\" appears twice in this mapping",severity: "error",hint: "keep one of them (the other is on line 38): YAML keeps only the last, silently"},
    ],
  },
  {
    title: 'lock with both backends',
    spec: validSpec.replace('strategy: window', 'strategy: fleet-lock\n  lock:\n    etcd: {endpoints: ["http://127.0.0.1:2379"]}\n    fleetlock: {url: "http://127.0.0.1:3333"}'),
    expected: [
      {path: "/updates/lock",at: "29:3",message: "sets etcd and fleetlock, but only one of them is allowed",severity: "error",hint: "keep only one of etcd or fleetlock"},
    ],
  },
  {
    title: 'lock with no backend',
    spec: validSpec.replace('strategy: window', 'strategy: fleet-lock\n  lock: {}'),
    expected: [
      {path: "/updates/lock",at: "29:3",message: "needs one of etcd or fleetlock",severity: "error",hint: "add exactly one of etcd or fleetlock"},
    ],
  },
  {
    title: 'health gates: none, two kinds, status without http, bad URL',
    spec: validSpec.replace('maxUnavailable: 25%', 'maxUnavailable: 25%\n  health:\n    - {status: 200}\n    - {tcp: "127.0.0.1:80", command: "true"}\n    - {http: "not a url"}'),
    expected: [
      {path: "/updates/health/0",at: "36:7",message: "needs one of command, tcp or http",severity: "error",hint: "add exactly one of command, tcp or http"},
      {path: "/updates/health/0/status",at: "36:8",message: "\"status\" only applies together with \"http\"",severity: "error",hint: "add `http:` or remove `status`"},
      {path: "/updates/health/1",at: "37:7",message: "sets command and tcp, but only one of them is allowed",severity: "error",hint: "keep only one of command or tcp"},
      {path: "/updates/health/2/http",at: "38:14",message: "\"not a url\" is not a valid URL",severity: "error",hint: "write a full http:// or https:// URL"},
    ],
  },
  {
    title: "ports: anyOf noise collapses to the branch of the value's type",
    spec: validSpec.replace('ports: ["8080:80"]', 'ports: ["8080:80", "80", {host: 1, containr: 2}, 7]'),
    expected: [
      {path: "/groups/web/containers/app/ports/1",at: "17:28",message: "\"80\" is not a valid port mapping",severity: "error",hint: "write `HOST:CONTAINER`, optionally with an address and protocol: `127.0.0.1:8080:80/tcp`"},
      {path: "/groups/web/containers/app/ports/2",at: "17:34",message: "missing required key \"container\"",severity: "error",hint: "add `container:` — port inside the container"},
      {path: "/groups/web/containers/app/ports/2/containr",at: "17:44",message: "unknown key \"containr\"",severity: "error",hint: "did you mean \"container\"?"},
      {path: "/groups/web/containers/app/ports/3",at: "17:58",message: "must be text like \"8080:80\" or a mapping with host and container, not 7",severity: "error",hint: "write it like `\"8080:80\"` or `{host: 8080, container: 80}`"},
    ],
  },
  {
    title: 'invalid sysctl key name',
    spec: validSpec.replace('net.ipv4.ip_forward: 1', 'net.ipv4.ip_forward: 1\n    "Bad Key": 1'),
    expected: [
      {path: "/kernel/sysctls/Bad Key",at: "26:5",message: "\"Bad Key\" is not a valid sysctl key",severity: "error",hint: "write the dotted sysctl name, e.g. `net.ipv4.ip_forward`"},
    ],
  },
  {
    title: 'container without image after merging',
    spec: validSpec.replace('    web-1:\n      address: 10.0.0.1', '    web-1:\n      address: 10.0.0.1\n      containers:\n        extra: {readOnly: true}'),
    expected: [
      {path: "/inventory/hosts/web-1/containers/extra",at: "9:9",message: "container \"extra\" has no image",severity: "error",hint: "add `image:` to it here, or in a group or host that overrides it"},
    ],
  },
  {
    title: 'unsupported version',
    spec: validSpec.replace('version: 1', 'version: 2'),
    expected: [
      {path: "/version",at: "1:10",message: "must be 1, not 2",severity: "error",hint: "write `version: 1`"},
    ],
  },
  {
    title: 'empty file',
    spec: '',
    expected: [
      {path: "",at: "1:1",message: "must be a mapping (key: value), not nothing",severity: "error",hint: "write a mapping (key: value)"},
    ],
  },
  {
    title: 'a list instead of a mapping',
    spec: '- a\n- b\n',
    expected: [
      {path: "",at: "1:1",message: "must be a mapping (key: value), not a list",severity: "error",hint: "write a mapping (key: value)"},
    ],
  },
  {
    title: 'JSON input is located too',
    spec: '{\n  "version": 1,\n  "inventory": {"hosts": {"h": {"port": 0}}}\n}\n',
    expected: [
      {path: "/inventory/hosts/h/port",at: "3:41",message: "must be a number from 1 to 65535, not 0",severity: "error",hint: "use a number from 1 to 65535, e.g. `port: 22`"},
    ],
  },
];

for (const c of cases) {
  test(`validate: ${c.title}`, (t) => {
    const report = check(c.spec, c.file);
    t.deepEqual(
      report.entries.map((e) => ({...brief(e), hint: e.hint})),
      c.expected,
    );
    t.is(report.valid, !c.expected.some((e) => e.severity === 'error'));
  });
}

test('validate: keys named like Object.prototype members are data, not prototype lookups', (t) => {
  const report = check(yaml`
    version: 1
    inventory:
      hosts:
        h: {groups: [constructor, toString]}
        __proto__: {port: 1}
    containers:
      a: {image: x, dependsOn: [constructor, toString]}
      __proto__: {image: y}
    users:
      __proto__: {uid: 1000}
  `);
  t.deepEqual(report.entries.map(brief), [
    {path: '/inventory/hosts/h/groups/0', at: '4:18', message: 'group "constructor" is not defined', severity: 'error'},
    {path: '/inventory/hosts/h/groups/1', at: '4:31', message: 'group "toString" is not defined', severity: 'error'},
    {path: '/inventory/hosts/__proto__', at: '5:5', message: '"__proto__" is not a valid host name', severity: 'error'},
    {path: '/containers/a/dependsOn/1', at: '7:42', message: '"toString" is not a valid container name', severity: 'error'},
    {path: '/containers/__proto__', at: '8:3', message: '"__proto__" is not a valid container name', severity: 'error'},
  ]);
});

test('validate: a host removed for its invalid name does not make the hosts jumping through it fail too', (t) => {
  const report = check(yaml`
    version: 1
    inventory:
      hosts:
        _bastion: {}
        web: {jump: _bastion}
        db: {jump: _bastoin}
  `);
  t.deepEqual(report.entries.map(brief), [
    {path: '/inventory/hosts/_bastion', at: '4:5', message: '"_bastion" is not a valid host name', severity: 'error'},
  ]);
});

test('validate: a key written one level too high says where it belongs', (t) => {
  const report = check(yaml`
    version: 1
    inventory:
      hosts:
        h:
          storage: overlay2
          sysctls: {vm.swappiness: 1}
  `);
  t.deepEqual(
    report.entries.map((e) => ({...brief(e), hint: e.hint})),
    [
      {
        path: '/inventory/hosts/h/storage',
        at: '5:7',
        message: 'unknown key "storage"',
        severity: 'error',
        hint: 'move it under "engine" or "journald", e.g. `engine: {storage: …}`',
      },
      {
        path: '/inventory/hosts/h/sysctls',
        at: '6:7',
        message: 'unknown key "sysctls"',
        severity: 'error',
        hint: 'move it under "kernel", e.g. `kernel: {sysctls: …}`',
      },
    ],
  );
});

test('validate: depending on a container the host disables says so', (t) => {
  const report = check(yaml`
    version: 1
    inventory:
      hosts:
        h:
          containers: {db: {enabled: false}}
    containers:
      app: {image: a, dependsOn: [db]}
      db: {image: b}
  `);
  t.deepEqual(report.entries.map((e) => ({...brief(e), hint: e.hint})), [
    {
      path: '/containers/app/dependsOn/0',
      at: '7:31',
      message: 'container "app" depends on "db", which is disabled (enabled: false) (host h)',
      severity: 'error',
      hint: 'enable "db" on this host, or remove it from dependsOn',
    },
  ]);
});

test('validate: a container named like an Object.prototype member is located where it was written', (t) => {
  const report = check(yaml`
    version: 1
    containers:
      constructor: {readOnly: true}
    inventory:
      hosts:
        h:
          containers:
            web: {image: nginx}
  `);
  t.deepEqual(report.entries.map(brief), [
    {path: '/containers/constructor', at: '3:3', message: 'container "constructor" has no image (host h)', severity: 'error'},
  ]);
});

test('validate: unit names starting with berth- are reserved; two hosts on one endpoint is a warning', (t) => {
  const report = check(yaml`
    version: 1
    inventory:
      hosts:
        a: {address: 10.0.0.1}
        b: {address: 10.0.0.1}
        c: {address: 10.0.0.1, port: 2222}
    units:
      berth-mine.service: {content: "[Service]"}
  `);
  t.deepEqual(report.entries.map((e) => ({...brief(e), hint: e.hint})), [
    {
      path: '/inventory/hosts/b',
      at: '5:5',
      message: 'hosts a and b both connect to 10.0.0.1:22',
      severity: 'warning',
      hint: 'give each host its own address or port, or remove one of them',
    },
    {
      path: '/units/berth-mine.service',
      at: '8:3',
      message: 'unit name "berth-mine.service" starts with berth-, which berth keeps for the units it generates',
      severity: 'error',
      hint: 'choose another name; to change a berth unit, use `dropins`',
    },
  ]);
});

test('validate: a file takes exactly one of content and source; a source must be a readable file (relative to the spec)', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-source-'));
  writeFileSync(path.join(dir, 'image.tar'), 'bytes');
  mkdirSync(path.join(dir, 'adir'));
  const report = check(
    yaml`
      version: 1
      inventory:
        hosts:
          a: {address: 10.0.0.1}
      files:
        /opt/ok.tar: {source: image.tar}
        /opt/both: {content: "x", source: image.tar}
        /opt/neither: {mode: "0600"}
        /opt/missing: {source: images/nope.tar}
        /opt/dir: {source: adir}
      containers:
        app:
          image: /opt/ok.tar
          env: {TOKEN: "a\\nb"}
    `,
    path.join(dir, 'spec.yaml'),
  );
  t.deepEqual(report.entries.map(brief), [
    {path: '/files/~1opt~1both/source', at: '7:29', message: 'file "/opt/both" has both content and source (host a)', severity: 'error'},
    {path: '/files/~1opt~1neither', at: '8:3', message: 'file "/opt/neither" has no content or source (host a)', severity: 'error'},
    {path: '/files/~1opt~1missing/source', at: '9:26', message: `file source "images/nope.tar" cannot be read: ${dir}/images/nope.tar: no such file`, severity: 'error'},
    {path: '/files/~1opt~1dir/source', at: '10:22', message: `file source "adir" cannot be read: ${dir}/adir: not a regular file`, severity: 'error'},
    {path: '/containers/app/env/TOKEN', at: '14:18', message: "env TOKEN holds a newline, carriage return or NUL byte: the container's env file has one KEY=VALUE a line", severity: 'error'},
  ]);
});
