/**
 * What render produces for one host: the complete set of files berth manages there, plus the actions the
 * change implies. Plan diffs a FileSet against the host's current generation manifest; apply carries it out.
 * src/render/README.md explains the conventions (affects, triggers, when) in more words.
 */

/** OS families whose files differ (package managers, boot loader configuration). */
export type OsFamily = 'debian' | 'rhel';

/**
 * A condition that only probed facts can answer. Render stays pure and fact-free, so a file or action that
 * applies to one OS family carries `when`; plan/apply drop what does not match the host's facts
 * (`selectForFamily` in src/render/when.ts) before diffing, so the host's generation never holds them.
 */
export interface When {
  osFamily: OsFamily;
}

export interface ManagedFile {
  /** Absolute path on the host. */
  path: string;
  /** Octal string, e.g. `0644`. */
  mode: string;
  owner: string;
  group: string;
  /** The file's text; '' when the bytes come from `source`. */
  content: string;
  /**
   * A local file whose bytes are the file's (`files.PATH.source` in the spec: image archives, binaries).
   * Nothing holds those bytes in memory: `berth render --out` copies the file, apply reads it straight into
   * its upload, and only when the host does not already have a blob with this sha256.
   */
  source?: {path: string; size: number};
  /** Hex sha256 of the bytes (content as UTF-8, or the source file's). */
  sha256: string;
  /**
   * The units whose behaviour depends on this file: when the file changes, apply restarts them with
   * `systemctl try-restart` (so a stopped or oneshot unit is not started by it). Empty for files read only at
   * boot, at each run of a script, or by an action (see Action.triggers).
   */
  affects: string[];
  /** Only on hosts of this OS family. */
  when?: When;
}

/** Action kinds, in the order apply runs them. */
export type Action = (
  | {kind: 'create-users'; users: string[]}
  | {kind: 'daemon-reload'}
  | {kind: 'storage-setup'; driver: 'auto' | 'overlay2' | 'devicemapper' | 'vfs'; unit: string}
  | {kind: 'sysctl-reload'}
  | {kind: 'load-modules'; modules: string[]}
  | {kind: 'update-grub'}
  | {kind: 'restart-journald'}
  | {kind: 'restart-timesyncd'}
  | {kind: 'enable-unit'; unit: string}
  | {kind: 'restart-unit'; unit: string}
) & {
  /**
   * Paths of the files whose change (create, modify or delete) calls for this action; apply runs the action
   * only when one of them changed. Absent: run it whenever the generation changes.
   */
  triggers?: string[];
  /** Only on hosts of this OS family. */
  when?: When;
};

export interface FileSet {
  host: string;
  /** Files sorted by path. */
  files: ManagedFile[];
  /**
   * Every unit file berth manages on this host, sorted: apply stops and disables ones that vanished. Which of
   * them to enable is said by the enable-unit actions (health timers, for one, are pulled in by their container).
   */
  units: string[];
  /** Actions implied by the whole file set (apply narrows them to what changed). */
  actions: Action[];
}

/** Action kinds in the order apply runs them (users before their files' owners matter, reloads before enables). */
export const actionOrder: readonly Action['kind'][] = [
  'create-users',
  'daemon-reload',
  'storage-setup',
  'sysctl-reload',
  'load-modules',
  'update-grub',
  'restart-journald',
  'restart-timesyncd',
  'enable-unit',
  'restart-unit',
];

