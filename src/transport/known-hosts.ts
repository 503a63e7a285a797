/**
 * known_hosts as OpenSSH reads it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): plain and hashed (`|1|salt|hmac`)
 * host fields, `[host]:port` names, pattern lists with `*`, `?` and `!` negation, several keys per host, and
 * the `@revoked` / `@cert-authority` markers. Pure functions over text plus a small file reader/appender.
 *
 * Limit: ssh2 (1.x) never negotiates `*-cert-v01@openssh.com` host key algorithms, so a host certificate is
 * never presented to us. An `@cert-authority` line therefore cannot vouch for a host here: a host known only
 * through a CA is reported as unknown, with a note saying so (record its plain key with `berth trust`).
 */
import {createHash, createHmac, randomBytes, timingSafeEqual} from 'node:crypto';
import {appendFile, mkdir, readFile} from 'node:fs/promises';
import {dirname} from 'node:path';

export interface KnownHostLine {
  marker?: 'revoked' | 'cert-authority';
  /** The host field as written: a comma-separated pattern list or one `|1|salt|hash` entry. */
  hosts: string;
  keyType: string;
  /** The public key blob (SSH wire format), decoded from base64. */
  key: Buffer;
  file?: string;
  line?: number;
}

export function parseKnownHosts(text: string, file?: string): KnownHostLine[] {
  const entries: KnownHostLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostLine['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue; // unknown marker: OpenSSH ignores the line
    }
    const [hosts, keyType, keyText] = fields;
    if (!hosts || !keyType || !keyText) continue;
    const key = Buffer.from(keyText, 'base64');
    if (key.length === 0) continue;
    const entry: KnownHostLine = {hosts, keyType, key};
    if (marker) entry.marker = marker;
    if (file !== undefined) entry.file = file;
    entry.line = i + 1;
    entries.push(entry);
  }
  return entries;
}

/** The name OpenSSH looks a host up by: `host`, or `[host]:port` when the port is not 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;
}

/** OpenSSH's match_pattern: `*` any run, `?` one character; case-insensitive for host names. */
export function matchPattern(text: string, pattern: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .toLowerCase()
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
    's',
  );
  return re.test(text.toLowerCase());
}

/** A comma-separated pattern list: true when some pattern matches and no negated one does. */
export function matchPatternList(text: string, list: string): boolean {
  let matched = false;
  for (const pattern of list.split(',')) {
    if (pattern.startsWith('!')) {
      if (matchPattern(text, pattern.slice(1))) return false;
    } else if (matchPattern(text, pattern)) {
      matched = true;
    }
  }
  return matched;
}

function matchHashed(name: string, field: string): boolean {
  const parts = field.split('|'); // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const want = Buffer.from(parts[3]!, 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Does the host field of a line name this host (`name` as made by knownHostsName)? */
export function hostFieldMatches(name: string, field: string): boolean {
  if (field.startsWith('|')) return matchHashed(name, field);
  return matchPatternList(name, field);
}

/** A hashed host field for `name`, as `ssh-keygen -H` and HashKnownHosts write it. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const hash = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
}

/** The key type inside an SSH public key blob (its first string). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  if (len > blob.length - 4 || len > 64) return 'unknown';
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** OpenSSH's fingerprint format: `SHA256:` + base64 of the sha256 of the blob, without `=` padding. */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

export type HostKeyVerdict =
  | {status: 'known'; line: KnownHostLine}
  | {status: 'revoked'; line: KnownHostLine}
  /** The host is known with a key of this type, and it is not this key. */
  | {status: 'changed'; lines: KnownHostLine[]}
  /** Nothing vouches for this key. `otherTypes`: key types known for the host; `certAuthority`: a CA line matched. */
  | {status: 'unknown'; otherTypes: string[]; certAuthority: boolean};

/** Judge a presented host key against known_hosts lines, looking the host up under every name given. */
export function checkHostKey(entries: KnownHostLine[], names: string[], key: Buffer): HostKeyVerdict {
  const type = keyTypeOf(key);
  // @revoked refuses a key whatever host it is presented by: a revoked key is never trusted again.
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return {status: 'revoked', line: revoked};
  const forHost = entries.filter((e) => names.some((n) => hostFieldMatches(n, e.hosts)));
  const plain = forHost.filter((e) => e.marker === undefined);
  const known = plain.find((e) => e.key.equals(key));
  if (known) return {status: 'known', line: known};
  const sameType = plain.filter((e) => e.keyType === type);
  if (sameType.length > 0) return {status: 'changed', lines: sameType};
  return {
    status: 'unknown',
    otherTypes: [...new Set(plain.map((e) => e.keyType))],
    certAuthority: forHost.some((e) => e.marker === 'cert-authority'),
  };
}

/** Key types known for a host, in file order: ssh offers these host key algorithms first. */
export function knownKeyTypes(entries: KnownHostLine[], names: string[]): string[] {
  const types: string[] = [];
  for (const e of entries) {
    if (e.marker !== undefined) continue;
    if (!names.some((n) => hostFieldMatches(n, e.hosts))) continue;
    if (!types.includes(e.keyType)) types.push(e.keyType);
  }
  return types;
}

/** Read and parse several known_hosts files; missing files count as empty. */
export async function readKnownHostsFiles(files: string[]): Promise<KnownHostLine[]> {
  const all: KnownHostLine[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    all.push(...parseKnownHosts(text, file));
  }
  return all;
}

/** The known_hosts line recording `key` for `name` (hashed when asked, like HashKnownHosts yes). */
export function knownHostsLine(name: string, key: Buffer, hashed: boolean): string {
  return `${hashed ? hashHostName(name) : name} ${keyTypeOf(key)} ${key.toString('base64')}`;
}

/** Append one line to a known_hosts file (created 0600 with its directory 0700 when missing). */
export async function appendKnownHost(file: string, line: string): Promise<void> {
  await mkdir(dirname(file), {recursive: true, mode: 0o700});
  let prefix = '';
  try {
    const current = await readFile(file, 'utf8');
    if (current.length > 0 && !current.endsWith('\n')) prefix = '\n';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await appendFile(file, prefix + line + '\n', {mode: 0o600});
}
