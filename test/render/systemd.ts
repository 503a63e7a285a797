/**
 * Running the real systemd tools over rendered units (test helper, not a test file).
 */
import {execFileSync, spawnSync} from 'node:child_process';
import {chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import type {ManagedFile} from '../../src/render/types.js';

/** systemd-analyze and /lib/systemd/systemd come with Debian's systemd package: install it when missing. */
export function ensureSystemd(): void {
  if (existsSync('/usr/bin/systemd-analyze') && existsSync('/lib/systemd/systemd')) return;
  execFileSync(
    'sh',
    ['-c', 'flock /tmp/berth-apt.lock apt-get install -y -o DPkg::Lock::Timeout=600 systemd >&2'],
    {stdio: 'inherit'},
  );
}

const engine = '/usr/local/bin/berth-engine';

function execPaths(content: string): string[] {
  const out: string[] = [];
  for (const line of content.split('\n')) {
    const m = /^Exec[A-Za-z]*=\s*([-@:+!]*)(\S+)/.exec(line);
    if (m?.[2]?.startsWith('/')) out.push(m[2]);
  }
  return out;
}

export interface VerifyResult {
  /** Output lines that concern our units or files: each one is a failure. */
  problems: string[];
  exitCode: number | null;
  /** Every line systemd-analyze printed, for the test log. */
  output: string;
}

/**
 * `systemd-analyze verify` in a temporary root: the machine's own unit directory (for targets like
 * multi-user.target that our units name) plus every file of the set at its host path, so the scripts our
 * units run exist with their modes. systemd refuses an Exec*= path that is not an executable file in the
 * root; the only one the file set cannot hold is berth-engine (apply installs it), so that gets an empty
 * stub, and so do programs a user unit names that exist on this machine (/bin/true): a stub there and
 * nowhere else. An Exec path found nowhere is left missing, and verify reports it.
 */
export function verifyUnits(files: ManagedFile[], units: string[]): VerifyResult {
  ensureSystemd();
  const root = mkdtempSync(path.join(tmpdir(), 'berth-verify-'));
  try {
    mkdirSync(path.join(root, 'usr/lib/systemd'), {recursive: true});
    cpSync('/usr/lib/systemd/system', path.join(root, 'usr/lib/systemd/system'), {recursive: true, verbatimSymlinks: true});
    const inSet = new Set(files.map((f) => f.path));
    for (const f of files) {
      const target = path.join(root, f.path);
      mkdirSync(path.dirname(target), {recursive: true});
      writeFileSync(target, f.content);
      chmodSync(target, parseInt(f.mode, 8));
    }
    const stubs = new Set<string>();
    for (const f of files) {
      if (!f.path.startsWith('/etc/systemd/system/')) continue;
      for (const exe of execPaths(f.content)) {
        if (!inSet.has(exe) && (exe === engine || existsSync(exe))) stubs.add(exe);
      }
    }
    for (const exe of stubs) {
      const target = path.join(root, exe);
      mkdirSync(path.dirname(target), {recursive: true});
      writeFileSync(target, '#!/bin/sh\nexit 0\n', {mode: 0o755});
    }
    const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, '--man=no', '--generators=no', ...units], {
      encoding: 'utf8',
    });
    const output = `${r.stdout}${r.stderr}`;
    const ours = [...units, root];
    const problems = output.split('\n').filter((line) => line.trim() !== '' && ours.some((u) => line.includes(u)));
    return {problems, exitCode: r.status, output};
  } finally {
    rmSync(root, {recursive: true, force: true});
  }
}

/**
 * What systemd itself parsed from a unit: `systemd --test` (run unprivileged, as it refuses root) loads the
 * units from a directory on SYSTEMD_UNIT_PATH and dumps their settings, Exec command lines included.
 * `unitFiles` are the unit files by name (those `unitName` needs must be among them); returns `unitName`'s
 * section of the dump.
 */
export function systemdDump(unitName: string, unitFiles: Record<string, string>): string {
  ensureSystemd();
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-dump-'));
  try {
    chmodSync(dir, 0o755);
    for (const [name, content] of Object.entries(unitFiles)) writeFileSync(path.join(dir, name), content, {mode: 0o644});
    const r = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', '/lib/systemd/systemd', '--test', '--system', `--unit=${unitName}`, '--log-target=console'],
      {encoding: 'utf8', env: {...process.env, SYSTEMD_UNIT_PATH: `${dir}:`}, maxBuffer: 64 * 1024 * 1024},
    );
    const out = r.stdout;
    const start = out.indexOf(`-> Unit ${unitName}:`);
    if (start < 0) throw new Error(`systemd --test did not load ${unitName} (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
    const next = out.indexOf('-> Unit ', start + 1);
    return out.slice(start, next < 0 ? undefined : next);
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

/** Splits systemd's quoted rendering of a command line (`"a b" c\"d`) back into argv. */
export function splitDumpedCommand(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ') i++;
    if (i >= line.length) break;
    let word = '';
    while (i < line.length && line[i] !== ' ') {
      const ch = line[i]!;
      if (ch === '"' || ch === "'") {
        i++;
        while (i < line.length && line[i] !== ch) {
          if (line[i] === '\\' && ch === '"') {
            // systemd prints control characters as C escapes (cescape).
            const next = line[i + 1] ?? '';
            if (next === 'n') word += '\n';
            else if (next === 't') word += '\t';
            else if (next === 'x') {
              word += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
              i += 2;
            } else word += next;
            i += 2;
            continue;
          }
          word += line[i];
          i++;
        }
        i++;
      } else if (ch === '\\') {
        word += line[i + 1] ?? '';
        i += 2;
      } else {
        word += ch;
        i++;
      }
    }
    out.push(word);
  }
  return out;
}
