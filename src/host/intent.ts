/**
 * What a FileSet asks of the host beyond its files, and when: which units should be enabled and running, and
 * which actions a given set of changed paths sets off. One set of rules, used by plan (to show what apply
 * will do) and written into each generation as units.tsv/actions.tsv for the host helper (which applies the
 * same rules when it switches generations, rollbacks included).
 *
 * Rules (see src/render/types.ts):
 * - a changed file (created, modified, deleted, or repaired after a hand edit) `try-restart`s its `affects`;
 * - an action runs when one of its `triggers` paths changed, or on any change when it has none;
 * - `enable-unit` units are enabled and started when they are not (start of a running unit is a no-op);
 * - units that vanished from the FileSet are stopped and disabled before their files are removed.
 */
import {actionOrder, type Action, type FileSet} from '../render/types.js';

export interface UnitIntent {
  unit: string;
  enable: boolean;
  /** Should be running after apply (and is health-checked). */
  start: boolean;
}

const startable = /\.(service|timer|socket|path|mount|automount)$/;

export function unitIntents(fileSet: Pick<FileSet, 'units' | 'actions'>): UnitIntent[] {
  const enabled = new Set<string>();
  for (const a of fileSet.actions) if (a.kind === 'enable-unit') enabled.add(a.unit);
  const all = [...new Set([...fileSet.units, ...enabled])].sort();
  return all.map((unit) => ({
    unit,
    enable: enabled.has(unit),
    // Templates (foo@.service) cannot run by themselves.
    start: enabled.has(unit) && startable.test(unit) && !unit.includes('@.'),
  }));
}

/** Whether `action` runs when the paths in `changed` changed. */
export function actionTriggered(action: Action, changed: ReadonlySet<string>): boolean {
  if (changed.size === 0) return false;
  if (action.triggers === undefined) return true;
  return action.triggers.some((p) => changed.has(p));
}

/** Unit files live here: a change under it calls for `systemctl daemon-reload`. */
export const unitDir = '/etc/systemd/system/';

/**
 * Actions to run when switching from `from` to `to` with `changed` paths: those of the target generation, plus
 * those of the generation left behind for kinds that also react to a file going away (a removed sysctl file
 * still calls for `sysctl --system`). Unit actions come from the target only.
 */
export function switchActions(from: Action[], to: Action[], changed: ReadonlySet<string>): Action[] {
  const out: Action[] = [];
  const seen = new Set<string>();
  const add = (a: Action): void => {
    const {triggers: _t, when: _w, ...rest} = a;
    const key = JSON.stringify(rest);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(a);
  };
  for (const a of to) if (actionTriggered(a, changed)) add(a);
  for (const a of from) {
    if (a.kind === 'enable-unit' || a.kind === 'restart-unit' || a.kind === 'create-users' || a.kind === 'storage-setup') continue;
    if (actionTriggered(a, changed)) add(a);
  }
  return out.sort((a, b) => actionOrder.indexOf(a.kind) - actionOrder.indexOf(b.kind));
}

/** Unit states that need no `systemctl enable`. */
export function isEnabledState(unitFileState: string): boolean {
  return ['enabled', 'enabled-runtime', 'static', 'alias', 'indirect', 'generated', 'linked', 'linked-runtime'].includes(
    unitFileState,
  );
}

/** A started oneshot without RemainAfterExit goes back to inactive with Result=success: that is healthy. */
export function isRunningState(s: {activeState: string; type: string; remainAfterExit: boolean; result: string}): boolean {
  if (s.activeState === 'active' || s.activeState === 'reloading' || s.activeState === 'activating') return true;
  return s.activeState === 'inactive' && s.type === 'oneshot' && !s.remainAfterExit && s.result === 'success';
}
