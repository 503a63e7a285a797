/**
 * Quoting for the file formats render writes. Pure string functions, tested alone
 * (test/render/escape.test.ts) and against systemd's own parser (`systemd --test` dumps what it parsed).
 *
 * systemd (systemd.service(5) "Command lines", systemd.exec(5) "Environment=", systemd.unit(5) "Specifiers"),
 * as checked with systemd 252:
 * - every unit-file setting expands specifiers: a literal `%` is `%%`;
 * - Exec*= lines expand `$VAR`/`${VAR}` at exec time: a literal `$` is `$$`;
 * - Environment= does NOT expand `$` (`"D=$$x"` stays `$$x`), so `$` is left alone there;
 * - inside double quotes C escapes apply: `\\`, `\"`, `\n`, `\t`, `\xHH`.
 */

/** Characters an Exec*= argument may contain without quotes (after `%`/`$` doubling). */
const execBare = /^[A-Za-z0-9_@%+=:,./-]+$/;

function cEscape(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out;
}

/** One argument of an Exec*= line: the program receives exactly `value` as one argv entry. */
export function execArg(value: string): string {
  const doubled = value.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  // A bare `;` separates commands on an Exec line; quoting it makes it an ordinary argument.
  if (doubled !== ';' && execBare.test(doubled)) return doubled;
  return `"${cEscape(doubled)}"`;
}

/** A whole Exec*= command line from argv. */
export function execLine(argv: readonly string[]): string {
  return argv.map(execArg).join(' ');
}

/** One `Environment=` assignment: the service sees `name` set to exactly `value`. */
export function environmentAssignment(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new RangeError(`environment variable name ${JSON.stringify(name)} is not valid`);
  }
  return `"${cEscape(`${name}=${value}`.replace(/%/g, '%%'))}"`;
}

/** Free text in a unit file (Description=): specifiers escaped, one line. */
export function unitText(value: string): string {
  return value.replace(/%/g, '%%').replace(/[\r\n]+/g, ' ');
}

/** A POSIX shell word: single-quoted unless it is plainly safe. */
export function shellWord(value: string): string {
  if (value !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Text inside a double-quoted POSIX shell string (GRUB's /etc/default/grub is sourced by sh). */
export function shellDoubleQuoted(value: string): string {
  return value.replace(/[\\"$`]/g, (c) => '\\' + c);
}
