/**
 * apply on one host: probe → (recover an interrupted switch) → plan → nothing to do, or one helper run that
 * stages the new generation, switches, runs the narrowed actions, health-checks and, on failure, switches
 * back. A no-op apply costs exactly one round trip (the probe).
 */
import {HostError} from '../errors.js';
import type {FileSet} from '../render/types.js';
import {selectForFamily} from '../render/when.js';
import type {Transport} from '../transport/types.js';
import type {LocalEngine} from './engine.js';
import type {ProbeResult} from './facts.js';
import {generationEntries, noChanges, runHelper, type HelperReport, type HostChanges} from './helper.js';
import {buildManifest} from './manifest.js';
import {planHost, wantedEngine, type Plan} from './plan.js';
import {probeHost} from './probe.js';

export const berthVersion = '0.1.0';

/** Progress of one host, for the fleet's events (src/fleet/events.ts). */
export type HostProgress =
  | {kind: 'step'; step: string; detail?: string}
  | {kind: 'warn'; step: string; message: string};

export interface HostContext {
  transport: Transport;
  fileSet: FileSet;
  dataRoot: string;
  /** The engine to install; null leaves the host's engine alone (no engine built, or not wanted). */
  engine: LocalEngine | null;
  by: string;
  progress?: (p: HostProgress) => void;
  log?: (line: string) => void;
  healthTimeoutSec?: number;
  testPause?: string;
}

export type ApplyStatus = 'unchanged' | 'applied' | 'repaired' | 'rolled-back' | 'failed';

export interface HostApplyResult extends HostChanges {
  host: string;
  status: ApplyStatus;
  generation: number | null;
  plan: Plan;
  /** Set when an interrupted earlier switch was rolled back before planning. */
  recovered: string | null;
  message: string;
}

export interface PlannedHost {
  probe: ProbeResult;
  fileSet: FileSet;
  plan: Plan;
}

/** Probe and plan (what `berth plan` shows); touches nothing on the host. */
export async function planOnHost(ctx: HostContext): Promise<PlannedHost> {
  ctx.progress?.({kind: 'step', step: 'probe'});
  const probe = await probeHost(ctx.transport, {dataRoot: ctx.dataRoot, fileSet: ctx.fileSet, engineVersion: ctx.engine?.version});
  const family = probe.facts.os.family === 'debian' || probe.facts.os.family === 'rhel' ? probe.facts.os.family : undefined;
  const fileSet = selectForFamily(ctx.fileSet, family);
  const plan = planHost({fileSet, state: probe.state, engine: ctx.engine, installedEngines: probe.facts.engine.installed, activeEngine: probe.facts.engine.active});
  ctx.log?.(`plan: ${JSON.stringify({empty: plan.empty, next: plan.nextGeneration, files: plan.files.length})}`);
  return {probe, fileSet, plan};
}

function lockedError(host: string, report: HelperReport | {message: string}): HostError {
  return new HostError(host, 'apply', `another apply is running on this host (${report.message.trim() || 'holder unknown'})`, {
    nextStep: 'wait for it to finish, then run berth apply again',
  });
}

function checkLock(ctx: HostContext, planned: PlannedHost): void {
  const lock = planned.probe.state.lock;
  if (lock.held) {
    const owner = Object.entries(lock.owner).map(([k, v]) => `${k}=${v}`).join(' ');
    throw lockedError(ctx.transport.host, {message: `/run/berth/apply.lock held: ${owner}`});
  }
}

export async function applyHost(ctx: HostContext): Promise<HostApplyResult> {
  const host = ctx.transport.host;
  let planned = await planOnHost(ctx);
  let recovered: string | null = null;
  if (planned.plan.interrupted) {
    checkLock(ctx, planned);
    ctx.progress?.({kind: 'step', step: 'recover', detail: `interrupted switch to generation ${planned.plan.interrupted.target}`});
    const r = await runHelper({transport: ctx.transport, args: ['recover'], by: ctx.by, log: ctx.log});
    if (r.status === 'locked') throw lockedError(host, r);
    if (r.status !== 'ok') {
      throw new HostError(host, 'recover', `could not roll back the interrupted switch: ${r.message}`, {
        nextStep: 'look at /var/lib/berth/logs/last-apply.log on the host, fix the cause and run berth apply again',
      });
    }
    recovered = r.message;
    for (const w of r.warnings) ctx.progress?.({kind: 'warn', step: 'recover', message: w});
    planned = await planOnHost(ctx);
  }
  const {plan, fileSet, probe} = planned;
  const base = (): Omit<HostApplyResult, 'status' | 'message'> => ({
    host,
    generation: probe.state.generation,
    plan,
    recovered,
    ...noChanges(),
  });
  if (plan.empty) return {...base(), status: 'unchanged', message: 'no changes'};
  checkLock(ctx, planned);

  const baseGen = probe.state.generation ?? 0;
  const args = plan.newGeneration ? ['apply', String(plan.nextGeneration), String(baseGen)] : ['apply', String(baseGen), String(baseGen)];
  const entries = plan.newGeneration
    ? generationEntries(
        host,
        buildManifest(fileSet, plan.nextGeneration!, wantedEngine({fileSet, state: probe.state, engine: ctx.engine, installedEngines: []}), berthVersion),
        fileSet,
        new Set(probe.state.manifest?.files.map((f) => f.sha256)),
      )
    : [];
  ctx.progress?.({kind: 'step', step: plan.newGeneration ? 'apply' : 'repair', detail: plan.newGeneration ? `generation ${plan.nextGeneration}` : `generation ${baseGen}`});
  const report = await runHelper({
    transport: ctx.transport,
    args,
    entries,
    engine: plan.engine?.upload ? ctx.engine : null,
    by: ctx.by,
    healthTimeoutSec: ctx.healthTimeoutSec,
    testPause: ctx.testPause,
    log: ctx.log,
  });
  for (const s of report.steps) ctx.progress?.({kind: 'step', step: s.name, detail: s.detail});
  for (const w of report.warnings) ctx.progress?.({kind: 'warn', step: w.split(':')[0] ?? 'apply', message: w});
  if (report.status === 'locked') throw lockedError(host, report);
  if (report.status === 'stale') {
    throw new HostError(host, 'apply', `the host changed since it was probed: ${report.message}`, {
      nextStep: 'run berth apply again (it plans against the new state)',
    });
  }
  const result: HostApplyResult = {
    ...base(),
    generation: report.generation,
    changed: report.changed,
    removed: report.removed,
    restarted: report.restarted,
    started: report.started,
    enabled: report.enabled,
    disabled: report.disabled,
    warnings: report.warnings,
    status: report.status === 'ok' ? (plan.newGeneration ? 'applied' : 'repaired') : report.status === 'rolled-back' ? 'rolled-back' : 'failed',
    message: report.message,
  };
  if (result.status === 'rolled-back' || result.status === 'failed') {
    const failedStep = report.steps.find((s) => !s.ok);
    result.message = `${failedStep ? `${failedStep.name}: ${failedStep.detail}; ` : ''}${report.message}`;
  }
  return result;
}
