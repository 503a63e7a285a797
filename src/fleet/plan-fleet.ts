/**
 * `berth plan`: probe every selected host and show what apply would change. Nothing changes on the hosts.
 */
import {planOnHost} from '../host/apply.js';
import type {LocalEngine} from '../host/engine.js';
import type {Facts} from '../host/facts.js';
import {formatPlan, type Plan} from '../host/plan.js';
import {fleetJson, runSession, type FleetRunOptions} from './session.js';
import {enginesFor, whoAmI} from './targets.js';

export interface HostPlanResult {
  plan: Plan;
  facts: Facts;
}

export async function planFleet(options: FleetRunOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  let engines = new Map<string, LocalEngine | null>();
  const by = whoAmI();
  const session = await runSession<HostPlanResult>(
    'plan',
    options,
    true,
    async (ctx) => {
      const {plan, probe} = await planOnHost({
        transport: ctx.transport,
        fileSet: ctx.target.fileSet!,
        dataRoot: ctx.target.host.engine.dataRoot,
        engine: engines.get(ctx.target.name) ?? null,
        by,
        log: ctx.log,
        progress: (p) => (p.kind === 'step' ? ctx.step(p.step, p.detail) : ctx.warn(p.step, p.message)),
      });
      ctx.log(`plan:\n${formatPlan(plan)}`);
      return {plan, facts: probe.facts};
    },
    (r) => ({
      outcome: r.plan.empty ? 'unchanged' : 'changes',
      summary: r.plan.empty ? 'no changes' : `${r.plan.files.length} file change${r.plan.files.length === 1 ? '' : 's'}${r.plan.drift.length ? `, ${r.plan.drift.length} drift` : ''}`,
    }),
    (targets) => {
      engines = enginesFor(targets);
    },
  );
  if (options.json) {
    stdout.write(fleetJson('plan', session, (o) => (o.result ? {plan: o.result.plan, facts: o.result.facts} : {})));
  } else {
    const blocks = session.outcomes.map((o) => (o.result ? formatPlan(o.result.plan) : `${o.host}: could not plan: ${o.error?.message ?? o.skipped}`));
    stdout.write(blocks.join('\n\n') + '\n');
  }
  return session.exitCode;
}
