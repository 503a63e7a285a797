/**
 * What render produces for one host: the complete set of files berth manages there, plus the actions the
 * change implies. Plan diffs a FileSet against the host's current generation manifest; apply carries it out.
 */

export interface ManagedFile {
  /** Absolute path on the host. */
  path: string;
  /** Octal string, e.g. `0644`. */
  mode: string;
  owner: string;
  group: string;
  content: string;
  /** Hex sha256 of content (UTF-8). */
  sha256: string;
  /**
   * The units whose behaviour depends on this file: when the file changes, these are restarted (or
   * reloaded) by apply. Empty for files read only at boot or by a reload action.
   */
  affects: string[];
}

export type Action =
  | {kind: 'daemon-reload'}
  | {kind: 'enable-unit'; unit: string}
  | {kind: 'restart-unit'; unit: string}
  | {kind: 'sysctl-reload'}
  | {kind: 'load-modules'; modules: string[]}
  | {kind: 'update-grub'}
  | {kind: 'storage-setup'; driver: 'overlay2' | 'devicemapper' | 'vfs'; unit: string}
  | {kind: 'create-users'; users: string[]}
  | {kind: 'restart-journald'}
  | {kind: 'restart-timesyncd'};

export interface FileSet {
  host: string;
  /** Files sorted by path. */
  files: ManagedFile[];
  /** Every unit berth manages on this host, sorted: apply enables them, and disables ones that vanished. */
  units: string[];
  /** Actions implied by the whole file set (apply narrows them to what changed). */
  actions: Action[];
}
