/**
 * Users: /etc/berth/users.json lists them for the create-users action (useradd/usermod on the host, which
 * must run before files owned by them are written); sudoers drop-ins and authorized_keys are plain files.
 */
import {UserError} from '../errors.js';
import type {ResolvedHost} from '../spec/types.js';
import {template} from './handlebars.js';
import {emptyPart, jsonContent, managedFile, paths, sortedKeys, type Part} from './part.js';

export const usersFile = `${paths.etc}/users.json`;

/** The schema's accountName (useradd(8)'s default NAME_REGEX on Debian). */
const userPattern = /^[a-z_][a-z0-9_.-]*\$?$/;

/**
 * sudo skips files in /etc/sudoers.d whose names contain a `.` or end in `~` (sudoers(5), "#includedir"), so
 * a dot in the user name becomes `_` in the file name (two users that differ only there collide, loudly).
 */
export function sudoersFile(name: string): string {
  return `/etc/sudoers.d/90-berth-${name.replace(/\./g, '_')}`;
}

export function homeOf(name: string): string {
  return name === 'root' ? '/root' : `/home/${name}`;
}

export function renderUsers(host: ResolvedHost): Part {
  const part = emptyPart();
  const names = sortedKeys(host.users);
  if (names.length === 0) return part;
  const list = names.map((name) => {
    if (!userPattern.test(name)) {
      throw new UserError(
        `render user ${JSON.stringify(name)} for host ${host.name}: user names are lower-case letters, digits, '_', '.' and '-', starting with a letter or '_'`,
        'rename the user in the spec',
      );
    }
    const u = host.users[name]!;
    const entry: Record<string, unknown> = {name};
    if (u.uid !== undefined) entry.uid = u.uid;
    entry.shell = u.shell;
    entry.home = homeOf(name);
    entry.groups = u.groups;
    entry.sudo = u.sudo;
    if (u.sudo) {
      part.files.push(
        managedFile({path: sudoersFile(name), mode: '0440', content: template('sudoers')({user: name})}),
      );
    }
    if (u.authorizedKeys.length > 0) {
      part.files.push(
        managedFile({
          path: `${homeOf(name)}/.ssh/authorized_keys`,
          mode: '0600',
          owner: name,
          group: name,
          content: template('authorized-keys')({keys: u.authorizedKeys.map((k) => k.trim())}),
        }),
      );
    }
    return entry;
  });
  part.files.push(managedFile({path: usersFile, mode: '0600', content: jsonContent({users: list})}));
  part.actions.push({kind: 'create-users', users: names, triggers: [usersFile]});
  return part;
}
