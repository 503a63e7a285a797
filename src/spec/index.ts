/**
 * The spec's entry point for other commands: read, validate, resolve. Warnings are returned, not printed.
 */
import {loadSpecFile} from './load.js';
import type {SpecEntry, SpecReport} from './report.js';
import {resolveHosts} from './resolve.js';
import {attachSources} from './sources.js';
import {SpecError} from './spec-error.js';
import type {ResolvedHost, Spec} from './types.js';
import {validateSpec} from './validate.js';

export {SpecError} from './spec-error.js';
export type {ResolvedHost, Spec} from './types.js';

/**
 * Read and validate the spec at `path` and resolve every host. Throws UserError (exit 2) when the file
 * cannot be read and SpecError (exit 3, every problem listed) when it is invalid.
 */
export async function readSpec(path: string): Promise<{spec: Spec; hosts: ResolvedHost[]; file: string; warnings: SpecEntry[]}> {
  const loaded = await loadSpecFile(path);
  const report = validateSpec(loaded);
  if (!report.valid) throw new SpecError(report);
  const spec = loaded.data as Spec;
  return {spec, hosts: attachSources(resolveHosts(spec), path), file: path, warnings: report.entries};
}

/**
 * `berth validate`: read and validate the spec at `path`, returning the report (never throws for an
 * invalid spec; throws UserError when the file cannot be read) and the number of hosts when valid.
 */
export async function validateSpecFile(path: string): Promise<{report: SpecReport; hostCount?: number}> {
  const loaded = await loadSpecFile(path);
  const report = validateSpec(loaded);
  if (!report.valid) return {report};
  return {report, hostCount: Object.keys((loaded.data as Spec).inventory.hosts).length};
}
