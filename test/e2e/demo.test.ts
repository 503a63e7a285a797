/**
 * `npm run demo` must keep working: CI runs it here.
 */
import test from 'ava';
import {spawn} from 'node:child_process';
import path from 'node:path';
import {repo} from './helpers/berth.js';

test('npm run demo: applies to 2 hosts, each host\'s container answers, the second apply reports no changes, and cleans up', async (t) => {
  const {code, stderr} = await new Promise<{code: number | null; stderr: string}>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repo, 'scripts/demo.mjs')], {cwd: repo, stdio: ['ignore', 'ignore', 'pipe']});
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (c) => resolve({code: c, stderr}));
  });
  t.is(code, 0, stderr);
  t.regex(stderr, /\[c1\] +✓ generation 1/);
  t.regex(stderr, /demo-greeter\.service: active \(enabled\)/);
  t.regex(stderr, /journal: hello from berth/);
  t.regex(stderr, /berth-container-hello\.service: active/);
  t.regex(stderr, /c1: GET http:\/\/127\.0\.0\.1:\d+\/ → HTTP 200 hello from the container on c1\nc2: GET http:\/\/127\.0\.0\.1:\d+\/ → HTTP 200 hello from the container on c2/);
  t.regex(stderr, /c1: unchanged\nc2: unchanged/);
  t.regex(stderr, /demo done: second apply reported no changes on every host/);
});
