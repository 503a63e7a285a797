/**
 * Maintenance windows and durations in the forms systemd and the host-side scripts understand.
 */
import type {MaintenanceWindow, Weekday} from '../spec/types.js';

const systemdDay: Record<Weekday, string> = {
  mon: 'Mon',
  tue: 'Tue',
  wed: 'Wed',
  thu: 'Thu',
  fri: 'Fri',
  sat: 'Sat',
  sun: 'Sun',
};
const dayOrder: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/**
 * `OnCalendar=` for the start of a window: `Mon,Fri *-*-* 02:30:00 Europe/Berlin`. systemd.time(7): a
 * calendar spec may end in a time zone (any name in /usr/share/zoneinfo, or UTC), and the event is then
 * computed in that zone, DST included.
 */
export function onCalendar(window: MaintenanceWindow): string {
  const days = dayOrder.filter((d) => window.days.includes(d)).map((d) => systemdDay[d]);
  const [h, m] = parseClock(window.start);
  const time = `${pad(h)}:${pad(m)}:00`;
  return `${days.join(',')} *-*-* ${time} ${window.timeZone ?? 'UTC'}`;
}

/** Day numbers as `date +%u` prints them (1 = Monday). */
export function isoDays(window: MaintenanceWindow): number[] {
  return dayOrder.flatMap((d, i) => (window.days.includes(d) ? [i + 1] : []));
}

/** Minutes after midnight of an `HH:MM` clock time. */
export function clockMinutes(start: string): number {
  const [h, m] = parseClock(start);
  return h * 60 + m;
}

function parseClock(start: string): [number, number] {
  const match = /^(\d{1,2}):(\d{2})$/.exec(start);
  if (!match) throw new RangeError(`maintenance window start ${JSON.stringify(start)} is not HH:MM`);
  return [Number(match[1]), Number(match[2])];
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

const unitSeconds: Record<string, number> = {
  ms: 0.001,
  s: 1,
  sec: 1,
  m: 60,
  min: 60,
  h: 3600,
  d: 86400,
};

/** Seconds in a duration like `30s`, `90m`, `1h30m`, `2h`, or a bare number of seconds. */
export function durationSeconds(value: string | number): number {
  if (typeof value === 'number') return value;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  let total = 0;
  let rest = text;
  const part = /^(\d+(?:\.\d+)?)\s*(ms|sec|min|s|m|h|d)/;
  while (rest.length > 0) {
    const match = part.exec(rest);
    if (!match) throw new RangeError(`duration ${JSON.stringify(value)} is not like 30s, 90m or 1h30m`);
    total += Number(match[1]) * unitSeconds[match[2]!]!;
    rest = rest.slice(match[0].length).trimStart();
  }
  return total;
}
