/**
 * `berth apply`: probe, plan and apply every selected host, at most `concurrency` at once.
 */
import {UserError} from '../errors.js';
import {applyHost, type HostApplyResult} from '../host/apply.js';
import type {LocalEngine} from '../host/engine.js';
import {formatPlan} from '../host/plan.js';
import {confirm} from './confirm.js';
import {planFleet} from './plan-fleet.js';
import {fleetJson, runSession, secs, type FleetRunOptions} from './session.js';
import {formatSummary} from './summary.js';
import {enginesFor, whoAmI} from './targets.js';

export interface ApplyOptions extends FleetRunOptions {
  /** Apply without asking; required when there is no terminal to ask on. */
  yes?: boolean;
  healthTimeoutSec?: number;
  /** e2e only: stop the host helper at a named point (see berth-host.sh pause_point). */
  testPause?: string;
}

export function describeApply(r: HostApplyResult): {outcome: string; summary: string; failed?: {message: string; step: string; nextStep?: string}} {
  const parts: string[] = [];
  if (r.recovered) parts.push(`recovered: ${r.recovered}`);
  if (r.changed.length) parts.push(`${r.changed.length} written`);
  if (r.removed.length) parts.push(`${r.removed.length} removed`);
  if (r.restarted.length) parts.push(`restarted ${r.restarted.join(', ')}`);
  if (r.started.length) parts.push(`started ${r.started.join(', ')}`);
  if (r.disabled.length) parts.push(`disabled ${r.disabled.join(', ')}`);
  if (r.plan.drift.length) parts.push(`${r.plan.drift.length} drift repaired`);
  if (r.warnings.length) parts.push(`${r.warnings.length} warning${r.warnings.length > 1 ? 's' : ''}`);
  const detail = parts.length ? `: ${parts.join(', ')}` : '';
  switch (r.status) {
    case 'unchanged':
      return {outcome: 'unchanged', summary: `no changes (generation ${r.generation ?? '-'})`};
    case 'applied':
      return {outcome: 'applied', summary: `generation ${r.generation}${detail}`};
    case 'repaired':
      return {outcome: 'repaired', summary: `generation ${r.generation} repaired${detail}`};
    case 'rolled-back':
      return {
        outcome: 'rolled-back',
        summary: r.message,
        failed: {
          message: `apply failed and was rolled back to generation ${r.generation}: ${r.message}`,
          step: 'apply',
          nextStep: 'see the host transcript and /var/lib/berth/logs/last-apply.log on the host; fix the spec and apply again',
        },
      };
    case 'failed':
      return {
        outcome: 'failed',
        summary: r.message,
        failed: {message: `apply failed: ${r.message}`, step: 'apply', nextStep: 'run berth status, then berth apply again'},
      };
  }
}

export async function applyFleet(options: ApplyOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  if (!options.yes) {
    if (!process.stdin.isTTY || options.json) {
      throw new UserError('apply without --yes: there is no terminal to confirm on', 'review `berth plan SPEC`, then run berth apply with --yes');
    }
    const code = await planFleet({...options, json: false});
    if (code !== 0) return code;
    if (!(await confirm('Apply these changes?'))) {
      (options.stderr ?? process.stderr).write('berth apply: nothing applied\n');
      return 0;
    }
  }
  let engines = new Map<string, LocalEngine | null>();
  const by = whoAmI();
  const testPause = options.testPause ?? process.env.BERTH_TEST_PAUSE;
  const session = await runSession<HostApplyResult>(
    'apply',
    options,
    true,
    async (ctx) => {
      const engine = engines.get(ctx.target.name) ?? null;
      const result = await applyHost({
        transport: ctx.transport,
        fileSet: ctx.target.fileSet!,
        dataRoot: ctx.target.host.engine.dataRoot,
        engine,
        by,
        log: ctx.log,
        progress: (p) => (p.kind === 'step' ? ctx.step(p.step, p.detail) : ctx.warn(p.step, p.message)),
        ...(options.healthTimeoutSec !== undefined ? {healthTimeoutSec: options.healthTimeoutSec} : {}),
        // BERTH_TEST_PAUSE: e2e only (test/e2e/apply.test.ts stops the host helper there to kill it).
        ...(testPause ? {testPause} : {}),
      });
      ctx.log(`plan:\n${formatPlan(result.plan)}`);
      ctx.log(`result: ${result.status} generation ${result.generation} ${result.message}`);
      return result;
    },
    describeApply,
    (targets) => {
      engines = enginesFor(targets);
    },
  );
  if (options.json) {
    stdout.write(fleetJson('apply', session, (o) => ({ms: o.ms, ...(o.result ? {result: o.result} : {})}), {logDir: session.logDir}));
  } else {
    stdout.write(
      formatSummary(
        session.outcomes.map((o) => ({
          host: o.host,
          result: o.skipped ? 'skipped' : o.result ? o.result.status : 'failed',
          generation: o.result?.generation?.toString() ?? '-',
          time: secs(o.ms),
          details: o.error ? o.error.message : o.result ? describeApply(o.result).summary : '',
        })),
      ) + '\n',
    );
  }
  return session.exitCode;
}
