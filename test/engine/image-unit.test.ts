// The image layer's C unit tests (native/tests/image/test-image.c, TAP): built with the engine's objects and run.
import test from 'ava';
import path from 'node:path';
import {must, repoRoot, run} from './helpers/engine.js';

test('C unit tests of the image layer pass (path rules, digests, tar headers, overlay option length)', (t) => {
  must('make', ['-C', path.join(repoRoot, 'native'), 'build/tests/image/test-image']);
  const r = run(path.join(repoRoot, 'native/build/tests/image/test-image'), []);
  t.is(r.status, 0, r.stdout);
  t.notRegex(r.stdout, /^not ok/m);
  const plan = /^1\.\.(\d+)$/m.exec(r.stdout);
  t.truthy(plan, 'TAP plan printed');
  t.true(Number(plan![1]) >= 25);
});
