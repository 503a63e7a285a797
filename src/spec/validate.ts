/**
 * Validate a loaded spec: YAML problems, then the JSON Schema (ajv — imported here and nowhere else),
 * then the semantic checks; every problem lands in one report. Never throws for bad input.
 */
import {Ajv2020, type ErrorObject, type ValidateFunction} from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import {entryFor, type LoadedSpec} from './load.js';
import type {SchemaLike} from './messages.js';
import {isShadowed, pruneInvalid} from './prune.js';
import {makeReport, type SpecEntry, type SpecReport} from './report.js';
import schema from './schema.json' with {type: 'json'};
import {translateSchemaErrors, type RawSchemaError, type TranslateContext} from './schema-errors.js';
import {localChecks} from './local-checks.js';
import {sourceChecks} from './sources.js';
import path from 'node:path';
import {escapePointer} from './resolve.js';
import {semanticChecks, type Finding} from './semantic.js';
import type {Spec} from './types.js';

interface Compiled {
  ajv: Ajv2020;
  validate: ValidateFunction;
  context: TranslateContext;
}

/** Compiling the schema costs ~100 ms: do it on first use, once per process. */
let compiled: Compiled | undefined;

function compile(): Compiled {
  if (compiled) return compiled;
  const ajv = new Ajv2020({
    allErrors: true,
    verbose: true,
    strict: true,
    // `type: [integer, string]` is how maxUnavailable says "a count or a percentage".
    allowUnionTypes: true,
    // `oneOf: [{required: [etcd]}, {required: [fleetlock]}]` names properties defined beside it.
    strictRequired: false,
    // Skips ajv's code optimisation passes: compiling this schema takes about half as long (measured
    // ~60-140 ms instead of ~120-400 ms on the shared 2-core machine), validating a spec is no slower in practice.
    code: {optimize: false},
  });
  formatsModule.default(ajv, ['uri']);
  const validate = ajv.compile(schema);
  const context: TranslateContext = {
    resolveRef(ref) {
      if (!ref.startsWith('#/$defs/')) return undefined;
      return (schema.$defs as Record<string, SchemaLike>)[ref.slice('#/$defs/'.length)];
    },
    validateRef(ref, data) {
      const sub = ajv.getSchema(schema.$id + ref);
      if (!sub || sub(data)) return [];
      return (sub.errors ?? []) as RawSchemaError[];
    },
  };
  compiled = {ajv, validate, context};
  return compiled;
}

function schemaErrors(validate: ValidateFunction, data: unknown): ErrorObject[] {
  return validate(data) ? [] : [...(validate.errors ?? [])];
}

function hostList(hosts: string[]): string {
  const shown = hosts.slice(0, 5).join(', ');
  return hosts.length > 5 ? `${shown} and ${hosts.length - 5} more` : shown;
}

function toEntry(loaded: LoadedSpec, finding: Finding, hosts: string[]): SpecEntry {
  let message = finding.text.message;
  // Name the hosts unless the value sits in that one host's own entry.
  const hostEntry = hosts.length === 1 ? `/inventory/hosts/${escapePointer(hosts[0]!)}` : undefined;
  const own = hostEntry !== undefined && (finding.pointer === hostEntry || finding.pointer.startsWith(hostEntry + '/'));
  if (hosts.length > 0 && !own) message += ` (host${hosts.length === 1 ? '' : 's'} ${hostList(hosts)})`;
  return entryFor(loaded, finding.pointer, finding.at, message, finding.text.hint, finding.severity);
}

export function validateSpec(loaded: LoadedSpec): SpecReport {
  const entries: SpecEntry[] = [...loaded.problems];
  if (loaded.data === undefined) return makeReport(loaded.file, entries);

  const {validate, context} = compile();
  const issues = translateSchemaErrors(schemaErrors(validate, loaded.data) as RawSchemaError[], context);
  for (const issue of issues) entries.push(entryFor(loaded, issue.pointer, issue.at, issue.text.message, issue.text.hint));

  const flagged = new Set(issues.map((i) => i.pointer));
  for (const finding of [...localChecks(loaded.data), ...sourceChecks(loaded.data, path.dirname(path.resolve(loaded.file)))]) {
    if (!flagged.has(finding.pointer)) entries.push(toEntry(loaded, finding, []));
  }

  // Checks across values run on what is left once the invalid sections are cut out.
  const pruned = issues.length === 0 ? {data: loaded.data, removed: new Map()} : pruneInvalid(loaded.data, issues);
  if (pruned.data !== undefined && (issues.length === 0 || schemaErrors(validate, pruned.data).length === 0)) {
    const spec = pruned.data as Spec;
    const groupsOf = (host: string) => spec.inventory.hosts[host]?.groups ?? [];
    const kept = semanticChecks(spec).filter((f) => !isShadowed(f, pruned.removed, groupsOf));
    // A value written once (top level, a group) may be wrong for many hosts: one entry naming them.
    const byPlace = new Map<string, {finding: Finding; hosts: string[]}>();
    for (const finding of kept) {
      const key = `${finding.pointer}\0${finding.text.message}`;
      const place = byPlace.get(key) ?? {finding, hosts: []};
      if (finding.host !== undefined) place.hosts.push(finding.host);
      byPlace.set(key, place);
    }
    for (const {finding, hosts} of byPlace.values()) entries.push(toEntry(loaded, finding, hosts));
  }
  return makeReport(loaded.file, entries);
}
