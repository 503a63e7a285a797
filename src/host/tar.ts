/**
 * A minimal ustar writer: apply ships the helper script, the new generation and (when needed) the engine to
 * a host as one archive on stdin, extracted there by GNU tar. Entry names are short, fixed and ASCII
 * (`gen/files/<sha256>`), so plain ustar headers suffice; mtimes are 0 so archives are deterministic.
 */
import {closeSync, openSync, readSync} from 'node:fs';
import {UserError} from '../errors.js';

export interface TarEntry {
  name: string;
  /**
   * The bytes, or a local file to read them from (`size` as measured when the spec was read): a file is read
   * straight into the archive, so a large image archive is held in memory once, not twice.
   */
  content: Buffer | string | {file: string; size: number};
  /** Octal permission bits, default 0644 (directories are implied by file names). */
  mode?: number;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, mode: number, type: '0' | '5'): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long: ${name}`);
  const h = Buffer.alloc(512, 0);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

export function tarArchive(entries: TarEntry[]): Buffer {
  type Piece = Buffer | {file: string; size: number};
  const pieces: Piece[] = [];
  const dirs = new Set<string>();
  let total = 1024;
  const add = (p: Piece, size: number) => {
    pieces.push(p);
    total += size;
  };
  for (const e of entries) {
    const parts = e.name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/') + '/';
      if (dirs.has(dir)) continue;
      dirs.add(dir);
      add(header(dir, 0, 0o755, '5'), 512);
    }
    const data = typeof e.content === 'string' ? Buffer.from(e.content, 'utf8') : e.content;
    const size = Buffer.isBuffer(data) ? data.length : data.size;
    add(header(e.name, size, e.mode ?? 0o644, '0'), 512);
    add(data, size);
    const pad = (512 - (size % 512)) % 512;
    if (pad) add(Buffer.alloc(pad, 0), pad);
  }
  // One allocation for the whole archive; files are read into their place in it.
  const out = Buffer.alloc(total);
  let at = 0;
  for (const p of pieces) {
    if (Buffer.isBuffer(p)) {
      p.copy(out, at);
      at += p.length;
      continue;
    }
    readInto(p.file, p.size, out, at);
    at += p.size;
  }
  return out;
}

/** Reads exactly `size` bytes of `file` into `out` at `at`; a file that changed size since is an error. */
function readInto(file: string, size: number, out: Buffer, at: number): void {
  const fd = openSync(file, 'r');
  try {
    let done = 0;
    while (done < size) {
      const n = readSync(fd, out, at + done, Math.min(size - done, 1 << 24), null);
      if (n === 0) break;
      done += n;
    }
    const extra = readSync(fd, Buffer.alloc(1), 0, 1, null);
    if (done !== size || extra !== 0) {
      throw new UserError(`pack ${file}: it changed since the spec was read (${size} bytes then)`, 'run the command again once the file is complete');
    }
  } finally {
    closeSync(fd);
  }
}
