/**
 * What every fleet command shares: targets from the spec, transcripts, events with the line reporter on
 * stderr, the runner, one connection per host, and the exit code (0 all good, 4 some host failed).
 */
import {ExitCode} from '../errors.js';
import type {Transport} from '../transport/types.js';
import {FleetEvents, type FleetCommand, type HostFailure} from './events.js';
import {attachLineReporter} from './line-reporter.js';
import {runFleet, type HostOutcome} from './run-fleet.js';
import {connectTarget, loadTargets, type ConnectOptions, type Target} from './targets.js';
import {openTranscripts} from './transcript.js';

export interface Writable {
  write(chunk: string): unknown;
}

export interface FleetRunOptions extends ConnectOptions {
  specFile: string;
  hosts?: string[];
  concurrency?: number;
  failFast?: boolean;
  json?: boolean;
  /** Subscribe here to consume events (a dashboard); the line reporter runs unless `quiet`. */
  events?: FleetEvents;
  quiet?: boolean;
  stdout?: Writable;
  stderr?: Writable;
}

export interface HostTaskContext {
  target: Target;
  transport: Transport;
  log: (line: string) => void;
  step: (step: string, detail?: string) => void;
  warn: (step: string, message: string) => void;
}

export interface SessionResult<T> {
  outcomes: HostOutcome<T>[];
  exitCode: number;
  logDir: string;
}

export async function runSession<T>(
  command: FleetCommand,
  options: FleetRunOptions,
  render: boolean,
  task: (ctx: HostTaskContext) => Promise<T>,
  describe: (result: T) => {outcome: string; summary: string; failed?: HostFailure},
  prepare?: (targets: Target[]) => void | Promise<void>,
): Promise<SessionResult<T>> {
  const targets = await loadTargets(options.specFile, options.hosts, render);
  await prepare?.(targets);
  const transcripts = openTranscripts(command);
  const events = options.events ?? new FleetEvents();
  const detach = options.quiet ? () => {} : attachLineReporter(events, options.stderr ?? process.stderr, targets.map((t) => t.name));
  const byName = new Map(targets.map((t) => [t.name, t]));
  const concurrency = options.concurrency ?? 10;
  events.emit({type: 'run-start', command, hosts: targets.map((t) => t.name), concurrency, logDir: transcripts.dir});
  try {
    const outcomes = await runFleet<T>({
      hosts: targets.map((t) => t.name),
      concurrency,
      failFast: options.failFast ?? false,
      events,
      describe,
      task: async (name) => {
        const target = byName.get(name)!;
        const log = transcripts.forHost(name);
        log(`berth ${command} ${options.specFile} on ${name}`);
        const transport = await connectTarget(target, options, log);
        try {
          return await task({
            target,
            transport,
            log,
            step: (step, detail) => {
              log(`step ${step}${detail ? ` ${detail}` : ''}`);
              events.emit(detail === undefined ? {type: 'step', host: name, step} : {type: 'step', host: name, step, detail});
            },
            warn: (step, message) => {
              log(`warning ${step}: ${message}`);
              events.emit({type: 'warn', host: name, step, message});
            },
          });
        } catch (error) {
          log(`failed: ${(error as Error).message}`);
          throw error;
        } finally {
          await transport.close().catch(() => {});
        }
      },
    });
    const exitCode = outcomes.every((o) => o.ok) ? ExitCode.ok : ExitCode.hosts;
    return {outcomes, exitCode, logDir: transcripts.dir};
  } finally {
    detach();
  }
}

export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/**
 * The `--json` document of a fleet command: `{command, ok, ...extra, hosts: [{host, ok, ...fields, error?,
 * skipped?}]}`, one per run, on stdout.
 */
export function fleetJson<T>(
  command: FleetCommand,
  session: SessionResult<T>,
  fields: (outcome: HostOutcome<T>) => Record<string, unknown>,
  extra: Record<string, unknown> = {},
): string {
  const hosts = session.outcomes.map((o) => ({
    host: o.host,
    ok: o.ok,
    ...fields(o),
    ...(o.error ? {error: o.error} : {}),
    ...(o.skipped ? {skipped: o.skipped} : {}),
  }));
  return JSON.stringify({command, ok: session.exitCode === 0, ...extra, hosts}, null, 2) + '\n';
}
