// The one reader of the exporter's YAML files (the config file and the web config). A config
// path can name anything: it is opened without blocking (a FIFO would wait for a writer
// forever), refused unless it is a regular file, read up to a cap (/dev/zero never ends), and
// parsed with the aliases a document may expand capped (an alias bomb). Every problem is one
// ConfigError naming the file and, for YAML errors, the line and column.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import path from 'node:path';
import { isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { ConfigError, describeError } from './errors.js';

/** 100x a large real config (the audited host's is under 2 KB); yaml needs up to ~1 s of CPU for 256 KiB of the worst text. */
export const MAX_YAML_BYTES = 256 << 10;
/** Aliases a document may expand into its value: yaml's own default, set here on purpose. */
export const MAX_YAML_ALIASES = 100;
/** Flow collections ([ {) open at once, and columns of indentation and block indicators (- ? :) before a line's content. */
export const MAX_FLOW_DEPTH = 64;
export const MAX_BLOCK_PREFIX = 256;
/** Anchors, aliases and tags: a config needs a few; 350,000 anchors took yaml 6.5 s to refuse. */
export const MAX_YAML_PROPERTIES = 1000;
/** `]` and `}` closing nothing (legal in a plain scalar): 120,000 of them, each an error, took yaml 2.5 s. */
export const MAX_STRAY_CLOSERS = 1000;

export interface YamlOptions {
  /** What the file is, for "cannot read config file: …". */
  what: string;
  /**
   * Whether a YAML error's message may be shown: the parser quotes the offending text, which
   * in the web config may be a password hash; then only the error's code is given.
   */
  quoteErrors: boolean;
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The file's bytes: a regular file of at most MAX_YAML_BYTES, or a ConfigError. */
export function readBoundedFile(file: string, what: string): Buffer {
  const fail = (problem: string): never => {
    throw new ConfigError(file, undefined, `cannot read ${what}: ${problem}`);
  };
  let fd: number;
  try {
    fd = openSync(path.resolve(file), constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    return fail(describeError(err));
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) fail(`${kindOf(st)}, not a regular file`);
    if (st.size > MAX_YAML_BYTES) fail(`larger than ${MAX_YAML_BYTES} bytes (${st.size})`);
    // The size may change while it is read: read one byte past the cap to tell.
    const buf = Buffer.alloc(MAX_YAML_BYTES + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > MAX_YAML_BYTES) fail(`larger than ${MAX_YAML_BYTES} bytes`);
    }
    return buf.subarray(0, n);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    return fail(describeError(err)); // EISDIR, EIO, …
  } finally {
    closeSync(fd);
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const BLOCK_PREFIX = /(?:[ \t]|[-?:](?=[ \t]|$))*/y;

/**
 * How deeply the text can nest, bounded before yaml sees it: its parser recurses once per
 * level (a million `[` took 13 s to fail; half a million `- ` on one line ran it out of
 * memory). Quotes and comments are skipped as YAML reads them, so brackets inside them do
 * not count. Returns the 1-based line of the first excess, or 0.
 */
export function excessNesting(text: string): { line: number; problem: string } | undefined {
  let depth = 0;
  let props = 0;
  let stray = 0;
  let line = 1;
  let lineStart = true;
  for (let i = 0; i < text.length; i++) {
    if (lineStart) {
      lineStart = false;
      BLOCK_PREFIX.lastIndex = i;
      BLOCK_PREFIX.exec(text);
      if (BLOCK_PREFIX.lastIndex - i > MAX_BLOCK_PREFIX) return { line, problem: `indented or nested deeper than ${MAX_BLOCK_PREFIX} columns` };
    }
    const c = text[i];
    if (c === '\n') {
      line++;
      lineStart = true;
    } else if (c === '[' || c === '{') {
      if (++depth > MAX_FLOW_DEPTH) return { line, problem: `flow collections nested deeper than ${MAX_FLOW_DEPTH}` };
    } else if (c === ']' || c === '}') {
      if (depth > 0) depth--;
      else if (++stray > MAX_STRAY_CLOSERS) return { line, problem: `more than ${MAX_STRAY_CLOSERS} unmatched ] and }` };
    } else if ((c === '&' || c === '*' || c === '!') && (i === 0 || /[\s[{,:-]/.test(text[i - 1] as string))) {
      if (++props > MAX_YAML_PROPERTIES) return { line, problem: `more than ${MAX_YAML_PROPERTIES} anchors, aliases and tags` };
    } else if (c === '#' || c === '"' || c === "'") {
      const prev = i === 0 ? ' ' : (text[i - 1] as string);
      if (c === '#' ? !/\s/.test(prev) : !/[\s[{,:]/.test(prev)) continue; // inside a plain scalar
      const end = c === '#' ? text.indexOf('\n', i) : closingQuote(text, i);
      const stop = end < 0 ? text.length : end;
      for (let j = i + 1; j < stop; j++) if (text[j] === '\n') line++;
      i = c === '#' ? stop - 1 : stop; // a comment's newline is read by the loop
    }
  }
  return undefined;
}

/** Index of the quote closing the one at `start` ('' and \" escape), or -1. */
function closingQuote(text: string, start: number): number {
  const q = text[start];
  for (let j = start + 1; j < text.length; j++) {
    const c = text[j];
    if (q === '"' && c === '\\') j++;
    else if (c === q) {
      if (q === "'" && text[j + 1] === "'") j++;
      else return j;
    }
  }
  return -1;
}

/** Parses YAML text into plain values; every problem is a ConfigError naming the file. */
export function parseYaml(bytes: Buffer | string, file: string, opts: YamlOptions): unknown {
  let text: string;
  try {
    text = typeof bytes === 'string' ? bytes : UTF8.decode(bytes);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    throw new ConfigError(file, undefined, 'invalid YAML: not UTF-8 text');
  }
  const deep = excessNesting(text);
  if (deep) throw new ConfigError(file, `line ${deep.line}`, `invalid YAML: ${deep.problem}`);
  const lineCounter = new LineCounter();
  let doc;
  try {
    // Duplicate keys are found below in one pass: yaml's own check compares each key with
    // every other (quadratic in the keys).
    // logLevel: yaml would print its warnings to stderr beside our one line.
    // Each YAML error is an Error object: without stack traces they cost a fraction (figures in
    // docs/reliability.md). Synchronous, so nothing else runs with the limit lowered.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false, lineCounter, logLevel: 'error' });
    } finally {
      Error.stackTraceLimit = limit;
    }
  } catch (err) {
    // The parser recurses once per nesting level: [[[[… a million deep overflows the stack.
    if (err instanceof RangeError) throw new ConfigError(file, undefined, 'invalid YAML: nested too deeply');
    throw err;
  }
  const first = doc.errors[0];
  if (first) {
    const pos = lineCounter.linePos(first.pos[0]);
    const where = pos ? `line ${pos.line} column ${pos.col}` : undefined;
    const problem = opts.quoteErrors ? `invalid YAML: ${first.message.split('\n')[0] ?? first.code}` : `invalid YAML (${first.code})`;
    throw new ConfigError(file, where, problem);
  }
  const bad = badKey(doc);
  if (bad !== undefined) {
    const pos = lineCounter.linePos(bad.at);
    throw new ConfigError(file, pos ? `line ${pos.line} column ${pos.col}` : undefined, opts.quoteErrors ? `invalid YAML: ${bad.problem}` : `invalid YAML (${bad.code})`);
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    // yaml throws ReferenceError for an alias expanding too far ("resource exhaustion") and
    // for one whose anchor is not set before it.
    if (err instanceof ReferenceError) {
      const bomb = /excessive alias count/i.test(err.message);
      const problem = bomb ? `aliases expand past ${MAX_YAML_ALIASES} (an alias bomb?)` : opts.quoteErrors ? err.message.split('\n')[0] : 'unresolved alias';
      throw new ConfigError(file, undefined, `invalid YAML: ${problem}`);
    }
    if (err instanceof RangeError) throw new ConfigError(file, undefined, 'invalid YAML: nested too deeply');
    throw err;
  }
}

/**
 * The first mapping key no config can use: one repeated in its mapping (keys compared as the
 * values they become), or a collection (`? [a, b]`), which becomes a multi-line key string.
 */
function badKey(doc: Document): { at: number; problem: string; code: string } | undefined {
  let bad: { at: number; problem: string; code: string } | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const k = pair.key;
        if (k !== null && !isScalar(k)) {
          bad = { at: (k as { range?: [number] }).range?.[0] ?? 0, problem: 'a mapping key must be a plain value, not a collection', code: 'COLLECTION_KEY' };
          return visit.BREAK;
        }
        const name = k === null ? 'null' : String(k.value);
        if (seen.has(name)) {
          bad = { at: k?.range?.[0] ?? 0, problem: 'Map keys must be unique', code: 'DUPLICATE_KEY' };
          return visit.BREAK;
        }
        seen.add(name);
      }
      return undefined;
    },
  });
  return bad;
}

/** Reads and parses a YAML file (the config file or the web config). */
export function readYamlFile(file: string, opts: YamlOptions): unknown {
  return parseYaml(readBoundedFile(file, opts.what), file, opts);
}
