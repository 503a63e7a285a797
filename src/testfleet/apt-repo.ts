/**
 * The fleet's local apt repository: the .debs a host of the image needs for `apt-get dist-upgrade` against the
 * machine's Debian mirror and its security suite (so: a newer kernel and security updates), fetched once per
 * image into ~/.cache/berth/images/debian-12-<hash>/apt/ and served by a static HTTP server on 127.0.0.1.
 * Guests list only this repository: container hosts reach it at 127.0.0.1:PORT (they share the machine's
 * network), VMs at 10.0.2.2:PORT (qemu user network's gateway is the machine's loopback).
 */
import {spawn, spawnSync} from 'node:child_process';
import {closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import type {Image} from './image.js';
import {withLock} from './lock.js';
import {debianMirrors} from './mirror.js';
import {locksDir, repoRoot} from './paths.js';
import {ensureTools, FleetError, run} from './run.js';
import {startTimeOf, type TrackedProcess} from './state.js';

export interface AptUpdate {
  package: string;
  installed: string;
  available: string;
}

export interface AptRepo {
  dir: string;
  /** `uname -r` of the newer kernel the repository offers (e.g. 6.1.0-41-amd64). */
  newKernelRelease: string;
  /** Packages installed in the image with a newer version in the repository (the kernel's meta package too). */
  updates: AptUpdate[];
}

/** Package → version from a dpkg status file or a Packages index. */
export function parseControlStanzas(text: string, installedOnly = false): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const stanza of text.split(/\n\n+/)) {
    const pkg = /^Package: (.+)$/m.exec(stanza)?.[1];
    const version = /^Version: (.+)$/m.exec(stanza)?.[1];
    if (!pkg || !version) continue;
    if (installedOnly && !/^Status: .* installed$/m.test(stanza)) continue;
    out.set(pkg, [...(out.get(pkg) ?? []), version]);
  }
  return out;
}

function versionGreater(a: string, b: string): boolean {
  return spawnSync('dpkg', ['--compare-versions', a, 'gt', b]).status === 0;
}

export function summarizeRepo(dpkgStatus: string, packagesIndex: string): Omit<AptRepo, 'dir'> {
  const installed = parseControlStanzas(dpkgStatus, true);
  const offered = parseControlStanzas(packagesIndex);
  const updates: AptUpdate[] = [];
  for (const [pkg, versions] of offered) {
    const have = installed.get(pkg)?.[0];
    if (!have) continue;
    const best = versions.reduce((x, y) => (versionGreater(y, x) ? y : x));
    if (versionGreater(best, have)) updates.push({package: pkg, installed: have, available: best});
  }
  const installedKernels = [...installed.keys()].filter((p) => /^linux-image-\d.*-amd64$/.test(p));
  const newKernels = [...offered.keys()].filter((p) => /^linux-image-\d.*-amd64$/.test(p) && !installedKernels.includes(p)).sort();
  return {newKernelRelease: newKernels.at(-1)?.slice('linux-image-'.length) ?? '', updates: updates.sort((x, y) => x.package.localeCompare(y.package))};
}

const log = (msg: string) => process.stderr.write(`[testfleet] ${msg}\n`);

export async function ensureAptRepo(image: Image): Promise<AptRepo> {
  const dir = path.join(image.dir, 'apt');
  const summaryFile = path.join(dir, 'repo.json');
  const load = (): AptRepo => ({dir, ...(JSON.parse(readFileSync(summaryFile, 'utf8')) as Omit<AptRepo, 'dir'>)});
  if (existsSync(summaryFile)) return load();
  await withLock(path.join(locksDir(), `apt-${image.hash}.lock`), 'build the local apt repository', async () => {
    if (existsSync(summaryFile)) return;
    await ensureTools({'dpkg-scanpackages': 'dpkg-dev', unshare: 'util-linux'}, 'build the local apt repository');
    const {main, security} = debianMirrors();
    if (!security) {
      throw new FleetError(
        'build the local apt repository: the machine has no apt source for bookworm-security; the fleet needs it for a newer kernel and security updates — add one to /etc/apt/sources.list.d/',
      );
    }
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, {recursive: true, force: true});
    const started = Date.now();
    log('building the local apt repository (newer kernel + security updates from the mirror)…');
    try {
      await run(path.join(repoRoot(), 'images', 'apt-repo', 'build.sh'), [image.rootfs, tmp, main, security], {
        step: 'build the local apt repository',
        timeoutMs: 30 * 60_000,
      });
      const summary = summarizeRepo(
        readFileSync(path.join(image.rootfs, 'var/lib/dpkg/status'), 'utf8'),
        readFileSync(path.join(tmp, 'Packages'), 'utf8'),
      );
      if (!summary.newKernelRelease || !summary.updates.some((u) => !u.package.startsWith('linux-'))) {
        throw new FleetError(
          `build the local apt repository: the mirror offers ${summary.newKernelRelease ? 'no security update besides the kernel' : 'no kernel newer than the image\'s'} (updates: ${summary.updates.map((u) => u.package).join(', ') || 'none'}); update tests need both. The image may be newer than the security suite: rebuild it after the next security release, or pin an older package in images/debian-12/`,
        );
      }
      writeFileSync(path.join(tmp, 'repo.json'), JSON.stringify(summary, null, 2) + '\n');
      rmSync(dir, {recursive: true, force: true});
      renameSync(tmp, dir);
      log(`apt repository ready in ${Math.round((Date.now() - started) / 1000)} s: kernel ${summary.newKernelRelease}, ${summary.updates.length} updates`);
    } finally {
      rmSync(tmp, {recursive: true, force: true});
    }
  });
  return load();
}

/** A static file server for DIR on 127.0.0.1:PORT; one line per request in LOG. Self-contained: `node -e`. */
const SERVER = `
const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
const [dir, port, logFile] = process.argv.slice(1);
const log = fs.createWriteStream(logFile, {flags: 'a'});
http.createServer((req, res) => {
  const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = path.join(dir, path.normalize(rel).replace(/^([/\\\\.])+/, ''));
  log.write(req.method + ' ' + rel + '\\n');
  if (!file.startsWith(dir) || (req.method !== 'GET' && req.method !== 'HEAD')) { res.writeHead(403); return res.end(); }
  fs.stat(file, (err, st) => {
    if (err || !st.isFile()) { res.writeHead(404); return res.end(); }
    res.writeHead(200, {'content-length': st.size, 'content-type': 'application/octet-stream'});
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file).pipe(res);
  });
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\\n'));
`;

export async function serveAptRepo(dir: string, port: number, logFile: string): Promise<TrackedProcess> {
  mkdirSync(path.dirname(logFile), {recursive: true});
  const err = openSync(`${logFile}.stderr`, 'a');
  const child = spawn(process.execPath, ['-e', SERVER, dir, String(port), logFile], {detached: true, stdio: ['ignore', 'pipe', err]});
  closeSync(err);
  if (!child.pid) throw new FleetError('start the apt repository server: cannot run node');
  const tracked = {pid: child.pid, startTime: startTimeOf(child.pid)};
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new FleetError(`start the apt repository server on 127.0.0.1:${port}: no answer in 20 s`)), 20_000);
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new FleetError(`start the apt repository server on 127.0.0.1:${port}: exited with ${code}; see ${logFile}.stderr`));
    });
  });
  child.stdout!.destroy();
  child.removeAllListeners('exit');
  child.unref();
  return tracked;
}
