#!/usr/bin/env node
/**
 * berth's entry point: the only place that catches everything and calls process.exit (STYLE.md habit 2).
 */
import {commands} from './commands.js';
import {report} from './report-error.js';

const version = '0.1.0';

function help(): string {
  const names = Object.keys(commands);
  const width = Math.max(8, ...names.map((n) => n.length));
  const lines = names.map((n) => `  ${n.padEnd(width)}  ${commands[n]!.summary}`);
  return [
    'berth — turn Linux servers into minimal, immutable container hosts, and keep them that way.',
    '',
    'Usage: berth COMMAND [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `berth COMMAND --help` for the options of one command.',
    '',
    'Exit codes: 0 ok · 1 bug in berth · 2 usage or user error · 3 invalid spec · 4 one or more hosts failed ·',
    '            130 interrupted',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(version + '\n');
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`berth: unknown command "${name}". Run \`berth --help\` for the list.\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage.trimEnd() + '\n');
    return 0;
  }
  const module = await command.load();
  return module.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = report(error, process.stderr);
  },
);
