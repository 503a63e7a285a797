/**
 * systemd's own services: journald limits and timesyncd servers, as drop-ins next to the distribution's files.
 */
import type {ResolvedHost} from '../spec/types.js';
import {template} from './handlebars.js';
import {emptyPart, managedFile, type Part} from './part.js';

export const journaldFile = '/etc/systemd/journald.conf.d/90-berth.conf';
export const timesyncdFile = '/etc/systemd/timesyncd.conf.d/90-berth.conf';

export function renderJournald(host: ResolvedHost): Part {
  const part = emptyPart();
  const j = host.journald;
  const settings: {key: string; value: string}[] = [];
  if (j.storage !== undefined) settings.push({key: 'Storage', value: j.storage});
  if (j.systemMaxUse !== undefined) settings.push({key: 'SystemMaxUse', value: j.systemMaxUse});
  if (j.maxRetention !== undefined) settings.push({key: 'MaxRetentionSec', value: j.maxRetention});
  if (j.rateLimitInterval !== undefined) settings.push({key: 'RateLimitIntervalSec', value: j.rateLimitInterval});
  if (j.rateLimitBurst !== undefined) settings.push({key: 'RateLimitBurst', value: String(j.rateLimitBurst)});
  if (settings.length === 0) return part;
  part.files.push(managedFile({path: journaldFile, content: template('journald.conf')({settings})}));
  part.actions.push({kind: 'restart-journald', triggers: [journaldFile]});
  return part;
}

/** `enabled: false` leaves timesyncd as the host has it; berth only writes servers when told to. */
export function renderTimesync(host: ResolvedHost): Part {
  const part = emptyPart();
  const {enabled, servers} = host.timesync;
  if (!enabled || servers.length === 0) return part;
  part.files.push(managedFile({path: timesyncdFile, content: template('timesyncd.conf')({servers})}));
  part.actions.push({kind: 'restart-timesyncd', triggers: [timesyncdFile]});
  return part;
}
