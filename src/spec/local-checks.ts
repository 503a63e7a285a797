/**
 * Checks of single values that a schema pattern cannot express (a window longer than a day, an unknown
 * time zone, 150%, a port 99999, a reserved path). They read the raw data wherever a value is written —
 * top level, groups, hosts — so they run even when other parts of the spec fail the schema.
 */
import {reservedRoot} from './defaults.js';
import {didYouMean} from './did-you-mean.js';
import {semanticText} from './messages.js';
import {parsePort} from './resolve.js';
import {escapePointer} from './resolve.js';
import type {Finding} from './semantic.js';
import {parseDuration, parsePercent} from './units.js';

const maxPort = 65535;
const day = 86_400_000;
const portPattern = /^(?:(?:\[[0-9A-Fa-f:.]+\]|[0-9.]+):)?[0-9]{1,5}:[0-9]{1,5}(?:\/(?:tcp|udp))?$/;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function entries(value: unknown): [string, unknown][] {
  return isObject(value) ? Object.entries(value) : [];
}

function items(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', {timeZone: zone});
    return true;
  } catch {
    return false;
  }
}

function isReserved(path: string): boolean {
  return path === reservedRoot || path.startsWith(reservedRoot + '/');
}

/** Every layer of a spec: where the sections may be written. */
export function layers(data: unknown): [string, Json][] {
  if (!isObject(data)) return [];
  const out: [string, Json][] = [['', data]];
  for (const [name, group] of entries(data.groups)) if (isObject(group)) out.push([`/groups/${escapePointer(name)}`, group]);
  const inventory = isObject(data.inventory) ? data.inventory : {};
  for (const [name, host] of entries(inventory.hosts)) {
    if (isObject(host)) out.push([`/inventory/hosts/${escapePointer(name)}`, host]);
  }
  return out;
}

export function localChecks(data: unknown): Finding[] {
  if (!isObject(data)) return [];
  const findings: Finding[] = [];
  const add = (pointer: string, at: 'key' | 'value', text: Finding['text']) =>
    findings.push({section: 'local', pointer, at, text, severity: 'error'});

  const inventory = isObject(data.inventory) ? data.inventory : {};
  const jumps: [string, unknown][] = [['/inventory/defaults/jump', isObject(inventory.defaults) ? inventory.defaults.jump : undefined]];
  for (const [name, host] of entries(inventory.hosts)) {
    if (isObject(host)) jumps.push([`/inventory/hosts/${escapePointer(name)}/jump`, host.jump]);
  }
  for (const [pointer, jump] of jumps) {
    if (typeof jump !== 'string') continue;
    const port = /\]?:(\d+)$/.exec(jump)?.[1];
    if (port !== undefined && /[@:]/.test(jump) && (Number(port) < 1 || Number(port) > maxPort)) add(pointer, 'value', semanticText.jumpPort(jump));
  }

  for (const [at, layer] of layers(data)) {
    const engine = isObject(layer.engine) ? layer.engine : {};
    if (typeof engine.dataRoot === 'string' && isReserved(engine.dataRoot)) {
      add(`${at}/engine/dataRoot`, 'value', semanticText.reservedDataRoot(engine.dataRoot, reservedRoot));
    }

    for (const [name, container] of entries(layer.containers)) {
      if (!isObject(container)) continue;
      for (const [key, value] of entries(container.env)) {
        if (typeof value === 'string' && /[\n\r\0]/.test(value)) {
          add(`${at}/containers/${escapePointer(name)}/env/${escapePointer(key)}`, 'value', semanticText.envValueMultiline(key));
        }
      }
      items(container.ports).forEach((port, index) => {
        if (typeof port !== 'string' || !portPattern.test(port)) return;
        const {host, container: inside} = parsePort(port);
        if (!(host >= 1 && host <= maxPort && inside >= 1 && inside <= maxPort)) {
          add(`${at}/containers/${escapePointer(name)}/ports/${index}`, 'value', semanticText.portOutOfRange(port));
        }
      });
    }

    for (const [unit] of entries(layer.units)) {
      if (unit.startsWith('berth-')) add(`${at}/units/${escapePointer(unit)}`, 'key', semanticText.reservedUnitName(unit));
    }

    for (const [path] of entries(layer.files)) {
      const pointer = `${at}/files/${escapePointer(path)}`;
      if (!path.startsWith('/')) add(pointer, 'key', semanticText.relativeFilePath(path));
      else if (path.slice(1).split('/').some((s) => s === '' || s === '.' || s === '..')) add(pointer, 'key', semanticText.dotDotFilePath(path));
      else if (isReserved(path)) add(pointer, 'key', semanticText.reservedFilePath(path, reservedRoot));
    }

    const updates = isObject(layer.updates) ? layer.updates : {};
    items(updates.windows).forEach((window, index) => {
      if (!isObject(window)) return;
      const pointer = `${at}/updates/windows/${index}`;
      if (typeof window.length === 'string') {
        const length = parseDuration(window.length);
        if (length === 0) add(`${pointer}/length`, 'value', semanticText.windowLengthZero());
        else if (length !== undefined && length > day) add(`${pointer}/length`, 'value', semanticText.windowTooLong(window.length));
      }
      if (typeof window.timeZone === 'string' && !isTimeZone(window.timeZone)) {
        const suggestion = didYouMean(window.timeZone, ['UTC', ...Intl.supportedValuesOf('timeZone')]);
        add(`${pointer}/timeZone`, 'value', semanticText.unknownTimeZone(window.timeZone, suggestion));
      }
    });
    for (const field of ['maxUnavailable', 'failureBudget'] as const) {
      const percent = parsePercent(updates[field]);
      if (percent === undefined) continue;
      if (percent > 100) add(`${at}/updates/${field}`, 'value', semanticText.percentTooLarge(String(updates[field])));
      else if (percent === 0 && field === 'maxUnavailable') add(`${at}/updates/${field}`, 'value', semanticText.percentZero(String(updates[field])));
    }
  }
  return findings;
}
