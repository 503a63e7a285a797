/**
 * Translate a JSON Schema validator's raw errors (ajv's ErrorObject shape, with `verbose: true`) into
 * human ones: one issue per real problem, located at a JSON pointer, with a message and a hint. Noise from
 * `anyOf`/`oneOf` collapses to the branch the user evidently meant. Pure: the validator is passed in.
 */
import {didYouMean} from './did-you-mean.js';
import {escapeSegment, splitPointer} from './load.js';
import {schemaText, type SchemaLike, type Text} from './messages.js';

/** The fields of ajv's ErrorObject this module reads. */
export interface RawSchemaError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  propertyName?: string;
  message?: string;
  schema?: unknown;
  parentSchema?: SchemaLike & {oneOf?: unknown[]; anyOf?: unknown[]};
  data?: unknown;
}

export interface SchemaIssue {
  pointer: string;
  /** Point at the key (unknown or invalid key names, missing keys) or at the value. */
  at: 'key' | 'value';
  text: Text;
}

export interface TranslateContext {
  /** Resolve a local `$ref` (`#/$defs/x`) of the root schema. */
  resolveRef(ref: string): SchemaLike | undefined;
  /** Validate data against a local `$ref` and return the raw errors (instancePath relative to the data). */
  validateRef(ref: string, data: unknown): RawSchemaError[];
}

function lastSegment(pointer: string): string | undefined {
  return splitPointer(pointer).at(-1);
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function acceptsType(schema: SchemaLike | undefined, value: unknown): boolean {
  if (!schema) return false;
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length === 0) return true;
  const actual = jsonType(value);
  return types.some(
    (t) => t === actual || ((t === 'integer' || t === 'number') && actual === 'number'),
  );
}

/** `oneOf: [{required: [a]}, {required: [b]}]`: "exactly one of these keys". */
function exactlyOneKeys(branches: unknown): string[] | undefined {
  if (!Array.isArray(branches)) return undefined;
  const keys: string[] = [];
  for (const branch of branches) {
    if (typeof branch !== 'object' || branch === null) return undefined;
    const entries = Object.entries(branch);
    if (entries.length !== 1 || entries[0]![0] !== 'required') return undefined;
    const required = entries[0]![1];
    if (!Array.isArray(required) || required.length !== 1) return undefined;
    keys.push(String(required[0]));
  }
  return keys;
}

function within(pointer: string, parent: string): boolean {
  return pointer === parent || pointer.startsWith(parent + '/');
}

export function translateSchemaErrors(raw: readonly RawSchemaError[], context: TranslateContext): SchemaIssue[] {
  // First pass: find the branch errors that belong to an anyOf/oneOf and are replaced by its summary.
  const dropped = new Set<number>();
  raw.forEach((error, index) => {
    if (error.keyword !== 'anyOf' && error.keyword !== 'oneOf') return;
    if (exactlyOneKeys(error.schema)) {
      for (let j = index - 1; j >= 0; j--) if (raw[j]!.schemaPath.startsWith(error.schemaPath + '/')) dropped.add(j);
      return;
    }
    // ajv emits a failed anyOf's branch errors right before it; schema paths restart inside each $ref,
    // so the contiguous run of errors at or below the same instance path is what the branches produced.
    for (let j = index - 1; j >= 0 && !dropped.has(j) && within(raw[j]!.instancePath, error.instancePath); j--) {
      dropped.add(j);
    }
  });

  const issues: SchemaIssue[] = [];
  const valueIssueAt = new Set<string>();
  raw.forEach((error, index) => {
    if (dropped.has(index)) return;
    for (const issue of translateOne(error, context)) {
      // One complaint per value: a URL failing both `format` and `pattern` is one problem.
      if (issue.at === 'value') {
        if (valueIssueAt.has(issue.pointer)) continue;
        valueIssueAt.add(issue.pointer);
      }
      issues.push(issue);
    }
  });
  return issues;
}

function translateOne(error: RawSchemaError, context: TranslateContext): SchemaIssue[] {
  const pointer = error.instancePath;
  const key = lastSegment(pointer);
  const schema = error.parentSchema ?? {};
  const data = error.data;
  const value = (text: Text): SchemaIssue[] => [{pointer, at: 'value', text}];

  // An error from inside `propertyNames` is about a key's name, not its value.
  if (error.propertyName !== undefined && error.keyword !== 'propertyNames') {
    return [
      {
        pointer: `${pointer}/${escapeSegment(error.propertyName)}`,
        at: 'key',
        text: schemaText.invalidName(error.propertyName, schema),
      },
    ];
  }

  switch (error.keyword) {
    case 'propertyNames':
      return []; // its inner error has been reported
    case 'additionalProperties': {
      const extra = String(error.params.additionalProperty);
      const allowed = Object.keys(schema.properties ?? {}).filter((k) => k !== '$schema');
      return [
        {
          pointer: `${pointer}/${escapeSegment(extra)}`,
          at: 'key',
          text: schemaText.unknownKey(extra, allowed, didYouMean(extra, allowed), parentKeys(schema, extra, context)),
        },
      ];
    }
    case 'required': {
      const missing = String(error.params.missingProperty);
      let property = schema.properties?.[missing];
      if (property?.$ref) property = {...context.resolveRef(property.$ref), ...property};
      return [{pointer, at: 'key', text: schemaText.required(missing, property)}];
    }
    case 'type':
      return value(schemaText.type(key, schema, data));
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return value(schemaText.range(key, schema, data));
    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[] | undefined) ?? schema.enum ?? [];
      const suggestion =
        typeof data === 'string'
          ? didYouMean(
              data,
              allowed.filter((a): a is string => typeof a === 'string'),
            )
          : undefined;
      return value(schemaText.enum(key, allowed, data, suggestion));
    }
    case 'const':
      return value(schemaText.const(key, error.params.allowedValue, data));
    case 'pattern':
      return value(schemaText.pattern(schema, data));
    case 'format':
      return value(schemaText.format(String(error.params.format), data));
    case 'minItems':
      return value(schemaText.minItems(Number(error.params.limit)));
    case 'minProperties':
      return value(schemaText.minProperties(Number(error.params.limit)));
    case 'maxLength':
      return value(schemaText.maxLength(Number(error.params.limit)));
    case 'uniqueItems': {
      const later = Number(error.params.i);
      const earlier = Number(error.params.j);
      const item = Array.isArray(data) ? data[later] : undefined;
      return [{pointer: `${pointer}/${later}`, at: 'value', text: schemaText.uniqueItems(item, earlier)}];
    }
    case 'dependentRequired': {
      const property = String(error.params.property);
      return [
        {
          pointer: `${pointer}/${escapeSegment(property)}`,
          at: 'key',
          text: schemaText.dependentRequired(property, String(error.params.missingProperty)),
        },
      ];
    }
    case 'oneOf':
    case 'anyOf': {
      const keys = exactlyOneKeys(error.schema);
      if (keys) {
        const present =
          typeof data === 'object' && data !== null ? keys.filter((k) => (data as Record<string, unknown>)[k] !== undefined) : [];
        return [{pointer, at: 'key', text: schemaText.exactlyOne(keys, present)}];
      }
      return translateAlternatives(error, context);
    }
    default:
      return value(schemaText.generic(error.message ?? `fails ${error.keyword}`));
  }
}

/** The allowed keys whose object schema has `key` among its own properties (at most three, else none). */
function parentKeys(schema: SchemaLike, key: string, context: TranslateContext): string[] {
  const owners = Object.entries(schema.properties ?? {})
    .filter(([, property]) => {
      const resolved = property.$ref ? context.resolveRef(property.$ref) : property;
      return resolved?.properties !== undefined && Object.hasOwn(resolved.properties, key);
    })
    .map(([name]) => name);
  return owners.length <= 3 ? owners : [];
}

/** anyOf/oneOf of `$ref` branches: report the errors of the branch of the value's type, else list the forms. */
function translateAlternatives(error: RawSchemaError, context: TranslateContext): SchemaIssue[] {
  const branches = Array.isArray(error.schema) ? (error.schema as SchemaLike[]) : [];
  const resolved = branches.map((b) => ({ref: b.$ref, schema: b.$ref ? context.resolveRef(b.$ref) : b}));
  const matching = resolved.filter((b) => acceptsType(b.schema, error.data));
  if (matching.length === 1 && matching[0]!.ref) {
    const inner = context.validateRef(matching[0]!.ref, error.data).map((e) => ({
      ...e,
      instancePath: error.instancePath + e.instancePath,
    }));
    const issues = translateSchemaErrors(inner, context);
    if (issues.length > 0) return issues;
  }
  const options = resolved.map((b) => b.schema).filter((s): s is SchemaLike => s !== undefined);
  return [{pointer: error.instancePath, at: 'value', text: schemaText.alternatives(options, error.data)}];
}
