/**
 * Package updates. Two kinds of file:
 * - the package managers' own configuration: unattended-upgrades (Debian/Ubuntu) and dnf-automatic (RHEL
 *   family), both written with a `when` condition on the OS family (render has no facts; apply keeps the one
 *   that matches the probed host — see README.md);
 * - for self-updating hosts (strategy window or fleet-lock): berth-update.timer/.service running
 *   /usr/local/lib/berth/update, which upgrades inside the window, takes the reboot lock and reboots;
 *   berth-update-unlock.service releases the lock after the reboot. /etc/berth/update.json records the
 *   whole updates section for the tools that read it (`berth update`, the health gates).
 *
 * Neither package manager ever updates on its own timer nor reboots by itself: berth decides when.
 */
import {UserError} from '../errors.js';
import type {ResolvedHost} from '../spec/types.js';
import {clockMinutes, durationSeconds, isoDays, onCalendar} from './calendar.js';
import {template} from './handlebars.js';
import {emptyPart, jsonContent, managedFile, paths, sortedKeys, type Part} from './part.js';

export const aptFile = '/etc/apt/apt.conf.d/52berth-unattended-upgrades';
export const dnfFile = '/etc/dnf/automatic.conf';
export const updateConfig = `${paths.etc}/update.json`;
export const updateScript = `${paths.lib}/update`;
export const updateService = 'berth-update.service';
export const updateTimer = 'berth-update.timer';
export const unlockService = 'berth-update-unlock.service';

/**
 * unattended-upgrades origin patterns. Debian's security archive is `CODENAME-security` (older layouts:
 * `CODENAME` with label Debian-Security); Ubuntu's pockets are archives (suites) of origin Ubuntu.
 */
const securityOrigins = [
  'origin=Debian,codename=${distro_codename}-security,label=Debian-Security',
  'origin=Debian,codename=${distro_codename},label=Debian-Security',
  'origin=Ubuntu,archive=${distro_codename}-security',
];
const allOrigins = [
  'origin=Debian,codename=${distro_codename},label=Debian',
  'origin=Debian,codename=${distro_codename}-updates,label=Debian',
  ...securityOrigins,
  'origin=Ubuntu,archive=${distro_codename}',
  'origin=Ubuntu,archive=${distro_codename}-updates',
];

function why(strategy: ResolvedHost['updates']['strategy']): string {
  switch (strategy) {
    case 'off':
      return 'updates are off for this host';
    case 'orchestrated':
      return 'strategy orchestrated: `berth update` rolls them across the fleet';
    case 'window':
      return 'strategy window: berth-update.timer, inside the maintenance windows';
    case 'fleet-lock':
      return 'strategy fleet-lock: berth-update.timer, rebooting under the fleet reboot lock';
  }
}

export function renderUpdates(host: ResolvedHost): Part {
  const part = emptyPart();
  const {strategy, windows, lock} = host.updates;
  const {updates, version: kernelVersion} = host.kernel;
  const kernelPinned = kernelVersion !== 'latest';
  const updatesText = updates === 'security' ? 'security updates only' : 'all updates';
  const common = {why: why(strategy), updates: updatesText, kernelPinned, kernelVersion};

  part.files.push(
    managedFile({
      path: aptFile,
      content: template('unattended-upgrades.conf')({...common, origins: updates === 'security' ? securityOrigins : allOrigins}),
      when: {osFamily: 'debian'},
    }),
    managedFile({
      path: dnfFile,
      content: template('dnf-automatic.conf')({...common, upgradeType: updates === 'security' ? 'security' : 'default'}),
      when: {osFamily: 'rhel'},
    }),
  );

  const windowsOut = windows.map((w) => ({
    days: w.days,
    start: w.start,
    length: w.length,
    timeZone: w.timeZone,
    onCalendar: onCalendar(w),
  }));
  const config: Record<string, unknown> = {
    strategy,
    packages: updates,
    kernel: kernelVersion,
    windows: windowsOut,
    maxUnavailable: host.updates.maxUnavailable,
    failureBudget: host.updates.failureBudget,
  };
  if (lock) config.lock = lock;
  config.health = host.updates.health;
  part.files.push(managedFile({path: updateConfig, content: jsonContent(config)}));

  if (strategy !== 'window' && strategy !== 'fleet-lock') return part;
  if (strategy === 'window' && windows.length === 0) {
    throw new UserError(
      `render updates for host ${host.name}: strategy window needs at least one maintenance window`,
      'add updates.windows, or choose another strategy',
    );
  }
  if (strategy === 'fleet-lock' && !lock) {
    throw new UserError(
      `render updates for host ${host.name}: strategy fleet-lock needs a reboot lock`,
      'set updates.lock to {etcd: {endpoints: [...]}} or {fleetlock: {url: ...}}',
    );
  }

  const lockKind = !lock ? 'none' : 'etcd' in lock ? 'etcd' : 'fleetlock';
  const script = template('update.sh')({
    strategy,
    updates: updatesText,
    lockKind,
    fleetlockUrl: lock && 'fleetlock' in lock ? lock.fleetlock.url.replace(/\/+$/, '') : '',
    fleetlockGroup: lock && 'fleetlock' in lock ? (lock.fleetlock.group ?? 'default') : '',
    etcdEndpoints: lock && 'etcd' in lock ? lock.etcd.endpoints.join(',') : '',
    etcdKey: lock && 'etcd' in lock ? (lock.etcd.key ?? '/berth/reboot-lock') : '',
    windows: windows.map((w) => ({
      days: isoDays(w).join(','),
      startMinute: String(clockMinutes(w.start)),
      lengthSeconds: String(Math.round(durationSeconds(w.length))),
      timeZone: w.timeZone,
    })),
  });
  part.files.push(managedFile({path: updateScript, mode: '0755', content: script}));

  const timerPath = `${paths.units}/${updateTimer}`;
  const servicePath = `${paths.units}/${updateService}`;
  const onCal = windows.length > 0 ? windowsOut.map((w) => w.onCalendar) : ['daily'];
  part.files.push(
    managedFile({
      path: timerPath,
      content: template('update.timer')({
        strategy,
        onCalendar: onCal,
        randomizedDelay: windows.length > 0 ? '' : '1h',
        persistent: windows.length > 0 ? 'false' : 'true',
      }),
      affects: [updateTimer],
    }),
    managedFile({
      path: servicePath,
      content: template('update.service')({strategy, execStart: [updateScript, 'update'], timeoutStart: '6h'}),
    }),
  );
  part.units.push(updateService, updateTimer);
  part.actions.push({kind: 'enable-unit', unit: updateTimer, triggers: [timerPath]});
  if (lockKind !== 'none') {
    const unlockPath = `${paths.units}/${unlockService}`;
    part.files.push(
      managedFile({
        path: unlockPath,
        content: template('update-unlock.service')({
          execStart: [updateScript, 'unlock'],
          after: sortedKeys(host.containers).map((n) => `berth-container-${n}.service`),
        }),
      }),
    );
    part.units.push(unlockService);
    part.actions.push({kind: 'enable-unit', unit: unlockService, triggers: [unlockPath]});
  }
  return part;
}
