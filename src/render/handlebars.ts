/**
 * The only handlebars import: an isolated instance (so no other code's helpers leak in), strict mode (a
 * missing field is an error, not an empty string) and no HTML escaping (we write config files, not HTML).
 * Every quoting rule lives in escape.ts; templates call it through the helpers registered here.
 */
import {readFileSync, readdirSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import Handlebars from 'handlebars';
import {BugError} from '../errors.js';
import {environmentAssignment, execLine, shellDoubleQuoted, shellWord, unitText} from './escape.js';

export type Template = (view: object) => string;

/**
 * templates/ sits at the package root. This file runs as src/render/handlebars.ts (tsx) or
 * dist/render/handlebars.js (built): both are two levels below the root.
 */
export function templatesDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');
}

function strings(value: unknown, helper: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new BugError(`template helper ${helper}: expected a list of strings, got ${JSON.stringify(value)}`);
  }
  return value;
}

function text(value: unknown, helper: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw new BugError(`template helper ${helper}: expected a string, got ${JSON.stringify(value)}`);
}

function createInstance(): typeof Handlebars {
  const hb = Handlebars.create();
  // Helpers get handlebars' options object as their last argument; only the leading ones are ours.
  hb.registerHelper('exec', (argv: unknown) => execLine(strings(argv, 'exec')));
  hb.registerHelper('env', (name: unknown, value: unknown) => environmentAssignment(text(name, 'env'), text(value, 'env')));
  hb.registerHelper('unitText', (value: unknown) => unitText(text(value, 'unitText')));
  hb.registerHelper('sh', (value: unknown) => shellWord(text(value, 'sh')));
  hb.registerHelper('shWords', (value: unknown) => strings(value, 'shWords').map(shellWord).join(' '));
  hb.registerHelper('shDq', (value: unknown) => shellDoubleQuoted(text(value, 'shDq')));
  hb.registerHelper('join', (value: unknown, separator: unknown) =>
    strings(value, 'join').join(typeof separator === 'string' ? separator : ' '),
  );
  return hb;
}

const knownHelpers = {exec: true, env: true, unitText: true, sh: true, shWords: true, shDq: true, join: true};

/**
 * Hosts of one group render many identical files (the same scripts, update configuration, units), and
 * handlebars' per-call setup costs more than serialising the view: remember recent outputs by view.
 * Rendering is pure, so a hit is byte-for-byte what a fresh render gives. Bounded, for long-lived processes.
 */
function memoized(render: (view: object) => string): Template {
  const cache = new Map<string, string>();
  return (view) => {
    const key = JSON.stringify(view);
    let out = cache.get(key);
    if (out === undefined) {
      out = render(view);
      if (cache.size >= 2000) cache.clear();
      cache.set(key, out);
    }
    return out;
  };
}

/** All templates, compiled. Built on first use and kept for the process: compiling is the expensive part. */
let compiled: Map<string, Template> | undefined;

function compileAll(): Map<string, Template> {
  const hb = createInstance();
  const dir = templatesDir();
  const out = new Map<string, Template>();
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.hbs')) continue;
    const source = readFileSync(path.join(dir, file), 'utf8');
    // knownHelpersOnly: a name that is not a field or one of our helpers fails at compile time, and helper
    // calls skip the runtime lookup (measurably faster over a 100-host render).
    const template = hb.compile(source, {strict: true, noEscape: true, knownHelpers, knownHelpersOnly: true});
    out.set(file.slice(0, -'.hbs'.length), memoized(template));
  }
  return out;
}

/** The compiled template `name` (file templates/NAME.hbs). */
export function template(name: string): Template {
  compiled ??= compileAll();
  const found = compiled.get(name);
  if (!found) throw new BugError(`template ${name}.hbs is missing from ${templatesDir()}`);
  return found;
}
