/**
 * Cut the schema-invalid parts out of a spec so the semantic checks can still run on the rest: each bad
 * value takes its whole section (of the top level, a group or a host) with it. The sections removed are
 * remembered, and findings about them are dropped: they would only echo the schema error, or be wrong.
 */
import {splitPointer} from './load.js';
import {escapePointer, sectionKeys} from './resolve.js';
import type {Finding} from './semantic.js';

const connectionKeys = new Set(['address', 'port', 'user', 'identityFile', 'jump', 'become']);
const sections = new Set<string>(sectionKeys);

export interface Pruned {
  /** The spec without its invalid parts; undefined when too little is left (no usable inventory). */
  data: Record<string, unknown> | undefined;
  /** Layer pointer (``, `/groups/G`, `/inventory/hosts/H`, `/inventory/defaults`) → sections removed (`*` all). */
  removed: Map<string, Set<string>>;
}

/** Set an own data property, whatever the key (`__proto__` included). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {value, enumerable: true, writable: true, configurable: true});
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `problems`: the JSON pointers of the schema errors, and whether each is about the key itself (an invalid
 * name: the entry goes) or its value.
 */
export function pruneInvalid(data: unknown, problems: readonly {pointer: string; at: 'key' | 'value'}[]): Pruned {
  const removed = new Map<string, Set<string>>();
  const mark = (layer: string, section: string) => {
    const set = removed.get(layer) ?? new Set<string>();
    set.add(section);
    removed.set(layer, set);
  };
  if (!isObject(data)) return {data: undefined, removed};
  const spec = structuredClone(data);
  let usable = true;

  for (const {pointer, at} of problems) {
    const [first, second, third, fourth] = splitPointer(pointer);
    if (first === undefined) continue; // root-level problems: checked again below
    if (sections.has(first)) {
      delete spec[first];
      mark('', first);
    } else if (first === 'groups') {
      const groups = spec.groups;
      if (second === undefined || !isObject(groups)) {
        delete spec.groups;
        mark('/groups', '*');
      } else if (third === undefined || !Object.hasOwn(groups, second) || !isObject(groups[second])) {
        if (third === undefined && at === 'key') {
          delete groups[second];
          mark('/groups', 'groups'); // hosts listing it would now see an unknown group
        }
        else setOwn(groups, second, {});
        mark(`/groups/${escapePointer(second)}`, '*');
      } else {
        delete (groups[second] as Record<string, unknown>)[third];
        mark(`/groups/${escapePointer(second)}`, third);
      }
    } else if (first === 'inventory') {
      const inventory = spec.inventory;
      if (second === undefined || !isObject(inventory)) usable = false;
      else if (second === 'defaults') {
        delete inventory.defaults;
        mark('/inventory/defaults', 'connection');
      } else if (second !== 'hosts') delete inventory[second];
      else if (third === undefined || !isObject(inventory.hosts)) usable = false;
      else {
        const hosts = inventory.hosts;
        const layer = `/inventory/hosts/${escapePointer(third)}`;
        if (fourth === undefined || !Object.hasOwn(hosts, third) || !isObject(hosts[third])) {
          if (fourth === undefined && at === 'key') {
            delete hosts[third];
            mark('/inventory/hosts', 'connection'); // hosts jumping through it would now see an unknown host
          }
          else setOwn(hosts, third, {});
          mark(layer, '*');
        } else {
          delete (hosts[third] as Record<string, unknown>)[fourth];
          mark(layer, connectionKeys.has(fourth) ? 'connection' : fourth);
        }
      }
    } else {
      delete spec[first];
    }
  }
  // A wrong or missing version says nothing about the rest.
  spec.version = 1;
  return {data: usable ? spec : undefined, removed};
}

/** Whether a finding is about a section that was removed from one of the layers it reads. */
export function isShadowed(finding: Finding, removed: Map<string, Set<string>>, groupsOf: (host: string) => string[]): boolean {
  if (removed.size === 0) return false;
  const hit = (layer: string) => {
    const set = removed.get(layer);
    return set !== undefined && (set.has('*') || set.has(finding.section));
  };
  if (hit('/groups')) return true;
  if (finding.host === undefined) return false;
  const layers = ['', '/inventory/defaults', '/inventory/hosts', `/inventory/hosts/${escapePointer(finding.host)}`];
  for (const group of groupsOf(finding.host)) layers.push(`/groups/${escapePointer(group)}`);
  return layers.some(hit);
}
