/**
 * `berth rollback` on one host: switch back to the generation the current one was applied over.
 */
import {HostError} from '../errors.js';
import type {Transport} from '../transport/types.js';
import {runHelper} from './helper.js';
import {probeHost} from './probe.js';

export interface HostRollbackResult {
  host: string;
  status: 'rolled-back' | 'failed';
  from: number | null;
  generation: number | null;
  restarted: string[];
  changed: string[];
  removed: string[];
  warnings: string[];
  message: string;
}

export async function rollbackHost(ctx: {transport: Transport; dataRoot: string; by: string; log?: (l: string) => void}): Promise<HostRollbackResult> {
  const host = ctx.transport.host;
  const {state} = await probeHost(ctx.transport, {dataRoot: ctx.dataRoot});
  if (state.generation === null) {
    throw new HostError(host, 'rollback', 'berth has never applied a generation here', {nextStep: 'run berth apply first'});
  }
  const args = ['rollback', String(state.generation)];
  let r = await runHelper({transport: ctx.transport, args, by: ctx.by, log: ctx.log});
  if (r.status === 'stale' && /interrupted/.test(r.message)) {
    await runHelper({transport: ctx.transport, args: ['recover'], by: ctx.by, log: ctx.log});
    const again = await probeHost(ctx.transport, {dataRoot: ctx.dataRoot});
    r = await runHelper({transport: ctx.transport, args: ['rollback', String(again.state.generation ?? 0)], by: ctx.by, log: ctx.log});
  }
  if (r.status === 'locked') {
    throw new HostError(host, 'rollback', `another apply is running on this host (${r.message})`, {nextStep: 'wait for it to finish'});
  }
  if (r.status === 'no-previous') {
    throw new HostError(host, 'rollback', `no earlier generation to go back to (on generation ${state.generation})`, {
      nextStep: 'berth keeps the generation each apply was made over; there is none before this one',
    });
  }
  if (r.status === 'stale') throw new HostError(host, 'rollback', r.message, {nextStep: 'run berth rollback again'});
  return {
    host,
    status: r.status === 'ok' ? 'rolled-back' : 'failed',
    from: state.generation,
    generation: r.generation,
    restarted: r.restarted,
    changed: r.changed,
    removed: r.removed,
    warnings: r.warnings,
    message: r.status === 'ok' ? `generation ${state.generation} → ${r.generation}` : r.message,
  };
}
