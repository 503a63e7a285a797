/** Parsing of the spec's durations and percentages (their forms are fixed by schema.json). */

const durationUnits: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000};

/** `1h30m` → 5400000 (milliseconds); undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!/^([0-9]+(ms|s|m|h|d))+$/.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(/([0-9]+)(ms|s|m|h|d)/g)) {
    total += Number(match[1]) * durationUnits[match[2]!]!;
  }
  return total;
}

/** `25%` → 25; undefined for anything else. */
export function parsePercent(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^[0-9]+(\.[0-9]+)?%$/.test(value)) return undefined;
  return Number(value.slice(0, -1));
}
