import test from 'ava';
import {formatEntry, formatExcerpt, formatReport, makeReport, reportToJson, type SpecEntry} from '../../src/spec/report.js';
import {SpecError} from '../../src/spec/spec-error.js';
import {formatError} from '../../src/cli/report-error.js';

const port: SpecEntry = {
  path: '/inventory/hosts/web-1/port',
  line: 12,
  col: 13,
  message: 'must be a number from 1 to 65535, not 70000',
  hint: 'use a number from 1 to 65535, e.g. `port: 22`',
  severity: 'error',
  excerpt: {text: '      port: 70000', length: 5},
};
const group: SpecEntry = {
  path: '/groups/db',
  line: 3,
  col: 3,
  message: 'group "db" is not used by any host',
  hint: "list it in a host's `groups`, or remove it",
  severity: 'warning',
  excerpt: {text: '  db: {}', length: 2},
};

test('an entry: file:line:col, severity, path, message; the source line with a caret; the hint', (t) => {
  t.is(
    formatEntry('spec.yaml', port),
    [
      'spec.yaml:12:13: error: /inventory/hosts/web-1/port: must be a number from 1 to 65535, not 70000',
      '  12 |       port: 70000',
      '     |             ^~~~~',
      '  hint: use a number from 1 to 65535, e.g. `port: 22`',
    ].join('\n'),
  );
});

test('the caret line keeps the source line’s tabs so it lines up', (t) => {
  t.is(formatExcerpt(7, 8, {text: '\tname:\tvalue', length: 5}), '  7 | \tname:\tvalue\n    | \t     \t^~~~~');
});

test('the underline never runs past the end of the line', (t) => {
  t.is(formatExcerpt(1, 3, {text: 'a: [1,', length: 40}), '  1 | a: [1,\n    |   ^~~~');
});

test('makeReport sorts by position, drops exact repeats, and is valid only without errors', (t) => {
  const report = makeReport('spec.yaml', [port, group, {...port}]);
  t.deepEqual(report.entries, [group, port]);
  t.false(report.valid);
  t.true(makeReport('spec.yaml', [group]).valid);
});

test('a report: every entry, then the summary', (t) => {
  const text = formatReport(makeReport('spec.yaml', [port, group]));
  t.true(text.startsWith('spec.yaml:3:3: warning: /groups/db: group "db" is not used by any host\n'));
  t.true(text.endsWith('\n\nspec.yaml: 1 error, 1 warning'));
  t.is(formatReport(makeReport('spec.yaml', []), 3), 'spec.yaml: valid (3 hosts)');
  t.is(formatReport(makeReport('spec.yaml', [group]), 1).split('\n\n').at(-1), 'spec.yaml: valid (1 host), 1 warning');
});

test('--json has exactly the documented fields', (t) => {
  t.deepEqual(reportToJson(makeReport('spec.yaml', [port])), {
    valid: false,
    errors: [
      {
        path: '/inventory/hosts/web-1/port',
        line: 12,
        col: 13,
        message: 'must be a number from 1 to 65535, not 70000',
        hint: 'use a number from 1 to 65535, e.g. `port: 22`',
        severity: 'error',
      },
    ],
  });
});

test('SpecError: exit code 3, and the CLI prints its whole report', (t) => {
  const error = new SpecError(makeReport('spec.yaml', [port]));
  t.is(error.message, 'spec spec.yaml is invalid: 1 error');
  const {text, exitCode} = formatError(error);
  t.is(exitCode, 3);
  t.is(text, formatReport(error.report));
});
