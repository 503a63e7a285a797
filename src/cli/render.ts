/**
 * `berth render SPEC [--host NAME]... --out DIR [--json]`: flags only; the work is in src/render/render-spec.ts.
 */
import {parseArgs} from 'node:util';
import {UserError} from '../errors.js';
import {renderSpec} from '../render/render-spec.js';

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {host: {type: 'string', multiple: true}, out: {type: 'string'}, json: {type: 'boolean'}},
    });
  } catch (error) {
    throw new UserError(`render: ${(error as Error).message}`, 'run `berth render --help`');
  }
  const {values, positionals} = parsed;
  if (positionals.length !== 1) throw new UserError('render: give exactly one SPEC file', 'run `berth render --help`');
  if (values.out === undefined && !values.json) {
    throw new UserError('render: say where the result goes', 'add --out DIR, or --json to print it');
  }
  const options: {hosts?: string[]; out?: string; json?: boolean} = {json: values.json === true};
  if (values.host) options.hosts = values.host;
  if (values.out !== undefined) options.out = values.out;
  const {fileSets, notes} = await renderSpec(positionals[0]!, options);
  for (const note of notes) process.stderr.write(note + '\n');
  if (values.json) process.stdout.write(JSON.stringify(fileSets, null, 2) + '\n');
  return 0;
}
