/**
 * `berth status`: per host, the generation, drift, engine, storage driver and pending reboot.
 */
import {hostStatus, type HostStatus} from '../host/status.js';
import {fleetJson, runSession, type FleetRunOptions} from './session.js';
import {formatTable} from './summary.js';

export async function statusFleet(options: FleetRunOptions): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const session = await runSession<HostStatus>(
    'status',
    options,
    false,
    async (ctx) => {
      ctx.step('probe');
      return hostStatus({transport: ctx.transport, dataRoot: ctx.target.host.engine.dataRoot});
    },
    (s) => ({
      outcome: s.drift.length || s.unitsDown.length ? 'drift' : 'ok',
      summary: `generation ${s.generation ?? '-'}${s.drift.length ? `, ${s.drift.length} drifted` : ''}`,
    }),
  );
  if (options.json) {
    stdout.write(fleetJson('status', session, (o) => (o.result ? {status: o.result} : {})));
  } else {
    const rows = session.outcomes.map((o) => {
      const s = o.result;
      if (!s) return [o.host, '-', '-', '-', '-', '-', `unreachable: ${o.error?.message ?? o.skipped}`];
      const drift = s.drift.length ? s.drift.map((d) => `${d.path} (${d.kind})`).join(', ') : 'none';
      const reboot = s.rebootRequired ? 'yes' : s.newerKernelInstalled ? `kernel ${s.newerKernelInstalled}` : 'no';
      const notes = [
        s.interrupted ? 'interrupted apply' : '',
        s.locked ? 'apply running' : '',
        s.unitsDown.length ? `down: ${s.unitsDown.join(', ')}` : '',
      ].filter(Boolean);
      return [o.host, s.generation?.toString() ?? '-', drift, s.engine ?? '-', s.storageDriver ?? '-', reboot, notes.join('; ')];
    });
    stdout.write(formatTable(['HOST', 'GENERATION', 'DRIFT', 'ENGINE', 'STORAGE', 'REBOOT', 'NOTES'], rows) + '\n');
  }
  return session.exitCode;
}
