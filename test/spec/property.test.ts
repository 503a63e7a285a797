/**
 * Whatever the input — random text, valid specs with random mutations, broken YAML — validate returns a
 * report and never throws; every entry is located inside the file; and a spec it calls valid resolves.
 */
import test from 'ava';
import fc from 'fast-check';
import {parse, stringify} from 'yaml';
import {parseSpecText} from '../../src/spec/load.js';
import type {SpecReport} from '../../src/spec/report.js';
import {resolveHosts} from '../../src/spec/resolve.js';
import type {Spec} from '../../src/spec/types.js';
import {validateSpec} from '../../src/spec/validate.js';
import {validSpec} from './helpers.js';

const runs = 300;

/** A bigger valid spec touching every section, so mutations reach every part of the schema. */
const richSpec: unknown = {
  version: 1,
  inventory: {
    defaults: {user: 'admin', port: 22, identityFile: '~/.ssh/id_ed25519'},
    hosts: {
      bastion: {address: '192.0.2.1', become: 'sudo'},
      'web-1': {groups: ['web'], jump: 'bastion', labels: {rack: 'r1'}},
      'db-1': {
        jump: 'ops@192.0.2.9:2222',
        engine: {storage: 'devicemapper', devicemapper: {device: '/dev/vdb', wipe: true, thinPoolSize: '95%VG'}},
      },
    },
  },
  groups: {web: {containers: {proxy: {image: 'nginx:1.27', ports: ['80:8080'], dependsOn: ['app']}}}},
  engine: {version: 'bundled', dataRoot: '/var/lib/berth-engine', logs: {rateLimitInterval: '30s', rateLimitBurst: 100}},
  kernel: {sysctls: {'vm.swappiness': 10}, modules: ['overlay'], bootParams: ['quiet'], version: 'latest', updates: 'all'},
  containers: {
    app: {
      image: '/srv/images/app.tar',
      command: ['app', '--serve'],
      env: {LOG: 'info'},
      ports: [{host: 8080, container: 80}],
      volumes: ['/srv/data:/data:ro', {source: 'cache', target: '/cache'}],
      memory: '256M',
      cpus: 0.5,
      pids: 100,
      restart: 'on-failure',
      health: {command: ['true'], interval: '10s', retries: 3},
      user: '1000:1000',
      network: 'bridge',
    },
  },
  units: {'backup.service': {content: '[Service]\nExecStart=/bin/true\n'}, 'backup.timer': {content: '[Timer]\n', enable: true}},
  dropins: {'ssh.service': {'10-berth.conf': '[Service]\n'}},
  files: {'/etc/motd': {content: 'hi\n', mode: '0644'}},
  updates: {
    strategy: 'fleet-lock',
    windows: [{days: ['sat', 'sun'], start: '02:00', length: '2h', timeZone: 'Europe/Berlin'}],
    maxUnavailable: '25%',
    failureBudget: 1,
    lock: {etcd: {endpoints: ['http://127.0.0.1:2379']}},
    health: [{tcp: '127.0.0.1:80'}, {http: 'http://127.0.0.1/health', status: 200}, {command: 'true'}],
  },
  users: {ops: {uid: 1001, groups: ['adm'], sudo: true, authorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB ops']}},
  journald: {storage: 'persistent', systemMaxUse: '500M', maxRetention: '30d'},
  timesync: {enabled: true, servers: ['ntp.example.org']},
};

function assertWellFormed(report: SpecReport, text: string): void {
  const lines = text.split('\n').length;
  for (const entry of report.entries) {
    if (!(entry.line >= 1 && entry.line <= lines + 1 && entry.col >= 1)) {
      throw new Error(`entry located outside the file (${lines} lines): ${JSON.stringify(entry)}`);
    }
    if (!entry.message || typeof entry.hint !== 'string' || !(entry.path === '' || entry.path.startsWith('/'))) {
      throw new Error(`malformed entry: ${JSON.stringify(entry)}`);
    }
  }
  if (report.valid !== !report.entries.some((e) => e.severity === 'error')) throw new Error('valid disagrees with the entries');
}

function validateText(text: string): SpecReport {
  const loaded = parseSpecText(text, 'spec.yaml');
  const report = validateSpec(loaded);
  assertWellFormed(report, text);
  if (report.valid) resolveHosts(loaded.data as Spec); // must not throw either
  return report;
}

test('the starting specs are valid (so mutations start from something meaningful)', (t) => {
  t.deepEqual(validateText(validSpec).entries, []);
  const rich = validateText(stringify(richSpec));
  t.deepEqual(rich.entries, []);
});

test('random text never makes validate throw', (t) => {
  fc.assert(
    fc.property(fc.string({unit: 'binary', maxLength: 300}), (text) => {
      validateText(text);
    }),
    {numRuns: runs},
  );
  t.pass();
});

test('random YAML-looking text never makes validate throw', (t) => {
  const token = fc.constantFrom(
    'version: 1\n', 'inventory:\n', '  hosts:\n', '    h:\n', '      port: ', '- ', ': ', '{', '}', '[', ']', ',', '"', "'",
    '&a ', '*a', '<<: ', '!!str ', '\t', '  ', '\n', '#', '---\n', 'null', '~', '0o17', '1e999', '.nan', '? ',
  );
  fc.assert(
    fc.property(fc.array(fc.oneof(token, fc.string({maxLength: 5})), {maxLength: 60}), (tokens) => {
      validateText(tokens.join(''));
    }),
    {numRuns: runs},
  );
  t.pass();
});

type Json = unknown;

/** Every path into a JSON value (objects and arrays), the root included. */
function paths(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  }
  return out;
}

type Mutation =
  | {kind: 'replace'; value: Json}
  | {kind: 'delete'}
  | {kind: 'rename'; name: string}
  | {kind: 'insert'; name: string; value: Json};

function mutate(root: Json, path: (string | number)[], mutation: Mutation): Json {
  const copy = structuredClone(root);
  if (path.length === 0) return mutation.kind === 'replace' ? mutation.value : copy;
  let parent: any = copy;
  for (const segment of path.slice(0, -1)) parent = parent[segment];
  const last = path.at(-1)!;
  switch (mutation.kind) {
    case 'replace':
      parent[last] = mutation.value;
      break;
    case 'delete':
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
      break;
    case 'rename':
      if (!Array.isArray(parent)) {
        parent[mutation.name] = parent[last];
        delete parent[last];
      }
      break;
    case 'insert': {
      const target = parent[last];
      if (Array.isArray(target)) target.push(mutation.value);
      else if (target !== null && typeof target === 'object') target[mutation.name] = mutation.value;
      break;
    }
  }
  return copy;
}

const keyName = fc.oneof(
  fc.string({maxLength: 12}),
  fc.constantFrom('image', 'port', 'storage', 'device', 'pool', 'wipe', 'dependsOn', 'groups', 'jump', 'enabled', 'lock', 'etcd', 'fleetlock', 'windows', 'uid', '/var/lib/berth/x', 'etc/x', '$schema', '__proto__', 'constructor'),
);
const value = fc.oneof(
  fc.jsonValue({maxDepth: 3}),
  fc.constantFrom('devicemapper', '25:00', '0h', '25h', '150%', '0%', 'Mars/Base', '99999:80', 'web-1', 'nope', '/dev/vdb', -1, 0, 70000, 1.5, true, null, [], {}),
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({kind: fc.constant('replace' as const), value}),
  fc.record({kind: fc.constant('delete' as const)}),
  fc.record({kind: fc.constant('rename' as const), name: keyName}),
  fc.record({kind: fc.constant('insert' as const), name: keyName, value}),
);

for (const [name, start] of [
  ['small', parse(validSpec) as Json],
  ['rich', richSpec],
] as const) {
  test(`mutated ${name} specs never make validate throw, and valid ones resolve`, (t) => {
    const all = paths(start);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(all.length - 1), mutation), {minLength: 1, maxLength: 4}), (steps) => {
        let spec: Json = start;
        for (const [index, m] of steps) {
          const candidates = paths(spec);
          spec = mutate(spec, candidates[index % candidates.length]!, m);
        }
        validateText(stringify(spec));
        validateText(JSON.stringify(spec, null, 2));
      }),
      {numRuns: runs},
    );
    t.pass();
  });
}

test('text mutations of a valid spec (characters inserted or removed) never make validate throw', (t) => {
  const text = stringify(richSpec);
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(text.length), fc.nat(3), fc.string({maxLength: 3})), {minLength: 1, maxLength: 5}),
      (edits) => {
        let out = text;
        for (const [at, remove, insert] of edits) {
          const i = at % (out.length + 1);
          out = out.slice(0, i) + insert + out.slice(i + remove);
        }
        validateText(out);
      },
    ),
    {numRuns: runs},
  );
  t.pass();
});
