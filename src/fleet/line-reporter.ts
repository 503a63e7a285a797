/**
 * The plain line reporter: one line per event on stderr, host name first, so parallel hosts interleave
 * readably and logs stay greppable. A pure formatter (formatEvent) plus the subscription.
 */
import type {FleetEvent, FleetEvents} from './events.js';

interface Writable {
  write(chunk: string): unknown;
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

export function formatEvent(e: FleetEvent, width = 8): string | null {
  const tag = (host: string) => `[${host}]`.padEnd(width + 2);
  switch (e.type) {
    case 'run-start':
      return `berth ${e.command}: ${e.hosts.length} host${e.hosts.length === 1 ? '' : 's'}, ${e.concurrency} at a time${e.logDir ? ` (logs: ${e.logDir})` : ''}`;
    case 'host-start':
      return `${tag(e.host)} connect`;
    case 'step':
      return `${tag(e.host)} ${e.step}${e.detail ? ` ${e.detail}` : ''}`;
    case 'warn':
      return `${tag(e.host)} warning: ${e.message}`;
    case 'host-done':
      return `${tag(e.host)} ✓ ${e.summary} (${secs(e.ms)})`;
    case 'host-failed':
      return `${tag(e.host)} ✗ ${e.error.message}${e.error.nextStep ? `\n${' '.repeat(width + 3)}next: ${e.error.nextStep}` : ''}`;
    case 'host-skipped':
      return `${tag(e.host)} - ${e.reason}`;
    case 'run-done':
      return `done in ${secs(e.ms)}: ${e.ok} ok, ${e.failed} failed${e.skipped ? `, ${e.skipped} skipped` : ''}`;
  }
}

export function attachLineReporter(events: FleetEvents, out: Writable, hosts: string[]): () => void {
  const width = Math.max(4, ...hosts.map((h) => h.length));
  return events.subscribe((e) => {
    const line = formatEvent(e, width);
    if (line !== null) out.write(line + '\n');
  });
}
