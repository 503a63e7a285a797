/**
 * The built CLI (`npm test` builds dist/ before ava runs): exit codes, human and --json output of
 * `berth validate`, `berth schema`, and that `berth --help` does not load ajv.
 */
import test from 'ava';
import {execFile} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const main = join(root, 'dist/cli/main.js');
const fixtures = join(root, 'test/spec/fixtures');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function berth(args: string[], options: {nodeArgs?: string[]; env?: Record<string, string>} = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...(options.nodeArgs ?? []), main, ...args],
      {cwd: root, env: {...process.env, ...options.env}, timeout: 120_000},
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({code, stdout, stderr});
      },
    );
  });
}

test.before(() => {
  if (!existsSync(main) || !existsSync(join(root, 'dist/spec/schema.json'))) {
    throw new Error(`${main} or dist/spec/schema.json is missing: run \`npm run build\` first (npm test does)`);
  }
});

test('valid spec: exit 0 and a summary line', async (t) => {
  const run = await berth(['validate', join(fixtures, 'valid.yaml')]);
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, `${join(fixtures, 'valid.yaml')}: valid (1 host)\n`);
});

test('invalid spec: exit 3, every error with file:line:col, caret excerpt and hint', async (t) => {
  const run = await berth(['validate', 'test/spec/fixtures/invalid.yaml']);
  t.is(run.code, 3, run.stderr);
  t.is(
    run.stdout,
    [
      'test/spec/fixtures/invalid.yaml:5:13: error: /inventory/hosts/web-1/port: must be a number from 1 to 65535, not 70000',
      '  5 |       port: 70000',
      '    |             ^~~~~',
      '  hint: use a number from 1 to 65535, e.g. `port: 22`',
      '',
      'test/spec/fixtures/invalid.yaml:6:7: error: /inventory/hosts/web-1/prot: unknown key "prot"',
      '  6 |       prot: 22',
      '    |       ^~~~',
      '  hint: did you mean "port"?',
      '',
      'test/spec/fixtures/invalid.yaml: 2 errors',
      '',
    ].join('\n'),
  );
});

test('--json prints exactly one JSON document, for valid and invalid specs', async (t) => {
  const invalid = await berth(['validate', '--json', join(fixtures, 'invalid.yaml')]);
  t.is(invalid.code, 3);
  t.deepEqual(JSON.parse(invalid.stdout), {
    valid: false,
    errors: [
      {
        path: '/inventory/hosts/web-1/port',
        line: 5,
        col: 13,
        message: 'must be a number from 1 to 65535, not 70000',
        hint: 'use a number from 1 to 65535, e.g. `port: 22`',
        severity: 'error',
      },
      {path: '/inventory/hosts/web-1/prot', line: 6, col: 7, message: 'unknown key "prot"', hint: 'did you mean "port"?', severity: 'error'},
    ],
  });
  const valid = await berth(['validate', join(fixtures, 'valid.yaml'), '--json']);
  t.is(valid.code, 0);
  t.deepEqual(JSON.parse(valid.stdout), {valid: true, errors: []});
});

test('unreadable file and bad usage: exit 2 with the next step', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-validate-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const missing = await berth(['validate', join(dir, 'nope.yaml')]);
  t.is(missing.code, 2);
  t.is(missing.stdout, '');
  t.regex(missing.stderr, /read spec .*nope\.yaml: no such file\n {2}next: /);
  const directory = await berth(['validate', dir]);
  t.is(directory.code, 2);
  t.regex(directory.stderr, /it is a directory/);
  const noArgs = await berth(['validate']);
  t.is(noArgs.code, 2);
  t.regex(noArgs.stderr, /give exactly one SPEC file/);
  const badFlag = await berth(['validate', '--frobnicate', 'x.yaml']);
  t.is(badFlag.code, 2);
});

test('a YAML syntax error is an invalid spec (exit 3), not a crash', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-validate-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const file = join(dir, 'broken.yaml');
  await writeFile(file, 'version: 1\ninventory:\n  hosts: [a\n');
  const run = await berth(['validate', '--json', file]);
  t.is(run.code, 3);
  const report = JSON.parse(run.stdout) as {valid: boolean; errors: {line: number; message: string}[]};
  t.false(report.valid);
  t.regex(report.errors[0]!.message, /^YAML syntax error: /);
});

test('validate --help documents the exit codes', async (t) => {
  const run = await berth(['validate', '--help']);
  t.is(run.code, 0);
  t.regex(run.stdout, /Exit codes:\n {2}0 {2}the spec is valid.*\n {2}3 {2}the spec is invalid\n {2}2 {2}SPEC cannot be read/);
});

test('berth schema prints src/spec/schema.json', async (t) => {
  const run = await berth(['schema']);
  t.is(run.code, 0);
  const schema = JSON.parse(await readFile(join(root, 'src/spec/schema.json'), 'utf8')) as unknown;
  t.deepEqual(JSON.parse(run.stdout), schema);
});

test('berth --help does not load ajv; berth validate does', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-trace-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const trace = async (args: string[]) => {
    const file = join(dir, `${args[0]}.txt`);
    const run = await berth(args, {
      nodeArgs: ['--import', join(fixtures, 'trace-imports.mjs')],
      env: {BERTH_TRACE_FILE: file},
    });
    return {run, modules: await readFile(file, 'utf8')};
  };
  const help = await trace(['--help']);
  t.is(help.run.code, 0);
  t.true(help.modules.includes('/cli/main.js'), 'the trace saw the entry point');
  t.false(/\/node_modules\/(ajv|yaml)\//.test(help.modules), help.modules);
  const validate = await trace(['validate', join(fixtures, 'valid.yaml')]);
  t.is(validate.run.code, 0);
  t.regex(validate.modules, /\/node_modules\/ajv\//);
});
