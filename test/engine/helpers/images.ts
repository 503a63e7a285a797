// Test images made by real tools: umoci builds OCI layouts, GNU tar writes the layer archives, busybox-static
// (Debian) is the userland. Also a tree walker to compare unpacked roots with `umoci unpack`.
import {createHash} from 'node:crypto';
import {chmodSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync, copyFileSync} from 'node:fs';
import path from 'node:path';
import {ensureDebian, must, type Scratch} from './engine.js';

export function ensureImageTools(): void {
  ensureDebian(['umoci', 'skopeo', 'busybox-static', 'attr'], ['umoci', 'skopeo', 'busybox', 'setfattr']);
}

const applets = ['sh', 'true', 'false', 'echo', 'cat', 'ls', 'sleep', 'id', 'env', 'test', 'touch', 'hostname', 'mkdir', 'grep', 'wc', 'httpd', 'wget'];

export function busyboxTree(root: string): void {
  mkdirSync(path.join(root, 'bin'), {recursive: true});
  copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'));
  chmodSync(path.join(root, 'bin/busybox'), 0o755);
  for (const a of applets) symlinkSync('busybox', path.join(root, 'bin', a));
}

/** Appends the tree at `src` as one uncompressed layer (GNU tar, pax with xattrs) to image DIR:tag. */
export function addLayer(scratch: Scratch, layout: string, tag: string, src: string): void {
  const tarFile = path.join(scratch.make('layer'), 'layer.tar');
  must('tar', ['--xattrs', '--xattrs-include=user.*', '--format=pax', '--sort=name', '-cf', tarFile, '-C', src, '.']);
  must('umoci', ['raw', 'add-layer', '--image', `${layout}:${tag}`, tarFile]);
}

/** umoci init + new: an empty image DIR:tag. */
export function newImage(layout: string, tag = 'latest'): void {
  must('umoci', ['init', '--layout', layout]);
  must('umoci', ['new', '--image', `${layout}:${tag}`]);
}

/** A one-layer busybox image whose default command is `sh`. */
export function makeBusyboxImage(scratch: Scratch, layout: string, tag = 'latest'): void {
  ensureImageTools();
  newImage(layout, tag);
  const src = scratch.make('bb');
  busyboxTree(src);
  mkdirSync(path.join(src, 'etc'));
  writeFileSync(path.join(src, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  addLayer(scratch, layout, tag, src);
  must('umoci', ['config', '--image', `${layout}:${tag}`, '--config.cmd', '/bin/sh', '--config.env', 'PATH=/bin']);
}

/** A one-layer image of busybox alone: no /etc at all (the engine must make its mount points itself). */
export function makeBareBusyboxImage(scratch: Scratch, layout: string, tag = 'latest'): void {
  ensureImageTools();
  newImage(layout, tag);
  const src = scratch.make('bare');
  busyboxTree(src);
  addLayer(scratch, layout, tag, src);
  must('umoci', ['config', '--image', `${layout}:${tag}`, '--config.cmd', '/bin/sh', '--config.env', 'PATH=/bin']);
}

/** Three layers with whiteouts, opaque dirs, hardlinks, symlinks, setuid, xattrs and a fifo. */
export function makeMultiLayerImage(scratch: Scratch, layout: string, tag = 'latest'): void {
  ensureImageTools();
  newImage(layout, tag);
  const l1 = scratch.make('l1');
  busyboxTree(l1);
  mkdirSync(path.join(l1, 'etc'));
  for (const f of ['a', 'b', 'c']) writeFileSync(path.join(l1, 'etc', f), `${f} from layer 1\n`);
  mkdirSync(path.join(l1, 'data/old/deep'), {recursive: true});
  writeFileSync(path.join(l1, 'data/old/x'), 'x');
  writeFileSync(path.join(l1, 'data/old/deep/y'), 'y');
  writeFileSync(path.join(l1, 'data/top'), 'top');
  mkdirSync(path.join(l1, 'keep'));
  writeFileSync(path.join(l1, 'keep/file'), 'keep');
  writeFileSync(path.join(l1, 'bin/suid'), '#!/bin/sh\n');
  chmodSync(path.join(l1, 'bin/suid'), 0o4755);
  linkSync(path.join(l1, 'keep/file'), path.join(l1, 'keep/hardlink'));
  symlinkSync('../etc/a', path.join(l1, 'keep/rel-link'));
  symlinkSync('/etc/b', path.join(l1, 'keep/abs-link'));
  must('setfattr', ['-n', 'user.berth', '-v', 'layer1', path.join(l1, 'etc/c')]);
  must('mkfifo', [path.join(l1, 'keep/fifo')]);
  addLayer(scratch, layout, tag, l1);

  const l2 = scratch.make('l2');
  mkdirSync(path.join(l2, 'etc'));
  writeFileSync(path.join(l2, 'etc/.wh.b'), '');
  mkdirSync(path.join(l2, 'data'));
  writeFileSync(path.join(l2, 'data/.wh..wh..opq'), '');
  writeFileSync(path.join(l2, 'data/new'), 'new in layer 2');
  mkdirSync(path.join(l2, 'keep'));
  writeFileSync(path.join(l2, 'keep/added'), 'added in 2');
  addLayer(scratch, layout, tag, l2);

  const l3 = scratch.make('l3');
  mkdirSync(path.join(l3, 'etc'));
  writeFileSync(path.join(l3, 'etc/a'), 'a from layer 3\n');
  mkdirSync(path.join(l3, 'keep'));
  writeFileSync(path.join(l3, 'keep/.wh.added'), '');
  mkdirSync(path.join(l3, 'data/old'), {recursive: true});
  writeFileSync(path.join(l3, 'data/old/back'), 'a new old/ after the opaque layer');
  addLayer(scratch, layout, tag, l3);
  must('umoci', ['config', '--image', `${layout}:${tag}`, '--config.cmd', '/bin/sh', '--config.env', 'PATH=/bin']);
}

/**
 * An image of n layers: busybox, then one small layer per level adding /layers/N. The layout is written here
 * (blobs, manifest, config, index.json per image-spec) with GNU tar making the layers: umoci takes ~0.45 s
 * per added layer, which would make a 300-layer image cost minutes.
 */
export function makeDeepImage(scratch: Scratch, layout: string, n: number, tag = 'latest'): void {
  ensureImageTools();
  mkdirSync(path.join(layout, 'blobs/sha256'), {recursive: true});
  writeFileSync(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const blob = (data: Buffer): {digest: string; size: number} => {
    const hex = createHash('sha256').update(data).digest('hex');
    writeFileSync(path.join(layout, 'blobs/sha256', hex), data);
    return {digest: `sha256:${hex}`, size: data.length};
  };
  const layers: {digest: string; size: number}[] = [];
  const tmp = scratch.make('deep');
  for (let i = 1; i <= n; i++) {
    const d = path.join(tmp, String(i));
    mkdirSync(d);
    if (i === 1) busyboxTree(d);
    else {
      mkdirSync(path.join(d, 'layers'));
      writeFileSync(path.join(d, 'layers', String(i)), `${i}\n`);
    }
    const tarFile = path.join(tmp, `${i}.tar`);
    must('tar', ['--format=pax', '--sort=name', '-cf', tarFile, '-C', d, '.']);
    layers.push(blob(readFileSync(tarFile)));
  }
  const config = blob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {Env: ['PATH=/bin'], Cmd: ['/bin/sh']},
        rootfs: {type: 'layers', diff_ids: layers.map((l) => l.digest)},
      }),
    ),
  );
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {mediaType: 'application/vnd.oci.image.config.v1+json', ...config},
        layers: layers.map((l) => ({mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l})),
      }),
    ),
  );
  writeFileSync(
    path.join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: {'org.opencontainers.image.ref.name': tag},
        },
      ],
    }),
  );
}

export interface Node {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  sha?: string;
  target?: string;
  mtime?: number;
  rdev?: number;
  nlink?: number;
}

/** path → metadata for every entry below root (directory mtimes left out: creating children changes them). */
export function walkTree(root: string): Map<string, Node> {
  const out = new Map<string, Node>();
  const visit = (rel: string): void => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = path.join(root, r);
      const st = lstatSync(p);
      const node: Node = {type: '?', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid};
      if (st.isDirectory()) node.type = 'dir';
      else if (st.isSymbolicLink()) {
        node.type = 'symlink';
        node.target = readlinkSync(p);
      } else if (st.isFile()) {
        node.type = 'file';
        node.size = st.size;
        node.sha = createHash('sha256').update(readFileSync(p)).digest('hex');
        node.mtime = Math.floor(st.mtimeMs / 1000);
        node.nlink = st.nlink;
      } else if (st.isFIFO()) node.type = 'fifo';
      else if (st.isCharacterDevice()) {
        node.type = 'char';
        node.rdev = st.rdev;
      } else if (st.isBlockDevice()) node.type = 'block';
      if (node.type === 'symlink') node.mode = 0;
      out.set(r, node);
      if (st.isDirectory()) visit(r);
    }
  };
  visit('');
  return out;
}
