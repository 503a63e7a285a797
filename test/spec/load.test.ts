import test from 'ava';
import {lineCol, locate, parseSpecText, type LoadedSpec} from '../../src/spec/load.js';
import {validateSpec} from '../../src/spec/validate.js';

function where(loaded: LoadedSpec, pointer: string, at: 'key' | 'value' = 'value'): string {
  const [start, end] = locate(loaded, pointer, at);
  const {line, col} = lineCol(loaded, start);
  return `${line}:${col} ${JSON.stringify(loaded.text.slice(start, end))}`;
}

test('every JSON pointer maps to where its key and value were written', (t) => {
  const loaded = parseSpecText(
    ['version: 1', 'inventory:', '  hosts:', '    web-1: {port: 22, groups: [a, "b"]}', '    db/1:', '      user: ops', ''].join('\n'),
    'spec.yaml',
  );
  t.deepEqual(loaded.problems, []);
  t.is(where(loaded, '/version'), '1:10 "1"');
  t.is(where(loaded, '/inventory/hosts/web-1/port'), '4:19 "22"');
  t.is(where(loaded, '/inventory/hosts/web-1/port', 'key'), '4:13 "port"');
  t.is(where(loaded, '/inventory/hosts/web-1/groups/1'), '4:35 "\\"b\\""');
  t.is(where(loaded, '/inventory/hosts/db~11/user'), '6:13 "ops"');
  // A key that was never written points at the nearest ancestor's key.
  t.is(where(loaded, '/inventory/hosts/db~11/port'), '5:5 "db/1"');
  t.is(where(loaded, ''), '1:1 ' + JSON.stringify(loaded.text));
});

test('JSON files are located the same way', (t) => {
  const loaded = parseSpecText('{\n  "version": 1,\n  "inventory": {"hosts": {"h": {"port": 0}}}\n}\n', 'spec.json');
  t.deepEqual(loaded.data, {version: 1, inventory: {hosts: {h: {port: 0}}}});
  t.is(where(loaded, '/inventory/hosts/h/port'), '3:41 "0"');
});

test('values reached through an alias or merge key point at the anchor that wrote them', (t) => {
  const loaded = parseSpecText(['base: &b {port: 22}', 'a: *b', 'c: {<<: *b, user: x}', ''].join('\n'), 'spec.yaml');
  t.deepEqual(loaded.data, {base: {port: 22}, a: {port: 22}, c: {port: 22, user: 'x'}});
  t.is(where(loaded, '/a/port'), '1:17 "22"');
  t.is(where(loaded, '/c/user'), '3:19 "x"');
  t.is(where(loaded, '/c/port'), '3:1 "c"');
});

test('CRLF line endings: columns count from the line start, excerpts drop the \\r', (t) => {
  const loaded = parseSpecText('version: 1\r\ninventory:\r\n  hosts:\r\n    h: {port: x}\r\n', 'spec.yaml');
  t.is(where(loaded, '/inventory/hosts/h/port'), '4:15 "x"');
});

test('YAML syntax errors become located entries and leave no data', (t) => {
  const loaded = parseSpecText('version: 1\ninventory:\n  hosts: [a\nx: 1\n', 'spec.yaml');
  t.is(loaded.data, undefined);
  t.deepEqual(
    loaded.problems.map((p) => `${p.line}:${p.col} ${p.severity} ${p.message}`),
    ['4:1 error YAML syntax error: flow sequence in block collection must be sufficiently indented and end with a ]'],
  );
});

test('a duplicate key is an error at the second occurrence, naming the first line; the data is still read', (t) => {
  const loaded = parseSpecText('version: 1\ninventory:\n  hosts: {}\nversion: 2\n', 'spec.yaml');
  t.deepEqual(
    loaded.problems.map((p) => ({path: p.path, at: `${p.line}:${p.col}`, message: p.message, hint: p.hint})),
    [
      {
        path: '/version',
        at: '4:1',
        message: 'key "version" appears twice in this mapping',
        hint: 'keep one of them (the other is on line 1): YAML keeps only the last, silently',
      },
    ],
  );
  t.deepEqual(loaded.data, {version: 2, inventory: {hosts: {}}});
});

test('duplicate keys in JSON are found too', (t) => {
  const loaded = parseSpecText('{"version": 1, "version": 1}', 'spec.json');
  t.deepEqual(
    loaded.problems.map((p) => `${p.path} ${p.line}:${p.col} ${p.message}`),
    ['/version 1:16 key "version" appears twice in this mapping'],
  );
});

test('more than one document is an error', (t) => {
  const loaded = parseSpecText('version: 1\n---\nversion: 1\n', 'spec.yaml');
  t.deepEqual(
    loaded.problems.map((p) => `${p.line}:${p.col} ${p.message}`),
    ['2:1 the file holds more than one YAML document'],
  );
});

test('an alias bomb is reported, not expanded', (t) => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 10; i++) {
    const prev = String.fromCharCode(96 + i);
    const next = String.fromCharCode(97 + i);
    lines.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(', ')}]`);
  }
  const loaded = parseSpecText(lines.join('\n') + '\n', 'spec.yaml');
  t.is(loaded.data, undefined);
  t.is(loaded.problems.length, 1);
  t.regex(loaded.problems[0]!.message, /^YAML aliases expand too far/);
});

// Found by the property test: a merge key inside a complex key made yaml throw while stringifying it.
for (const text of ['? <<: ', 'a: {<<: 1}\n', '? [a, b]\n: 1\n']) {
  test(`odd YAML is reported, never thrown: ${JSON.stringify(text)}`, (t) => {
    const loaded = parseSpecText(text, 'spec.yaml');
    const report = validateSpec(loaded);
    t.false(report.valid);
    for (const e of report.entries) t.true(e.line >= 1 && e.col >= 1, JSON.stringify(e));
  });
}
