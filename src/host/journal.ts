/**
 * The host's apply journal, /var/lib/berth/journal: one line per event, appended by the host-side helper
 * (src/host/remote/berth-host.sh) before and after every generation switch:
 *
 *   2026-12-01T07:40:00Z pending 3 base=2 op=apply     switching from generation 2 to 3 has begun
 *   2026-12-01T07:40:02Z done 3                        generation 3 is in place and healthy
 *   2026-12-01T07:40:02Z failed 3 back=2 reason=…      the switch failed and generation 2 was restored
 *
 * A `pending` with nothing after it means the switch was interrupted (power loss, killed helper): the next run
 * restores the last good generation before planning, so a host never stays on a mix of generations.
 */

export interface JournalEntry {
  time: string;
  event: 'pending' | 'done' | 'failed' | 'unknown';
  generation: number;
  fields: Record<string, string>;
}

export function parseJournal(text: string): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length < 3) continue;
    const [time, event, gen, ...rest] = parts as [string, string, string, ...string[]];
    if (!/^\d+$/.test(gen)) continue;
    const fields: Record<string, string> = {};
    for (const r of rest) {
      const i = r.indexOf('=');
      if (i > 0) fields[r.slice(0, i)] = r.slice(i + 1);
    }
    out.push({
      time,
      event: event === 'pending' || event === 'done' || event === 'failed' ? event : 'unknown',
      generation: Number(gen),
      fields,
    });
  }
  return out;
}

export interface JournalStatus {
  /** An interrupted switch: its target and the generation it started from. */
  interrupted: {target: number; base: number; op: string; time: string} | null;
  /** The generation last known to be complete and healthy (0: none, the host as it was before berth). */
  lastGood: number;
}

export function journalStatus(entries: JournalEntry[]): JournalStatus {
  let lastGood = 0;
  let interrupted: JournalStatus['interrupted'] = null;
  for (const e of entries) {
    if (e.event === 'pending') {
      interrupted = {target: e.generation, base: Number(e.fields.base ?? lastGood), op: e.fields.op ?? 'apply', time: e.time};
    } else if (e.event === 'done') {
      lastGood = e.generation;
      interrupted = null;
    } else if (e.event === 'failed') {
      lastGood = Number(e.fields.back ?? lastGood);
      interrupted = null;
    }
  }
  return {interrupted, lastGood};
}
