/**
 * `berth status` for one host: generation, drift against the current generation, engine, storage driver,
 * pending reboot — from one probe.
 */
import type {Transport} from '../transport/types.js';
import type {Facts} from './facts.js';
import {journalStatus} from './journal.js';
import {planHost, type DriftEntry} from './plan.js';
import {probeHost} from './probe.js';

export interface HostStatus {
  host: string;
  generation: number | null;
  generations: number[];
  appliedAt: string | null;
  drift: DriftEntry[];
  /** Units berth wants running that are not. */
  unitsDown: string[];
  engine: string | null;
  storageDriver: string | null;
  rebootRequired: boolean;
  /** The running kernel is older than the newest installed one (a reboot would change it). */
  newerKernelInstalled: string | null;
  interrupted: boolean;
  locked: boolean;
  facts: Facts;
}

export async function hostStatus(ctx: {transport: Transport; dataRoot: string}): Promise<HostStatus> {
  const {facts, state} = await probeHost(ctx.transport, {dataRoot: ctx.dataRoot});
  const m = state.manifest;
  // Drift = the current generation planned against itself.
  const self = m
    ? planHost({
        fileSet: {
          host: ctx.transport.host,
          files: m.files.map((f) => ({...f, content: ''})),
          units: m.units.map((u) => u.unit),
          actions: m.actions,
        },
        state,
        engine: m.engine,
        installedEngines: facts.engine.installed,
        activeEngine: facts.engine.active,
      })
    : null;
  const storage = m?.actions.find((a) => a.kind === 'storage-setup');
  const newest = [...facts.kernelsInstalled].sort((a, b) => a.localeCompare(b, 'en', {numeric: true})).at(-1) ?? null;
  return {
    host: ctx.transport.host,
    generation: state.generation,
    generations: state.generations,
    appliedAt: m?.createdAt ?? null,
    drift: self?.drift ?? [],
    unitsDown: self?.unitsToStart ?? [],
    engine: facts.engine.active,
    storageDriver: storage && storage.kind === 'storage-setup' ? storage.driver : null,
    rebootRequired: facts.rebootRequired,
    // Only meaningful when the running kernel is one of the host's own (not a container sharing the machine's).
    newerKernelInstalled: newest && facts.kernelsInstalled.includes(facts.kernel) && newest !== facts.kernel ? newest : null,
    interrupted: journalStatus(state.journal).interrupted !== null,
    locked: state.lock.held,
    facts,
  };
}
