/**
 * A minimal ustar writer: apply ships the helper script, the new generation and (when needed) the engine to
 * a host as one archive on stdin, extracted there by GNU tar. Entry names are short, fixed and ASCII
 * (`gen/files/<sha256>`), so plain ustar headers suffice; mtimes are 0 so archives are deterministic.
 */

export interface TarEntry {
  name: string;
  content: Buffer | string;
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
  const chunks: Buffer[] = [];
  const dirs = new Set<string>();
  for (const e of entries) {
    const parts = e.name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/') + '/';
      if (dirs.has(dir)) continue;
      dirs.add(dir);
      chunks.push(header(dir, 0, 0o755, '5'));
    }
    const data = typeof e.content === 'string' ? Buffer.from(e.content, 'utf8') : e.content;
    chunks.push(header(e.name, data.length, e.mode ?? 0o644, '0'), data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad) chunks.push(Buffer.alloc(pad, 0));
  }
  chunks.push(Buffer.alloc(1024, 0));
  return Buffer.concat(chunks);
}
