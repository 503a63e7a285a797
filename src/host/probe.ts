/**
 * probe: one round trip to a host — probe.sh as root — giving Facts and the berth state plan needs.
 */
import {HostError, tail} from '../errors.js';
import type {FileSet} from '../render/types.js';
import type {Transport} from '../transport/types.js';
import {checkSupported, parseProbeOutput, type ProbeResult} from './facts.js';
import {unitIntents} from './intent.js';
import {probeCommand} from './remote-scripts.js';

export interface ProbeInput {
  /** The engine's data root from the spec (its filesystem is measured). */
  dataRoot: string;
  /** The wanted FileSet, if any: its paths are hashed and its units' states read in the same round trip. */
  fileSet?: FileSet;
  /** The engine version berth would install (`<version>-<sha12>`): hashed on the host when its sum is stale. */
  engineVersion?: string | undefined;
}

export async function probeHost(transport: Transport, input: ProbeInput): Promise<ProbeResult> {
  const paths = input.fileSet?.files.map((f) => f.path) ?? [];
  const units = input.fileSet ? unitIntents(input.fileSet).map((u) => u.unit) : [];
  const command = probeCommand({dataRoot: input.dataRoot, paths, units, engineVersion: input.engineVersion});
  // The probe only reads, so a session lost under it (seen on freshly booted hosts of a loaded test machine)
  // is safe to run once more; a second loss is reported.
  const run = () => transport.exec(command, {root: true, timeoutMs: 120_000});
  const r = await run().catch((error: unknown) => {
    if (!(error instanceof HostError) || !/connection was lost/.test(error.message)) throw error;
    return run();
  });
  if (r.code !== 0 || !r.stdout.includes('@@berth end')) {
    throw new HostError(transport.host, 'probe', `the probe failed (exit ${r.code ?? r.signal})`, {
      command: 'sh -c <probe.sh>',
      exitCode: r.code,
      stderr: tail(r.stderr),
      nextStep: 'check that the login user can become root (sudo) and that sh, systemctl and coreutils exist on the host',
    });
  }
  const result = parseProbeOutput(transport.host, r.stdout);
  checkSupported(transport.host, result.facts);
  return result;
}
