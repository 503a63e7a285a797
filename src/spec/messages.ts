/**
 * Every message the spec checks produce, in one place, each with a hint phrased as the fix.
 * Messages name the problem; the entry around them names the place (JSON path, file:line:col).
 */

export interface Text {
  message: string;
  hint: string;
}

/** `"abc"`, `70000`, `a list`… for "got …" clauses. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 37) + '...' : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}

/** A value as it would be written inline in YAML, for examples in hints. */
export function inlineYaml(value: unknown): string {
  if (typeof value === 'string') {
    // Quote what YAML would read as something else: numbers, booleans, null, or text with `: `.
    const plain =
      /^[A-Za-z_./@%+-][A-Za-z0-9_./@%:+ -]*$/.test(value) &&
      !/: |:$/.test(value) &&
      !/^(true|false|yes|no|on|off|null|~)$/i.test(value) &&
      !/^[-+]?[0-9.]/.test(value);
    return plain ? value : JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(inlineYaml).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${k}: ${inlineYaml(v)}`).join(', ')}}`;
  }
  return String(value);
}

function list(items: readonly string[], conjunction = 'or'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items.at(-1)}`;
}

function quoted(items: readonly unknown[]): string[] {
  return items.map((i) => (typeof i === 'string' ? `"${i}"` : String(i)));
}

// ─── YAML ───────────────────────────────────────────────────────────────────────────────────────────────

export function yamlMessage(code: string, raw: string, key: string, firstLine: number | undefined): Text {
  switch (code) {
    case 'DUPLICATE_KEY':
      return {
        message: `key "${key}" appears twice in this mapping`,
        hint:
          firstLine === undefined
            ? 'keep one of them: YAML keeps only the last, silently'
            : `keep one of them (the other is on line ${firstLine}): YAML keeps only the last, silently`,
      };
    case 'TAB_AS_INDENT':
      return {message: 'YAML syntax error: tab used for indentation', hint: 'indent with spaces; YAML does not allow tabs'};
    case 'BAD_INDENT':
      return {
        message: `YAML syntax error: ${lowerFirst(raw)}`,
        hint: 'check the indentation, and that every `[` and `{` is closed on this line or indented below it',
      };
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return {
        message: `YAML syntax error: ${lowerFirst(raw)}`,
        hint: 'check the indentation: entries of one mapping or list line up in the same column',
      };
    case 'MISSING_CHAR':
      return {
        message: `YAML syntax error: ${lowerFirst(raw)}`,
        hint: 'write `key: value` with a space after the colon, and close every bracket and quote',
      };
    case 'MULTIPLE_DOCS':
      return {message: 'the file holds more than one YAML document', hint: 'remove the `---` separator: one spec per file'};
    case 'RESOURCE_EXHAUSTION':
      return {message: `YAML aliases expand too far: ${lowerFirst(raw)}`, hint: 'write the values out instead of nesting aliases'};
    case 'BAD_ALIAS':
      return {message: `YAML syntax error: ${lowerFirst(raw)}`, hint: 'define the anchor (`&name`) before using the alias (`*name`)'};
    default:
      return {
        message: `YAML syntax error: ${lowerFirst(raw)}`,
        hint: 'fix the YAML at this spot; quote values that contain `: `, `#`, `{`, `[` or start with `*`, `&`, `!`',
      };
  }
}

function lowerFirst(text: string): string {
  const first = text.split('\n')[0] ?? '';
  return first.charAt(0).toLowerCase() + first.slice(1).replace(/\.$/, '');
}

// ─── Schema ─────────────────────────────────────────────────────────────────────────────────────────────

/** The subset of a JSON Schema object these messages read. */
export interface SchemaLike {
  type?: string | string[];
  title?: string;
  description?: string;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  pattern?: string;
  examples?: unknown[];
  default?: unknown;
  properties?: Record<string, SchemaLike>;
  required?: string[];
  $ref?: string;
}

/** A noun phrase for what the schema accepts: "a number from 1 to 65535", "a list", "true or false". */
export function describeExpected(schema: SchemaLike): string {
  if (schema.const !== undefined) return inlineYaml(schema.const);
  if (schema.enum) return `one of ${list(quoted(schema.enum))}`;
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const phrases = types.map((type) => {
    switch (type) {
      case 'integer':
      case 'number': {
        const {minimum: min, maximum: max, exclusiveMinimum: xmin} = schema;
        if (min !== undefined && max !== undefined) return `a number from ${min} to ${max}`;
        if (xmin !== undefined) return `a number greater than ${xmin}${max !== undefined ? ` and at most ${max}` : ''}`;
        if (min !== undefined) return `a number of at least ${min}`;
        if (max !== undefined) return `a number up to ${max}`;
        return 'a number';
      }
      case 'boolean':
        return 'true or false';
      case 'array':
        return 'a list';
      case 'object':
        return 'a mapping (key: value)';
      case 'string':
        if (schema.pattern === '^[0-9]+(\\.[0-9]+)?%$') return 'a percentage like "25%"';
        return schema.pattern && schema.title ? `a ${schema.title.toLowerCase()}` : 'text';
      default:
        return type;
    }
  });
  return list(phrases);
}

function exampleOf(schema: SchemaLike): unknown {
  if (schema.examples && schema.examples.length > 0) return schema.examples[0];
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  return undefined;
}

function example(key: string | undefined, schema: SchemaLike): string {
  const value = exampleOf(schema);
  if (value === undefined) return '';
  return key === undefined || /^\d+$/.test(key) ? `, e.g. \`${inlineYaml(value)}\`` : `, e.g. \`${key}: ${inlineYaml(value)}\``;
}

export const schemaText = {
  type(key: string | undefined, schema: SchemaLike, got: unknown): Text {
    const expected = describeExpected(schema);
    const quotesNote =
      typeof got === 'string' && (schema.type === 'integer' || schema.type === 'number' || schema.type === 'boolean')
        ? ' without quotes'
        : '';
    // A number where text with a fixed form is expected (`mode: 644`): YAML needs quotes.
    if (schema.type === 'string' && schema.pattern && (typeof got === 'number' || typeof got === 'boolean')) {
      return {
        message: `must be ${expected} written as text, not ${describeValue(got)}`,
        hint: patternHints[schema.title ?? ''] ?? `put the value in quotes${example(key, schema)}`,
      };
    }
    return {
      message: `must be ${expected}, not ${describeValue(got)}`,
      hint: `write ${expected}${quotesNote}${example(key, schema)}`,
    };
  },
  range(key: string | undefined, schema: SchemaLike, got: unknown): Text {
    const expected = describeExpected(schema);
    return {message: `must be ${expected}, not ${describeValue(got)}`, hint: `use ${expected}${example(key, schema)}`};
  },
  enum(key: string | undefined, allowed: readonly unknown[], got: unknown, suggestion: string | undefined): Text {
    const options = list(quoted(allowed));
    return {
      message: `must be one of ${options}, not ${describeValue(got)}`,
      hint: suggestion ? `did you mean "${suggestion}"?` : `use one of ${options}${key && !/^\d+$/.test(key) ? ` for ${key}` : ''}`,
    };
  },
  const(key: string | undefined, expected: unknown, got: unknown): Text {
    return {
      message: `must be ${inlineYaml(expected)}, not ${describeValue(got)}`,
      hint: `write \`${key ?? 'value'}: ${inlineYaml(expected)}\``,
    };
  },
  /** `property` is the missing key's schema, `$ref` resolved. */
  required(missing: string, property: SchemaLike | undefined): Text {
    const what = property?.description ? ` — ${lowerFirstSentence(property.description)}` : '';
    return {
      message: `missing required key "${missing}"`,
      hint: `add \`${missing}:\`${property ? example(missing, property) : ''}${what}`,
    };
  },
  /** `parents`: the allowed keys whose own keys include this one (`storage` written beside `engine`). */
  unknownKey(key: string, allowed: readonly string[], suggestion: string | undefined, parents: readonly string[] = []): Text {
    return {
      message: `unknown key "${key}"`,
      hint: suggestion
        ? `did you mean "${suggestion}"?`
        : parents.length > 0
          ? `move it under ${list(quoted(parents))}, e.g. \`${parents[0]}: {${key}: …}\``
          : allowed.length > 0
          ? `remove it; keys allowed here: ${allowed.join(', ')}`
          : 'remove it: nothing else is allowed here',
    };
  },
  pattern(schema: SchemaLike, got: unknown): Text {
    const title = noun(schema.title ?? 'value');
    const special = patternHints[schema.title ?? ''];
    return {
      message: `${describeValue(got)} is not a valid ${title}`,
      hint: special ?? `write it as described: ${lowerFirstSentence(schema.description ?? '')}`,
    };
  },
  invalidName(name: string, schema: SchemaLike): Text {
    const title = noun(schema.title ?? 'name');
    return {
      message: `"${name}" is not a valid ${title}`,
      hint: patternHints[schema.title ?? ''] ?? `rename it: ${lowerFirstSentence(schema.description ?? '')}`,
    };
  },
  format(format: string, got: unknown): Text {
    return format === 'uri'
      ? {message: `${describeValue(got)} is not a valid URL`, hint: 'write a full URL, e.g. `https://etcd-1:2379`'}
      : {message: `${describeValue(got)} is not a valid ${format}`, hint: `write a valid ${format}`};
  },
  minItems(min: number): Text {
    return min === 1
      ? {message: 'must not be empty', hint: 'list at least one item, or remove the key'}
      : {message: `must list at least ${min} items`, hint: `add items until there are ${min}`};
  },
  minProperties(min: number): Text {
    return {message: 'must not be empty', hint: `add at least ${min} entr${min === 1 ? 'y' : 'ies'}, or remove the key`};
  },
  uniqueItems(value: unknown, firstIndex: number): Text {
    return {message: `${describeValue(value)} is listed twice`, hint: `remove it here or at item ${firstIndex}`};
  },
  maxLength(max: number): Text {
    return {message: `must be at most ${max} characters long`, hint: 'shorten it'};
  },
  exactlyOne(keys: readonly string[], present: readonly string[]): Text {
    return present.length === 0
      ? {message: `needs one of ${list(keys)}`, hint: `add exactly one of ${list(keys)}`}
      : {message: `sets ${list(present, 'and')}, but only one of them is allowed`, hint: `keep only one of ${list(present)}`};
  },
  dependentRequired(property: string, missing: string): Text {
    return {message: `"${property}" only applies together with "${missing}"`, hint: `add \`${missing}:\` or remove \`${property}\``};
  },
  alternatives(options: readonly SchemaLike[], got: unknown): Text {
    const phrase = (o: SchemaLike): string => {
      const sample = exampleOf(o);
      if (o.type === 'string' && sample !== undefined) return `text like "${String(sample)}"`;
      if (o.type === 'object' && o.required?.length) return `a mapping with ${list(o.required, 'and')}`;
      return describeExpected(o);
    };
    const samples = options.map(exampleOf).filter((x) => x !== undefined);
    return {
      message: `must be ${list(options.map(phrase))}, not ${describeValue(got)}`,
      hint: samples.length > 0 ? `write it like ${list(samples.map((x) => `\`${inlineYaml(x)}\``))}` : `write ${list(options.map(phrase))}`,
    };
  },
  generic(message: string): Text {
    return {message, hint: 'see docs/spec.md for this field'};
  },
};

/** A schema title as a noun in a sentence: "Time of day" → "time of day", "URL" stays. */
function noun(title: string): string {
  return /^[A-Z][a-z]/.test(title) ? title.charAt(0).toLowerCase() + title.slice(1) : title;
}

function lowerFirstSentence(text: string): string {
  const t = text.replace(/\.$/, '');
  return t.charAt(0).toLowerCase() + t.slice(1);
}

/** Hints for strings with a fixed form, by the schema title of the form. */
const patternHints: Record<string, string> = {
  Duration: 'write a number and a unit (ms, s, m, h, d), e.g. `30s`, `90m`, `1h30m`',
  Size: 'write a number with an optional unit K, M, G or T, e.g. `512M`, `2G`',
  'Time of day': 'write the time as HH:MM on the 24-hour clock, e.g. `02:30`',
  'Absolute path': 'write a path that starts with `/`, without spaces',
  Mode: 'write the mode as a quoted octal string, e.g. `mode: "0644"`',
  'Account name': 'use lowercase letters, digits, `_`, `.` and `-`, starting with a letter or `_`',
  'SSH user': 'use lowercase letters, digits, `_`, `.` and `-`, starting with a letter or `_`',
  'Host name': 'use letters, digits, `.`, `_` and `-`, starting with a letter or digit',
  'Group name': 'use letters, digits, `.`, `_` and `-`, starting with a letter or digit',
  'Container name': 'use lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit',
  'sysctl key': 'write the dotted sysctl name, e.g. `net.ipv4.ip_forward`',
  'Module name': 'write the module name as `lsmod` shows it, e.g. `br_netfilter`',
  'Boot parameter': 'write one `name` or `name=value` word per list item, without spaces or quotes',
  'Variable name': 'use letters, digits and `_`, not starting with a digit',
  'Port mapping': 'write `HOST:CONTAINER`, optionally with an address and protocol: `127.0.0.1:8080:80/tcp`',
  Volume: 'write `SOURCE:TARGET` with an absolute TARGET, optionally `:ro`, e.g. `/srv/data:/data:ro`',
  'Unit name': 'write the unit file name with its type, e.g. `backup.service`, `backup.timer`',
  'Drop-in file name': 'name the drop-in `NN-name.conf`, e.g. `10-berth.conf`',
  'SSH public key': 'paste the whole public key line, e.g. the contents of `~/.ssh/id_ed25519.pub`',
  URL: 'write a full http:// or https:// URL',
  'Engine version': 'write `bundled` or a version like `0.2.0`',
  'Kernel version': 'write `latest` or an exact version like `6.1.0-28`',
  'Block device': 'write a device path under /dev, e.g. `/dev/vdb`',
  'Existing thin pool': 'write the pool as `VG/LV`, e.g. `vg0/thinpool`',
  'Thin pool size': 'write a size like `100G` or a share of the volume group like `95%VG`',
  'Jump host': 'write the name of an inventory host, or `user@host:port`',
  'Max unavailable': 'write a count like `2` or a percentage like `25%`',
  'Failure budget': 'write a count like `1` or a percentage like `10%`',
  TCP: 'write `HOST:PORT`, e.g. `127.0.0.1:5432`',
};

// ─── Semantic checks ────────────────────────────────────────────────────────────────────────────────────

export const semanticText = {
  devicemapperWithoutTarget(): Text {
    return {
      message: `storage devicemapper needs a block device or a thin pool`,
      hint: 'set `engine.devicemapper.device` (with `wipe: true`) or `engine.devicemapper.pool`',
    };
  },
  devicemapperBoth(): Text {
    return {
      message: `devicemapper sets both device and pool`,
      hint: 'keep `device` to let berth build a new thin pool, or `pool` to use an existing one — not both',
    };
  },
  wipeWithoutDevice(): Text {
    return {message: `wipe: true without a device`, hint: 'add `device: /dev/…` or remove `wipe`'};
  },
  deviceWithoutWipe(device: string): Text {
    return {
      message: `setting up devicemapper destroys everything on ${device}, but wipe is not true`,
      hint: 'add `wipe: true` to consent, or use an existing thin pool with `pool: VG/LV`',
    };
  },
  devicemapperIgnored(storage: string): Text {
    return {
      message: `devicemapper settings are ignored: storage is ${storage}`,
      hint: 'set `engine.storage: devicemapper` or remove `engine.devicemapper`',
    };
  },
  missingField(kind: string, name: string, field: string): Text {
    return {
      message: `${kind} "${name}" has no ${field}`,
      hint: `add \`${field}:\` to it here, or in a group or host that overrides it`,
    };
  },
  disabledDependency(container: string, dependency: string): Text {
    return {
      message: `container "${container}" depends on "${dependency}", which is disabled (enabled: false)`,
      hint: `enable "${dependency}" on this host, or remove it from dependsOn`,
    };
  },
  unknownDependency(container: string, dependency: string, suggestion: string | undefined): Text {
    return {
      message: `container "${container}" depends on "${dependency}", which is not defined under containers`,
      hint: suggestion ? `did you mean "${suggestion}"?` : 'name a container defined under `containers`, or remove it',
    };
  },
  dependencyCycle(cycle: readonly string[]): Text {
    return {
      message: `containers depend on each other in a cycle: ${cycle.join(' → ')}`,
      hint: 'remove one of these dependsOn entries so the containers can start in order',
    };
  },
  portConflict(port: string, other: string): Text {
    return {
      message: `host port ${port} is already published by container "${other}"`,
      hint: 'publish a different host port, or bind the two to different addresses',
    };
  },
  portOutOfRange(value: string): Text {
    return {message: `port mapping "${value}" has a port outside 1–65535`, hint: 'use port numbers from 1 to 65535'};
  },
  portsWithoutBridge(network: string, container: string): Text {
    return {
      message: `container "${container}" publishes ports but uses network ${network}`,
      hint: network === 'host' ? 'remove `ports`: with network host the container uses the host ports directly' : 'remove `ports` or use `network: bridge`',
    };
  },
  unknownGroup(group: string, suggestion: string | undefined): Text {
    return {
      message: `group "${group}" is not defined`,
      hint: suggestion ? `did you mean "${suggestion}"?` : 'define it under `groups`, or remove it from this list',
    };
  },
  unusedGroup(group: string): Text {
    return {message: `group "${group}" is not used by any host`, hint: 'list it in a host\'s `groups`, or remove it'};
  },
  unknownJump(jump: string, suggestion: string | undefined): Text {
    return {
      message: `jump host "${jump}" is not an inventory host`,
      hint: suggestion ? `did you mean "${suggestion}"?` : 'name an inventory host, or write `user@host[:port]` for one outside the inventory',
    };
  },
  jumpToSelf(host: string): Text {
    return {message: `host ${host} uses itself as its jump host`, hint: 'remove `jump`, or name another host'};
  },
  jumpCycle(cycle: readonly string[]): Text {
    return {message: `jump hosts form a cycle: ${cycle.join(' → ')}`, hint: 'one of these hosts must be reachable directly: remove its `jump`'};
  },
  jumpPort(jump: string): Text {
    return {message: `jump host "${jump}" has a port outside 1–65535`, hint: 'use a port from 1 to 65535'};
  },
  windowsMissing(): Text {
    return {
      message: `strategy window needs at least one maintenance window`,
      hint: 'add `updates.windows`, e.g. `[{days: [sat], start: "02:00", length: 2h}]`',
    };
  },
  lockMissing(): Text {
    return {
      message: `strategy fleet-lock needs a reboot lock`,
      hint: 'add `updates.lock` with `etcd: {endpoints: [...]}` or `fleetlock: {url: ...}`',
    };
  },
  lockUnused(strategy: string): Text {
    return {message: `updates.lock is ignored with strategy ${strategy}`, hint: 'set `strategy: fleet-lock` or remove `lock`'};
  },
  windowLengthZero(): Text {
    return {message: 'window length must be more than zero', hint: 'write a length like `2h` or `90m`'};
  },
  windowTooLong(length: string): Text {
    return {message: `window length ${length} is longer than 24h`, hint: 'use at most `24h`; list more days instead of longer windows'};
  },
  unknownTimeZone(zone: string, suggestion: string | undefined): Text {
    return {
      message: `"${zone}" is not a known time zone`,
      hint: suggestion ? `did you mean "${suggestion}"?` : 'use an IANA time zone name such as `UTC` or `Europe/Berlin`',
    };
  },
  percentTooLarge(value: string): Text {
    return {message: `${value} is more than 100%`, hint: 'use a percentage from 0% to 100%'};
  },
  percentZero(value: string): Text {
    return {message: `maxUnavailable ${value} lets no host update`, hint: 'use more than 0%, e.g. `25%`'};
  },
  duplicateUid(uid: number, other: string): Text {
    return {message: `uid ${uid} is already used by user "${other}"`, hint: 'give each user its own uid, or leave uid out'};
  },
  reservedUnitName(unit: string): Text {
    return {message: `unit name "${unit}" starts with berth-, which berth keeps for the units it generates`, hint: 'choose another name; to change a berth unit, use `dropins`'};
  },
  sameEndpoint(host: string, other: string, endpoint: string): Text {
    return {message: `hosts ${other} and ${host} both connect to ${endpoint}`, hint: 'give each host its own address or port, or remove one of them'};
  },
  envValueMultiline(key: string): Text {
    return {
      message: `env ${key} holds a newline, carriage return or NUL byte: the container's env file has one KEY=VALUE a line`,
      hint: 'put the value on one line (base64-encode it if it must carry line breaks)',
    };
  },
  contentAndSource(path: string): Text {
    return {
      message: `file "${path}" has both content and source`,
      hint: 'keep one: `content:` for text written in the spec, `source:` for a local file whose bytes are copied',
    };
  },
  sourceMissing(source: string, resolved: string, reason: string): Text {
    return {
      message: `file source "${source}" cannot be read: ${resolved}: ${reason}`,
      hint: 'give a readable regular file, relative to the spec file\'s directory or absolute',
    };
  },
  relativeFilePath(path: string): Text {
    return {message: `file path "${path}" is not absolute`, hint: 'key files by their absolute path, e.g. `/etc/motd`'};
  },
  dotDotFilePath(path: string): Text {
    return {message: `file path "${path}" contains "..", "." or an empty segment`, hint: 'write the path in its plain form, e.g. `/etc/app/config.yaml`'};
  },
  reservedFilePath(path: string, reserved: string): Text {
    return {message: `file path "${path}" is under ${reserved}, which berth manages itself`, hint: `choose a path outside ${reserved}`};
  },
  reservedDataRoot(path: string, reserved: string): Text {
    return {message: `engine data root "${path}" is under ${reserved}, which berth manages itself`, hint: 'use the default `/var/lib/berth-engine` or another path'};
  },
};
