/**
 * The machine's configured Debian mirror, read at run time (never written into the repository): deb822
 * files under /etc/apt/sources.list.d/ and one-line sources.list entries.
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {FleetError} from './run.js';

export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
  signedBy?: string;
}

export function parseDeb822Sources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('#') || !line.trim()) continue;
      if (/^\s/.test(line) && last) {
        fields.set(last, `${fields.get(last)} ${line.trim()}`);
        continue;
      }
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) fields.set((last = m[1]!.toLowerCase()), m[2]!.trim());
    }
    if (fields.get('enabled')?.toLowerCase() === 'no') continue;
    if (!(fields.get('types') ?? '').split(/\s+/).includes('deb')) continue;
    const split = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    for (const uri of split('uris')) {
      sources.push({uri, suites: split('suites'), components: split('components'), signedBy: fields.get('signed-by')});
    }
  }
  return sources;
}

export function parseOneLineSources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (m) sources.push({uri: m[1]!, suites: [m[2]!], components: m[3]!.split(/\s+/).filter(Boolean)});
  }
  return sources;
}

export function machineAptSources(): AptSource[] {
  const sources: AptSource[] = [];
  if (existsSync('/etc/apt/sources.list')) sources.push(...parseOneLineSources(readFileSync('/etc/apt/sources.list', 'utf8')));
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).sort()) {
      const text = readFileSync(path.join(dir, f), 'utf8');
      if (f.endsWith('.sources')) sources.push(...parseDeb822Sources(text));
      else if (f.endsWith('.list')) sources.push(...parseOneLineSources(text));
    }
  }
  return sources;
}

/** The Debian mirror with bookworm (main) and the one with bookworm-security. */
export function debianMirrors(): {main: string; security: string | undefined} {
  const sources = machineAptSources();
  const main = sources.find((s) => s.suites.includes('bookworm') && s.components.includes('main'));
  if (!main) {
    throw new FleetError(
      'find the Debian mirror: no apt source for bookworm main in /etc/apt/sources.list{,.d}; the test fleet builds its hosts from it — add one (e.g. a deb822 file with URIs/Suites: bookworm/Components: main)',
    );
  }
  const security = sources.find((s) => s.suites.includes('bookworm-security'));
  return {main: main.uri, security: security?.uri};
}
