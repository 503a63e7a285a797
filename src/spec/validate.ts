/**
 * Validate a loaded spec: YAML problems, then the JSON Schema (ajv's generated validator — loaded here and nowhere else),
 * then the semantic checks; every problem lands in one report. Never throws for bad input.
 */
import type {ErrorObject} from 'ajv';
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
// The schema as validation code, generated ahead of time by scripts/gen-schema-validator.mjs (ajv standalone,
// options in ajv-options.json): compiling it on every run cost ~100-300 ms; loading the code costs ~40 ms.
import {defs as generatedDefs, validate as generatedValidate} from './schema-validator.generated.js';

type ValidateFunction = ((data: unknown) => boolean) & {errors?: ErrorObject[] | null};

const validator = generatedValidate as ValidateFunction;
const defValidators = generatedDefs as Record<string, ValidateFunction>;

const context: TranslateContext = {
  resolveRef(ref) {
    if (!ref.startsWith('#/$defs/')) return undefined;
    return (schema.$defs as Record<string, SchemaLike>)[ref.slice('#/$defs/'.length)];
  },
  validateRef(ref, data) {
    // The generator makes a validator for every $defs entry that is an anyOf/oneOf branch: all this is asked for.
    const sub = ref.startsWith('#/$defs/') ? defValidators[ref.slice('#/$defs/'.length)] : undefined;
    if (!sub || sub(data)) return [];
    return (sub.errors ?? []) as RawSchemaError[];
  },
};

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

  const issues = translateSchemaErrors(schemaErrors(validator, loaded.data) as RawSchemaError[], context);
  for (const issue of issues) entries.push(entryFor(loaded, issue.pointer, issue.at, issue.text.message, issue.text.hint));

  const flagged = new Set(issues.map((i) => i.pointer));
  for (const finding of [...localChecks(loaded.data), ...sourceChecks(loaded.data, path.dirname(path.resolve(loaded.file)))]) {
    if (!flagged.has(finding.pointer)) entries.push(toEntry(loaded, finding, []));
  }

  // Checks across values run on what is left once the invalid sections are cut out.
  const pruned = issues.length === 0 ? {data: loaded.data, removed: new Map()} : pruneInvalid(loaded.data, issues);
  if (pruned.data !== undefined && (issues.length === 0 || schemaErrors(validator, pruned.data).length === 0)) {
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
