#!/usr/bin/env node
// Generates docs/spec.md, the spec reference, from src/spec/schema.json (titles, descriptions, defaults,
// examples). `node scripts/gen-spec-docs.mjs` writes it; `--check` exits 1 when the file is out of date
// (test/spec/docs.test.ts runs that).
import {readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const schemaFile = path.join(root, 'src/spec/schema.json');
const docsFile = path.join(root, 'docs/spec.md');

function resolve(schema, node) {
  if (!node?.$ref) return node;
  const target = schema.$defs[node.$ref.replace('#/$defs/', '')];
  const {$ref, ...rest} = node;
  return {...resolve(schema, target), ...rest};
}

/** The schema object a node stands for: the `$ref` target when it is a reference (siblings ignored). */
function identity(schema, node) {
  while (node?.$ref) node = schema.$defs[node.$ref.replace('#/$defs/', '')];
  return node;
}

function inline(value) {
  if (typeof value === 'string') {
    return /^[A-Za-z_./@%+-][A-Za-z0-9_./@%:+ -]*$/.test(value) && !/: |:$/.test(value) && !/^(true|false|yes|no|on|off|null)$/i.test(value)
      ? value
      : JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  if (value && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${k}: ${inline(v)}`).join(', ')}}`;
  return String(value);
}

const code = (text) => '`' + String(text).replace(/`/g, "'") + '`';
const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Anchor of a heading, as GitHub makes it. */
function anchor(title) {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .trim()
    .replace(/ /g, '-');
}

/** Sections of the reference: [heading, object schema], in document order. */
function collect(schema) {
  const out = [];
  const visit = (title, raw) => {
    const node = resolve(schema, raw);
    if (node.type !== 'object' || !node.properties) return;
    out.push({title, node, id: identity(schema, raw)});
    for (const [key, raw] of Object.entries(node.properties)) {
      const child = resolve(schema, raw);
      if (title === 'Top level' && ['engine', 'kernel', 'containers', 'units', 'dropins', 'files', 'updates', 'users', 'journald', 'timesync'].includes(key) && out.some((s) => s.title === key)) continue;
      const prefix = title === 'Top level' ? '' : `${title}.`;
      if (child.type === 'object' && child.properties) visit(`${prefix}${key}`, raw);
      else if (child.type === 'object' && child.additionalProperties && typeof child.additionalProperties === 'object') {
        visit(`${prefix}${key}.${placeholder(key)}`, child.additionalProperties);
      } else if (child.type === 'array' && child.items) {
        visit(`${prefix}${key}[]`, child.items);
        for (const alternative of resolve(schema, child.items).anyOf ?? []) visit(`${prefix}${key}[]`, alternative);
      }
    }
  };
  visit('Top level', schema);
  // The sections groups and hosts share are documented once, under their top-level name.
  return out.filter((s, i) => !/^(inventory\.hosts\.NAME|groups\.NAME)\.(engine|kernel|containers|units|dropins|files|updates|users|journald|timesync)/.test(s.title) && out.findIndex((o) => o.title === s.title) === i);
}

function placeholder(key) {
  return {files: 'PATH', hosts: 'NAME', groups: 'NAME', containers: 'NAME', units: 'UNIT', users: 'NAME'}[key] ?? 'NAME';
}

/** The type column: what may be written. */
function typeOf(schema, raw, sectionTitles, key) {
  const node = resolve(schema, raw);
  const section = sectionTitles.get(identity(schema, raw));
  if (node.const !== undefined) return code(inline(node.const));
  if (node.enum) return node.enum.map((v) => code(v)).join(' | ');
  if (node.anyOf) return node.anyOf.map((a) => typeOf(schema, a, sectionTitles)).join(' or ');
  const types = Array.isArray(node.type) ? node.type : [node.type];
  const parts = types.map((t) => {
    switch (t) {
      case 'integer':
      case 'number': {
        const word = t === 'integer' ? 'integer' : 'number';
        if (node.minimum !== undefined && node.maximum !== undefined) return `${word} ${node.minimum}–${node.maximum}`;
        if (node.exclusiveMinimum !== undefined) return `${word} > ${node.exclusiveMinimum}`;
        if (node.minimum !== undefined) return `${word} ≥ ${node.minimum}`;
        return word;
      }
      case 'string':
        if (types.length > 1 && node.pattern === '^[0-9]+(\\.[0-9]+)?%$') return 'percentage';
        if (node.format === 'uri') return 'URL';
        if (!node.pattern) return 'string';
        return `string (${(identity(schema, raw).title ?? node.title ?? 'pattern').replace(/^[A-Z](?=[a-z])/, (c) => c.toLowerCase())})`;
      case 'boolean':
        return 'boolean';
      case 'array':
        return `list of ${plural(typeOf(schema, node.items, sectionTitles))}`;
      case 'object': {
        if (node.properties) return section ? `object, see [${section}](#${anchor(section)})` : 'object';
        const value = node.additionalProperties && typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
        const keyName = node.propertyNames ? resolve(schema, node.propertyNames).title?.toLowerCase() ?? 'name' : key === 'files' ? 'absolute path' : 'name';
        return value ? `map: ${keyName} → ${typeOf(schema, value, sectionTitles)}` : 'map';
      }
      default:
        return 'any';
    }
  });
  return parts.join(' or ');
}

function plural(type) {
  return type;
}

export function renderSpecDocs(schema) {
  const sections = collect(schema);
  const titles = new Map();
  for (const s of sections) if (!titles.has(s.id)) titles.set(s.id, s.title);
  const lines = [
    '<!-- Generated by scripts/gen-spec-docs.mjs from src/spec/schema.json: edit those, then run `node scripts/gen-spec-docs.mjs`. -->',
    '',
    `# ${schema.title} — reference`,
    '',
    schema.description,
    '',
    '## Using it',
    '',
    '- `berth validate spec.yaml` checks a spec and lists every problem at once, each with its JSON path,',
    '  `file:line:col`, the source line and a hint; `--json` prints one JSON document',
    '  `{valid, errors: [{path, line, col, message, hint, severity}]}`. Exit codes: 0 valid (warnings may be',
    '  listed), 3 invalid, 2 the file cannot be read or bad usage.',
    '- `berth schema` prints the JSON Schema (2020-12). Editors that use the YAML language server (VS Code\'s YAML',
    '  extension, Neovim, Helix, …) complete and check a spec with it when its first line says where it is:',
    '',
    '  ```sh',
    '  berth schema > berth.schema.json',
    '  ```',
    '',
    '  ```yaml',
    '  # yaml-language-server: $schema=./berth.schema.json',
    '  version: 1',
    '  ```',
    '',
    '  JSON specs may say `"$schema": "./berth.schema.json"` instead.',
    '',
    '  The YAML language server validates with JSON Schema draft-07 rules (2020-12 support is partial there, see',
    '  redhat-developer/yaml-language-server#856): the schema is written so that it still works there — references',
    '  are plain JSON pointers into `$defs` — but an editor ignores the 2020-12-only `dependentRequired`, and no',
    '  schema can express the cross-field rules below. `berth validate` is the authority.',
    '',
    '## How a host\'s configuration is assembled',
    '',
    'The sections (`engine`, `kernel`, `containers`, `units`, `dropins`, `files`, `updates`, `users`, `journald`,',
    '`timesync`) may be written at the top level (every host), in `groups.NAME` (the hosts listing that group) and',
    'in `inventory.hosts.NAME` (one host). A host\'s configuration is the top level, then each of its groups in the',
    'order the host lists them, then the host itself:',
    '',
    '- objects and maps merge key by key (a host can change one container\'s image and keep the rest);',
    '- scalars and lists are replaced whole (a host\'s `modules` list replaces the top-level one);',
    '- `devicemapper.device` and `devicemapper.pool` replace each other, and so do `lock.etcd` and `lock.fleetlock`;',
    '- `enabled: false` on a container, unit, file or user removes that entry from the host;',
    '- connection settings come from `inventory.defaults`, then the host.',
    '',
    'Containers, units, files and users may be written partially in one place and completed in another; once',
    'merged, a container needs an `image`, and units and files a `content`.',
    '',
    '## Rules beyond the schema',
    '',
    '`berth validate` also checks, per resolved host, and reports where the offending value was written:',
    '',
    '- storage `devicemapper` needs `device` (with `wipe: true`) or `pool`, not both; `wipe` needs a `device`;',
    '- `dependsOn` names containers of the same host, without cycles;',
    '- two containers on one host do not publish the same host port and protocol on overlapping addresses;',
    '- every group a host lists is defined; a jump host is an inventory host (not itself, no cycles) or `user@host[:port]`;',
    '- strategy `window` needs `windows`, `fleet-lock` needs `lock`; a window is longer than zero and at most 24h, in a',
    '  known IANA time zone; percentages are at most 100%;',
    '- uids are unique on a host; file paths are absolute, plain (no `..`) and not under /var/lib/berth (berth\'s own).',
    '',
    'Warnings (the spec stays valid): devicemapper settings with another storage driver, ports with network',
    '`host`/`none`, a lock with strategy `off`/`orchestrated`, a group no host uses.',
    '',
  ];
  for (const {title, node} of sections) {
    lines.push(`## ${title}`, '');
    if (node.description && title !== 'Top level') lines.push(node.description, '');
    lines.push('| key | type | default | description |', '|---|---|---|---|');
    const required = new Set(node.required ?? []);
    for (const [key, raw] of Object.entries(node.properties)) {
      const prop = resolve(schema, raw);
      const description = [prop.description ?? prop.title ?? ''];
      if (prop.examples?.length) description.push(`Example: ${code(inline(prop.examples[0]))}.`);
      const def = prop.default !== undefined ? code(inline(prop.default)) : required.has(key) ? '**required**' : '';
      lines.push(`| ${code(key)} | ${cell(typeOf(schema, raw, titles, key))} | ${cell(def)} | ${cell(description.join(' '))} |`);
    }
    if (node.oneOf) lines.push('', `Exactly one of ${node.oneOf.map((b) => code(b.required[0])).join(', ')}.`);
    lines.push('');
  }
  lines.push('## A complete example', '', '```yaml', example.trim(), '```', '');
  return lines.join('\n');
}

/** Checked by test/spec/docs.test.ts: it must stay valid. */
const example = `
# yaml-language-server: $schema=./berth.schema.json
version: 1
inventory:
  defaults:
    user: ops                 # logs in as ops, becomes root with sudo
    identityFile: ~/.ssh/id_ed25519
  hosts:
    bastion:
      address: 203.0.113.10
    web-1:
      address: 10.0.0.11
      jump: bastion
      groups: [web]
    web-2:
      address: 10.0.0.12
      jump: bastion
      groups: [web]
      containers:
        app: {env: {SHARD: "2"}}   # changes one variable of the group's app container
    db-1:
      address: 10.0.0.21
      jump: bastion
      groups: [db]
groups:
  web:
    engine: {storage: overlay2}
    containers:
      app:
        image: registry.example.org/app:1.4
        env: {SHARD: "1", LOG_LEVEL: info}
        ports: ["127.0.0.1:8080:8080"]
        memory: 512M
        health: {command: [/app/healthcheck], interval: 30s}
      proxy:
        image: /srv/images/caddy-2.8.tar
        ports: ["80:80", "443:443"]
        volumes: ["/srv/caddy:/etc/caddy:ro"]
        dependsOn: [app]
  db:
    engine:
      storage: devicemapper
      devicemapper: {device: /dev/vdb, wipe: true, thinPoolSize: 95%VG, autoextend: {threshold: 80, percent: 20}}
    containers:
      postgres:
        image: docker.io/library/postgres:16
        volumes: ["/srv/pg:/var/lib/postgresql/data"]
        env: {POSTGRES_PASSWORD_FILE: /run/secrets/pg}
kernel:
  sysctls: {net.ipv4.ip_forward: true, vm.swappiness: 10}
  modules: [overlay, br_netfilter]
  bootParams: [systemd.unified_cgroup_hierarchy=1]
  updates: security
updates:
  strategy: fleet-lock
  windows:
    - {days: [tue, thu], start: "03:00", length: 2h, timeZone: Europe/Berlin}
  maxUnavailable: 25%
  lock:
    etcd: {endpoints: ["https://10.0.0.5:2379"]}
  health:
    - {http: "http://127.0.0.1:8080/health", status: 200}
users:
  ops:
    sudo: true
    authorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO7Z3c1yKfW4Q6Zl8Qx8 ops@laptop"]
files:
  /etc/motd: {content: "Managed by berth: changes here are drift.\\n"}
journald: {storage: persistent, systemMaxUse: 1G}
timesync: {servers: [0.de.pool.ntp.org, 1.de.pool.ntp.org]}
`;

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
  const text = renderSpecDocs(schema);
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(docsFile, 'utf8');
    } catch {}
    if (current !== text) {
      console.error('docs/spec.md is out of date with src/spec/schema.json: run `node scripts/gen-spec-docs.mjs`');
      process.exit(1);
    }
  } else {
    writeFileSync(docsFile, text);
    console.error(`wrote ${path.relative(process.cwd(), docsFile)}`);
  }
}
