/**
 * The fleet runner: a task per host with at most `concurrency` running at once. One failed host never stops
 * the others unless failFast is set, in which case hosts not yet started are skipped (running ones finish:
 * stopping a host half way through a switch would be worse).
 */
import {HostError} from '../errors.js';
import type {FleetEvents, HostFailure} from './events.js';

export interface HostOutcome<T> {
  host: string;
  ok: boolean;
  result?: T;
  error?: HostFailure;
  skipped?: string;
  ms: number;
}

export interface RunFleetOptions<T> {
  hosts: string[];
  concurrency: number;
  failFast: boolean;
  events: FleetEvents;
  task: (host: string) => Promise<T>;
  /** outcome word (`applied`, `unchanged`…), one-line summary, and whether it counts as a failure. */
  describe: (result: T) => {outcome: string; summary: string; failed?: HostFailure};
}

export function toFailure(error: unknown): HostFailure {
  if (error instanceof HostError) {
    const f: HostFailure = {message: error.message, step: error.step};
    if (error.details.nextStep) f.nextStep = error.details.nextStep;
    if (error.details.stderr) f.stderr = error.details.stderr;
    if (error.details.exitCode !== undefined) f.exitCode = error.details.exitCode;
    return f;
  }
  const e = error as {message?: string; nextStep?: string};
  const f: HostFailure = {message: e?.message ?? String(error), step: 'connect'};
  if (e?.nextStep) f.nextStep = e.nextStep;
  return f;
}

export async function runFleet<T>(options: RunFleetOptions<T>): Promise<HostOutcome<T>[]> {
  const {hosts, events} = options;
  const outcomes = new Map<string, HostOutcome<T>>();
  const queue = [...hosts];
  let stop = false;
  const started = Date.now();

  const worker = async (): Promise<void> => {
    for (;;) {
      const host = queue.shift();
      if (host === undefined) return;
      if (stop) {
        const reason = 'skipped: --fail-fast after an earlier failure';
        outcomes.set(host, {host, ok: false, skipped: reason, ms: 0});
        events.emit({type: 'host-skipped', host, reason});
        continue;
      }
      const t0 = Date.now();
      events.emit({type: 'host-start', host});
      try {
        const result = await options.task(host);
        const d = options.describe(result);
        const ms = Date.now() - t0;
        if (d.failed) {
          outcomes.set(host, {host, ok: false, result, error: d.failed, ms});
          events.emit({type: 'host-failed', host, error: d.failed, ms});
          if (options.failFast) stop = true;
        } else {
          outcomes.set(host, {host, ok: true, result, ms});
          events.emit({type: 'host-done', host, outcome: d.outcome, summary: d.summary, ms});
        }
      } catch (error) {
        const ms = Date.now() - t0;
        const failure = toFailure(error);
        outcomes.set(host, {host, ok: false, error: failure, ms});
        events.emit({type: 'host-failed', host, error: failure, ms});
        if (options.failFast) stop = true;
      }
    }
  };
  const n = Math.max(1, Math.min(options.concurrency, hosts.length));
  await Promise.all(Array.from({length: n}, worker));
  const list = hosts.map((h) => outcomes.get(h)!);
  events.emit({
    type: 'run-done',
    ok: list.filter((o) => o.ok).length,
    failed: list.filter((o) => !o.ok && !o.skipped).length,
    skipped: list.filter((o) => o.skipped).length,
    ms: Date.now() - started,
  });
  return list;
}
