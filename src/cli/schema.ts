/**
 * `berth schema`: print the spec's JSON Schema (no options).
 */
import {UserError} from '../errors.js';
import {specSchemaText} from '../spec/schema-text.js';

export async function run(argv: string[]): Promise<number> {
  if (argv.length > 0) throw new UserError(`schema: unexpected argument "${argv[0]}"`, 'run `berth schema --help`');
  process.stdout.write(specSchemaText());
  return 0;
}
