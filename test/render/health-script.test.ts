/**
 * The health-check script run for real: in a private mount namespace (unshare -m) where tmpfs covers
 * /usr/local/bin (holding a stub berth-engine that passes or fails on demand) and /run (the failure counts),
 * with a stub systemctl on PATH. Nothing outside the namespace is touched.
 */
import {spawnSync} from 'node:child_process';
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import test from 'ava';
import {renderHost} from '../../src/render/index.js';
import {fullHost} from './hosts.js';

test('restarts the container after RETRIES failures in a row; a success resets the count', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-health-'));
  t.teardown(() => rmSync(dir, {recursive: true, force: true}));
  const script = renderHost(fullHost()).files.find((f) => f.path === '/usr/local/lib/berth/health-check')!;
  const checker = path.join(dir, 'health-check');
  writeFileSync(checker, script.content);
  chmodSync(checker, 0o755);
  writeFileSync(path.join(dir, 'systemctl'), `#!/bin/sh\necho "systemctl $*" >>${dir}/calls\n`, {mode: 0o755});
  // Inside the namespace: the stub engine answers from $dir/verdict and records what it was asked to run.
  const inner = `
set -e
mount -t tmpfs berth-test /usr/local/bin
mount -t tmpfs berth-test /run
printf '#!/bin/sh\\necho "engine $*" >>${dir}/calls\\nexit "$(cat ${dir}/verdict)"\\n' >/usr/local/bin/berth-engine
chmod 755 /usr/local/bin/berth-engine
check() { echo "$1" >${dir}/verdict; if ${checker} web 3 5 wget -q -O /dev/null http://127.0.0.1/; then echo pass; else echo "fail:$(cat /run/berth/health/web 2>/dev/null || echo none)"; fi; }
check 1; check 1; check 0; check 1; check 1; check 1; check 0
`;
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', inner], {
    encoding: 'utf8',
    env: {PATH: `${dir}:/usr/bin:/bin:/usr/sbin:/sbin`},
  });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split('\n'), ['fail:1', 'fail:2', 'pass', 'fail:1', 'fail:2', 'fail:none', 'pass']);
  const calls = spawnSync('cat', [path.join(dir, 'calls')], {encoding: 'utf8'}).stdout.trim().split('\n');
  t.is(calls[0], 'engine exec web wget -q -O /dev/null http://127.0.0.1/');
  t.deepEqual(
    calls.filter((c) => c.startsWith('systemctl')),
    ['systemctl --no-block restart berth-container-web.service'],
  );
  t.regex(r.stderr, /health check of container web failed 3 times in a row: restarting berth-container-web\.service/);
});
