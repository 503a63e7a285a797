/**
 * `berth rollback`: every selected host back to the generation its current one was applied over.
 */
import {rollbackHost, type HostRollbackResult} from '../host/rollback.js';
import {runSession, secs, type FleetRunOptions} from './session.js';
import {formatSummary} from './summary.js';
import {whoAmI} from './targets.js';

export async function rollbackFleet(options: FleetRunOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const by = whoAmI();
  const session = await runSession<HostRollbackResult>(
    'rollback',
    options,
    false,
    async (ctx) => {
      ctx.step('rollback');
      const r = await rollbackHost({transport: ctx.transport, dataRoot: ctx.target.host.engine.dataRoot, by, log: ctx.log});
      for (const w of r.warnings) ctx.warn('rollback', w);
      return r;
    },
    (r) =>
      r.status === 'rolled-back'
        ? {outcome: 'rolled-back', summary: `${r.message}${r.restarted.length ? `, restarted ${r.restarted.join(', ')}` : ''}`}
        : {outcome: 'failed', summary: r.message, failed: {message: `rollback failed: ${r.message}`, step: 'rollback'}},
  );
  if (options.json) {
    stdout.write(JSON.stringify({command: 'rollback', ok: session.exitCode === 0, hosts: session.outcomes}, null, 2) + '\n');
  } else {
    stdout.write(
      formatSummary(
        session.outcomes.map((o) => ({
          host: o.host,
          result: o.result?.status ?? (o.skipped ? 'skipped' : 'failed'),
          generation: o.result?.generation?.toString() ?? '-',
          time: secs(o.ms),
          details: o.error?.message ?? o.result?.message ?? '',
        })),
      ) + '\n',
    );
  }
  return session.exitCode;
}
