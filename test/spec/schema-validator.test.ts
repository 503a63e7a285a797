/**
 * The generated schema validator (scripts/gen-schema-validator.mjs → src/spec/schema-validator.generated.ts)
 * is up to date with src/spec/schema.json, and says exactly what ajv compiling the schema at run time says:
 * the same verdict and the same error objects, on the examples and on random mutations of them.
 */
import test from 'ava';
import {Ajv2020, type ValidateFunction} from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import {execFile} from 'node:child_process';
import {readFileSync, readdirSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import fc from 'fast-check';
import {parse} from 'yaml';
import {defs, validate as generated} from '../../src/spec/schema-validator.generated.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const schema = JSON.parse(readFileSync(path.join(root, 'src/spec/schema.json'), 'utf8'));
const options = JSON.parse(readFileSync(path.join(root, 'src/spec/ajv-options.json'), 'utf8'));

const ajv = new Ajv2020(options);
formatsModule.default(ajv, ['uri']);
const runtime = ajv.compile(schema);

type Validator = ((data: unknown) => boolean) & {errors?: unknown[] | null};
const verdict = (v: Validator, data: unknown) => ({valid: v(data), errors: v.errors ?? null});

const examples = readdirSync(path.join(root, 'examples'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => parse(readFileSync(path.join(root, 'examples', f), 'utf8')) as unknown);

test('the generated file is what the generator makes of the schema now', async (t) => {
  const r = await new Promise<{code: number; stderr: string}>((resolve) =>
    execFile(process.execPath, ['scripts/gen-schema-validator.mjs', '--check'], {cwd: root, timeout: 120_000}, (error, _out, stderr) =>
      resolve({code: error ? ((error as {code?: number}).code ?? 1) : 0, stderr}),
    ),
  );
  t.is(r.code, 0, r.stderr);
});

test('the examples: valid for both', (t) => {
  t.true(examples.length >= 3);
  for (const spec of examples) {
    t.deepEqual(verdict(generated as Validator, spec), verdict(runtime as Validator, spec));
    t.true((generated as Validator)(spec));
  }
});

/** Every path into a JSON value, the root included. */
function allPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...allPaths(v, [...prefix, i])));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...allPaths(v, [...prefix, k]));
  return out;
}

function replaceAt(value: unknown, at: (string | number)[], replacement: unknown): unknown {
  if (at.length === 0) return replacement;
  const copy = (Array.isArray(value) ? [...value] : {...(value as object)}) as Record<string | number, unknown>;
  copy[at[0]!] = replaceAt(copy[at[0]!], at.slice(1), replacement);
  return copy;
}

test('random mutations of the examples: the same verdict and the same errors as a runtime compile', (t) => {
  let invalid = 0;
  fc.assert(
    fc.property(fc.nat(), fc.nat(), fc.jsonValue({maxDepth: 3}), (e, p, replacement) => {
      const spec = examples[e % examples.length];
      const places = allPaths(spec);
      const mutated = replaceAt(spec, places[p % places.length]!, replacement);
      const g = verdict(generated as Validator, mutated);
      if (!g.valid) invalid++;
      t.deepEqual(g, verdict(runtime as Validator, mutated));
    }),
    {numRuns: 400},
  );
  t.true(invalid > 100, `only ${invalid} of 400 mutations were invalid: the comparison hardly covered errors`);
});

test('a validator for each anyOf/oneOf branch, agreeing with the runtime one', (t) => {
  t.deepEqual(Object.keys(defs).sort(), ['portObject', 'portString', 'volumeObject', 'volumeString']);
  for (const [name, v] of Object.entries(defs as Record<string, Validator>)) {
    const byRuntime = ajv.getSchema(`${schema.$id}#/$defs/${name}`) as ValidateFunction;
    for (const value of ['80:8080', 'x', {}, {host: 80, container: 8080}, 3, '/a:/b:ro']) {
      t.deepEqual(verdict(v, value), verdict(byRuntime as Validator, value), `${name} ${JSON.stringify(value)}`);
    }
  }
});
