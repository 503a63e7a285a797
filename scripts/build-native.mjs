#!/usr/bin/env node
// `npm run build:native`: builds native/build/berth-engine (static) with `make -C native`. On a fresh machine it
// first installs the C toolchain and the static libraries from Debian (gcc, make, pkg-config, libseccomp-dev,
// libyajl-dev), the same way every project script installs packages: under /tmp/berth-apt.lock.
import {spawnSync, execFileSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import path from 'node:path';
import {existsSync} from 'node:fs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const needed = [
  ['gcc', '/usr/bin/gcc'],
  ['make', '/usr/bin/make'],
  ['pkg-config', '/usr/bin/pkg-config'],
  ['libseccomp-dev', '/usr/lib/x86_64-linux-gnu/libseccomp.a'],
  ['libyajl-dev', '/usr/lib/x86_64-linux-gnu/libyajl_s.a'],
];
const missing = needed.filter(([, file]) => !existsSync(file)).map(([pkg]) => pkg);
if (missing.length) {
  const install = `flock /tmp/berth-apt.lock apt-get install -y -o DPkg::Lock::Timeout=600 ${missing.join(' ')}`;
  console.error(`build:native: installing ${missing.join(', ')}`);
  let r = spawnSync('sh', ['-c', `${install} >&2`], {stdio: 'inherit'});
  if (r.status !== 0) {
    spawnSync('sh', ['-c', 'flock /tmp/berth-apt.lock apt-get update >&2'], {stdio: 'inherit'});
    r = spawnSync('sh', ['-c', `${install} >&2`], {stdio: 'inherit'});
  }
  if (r.status !== 0) {
    console.error(`build:native: could not install ${missing.join(' ')}; install them with apt and run npm run build:native again`);
    process.exit(1);
  }
}
const jobs = process.env.BERTH_MAKE_JOBS ?? '2';
try {
  execFileSync('make', ['-C', path.join(root, 'native'), `-j${jobs}`], {stdio: ['ignore', 'inherit', 'inherit']});
} catch {
  console.error('build:native: make -C native failed (see the compiler output above)');
  process.exit(1);
}
