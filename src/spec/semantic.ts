/**
 * Checks a schema cannot express: contradictions and cross-references, evaluated on each resolved host
 * but reported where the offending value was written (the top level, a group, or the host).
 * Input: a spec that passes the schema. Pure.
 */
import {didYouMean} from './did-you-mean.js';
import {semanticText, type Text} from './messages.js';
import {escapePointer, hostLayers, mergedSections, resolveConnection, resolveHost, type Layer} from './resolve.js';
import type {ResolvedHost, Sections, Spec} from './types.js';

export interface Finding {
  /** The host whose resolved configuration shows the problem (absent for spec-wide checks). */
  host?: string;
  /** Which part of the configuration the check reads: a section name, `connection` or `groups`. */
  section: string;
  pointer: string;
  at: 'key' | 'value';
  text: Text;
  severity: 'error' | 'warning';
}

type Segment = string | number;

function valueAt(root: unknown, path: readonly Segment[]): unknown {
  let node = root;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, String(segment))) return undefined;
    node = (node as Record<string, unknown>)[String(segment)];
  }
  return node;
}

/**
 * The JSON pointer where the value at `path` (inside the merged sections) was written: the most specific
 * prefix of the path that some layer sets, taking the highest-precedence layer that sets it.
 */
export function origin(layers: readonly Layer[], path: readonly Segment[]): string {
  for (let length = path.length; length > 0; length--) {
    const prefix = path.slice(0, length);
    for (let i = layers.length - 1; i >= 0; i--) {
      if (valueAt(layers[i]!.value, prefix) !== undefined) {
        return layers[i]!.pointer + prefix.map((s) => '/' + escapePointer(String(s))).join('');
      }
    }
  }
  return layers.at(-1)?.pointer ?? '';
}

const maxPort = 65535;

/** Where a host's address may be bound: 0.0.0.0 and :: overlap every address. */
function addressesOverlap(a: string, b: string): boolean {
  const any = (x: string) => x === '0.0.0.0' || x === '::' || x === '';
  return a === b || any(a) || any(b);
}

function inventoryHostJump(jump: string): string | undefined {
  return /[@:[]/.test(jump) ? undefined : jump;
}

class HostChecker {
  readonly findings: Finding[] = [];
  private readonly merged: Sections;

  constructor(
    private readonly host: ResolvedHost,
    private readonly layers: Layer[],
  ) {
    this.merged = mergedSections(layers);
  }

  private add(section: string, path: Segment[], at: 'key' | 'value', text: Text, severity: 'error' | 'warning' = 'error') {
    this.findings.push({host: this.host.name, section, pointer: origin(this.layers, path), at, text, severity});
  }

  run(): Finding[] {
    this.engine();
    this.containers();
    this.unitsAndFiles();
    this.updates();
    this.users();
    return this.findings;
  }

  private engine(): void {
    const {engine} = this.host;
    const dm = engine.devicemapper;
    if (engine.storage === 'devicemapper') {
      if (!dm?.device && !dm?.pool) this.add('engine', ['engine', 'storage'], 'value', semanticText.devicemapperWithoutTarget());
      if (dm?.device && dm.pool) this.add('engine', ['engine', 'devicemapper', 'pool'], 'key', semanticText.devicemapperBoth());
      if (dm?.device && dm.wipe !== true && !dm.pool) {
        this.add('engine', ['engine', 'devicemapper', 'device'], 'value', semanticText.deviceWithoutWipe(dm.device));
      }
    } else if (dm !== undefined) {
      this.add('engine', ['engine', 'devicemapper'], 'key', semanticText.devicemapperIgnored(engine.storage), 'warning');
    }
    if (dm?.wipe === true && !dm.device) this.add('engine', ['engine', 'devicemapper', 'wipe'], 'key', semanticText.wipeWithoutDevice());
  }

  private containers(): void {
    const {containers} = this.host;
    const names = Object.keys(containers).sort();
    const published = new Map<string, {container: string; address: string}[]>();
    for (const name of names) {
      const container = containers[name]!;
      const merged = this.merged.containers?.[name];
      if (merged?.image === undefined) {
        this.add('containers', ['containers', name], 'key', semanticText.missingField('container', name, 'image'));
      }
      container.dependsOn.forEach((dependency, index) => {
        if (Object.hasOwn(containers, dependency)) return;
        const disabled = this.merged.containers && Object.hasOwn(this.merged.containers, dependency);
        this.add(
          'containers',
          ['containers', name, 'dependsOn', index],
          'value',
          disabled
            ? semanticText.disabledDependency(name, dependency)
            : semanticText.unknownDependency(name, dependency, didYouMean(dependency, names)),
        );
      });
      container.ports.forEach((port, index) => {
        if (!(port.host >= 1 && port.host <= maxPort)) return; // reported by localChecks
        if (container.network !== 'bridge') return;
        const key = `${port.host}/${port.protocol}`;
        const users = published.get(key) ?? [];
        const clash = users.find((u) => addressesOverlap(u.address, port.address));
        if (clash) {
          this.add('containers', ['containers', name, 'ports', index], 'value', semanticText.portConflict(key, clash.container));
        }
        users.push({container: name, address: port.address});
        published.set(key, users);
      });
      if (container.network !== 'bridge' && container.ports.length > 0) {
        this.add('containers', ['containers', name, 'ports'], 'key', semanticText.portsWithoutBridge(container.network, name), 'warning');
      }
    }
    this.dependencyCycles(names);
  }

  private dependencyCycles(names: string[]): void {
    const {containers} = this.host;
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const reported = new Set<string>();
    const visit = (name: string): void => {
      state.set(name, 'visiting');
      stack.push(name);
      const container = containers[name]!;
      container.dependsOn.forEach((dependency, index) => {
        if (!Object.hasOwn(containers, dependency)) return;
        const s = state.get(dependency);
        if (s === 'visiting') {
          const cycle = [...stack.slice(stack.indexOf(dependency)), dependency];
          const id = [...new Set(cycle)].sort().join('\0');
          if (!reported.has(id)) {
            reported.add(id);
            this.add('containers', ['containers', name, 'dependsOn', index], 'value', semanticText.dependencyCycle(cycle));
          }
        } else if (s === undefined) {
          visit(dependency);
        }
      });
      stack.pop();
      state.set(name, 'done');
    };
    for (const name of names) if (!state.has(name)) visit(name);
  }

  private unitsAndFiles(): void {
    for (const name of Object.keys(this.host.units).sort()) {
      if (this.merged.units?.[name]?.content === undefined) {
        this.add('units', ['units', name], 'key', semanticText.missingField('unit', name, 'content'));
      }
    }
    for (const path of Object.keys(this.host.files).sort()) {
      const file = this.merged.files?.[path];
      if (file?.content === undefined && file?.source === undefined) {
        this.add('files', ['files', path], 'key', semanticText.missingField('file', path, 'content or source'));
      } else if (file.content !== undefined && file.source !== undefined) {
        this.add('files', ['files', path, 'source'], 'key', semanticText.contentAndSource(path));
      }
    }
  }

  private updates(): void {
    const {updates} = this.host;
    if (updates.strategy === 'window' && updates.windows.length === 0) {
      this.add('updates', ['updates', 'strategy'], 'value', semanticText.windowsMissing());
    }
    if (updates.strategy === 'fleet-lock' && updates.lock === undefined) {
      this.add('updates', ['updates', 'strategy'], 'value', semanticText.lockMissing());
    }
    if ((updates.strategy === 'off' || updates.strategy === 'orchestrated') && updates.lock !== undefined) {
      this.add('updates', ['updates', 'lock'], 'key', semanticText.lockUnused(updates.strategy), 'warning');
    }
  }

  private users(): void {
    const seen = new Map<number, string>();
    for (const name of Object.keys(this.host.users).sort()) {
      const uid = this.host.users[name]!.uid;
      if (uid === undefined) continue;
      const other = seen.get(uid);
      if (other !== undefined) this.add('users', ['users', name, 'uid'], 'value', semanticText.duplicateUid(uid, other));
      else seen.set(uid, name);
    }
  }
}

function connectionChecks(spec: Spec): Finding[] {
  const findings: Finding[] = [];
  const hosts = spec.inventory.hosts;
  const names = Object.keys(hosts).sort();
  const jumpOf = (name: string): {jump: string; pointer: string} | undefined => {
    const own = Object.hasOwn(hosts, name) ? hosts[name]?.jump : undefined;
    if (own !== undefined) return {jump: own, pointer: `/inventory/hosts/${escapePointer(name)}/jump`};
    const inherited = spec.inventory.defaults?.jump;
    return inherited === undefined ? undefined : {jump: inherited, pointer: '/inventory/defaults/jump'};
  };
  // Two entries for one machine would be configured twice, in parallel.
  const endpoints = new Map<string, string>();
  for (const name of names) {
    const {address, port, jump} = resolveConnection(name, spec.inventory.defaults ?? {}, hosts[name]!);
    const endpoint = `${address}:${port}${jump ? ` via ${jump}` : ''}`;
    const other = endpoints.get(endpoint);
    if (other === undefined) endpoints.set(endpoint, name);
    else {
      findings.push({
        host: name,
        section: 'connection',
        pointer: `/inventory/hosts/${escapePointer(name)}`,
        at: 'key',
        text: semanticText.sameEndpoint(name, other, endpoint),
        severity: 'warning',
      });
    }
  }
  for (const name of names) {
    const entry = jumpOf(name);
    if (!entry) continue;
    const add = (text: Text) =>
      findings.push({host: name, section: 'connection', pointer: entry.pointer, at: 'value', text, severity: 'error'});
    const target = inventoryHostJump(entry.jump);
    if (target === undefined) continue; // user@host[:port]: outside the inventory
    if (target === name) {
      // The inventory default naming a host is fine for every other host; that host itself goes direct.
      if (entry.pointer !== '/inventory/defaults/jump') add(semanticText.jumpToSelf(name));
      continue;
    }
    if (!Object.hasOwn(hosts, target)) {
      add(semanticText.unknownJump(target, didYouMean(target, names)));
      continue;
    }
    // Follow the chain; report a cycle once, at its alphabetically first host.
    const chain = [name];
    let current = target;
    while (!chain.includes(current)) {
      chain.push(current);
      const next = jumpOf(current);
      const nextTarget = next ? inventoryHostJump(next.jump) : undefined;
      if (nextTarget === undefined || !Object.hasOwn(hosts, nextTarget) || (nextTarget === current && next?.pointer === '/inventory/defaults/jump')) {
        current = '';
        break;
      }
      current = nextTarget;
    }
    if (current === name && chain.every((h) => h >= name)) add(semanticText.jumpCycle([...chain, name]));
  }
  return findings;
}

function groupChecks(spec: Spec): Finding[] {
  const findings: Finding[] = [];
  const defined = Object.keys(spec.groups ?? {});
  const used = new Set<string>();
  for (const name of Object.keys(spec.inventory.hosts).sort()) {
    (spec.inventory.hosts[name]?.groups ?? []).forEach((group, index) => {
      used.add(group);
      if (!defined.includes(group)) {
        findings.push({
          host: name,
          section: 'groups',
          pointer: `/inventory/hosts/${escapePointer(name)}/groups/${index}`,
          at: 'value',
          text: semanticText.unknownGroup(group, didYouMean(group, defined)),
          severity: 'error',
        });
      }
    });
  }
  for (const group of defined) {
    if (!used.has(group)) {
      findings.push({
        section: 'groups',
        pointer: `/groups/${escapePointer(group)}`,
        at: 'key',
        text: semanticText.unusedGroup(group),
        severity: 'warning',
      });
    }
  }
  return findings;
}

/** Every semantic finding of a schema-valid spec. */
export function semanticChecks(spec: Spec): Finding[] {
  const findings: Finding[] = [...connectionChecks(spec), ...groupChecks(spec)];
  for (const name of Object.keys(spec.inventory.hosts).sort()) {
    const layers = hostLayers(spec, name);
    findings.push(...new HostChecker(resolveHost(spec, name), layers).run());
  }
  return findings;
}
