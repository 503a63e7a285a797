/**
 * `berth validate SPEC [--json]`: flags only; the work is in src/spec/index.ts (validateSpecFile).
 */
import {parseArgs} from 'node:util';
import {ExitCode, UserError} from '../errors.js';
import {validateSpecFile} from '../spec/index.js';
import {formatReport, reportToJson} from '../spec/report.js';

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({args: argv, allowPositionals: true, options: {json: {type: 'boolean'}}});
  } catch (error) {
    throw new UserError(`validate: ${(error as Error).message}`, 'run `berth validate --help`');
  }
  const {values, positionals} = parsed;
  if (positionals.length !== 1) throw new UserError('validate: give exactly one SPEC file', 'run `berth validate --help`');
  const {report, hostCount} = await validateSpecFile(positionals[0]!);
  if (values.json) process.stdout.write(JSON.stringify(reportToJson(report), null, 2) + '\n');
  else process.stdout.write(formatReport(report, hostCount) + '\n');
  return report.valid ? ExitCode.ok : ExitCode.spec;
}
