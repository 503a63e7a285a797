/**
 * Transcripts: one log file per host per run, under $BERTH_LOG_DIR or ~/.cache/berth/logs/<time>-<command>/.
 * They hold commands (never their stdin), exit codes, the host helper's output and the plan — never file
 * contents or secrets (the transport's log callback never sees the sudo password or passphrases).
 */
import {appendFileSync, mkdirSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';

export interface Transcripts {
  dir: string;
  forHost(host: string): (line: string) => void;
}

export function openTranscripts(command: string, now = new Date()): Transcripts {
  const base = process.env.BERTH_LOG_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'berth', 'logs');
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const dir = join(base, `${stamp}-${command}-${process.pid}`);
  mkdirSync(dir, {recursive: true, mode: 0o700});
  return {
    dir,
    forHost(host: string) {
      const file = join(dir, `${host.replace(/[^A-Za-z0-9_.-]/g, '_')}.log`);
      return (line: string) => {
        appendFileSync(file, `${new Date().toISOString()} ${line}\n`, {mode: 0o600});
      };
    },
  };
}
