/**
 * Kernel settings: sysctl.d, modules-load.d and extra boot parameters through a GRUB drop-in.
 */
import type {ResolvedHost} from '../spec/types.js';
import {template} from './handlebars.js';
import {emptyPart, managedFile, sortedKeys, type Part} from './part.js';

export const sysctlFile = '/etc/sysctl.d/90-berth.conf';
export const modulesFile = '/etc/modules-load.d/berth.conf';
/**
 * Debian's grub-mkconfig sources /etc/default/grub.d/*.cfg after /etc/default/grub; the RHEL family keeps
 * boot parameters in BLS entries (grubby) and ignores this directory, so the file is Debian-only.
 */
export const grubFile = '/etc/default/grub.d/90-berth.cfg';

export function renderKernel(host: ResolvedHost): Part {
  const part = emptyPart();
  const {sysctls, modules, bootParams} = host.kernel;
  const keys = sortedKeys(sysctls);
  if (keys.length > 0) {
    const content = template('sysctl.conf')({sysctls: keys.map((key) => ({key, value: sysctls[key]}))});
    part.files.push(managedFile({path: sysctlFile, content}));
    part.actions.push({kind: 'sysctl-reload', triggers: [sysctlFile]});
  }
  const unique = [...new Set(modules)];
  if (unique.length > 0) {
    part.files.push(managedFile({path: modulesFile, content: template('modules-load.conf')({modules: unique})}));
    part.actions.push({kind: 'load-modules', modules: unique, triggers: [modulesFile]});
  }
  if (bootParams.length > 0) {
    const when = {osFamily: 'debian'} as const;
    part.files.push(managedFile({path: grubFile, content: template('grub.cfg')({params: bootParams.join(' ')}), when}));
    part.actions.push({kind: 'update-grub', triggers: [grubFile], when});
  }
  return part;
}
