/**
 * The runtime's C unit tests (TAP, from native/tests/) in the normal build and under ASan/UBSan, plus real
 * container starts with the sanitizer build of berth-engine.
 */
import test from 'ava';
import path from 'node:path';
import {RuntimeScratch, busyboxRootfs, ensureEngine, removeRootfs, repoRoot, run} from './runtime-fixture.js';

const unitTests = ['test-utils', 'test-oci-config', 'test-seccomp', 'test-devices-bpf', 'test-mounts-plan'];
const native = path.join(repoRoot, 'native');

test.before(() => {
  ensureEngine();
  busyboxRootfs();
});
test.after.always(() => removeRootfs());

async function runTap(t: import('ava').ExecutionContext, binary: string): Promise<void> {
  const r = await run(binary, [], {timeoutMs: 300_000});
  const failed = r.stdout.split('\n').filter((l) => l.startsWith('not ok'));
  t.deepEqual(failed, [], `${path.basename(binary)}:\n${r.stdout.split('\n').filter((l) => l.startsWith('not ok') || l.startsWith('#')).join('\n')}\n${r.stderr}`);
  t.regex(r.stdout, /^1\.\.\d+$/m, `${path.basename(binary)} printed its plan (ran to the end)`);
  t.is(r.code, 0, `${path.basename(binary)} exit code; stderr: ${r.stderr.slice(-2000)}`);
}

test('C unit tests of the runtime pass (make -C native, TAP)', async (t) => {
  const build = await run('make', ['-C', native, '-j2', ...unitTests.map((u) => `build/tests/${u}`)], {timeoutMs: 600_000});
  t.is(build.code, 0, build.stderr.slice(-3000));
  for (const u of unitTests) await runTap(t, path.join(native, 'build', 'tests', u));
});

test('under ASan/UBSan: the unit tests pass and containers start, exec and delete cleanly', async (t) => {
  const build = await run('make', ['-C', native, '-j2', 'asan'], {timeoutMs: 900_000});
  t.is(build.code, 0, build.stderr.slice(-3000));
  for (const u of unitTests) await runTap(t, path.join(native, 'build', 'asan', 'tests', u));

  const s = new RuntimeScratch(t, path.join(native, 'build', 'asan', 'berth-engine'));
  const once = await s.runContainer(['sh', '-c', 'echo hello; grep "^Seccomp:" /proc/self/status']);
  t.is(once.code, 0, once.stderr);
  t.is(once.stdout, 'hello\nSeccomp:\t2\n');
  t.notRegex(once.stderr, /AddressSanitizer|runtime error/);

  const b = s.bundle(['sleep', '1000']);
  const id = s.newId();
  const steps = [
    await s.engine(['create', '--bundle', b, id]),
    await s.engine(['start', id]),
    await s.engine(['state', id]),
    // exec: leak checking off. The runtime joins the container's pid namespace for its children
    // (setns(CLONE_NEWPID)), so LeakSanitizer's exit-time tracer thread is created in there and its ptrace by
    // host pid spins forever. ASan and UBSan stay on.
    await run('env', ['ASAN_OPTIONS=detect_leaks=0', s.binary, '--root', s.root, 'exec', id, 'true']),
    await s.engine(['kill', id, 'KILL']),
    await s.engine(['delete', '--force', id]),
  ];
  for (const [i, r] of steps.entries()) {
    t.is(r.code, 0, `step ${i}: ${r.stderr}`);
    t.notRegex(r.stderr, /AddressSanitizer|runtime error|LeakSanitizer/, `step ${i} is sanitizer-clean`);
  }
  t.regex(steps[2]!.stdout, /"status":"running"/);
});
