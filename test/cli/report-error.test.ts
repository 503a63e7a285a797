import test from 'ava';
import {formatError} from '../../src/cli/report-error.js';
import {HostError, UserError} from '../../src/errors.js';

test('UserError shows the message and the next step, exit code 2', (t) => {
  const {text, exitCode} = formatError(new UserError('read spec.yaml: no such file', 'check the path'));
  t.is(text, 'berth: read spec.yaml: no such file\n  next: check the path');
  t.is(exitCode, 2);
});

test('HostError names host, step, command, exit code and stderr tail, exit code 4', (t) => {
  const {text, exitCode} = formatError(
    new HostError('web-1', 'upload', 'permission denied', {command: 'mv a b', exitCode: 1, stderr: 'nope'}),
  );
  t.is(text, 'berth: upload on web-1: permission denied\n  command: mv a b\n  exit code: 1\n  stderr:\n    nope');
  t.is(exitCode, 4);
});

test('anything else is reported as a bug with its stack, exit code 1', (t) => {
  const {text, exitCode} = formatError(new TypeError('boom'));
  t.regex(text, /bug in berth/);
  t.regex(text, /TypeError: boom/);
  t.is(exitCode, 1);
});
