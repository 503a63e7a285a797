/** Where the test fleet keeps things outside the repository. */
import {homedir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

/** ~/.cache/berth (or $XDG_CACHE_HOME/berth, or $BERTH_CACHE_DIR). */
export function cacheDir(): string {
  if (process.env.BERTH_CACHE_DIR) return process.env.BERTH_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(base, 'berth');
}

export const imagesDir = (): string => path.join(cacheDir(), 'images');
export const fleetsDir = (): string => path.join(cacheDir(), 'fleets');
export const locksDir = (): string => path.join(cacheDir(), 'locks');
/** Port reservations live in /run: they vanish with a reboot of the machine, like the processes. */
export const portsDir = (): string => process.env.BERTH_PORTS_DIR ?? '/run/berth/ports';

/** The repository (or package) root: src/testfleet/ under tsx and dist/testfleet/ when built are both two below. */
export function repoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export const recipeDir = (): string => path.join(repoRoot(), 'images', 'debian-12');
