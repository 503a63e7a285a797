/**
 * The host-side scripts (src/host/remote/*.sh) and the one-line commands that run them. They are shipped as
 * files next to the sources (found from the package root, so both `tsx src/…` and `dist/src/…` work) and
 * sent to hosts as command text or inside the apply archive — never installed permanently.
 */
import {existsSync, readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {BugError} from '../errors.js';

/** The berth package's root directory (the one holding package.json named berth). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && /"name":\s*"berth"/.test(readFileSync(pkg, 'utf8'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new BugError('cannot find the berth package root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export function remoteScript(name: 'probe.sh' | 'berth-host.sh'): string {
  const file = join(packageRoot(), 'src', 'host', 'remote', name);
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new BugError(`read ${file}: ${(error as Error).message} (the package is incomplete)`);
  }
}

/** Quote one word for a POSIX shell. */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The probe as one `sh -c` command: its inputs as shell assignments, then the script. */
export function probeCommand(input: {dataRoot: string; paths: string[]; units: string[]; engineVersion?: string | undefined}): string {
  return [
    `DATA_ROOT=${shellQuote(input.dataRoot)}`,
    `ENGINE_WANT=${shellQuote(input.engineVersion ?? '')}`,
    `PATHS=${shellQuote(input.paths.join('\n'))}`,
    `UNITS=${shellQuote(input.units.join(' '))}`,
    remoteScript('probe.sh'),
  ].join('\n');
}

/**
 * Receive the apply archive on stdin into a fresh directory under /var/lib/berth/incoming, check its sha256,
 * unpack it, and run the helper in the foreground (which detaches its worker).
 */
export function helperCommand(archiveSha256: string, args: string[], env: Record<string, string>): string {
  const assignments = Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
  return [
    'set -e',
    'umask 022',
    'mkdir -p /var/lib/berth/incoming /run/berth',
    'd=$(mktemp -d /var/lib/berth/incoming/XXXXXXXX)',
    'cat > "$d/in.tar"',
    `if [ "$(sha256sum < "$d/in.tar" | cut -c1-64)" != ${archiveSha256} ]; then echo "@@result failed - the archive arrived damaged (sha256 mismatch)"; rm -rf "$d"; exit 70; fi`,
    'tar -xf "$d/in.tar" -C "$d" --no-same-owner && rm -f "$d/in.tar"',
    'set +e',
    ...assignments,
    `exec sh "$d/berth-host.sh" start ${args.map(shellQuote).join(' ')}`,
  ].join('\n');
}
