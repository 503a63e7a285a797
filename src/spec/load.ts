/**
 * Read a spec (YAML or JSON, which is YAML too) into plain data while remembering where every value was
 * written: a JSON pointer → source range map built from the `yaml` package's document tree.
 */
import {readFile} from 'node:fs/promises';
import {isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node} from 'yaml';
import {UserError} from '../errors.js';
import {yamlMessage} from './messages.js';
import type {SpecEntry} from './report.js';

/** Offsets into the text: [start, end). */
export type Range = [number, number];

export interface NodeRanges {
  /** Where the key was written (absent for list items and the document root). */
  key?: Range;
  /** Where the value was written (the key's range when the value is empty). */
  value: Range;
}

export interface LoadedSpec {
  /** The file as the user named it. */
  file: string;
  text: string;
  /** The parsed document as plain data; undefined when the YAML is too broken to trust. */
  data: unknown;
  /** JSON pointer → where it was written. */
  nodes: Map<string, NodeRanges>;
  /** Offsets where each line starts (from yaml's LineCounter). */
  lineStarts: number[];
  /** YAML problems (syntax errors, duplicate keys), already located. */
  problems: SpecEntry[];
}

/** Aliases may point at big subtrees; stop mapping positions past this many nodes. */
const maxMappedNodes = 200_000;

export async function loadSpecFile(path: string): Promise<LoadedSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const cause =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (error as Error).message;
    throw new UserError(`read spec ${path}: ${cause}`, 'check the path, e.g. `berth validate ./spec.yaml`');
  }
  return parseSpecText(text, path);
}

export function escapeSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function splitPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function joinPointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => '/' + escapeSegment(String(s))).join('');
}

function keyText(key: unknown): string {
  if (key === null || key === undefined) return '';
  if (isScalar(key)) return String(key.value);
  // A collection used as a key stringifies itself as YAML, and that can throw (`? <<: ` is a merge of
  // nothing); such a key is never valid here anyway.
  try {
    return String(key);
  } catch {
    return '?';
  }
}

function rangeOf(node: Node | null | undefined): Range | undefined {
  const range = node?.range;
  if (!range) return undefined;
  return [range[0], range[1]];
}

/** Walks the tree; returns, for each repeated key, the offset of its first occurrence. */
function mapPositions(doc: Document, nodes: Map<string, NodeRanges>): Map<number, number> {
  const firstOfDuplicate = new Map<number, number>();
  let budget = maxMappedNodes;
  const walk = (node: unknown, pointer: string, depth: number): void => {
    if (budget-- <= 0 || depth > 64) return;
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (target) walk(target, pointer, depth + 1);
      return;
    }
    if (isMap(node)) {
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        const name = keyText(pair.key);
        // YAML merge keys (`<<: *defaults`) contribute their entries, positions stay at the anchor.
        if (name === '<<' && isAlias(pair.value)) continue;
        const child = `${pointer}/${escapeSegment(name)}`;
        const key = rangeOf(pair.key as Node | null);
        let value = rangeOf(pair.value as Node | null);
        if (!value || value[0] === value[1]) value = key ?? value;
        if (key) {
          const first = seen.get(name);
          if (first === undefined) seen.set(name, key[0]);
          else firstOfDuplicate.set(key[0], first);
        }
        if (!value) continue;
        nodes.set(child, key ? {key, value} : {value});
        walk(pair.value, child, depth + 1);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        const child = `${pointer}/${index}`;
        const value = rangeOf(item as Node | null);
        if (value) nodes.set(child, {value});
        walk(item, child, depth + 1);
      });
    }
  };
  const root = rangeOf(doc.contents as Node | null) ?? [0, 0];
  nodes.set('', {value: root});
  walk(doc.contents, '', 0);
  return firstOfDuplicate;
}

/** Parse spec text (pure: no disk). Never throws for bad input; problems land in `problems`. */
export function parseSpecText(text: string, file: string): LoadedSpec {
  const lineCounter = new LineCounter();
  const nodes = new Map<string, NodeRanges>();
  const problems: SpecEntry[] = [];
  const loaded: LoadedSpec = {file, text, data: undefined, nodes, lineStarts: lineCounter.lineStarts, problems};
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    merge: true,
    uniqueKeys: true,
    // 'error', not 'silent': silent also drops MULTIPLE_DOCS (yaml 2.9); warnings would go to process.emitWarning.
    logLevel: 'error',
  });
  const firstOfDuplicate = mapPositions(doc, nodes);

  let syntaxBroken = false;
  for (const error of doc.errors) {
    if (error.code !== 'DUPLICATE_KEY') syntaxBroken = true;
    const pointer = error.code === 'DUPLICATE_KEY' ? pointerAtOffset(loaded, error.pos[0]) : '';
    const key = error.code === 'DUPLICATE_KEY' ? (splitPointer(pointer).at(-1) ?? '') : '';
    const firstOffset = firstOfDuplicate.get(error.pos[0]);
    const first = firstOffset === undefined ? undefined : lineCol(loaded, firstOffset).line;
    const {message, hint} = yamlMessage(error.code, error.message, key, first);
    problems.push(entryAt(loaded, pointer, error.pos, message, hint, 'error'));
  }
  for (const warning of doc.warnings) {
    const {message, hint} = yamlMessage(warning.code, warning.message, '', undefined);
    problems.push(entryAt(loaded, '', warning.pos, message, hint, 'warning'));
  }
  if (!syntaxBroken) {
    try {
      loaded.data = doc.toJS({maxAliasCount: 100});
    } catch (error) {
      // yaml throws for alias bombs (maxAliasCount), unresolved aliases and merges of non-maps.
      const raw = (error as Error).message;
      const code = /alias count/i.test(raw) ? 'RESOURCE_EXHAUSTION' : 'BAD_VALUE';
      const {message, hint} = yamlMessage(code, raw, '', undefined);
      problems.push(entryAt(loaded, '', [0, 0], message, hint, 'error'));
    }
  }
  return loaded;
}

/** 1-based line and column of an offset. */
export function lineCol(loaded: Pick<LoadedSpec, 'lineStarts'>, offset: number): {line: number; col: number} {
  const starts = loaded.lineStarts;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  const start = starts[lo] ?? 0;
  return {line: lo + 1, col: offset - start + 1};
}

/** The deepest pointer whose key or value range contains the offset. */
export function pointerAtOffset(loaded: LoadedSpec, offset: number): string {
  let best = '';
  let bestDepth = -1;
  for (const [pointer, ranges] of loaded.nodes) {
    const inKey = ranges.key && ranges.key[0] <= offset && offset < Math.max(ranges.key[1], ranges.key[0] + 1);
    const inValue = ranges.value[0] <= offset && offset < Math.max(ranges.value[1], ranges.value[0] + 1);
    if (!inKey && !inValue) continue;
    const depth = pointer.split('/').length;
    if (depth > bestDepth) {
      best = pointer;
      bestDepth = depth;
    }
  }
  return best;
}

/**
 * Where to point for a JSON pointer: its key (for unknown keys) or its value; a pointer that was never
 * written (a missing key, a default) falls back to the nearest ancestor that was.
 */
export function locate(loaded: LoadedSpec, pointer: string, at: 'key' | 'value'): Range {
  let p = pointer;
  for (;;) {
    const ranges = loaded.nodes.get(p);
    if (ranges) {
      if (p !== pointer) return ranges.key ?? ranges.value;
      return at === 'key' && ranges.key ? ranges.key : ranges.value;
    }
    if (p === '') return [0, 0];
    p = p.slice(0, p.lastIndexOf('/'));
  }
}

export function entryAt(
  loaded: LoadedSpec,
  pointer: string,
  range: Range,
  message: string,
  hint: string,
  severity: SpecEntry['severity'],
): SpecEntry {
  const {line, col} = lineCol(loaded, range[0]);
  const lineStart = loaded.lineStarts[line - 1] ?? 0;
  const next = loaded.text.indexOf('\n', lineStart);
  const text = loaded.text.slice(lineStart, next === -1 ? undefined : next).replace(/\r$/, '');
  const end = Math.min(range[1], next === -1 ? loaded.text.length : next);
  const entry: SpecEntry = {path: pointer, line, col, message, hint, severity};
  if (text.length > 0 || loaded.text.length > 0) entry.excerpt = {text, length: Math.max(1, end - range[0])};
  return entry;
}

/** An entry for a JSON pointer, located at its key or value. */
export function entryFor(
  loaded: LoadedSpec,
  pointer: string,
  at: 'key' | 'value',
  message: string,
  hint: string,
  severity: SpecEntry['severity'] = 'error',
): SpecEntry {
  return entryAt(loaded, pointer, locate(loaded, pointer, at), message, hint, severity);
}
