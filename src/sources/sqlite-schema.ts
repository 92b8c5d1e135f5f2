// The checks SQLite makes on the rows of sqlite_master when it loads a schema (prepare.c
// sqlite3InitCallback, build.c sqlite3CheckObjectName and the CREATE statements' own checks),
// so a database it calls "malformed database schema" gets ok 0 here too: rootpage present and
// in range, a CREATE statement that tokenizes and whose type, name and table agree with the
// row's columns, no two objects of one name, an index on an existing table. SQLite's full
// grammar is not re-implemented: a statement that tokenizes but is not valid SQL (a keyword
// turned into another word) is the one class left to sqlite3 (see docs/reliability.md).
import { SqliteReadError, valueText, type TextEncoding, type Value } from './sqlite-format.js';

const corrupt = (msg: string): SqliteReadError => new SqliteReadError('corrupt', `malformed database schema: ${msg}`);

/** A name from the file, for a problem message: quoted, and cut short (it reaches the log). */
function q(name: string | null): string {
  if (name === null) return 'NULL';
  return JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name);
}

/** The reference query's filter, `name NOT LIKE 'sqlite_%'`: LIKE is case-blind and `_` is any character. */
function isInternalName(name: string | null): boolean {
  return name !== null && /^sqlite./isu.test(name);
}

/** sqlite3GetUInt32: decimal digits only, at most 2^32 - 1. */
function uint32(v: Value, enc: TextEncoding): number | undefined {
  const t = valueText(v, enc);
  if (t === null || !/^[0-9]{1,10}$/.test(t)) return undefined;
  const n = Number(t);
  return n <= 0xffffffff ? n : undefined;
}

interface Obj {
  kind: string;
  name: string;
  table: string;
  root: number;
  /** For a table: at most how many automatic indexes its constraints made. */
  autoIndexes: number;
  /** A table's columns, an index's plain columns (when known). */
  columns?: string[];
}

const ROWID = new Set(['rowid', 'oid', '_rowid_']);

/** The objects of one schema as they are loaded, row by row in rowid order. */
export class SchemaModel {
  tables = 0;
  indexes = 0;
  private readonly objects = new Map<string, Obj>();
  /** Root pages of each table and its indexes, by lower-case table name. */
  private readonly roots = new Map<string, Set<number>>();
  constructor(private readonly maxPage: number) {}

  get maxPages(): number {
    return this.maxPage;
  }

  add(o: Obj, ifNotExists: boolean): void {
    const key = o.name.toLowerCase();
    const clash = this.objects.get(key);
    if (clash && !ifNotExists) throw corrupt(`${o.kind} ${q(o.name)}: there is already a ${clash.kind} named ${q(clash.name)}`);
    if (o.kind === 'index') {
      const t = this.objects.get(o.table.toLowerCase());
      if (!t || t.kind !== 'table') throw corrupt(`index ${q(o.name)}: no such table ${q(o.table)}`);
      if (t.columns && o.columns) {
        const have = new Set(t.columns.map((c) => c.toLowerCase()));
        const missing = o.columns.find((c) => !have.has(c.toLowerCase()) && !ROWID.has(c.toLowerCase()));
        if (missing !== undefined) throw corrupt(`index ${q(o.name)}: no such column ${q(missing)}`);
      }
      this.checkRoot(o.name, o.table, o.root);
    }
    if (clash) return;
    this.objects.set(key, o);
    if (o.kind === 'table') this.roots.set(key, new Set([o.root]));
  }

  /** sqlite3IndexHasDuplicateRootPage: an index may not share its table's root or another index's. */
  private checkRoot(name: string, table: string, root: number): void {
    const roots = this.roots.get(table.toLowerCase());
    if (roots?.has(root)) throw corrupt(`index ${q(name)}: invalid rootpage`);
    roots?.add(root);
  }

  /**
   * A row without SQL is an index a table's UNIQUE or PRIMARY KEY made: SQLite calls it an
   * orphan unless a table loaded before it made one of that name (sqlite_autoindex_T_N).
   */
  addAutoIndex(name: string, root: number | undefined): void {
    const m = /^sqlite_autoindex_(.+)_([0-9]+)$/is.exec(name);
    const t = m ? this.objects.get((m[1] as string).toLowerCase()) : undefined;
    const nth = m ? Number(m[2]) : 0;
    if (!t || t.kind !== 'table' || nth < 1 || nth > t.autoIndexes) throw corrupt(`${q(name)}: orphan index`);
    if (root === undefined || root < 2 || root > this.maxPage) throw corrupt(`${q(name)}: invalid rootpage`);
    this.checkRoot(name, t.name, root);
    this.objects.set(name.toLowerCase(), { kind: 'index', name, table: t.name, root, autoIndexes: 0 });
  }
}

/** Checks one sqlite_master row (type, name, tbl_name, rootpage, sql) and counts it. */
export function checkSchemaRow(model: SchemaModel, cols: Value[], enc: TextEncoding): void {
  const [type = null, name = null, tblName = null, rootpage = null, sqlValue = null] = cols;
  // SQLite hands each column to the callback as a C string: it ends at the first NUL.
  const cstr = (v: Value): string | null => {
    const x = valueText(v, enc);
    return x === null || !x.includes('\0') ? x : x.slice(0, x.indexOf('\0'));
  };
  const t = cstr(type);
  const n = cstr(name);
  const tb = cstr(tblName);
  const sql = cstr(sqlValue);
  if (rootpage === null) throw corrupt(`${q(n)}: no rootpage`);
  if (sql !== null && /^cr/i.test(sql)) {
    const root = uint32(rootpage, enc);
    if (root === undefined || (root > model.maxPages && model.maxPages > 0)) throw corrupt(`${q(n)}: invalid rootpage`);
    const c = parseCreate(sql);
    if (typeof c === 'string') throw corrupt(`${q(n)}: ${c}`);
    // sqlite3CheckObjectName: the row must say what its statement creates.
    const same = (a: string | null, b: string): boolean => a !== null && a.toLowerCase() === b.toLowerCase();
    if (!same(t, c.kind) || !same(n, c.name) || !same(tb, c.table)) throw corrupt(`${q(n)}: row and statement disagree`);
    model.add({ kind: c.kind, name: c.name, table: c.table, root, autoIndexes: c.autoIndexes, ...(c.columns ? { columns: c.columns } : {}) }, c.ifNotExists);
  } else if (n === null || (sql !== null && sql !== '')) {
    throw corrupt(`${q(n)}: not a CREATE statement`);
  } else {
    model.addAutoIndex(n, uint32(rootpage, enc));
  }
  if (isInternalName(n)) return;
  if (t === 'table') model.tables++;
  else if (t === 'index') model.indexes++;
}

interface Token {
  kind: 'id' | 'str' | 'num' | 'var' | 'op' | 'illegal';
  text: string;
}

/** Most tokens of one CREATE statement read (a table of SQLite's 2000 columns needs about 20 000). */
export const MAX_TOKENS = 200_000;

// SQLite's identifier characters: letters, '_', every byte of a multi-byte character, and
// digits and '$' after the first (tokenize.c IdChar). By char code: the tokenizer's hot loop.
const isIdStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 0x80;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isIdChar = (c: number): boolean => isIdStart(c) || isDigit(c) || c === 36;

/** SQLite's tokenizer (tokenize.c), enough to find the tokens it calls illegal. */
export function tokenize(sql: string, maxTokens = MAX_TOKENS): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n && out.length < maxTokens) {
    const c = sql[i] as string;
    const code = sql.charCodeAt(i);
    if (c === ' ' || c === '\t' || c === '\n' || c === '\f' || c === '\r') {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      const e = sql.indexOf('\n', i);
      i = e < 0 ? n : e + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const e = sql.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      for (;;) {
        const e = sql.indexOf(c, j);
        if (e < 0) {
          out.push({ kind: 'illegal', text: sql.slice(i) });
          return out;
        }
        if (sql[e + 1] === c) j = e + 2;
        else {
          j = e + 1;
          break;
        }
      }
      out.push({ kind: c === "'" ? 'str' : 'id', text: sql.slice(i + 1, j - 1).split(c + c).join(c) });
      i = j;
    } else if (c === '[') {
      const e = sql.indexOf(']', i);
      if (e < 0) return [...out, { kind: 'illegal', text: sql.slice(i) }];
      out.push({ kind: 'id', text: sql.slice(i + 1, e) });
      i = e + 1;
    } else if (isDigit(code) || (c === '.' && isDigit(sql.charCodeAt(i + 1)))) {
      const m = /^(0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]*([eE][+-]?[0-9]+)?)/.exec(sql.slice(i, i + 400)) as RegExpExecArray;
      let j = i + Math.max(1, (m[0] as string).length);
      if (j < n && isIdChar(sql.charCodeAt(j))) {
        while (j < n && isIdChar(sql.charCodeAt(j))) j++;
        out.push({ kind: 'illegal', text: sql.slice(i, j) });
      } else out.push({ kind: 'num', text: sql.slice(i, j) });
      i = j;
    } else if ((c === 'x' || c === 'X') && sql[i + 1] === "'") {
      const e = sql.indexOf("'", i + 2);
      const hex = e < 0 ? '' : sql.slice(i + 2, e);
      out.push({ kind: e < 0 || hex.length % 2 === 1 || !/^[0-9a-fA-F]*$/.test(hex) ? 'illegal' : 'str', text: hex });
      i = e < 0 ? n : e + 1;
    } else if (isIdStart(code)) {
      let j = i + 1;
      while (j < n && isIdChar(sql.charCodeAt(j))) j++;
      out.push({ kind: 'id', text: sql.slice(i, j) });
      i = j;
    } else if (c === '?') {
      let j = i + 1;
      while (j < n && isDigit(sql.charCodeAt(j))) j++;
      out.push({ kind: 'var', text: sql.slice(i, j) });
      i = j;
    } else if (c === '$' || c === '@' || c === ':' || c === '#') {
      let j = i + 1;
      while (j < n && isIdChar(sql.charCodeAt(j))) j++;
      out.push({ kind: j === i + 1 ? 'illegal' : 'var', text: sql.slice(i, j) });
      i = j;
    } else {
      const two = sql.slice(i, i + 2);
      if (['==', '<=', '<>', '<<', '>=', '>>', '!=', '||', '->'].includes(two)) {
        out.push({ kind: 'op', text: two === '->' && sql[i + 2] === '>' ? '->>' : two });
        i += two === '->' && sql[i + 2] === '>' ? 3 : 2;
      } else if ('()+-*/%,&~|<>=;.'.includes(c)) {
        out.push({ kind: 'op', text: c });
        i++;
      } else {
        out.push({ kind: 'illegal', text: c });
        i++;
      }
    }
  }
  return out;
}

export interface CreateStatement {
  kind: 'table' | 'index' | 'view' | 'trigger';
  name: string;
  /** The table it belongs to (its own name for a table or view). */
  table: string;
  ifNotExists: boolean;
  /** For a table: an upper bound on the automatic indexes its constraints make. */
  autoIndexes: number;
  /** For a table made from a column list: its columns; for an index: the plain columns it names. */
  columns?: string[];
}

const isKw = (t: Token | undefined, kw: string): boolean => t !== undefined && t.kind === 'id' && t.text.toUpperCase() === kw;
const isName = (t: Token | undefined): boolean => t !== undefined && (t.kind === 'id' || t.kind === 'str');

/** The object a CREATE statement makes, or why SQLite's parser would refuse it. */
export function parseCreate(sql: string): CreateStatement | string {
  const all = tokenize(sql);
  if (all.length >= MAX_TOKENS) throw new SqliteReadError('budget', `a schema statement of more than ${MAX_TOKENS} tokens`);
  let k = 0;
  const next = (): Token | undefined => all[k++];
  const peek = (): Token | undefined => all[k];
  if (!isKw(next(), 'CREATE')) return 'not a CREATE statement';
  if (isKw(peek(), 'TEMP') || isKw(peek(), 'TEMPORARY')) k++;
  let kind: CreateStatement['kind'];
  if (isKw(peek(), 'VIRTUAL')) {
    k++;
    if (!isKw(next(), 'TABLE')) return 'syntax error after VIRTUAL';
    kind = 'table';
  } else {
    if (isKw(peek(), 'UNIQUE')) k++;
    const w = next();
    const kw = w?.kind === 'id' ? w.text.toUpperCase() : '';
    if (kw === 'TABLE') kind = 'table';
    else if (kw === 'INDEX') kind = 'index';
    else if (kw === 'VIEW') kind = 'view';
    else if (kw === 'TRIGGER') kind = 'trigger';
    else return `syntax error near ${q(w?.text ?? '')}`;
  }
  let ifNotExists = false;
  if (isKw(peek(), 'IF')) {
    k++;
    if (!isKw(next(), 'NOT') || !isKw(next(), 'EXISTS')) return 'syntax error in IF NOT EXISTS';
    ifNotExists = true;
  }
  let nameTok = next();
  if (!isName(nameTok)) return 'no object name';
  if (peek()?.text === '.' && peek()?.kind === 'op') {
    k++;
    nameTok = next();
    if (!isName(nameTok)) return 'no object name after the schema';
  }
  const name = (nameTok as Token).text;
  // The statement ends at the first ';' outside parentheses (a trigger's body runs to END).
  let end = all.length;
  let depth = 0;
  for (let j = k; j < all.length; j++) {
    const t = all[j] as Token;
    if (t.kind === 'illegal') return `unrecognized token: ${q(t.text)}`;
    if (t.kind === 'op' && t.text === '(') depth++;
    else if (t.kind === 'op' && t.text === ')') {
      if (--depth < 0) return 'syntax error near ")"';
    } else if (t.kind === 'op' && t.text === ';' && depth === 0 && kind !== 'trigger') {
      end = j;
      break;
    }
  }
  if (depth > 0) return 'incomplete input';
  const body = all.slice(k, end);
  if (kind === 'table') {
    const first = body[0];
    if (isKw(first, 'USING')) return { kind, name, table: name, ifNotExists, autoIndexes: 0 };
    if (isKw(first, 'AS')) return body.length > 1 ? { kind, name, table: name, ifNotExists, autoIndexes: 0 } : 'incomplete input';
    if (first?.kind !== 'op' || first.text !== '(') return `syntax error near ${q(first?.text ?? '')}`;
    const columns = columnList(body);
    if (typeof columns === 'string') return columns;
    const autoIndexes = body.filter((t) => isKw(t, 'UNIQUE') || isKw(t, 'PRIMARY')).length;
    return { kind, name, table: name, ifNotExists, autoIndexes, columns };
  }
  if (kind === 'view') {
    if (!body.some((t) => isKw(t, 'AS'))) return 'incomplete input';
    return { kind, name, table: name, ifNotExists, autoIndexes: 0 };
  }
  const on = body.findIndex((t) => isKw(t, 'ON'));
  if (on < 0 || !isName(body[on + 1])) return 'syntax error: no ON table';
  let table = (body[on + 1] as Token).text;
  let after = on + 2;
  if (body[after]?.text === '.' && body[after]?.kind === 'op' && isName(body[after + 1])) {
    table = (body[after + 1] as Token).text;
    after += 2;
  }
  if (kind === 'index') {
    if (on !== 0) return 'syntax error before ON';
    const open = body[after];
    if (open?.kind !== 'op' || open.text !== '(') return 'syntax error: no indexed columns';
    const cols = indexedColumns(body.slice(after + 1));
    if (typeof cols === 'string') return cols;
    // After the column list only a WHERE clause may follow (a partial index).
    let d = 0;
    let close = after;
    for (; close < body.length; close++) {
      const t = body[close] as Token;
      if (t.kind === 'op' && t.text === '(') d++;
      else if (t.kind === 'op' && t.text === ')' && --d === 0) break;
    }
    const tail = body[close + 1];
    if (tail !== undefined && !isKw(tail, 'WHERE')) return `syntax error near ${q(tail.text)}`;
    return { kind, name, table, ifNotExists, autoIndexes: 0, columns: cols };
  } else if (!body.some((t) => isKw(t, 'END'))) {
    return 'incomplete input';
  }
  return { kind, name, table, ifNotExists, autoIndexes: 0 };
}

/**
 * An index's column list (after its "("): items separated by commas, none empty; an item of
 * names only is `col [COLLATE name] [ASC|DESC]` (anything with an operator is an expression).
 * Returns the problem, or the plain column names it indexes.
 */
function indexedColumns(rest: Token[]): string | string[] {
  let depth = 0;
  let item: Token[] = [];
  const plain: string[] = [];
  const check = (): string | undefined => {
    if (item.length === 0) return 'syntax error: an empty indexed column';
    if (!item.every(isName)) return undefined;
    if ((item[0] as Token).kind === 'id') plain.push((item[0] as Token).text);
    let i = 1;
    if (isKw(item[i], 'COLLATE')) i += 2;
    if (isKw(item[i], 'ASC') || isKw(item[i], 'DESC')) i++;
    return i === item.length ? undefined : `syntax error near ${q((item[i] as Token | undefined)?.text ?? '')}`;
  };
  for (const t of rest) {
    if (t.kind === 'op' && t.text === '(') depth++;
    else if (t.kind === 'op' && t.text === ')') {
      if (depth === 0) return check() ?? plain;
      depth--;
    } else if (depth === 0 && t.kind === 'op' && t.text === ',') {
      const bad = check();
      if (bad) return bad;
      item = [];
      continue;
    }
    item.push(t);
  }
  return 'incomplete input';
}

const CONSTRAINT_START = new Set(['CONSTRAINT', 'PRIMARY', 'UNIQUE', 'CHECK', 'FOREIGN']);

/** A token at the column list's own level, or a parenthesized group (its inner tokens). */
type Element = Token | { kind: 'group'; text: '(...)'; inner: Token[] };

/**
 * A table's column list: each top-level comma-separated item is a column definition (checked
 * by columnDefProblem) or a table constraint (starting CONSTRAINT, PRIMARY KEY, UNIQUE, CHECK,
 * FOREIGN KEY), none is empty, and the list closes before the table options. Returns the
 * problem, or the column names.
 */
function columnList(body: Token[]): string | string[] {
  const items: Element[][] = [];
  let item: Element[] = [];
  let group: Token[] | undefined;
  let depth = 0;
  for (let j = 1; j < body.length; j++) {
    const t = body[j] as Token;
    const op = t.kind === 'op' ? t.text : '';
    if (op === ';') return 'syntax error near ";"';
    if (depth > 0) {
      if (op === '(') depth++;
      if (op === ')' && --depth === 0) {
        item.push({ kind: 'group', text: '(...)', inner: group as Token[] });
        group = undefined;
      } else (group as Token[]).push(t);
      continue;
    }
    if (op === '(') {
      depth = 1;
      group = [];
    } else if (op === ',' || op === ')') {
      if (item.length === 0) return `syntax error near ${q(op)}`;
      items.push(item);
      item = [];
      if (op === ')') {
        // After the list: table options only (WITHOUT ROWID, STRICT, commas between them).
        for (const o of body.slice(j + 1)) if (!(o.kind === 'id' || (o.kind === 'op' && o.text === ','))) return `syntax error near ${q(o.text)}`;
        const columns: string[] = [];
        for (const it of items) {
          const head = it[0] as Element;
          if (head.kind === 'id' && CONSTRAINT_START.has(head.text.toUpperCase())) {
            const bad = tableConstraintProblem(it);
            if (bad) return bad;
          } else {
            const bad = columnDefProblem(it);
            if (bad) return bad;
            columns.push(head.text);
          }
        }
        return columns;
      }
    } else item.push(t);
  }
  return 'incomplete input';
}

const upper = (e: Element | undefined): string => (e?.kind === 'id' ? e.text.toUpperCase() : '');
const nearEl = (e: Element | undefined): string => `syntax error near ${q(e ? e.text : '')}`;
const isGroup = (e: Element | undefined): boolean => e?.kind === 'group';
const isNameEl = (e: Element | undefined): boolean => e !== undefined && e.kind !== 'group' && isName(e);

/**
 * Words that end a type name: the column constraints' first words that SQLite never takes as
 * an identifier (GENERATED is one it does, so `int generated always as (...)` is a type).
 */
const COLUMN_CONSTRAINT = new Set(['CONSTRAINT', 'PRIMARY', 'NOT', 'NULL', 'UNIQUE', 'CHECK', 'DEFAULT', 'COLLATE', 'REFERENCES', 'AS']);
const CONFLICT = new Set(['ROLLBACK', 'ABORT', 'FAIL', 'IGNORE', 'REPLACE']);

/** `ON CONFLICT resolution`, when present at i: returns the index after it, or a problem. */
function conflictClause(els: Element[], i: number): number | string {
  if (upper(els[i]) !== 'ON') return i;
  if (upper(els[i + 1]) !== 'CONFLICT') return nearEl(els[i + 1]);
  if (!CONFLICT.has(upper(els[i + 2]))) return nearEl(els[i + 2]);
  return i + 3;
}

/** A foreign key clause's arguments after `REFERENCES name [(cols)]`: returns the index after them, or a problem. */
function foreignKeyArgs(els: Element[], start: number): number | string {
  let i = start;
  for (;;) {
    const kw = upper(els[i]);
    if (kw === 'ON') {
      if (!['DELETE', 'UPDATE'].includes(upper(els[i + 1]))) return nearEl(els[i + 1]);
      const act = upper(els[i + 2]);
      if (act === 'SET') {
        if (!['NULL', 'DEFAULT'].includes(upper(els[i + 3]))) return nearEl(els[i + 3]);
        i += 4;
      } else if (act === 'NO') {
        if (upper(els[i + 3]) !== 'ACTION') return nearEl(els[i + 3]);
        i += 4;
      } else if (act === 'CASCADE' || act === 'RESTRICT') i += 3;
      else return nearEl(els[i + 2]);
    } else if (kw === 'MATCH') {
      if (!isNameEl(els[i + 1])) return nearEl(els[i + 1]);
      i += 2;
    } else if (kw === 'DEFERRABLE' || (kw === 'NOT' && upper(els[i + 1]) === 'DEFERRABLE')) {
      i += kw === 'NOT' ? 2 : 1;
      if (upper(els[i]) === 'INITIALLY') {
        if (!['DEFERRED', 'IMMEDIATE'].includes(upper(els[i + 1]))) return nearEl(els[i + 1]);
        i += 2;
      }
    } else return i;
  }
}

/** A type's arguments: `(n)` or `(n, m)`, each a number with an optional sign. */
function signedNumbers(inner: Token[]): boolean {
  const parts: Token[][] = [[]];
  for (const t of inner) {
    if (t.kind === 'op' && t.text === ',') parts.push([]);
    else (parts[parts.length - 1] as Token[]).push(t);
  }
  return (
    parts.length <= 2 &&
    parts.every((p) => (p.length === 1 && p[0]?.kind === 'num') || (p.length === 2 && (p[0]?.text === '-' || p[0]?.text === '+') && p[1]?.kind === 'num'))
  );
}

/**
 * One column definition as SQLite's grammar has it: a name, a type of words (and numeric
 * arguments), then column constraints, each complete (PRIMARY KEY [ASC|DESC] [ON CONFLICT]
 * [AUTOINCREMENT], NOT NULL, DEFAULT value, REFERENCES t [(cols)] [ON DELETE action]...).
 * Expressions inside parentheses (CHECK, DEFAULT (...), AS (...)) are not looked into.
 */
function columnDefProblem(els: Element[]): string | undefined {
  if (!isNameEl(els[0])) return nearEl(els[0]);
  let i = 1;
  while (i < els.length && isNameEl(els[i]) && !COLUMN_CONSTRAINT.has(upper(els[i]))) i++;
  if (i > 1 && isGroup(els[i])) {
    if (!signedNumbers((els[i] as { inner: Token[] }).inner)) return 'syntax error in a type argument';
    i++;
  }
  while (i < els.length) {
    const kw = upper(els[i]);
    i++;
    let next: number | string = i;
    switch (kw) {
      case 'CONSTRAINT':
      case 'COLLATE':
        if (!isNameEl(els[i])) return nearEl(els[i]);
        next = i + 1;
        break;
      case 'PRIMARY':
        if (upper(els[i]) !== 'KEY') return nearEl(els[i]);
        next = i + 1;
        if (['ASC', 'DESC'].includes(upper(els[next]))) next++;
        next = conflictClause(els, next);
        if (typeof next === 'number' && upper(els[next]) === 'AUTOINCREMENT') next++;
        break;
      case 'NOT':
        if (upper(els[i]) === 'NULL') next = conflictClause(els, i + 1);
        else if (upper(els[i]) === 'DEFERRABLE') next = foreignKeyArgs(els, i - 1);
        else return nearEl(els[i]);
        break;
      case 'NULL':
      case 'UNIQUE':
        next = conflictClause(els, i);
        break;
      case 'CHECK':
        if (!isGroup(els[i])) return nearEl(els[i]);
        next = i + 1;
        break;
      case 'DEFAULT': {
        const v = els[i];
        if (v?.kind === 'op' && (v.text === '-' || v.text === '+')) {
          // DEFAULT -term: a number, a string or blob, NULL or CURRENT_* (parse.y ccons).
          const term = els[i + 1]?.kind;
          if (term !== 'num' && term !== 'str' && term !== 'id') return nearEl(els[i + 1]);
          next = i + 2;
        } else if (isGroup(v) || v?.kind === 'num' || v?.kind === 'str' || v?.kind === 'id') next = i + 1;
        else return nearEl(v);
        break;
      }
      case 'REFERENCES':
        if (!isNameEl(els[i])) return nearEl(els[i]);
        next = foreignKeyArgs(els, isGroup(els[i + 1]) ? i + 2 : i + 1);
        break;
      case 'GENERATED':
        if (upper(els[i]) !== 'ALWAYS' || upper(els[i + 1]) !== 'AS') return nearEl(els[i]);
        next = generatedAs(els, i + 2);
        break;
      case 'AS':
        next = generatedAs(els, i);
        break;
      default:
        return nearEl(els[i - 1]);
    }
    if (typeof next === 'string') return next;
    i = next;
  }
  return undefined;
}

/** `(expr) [STORED|VIRTUAL]` after GENERATED ALWAYS AS, or AS. */
function generatedAs(els: Element[], i: number): number | string {
  if (!isGroup(els[i])) return nearEl(els[i]);
  return ['STORED', 'VIRTUAL'].includes(upper(els[i + 1])) ? i + 2 : i + 1;
}

/** A table constraint: PRIMARY KEY and FOREIGN KEY need KEY and a column list. */
function tableConstraintProblem(els: Element[]): string | undefined {
  let i = 0;
  if (upper(els[0]) === 'CONSTRAINT') {
    if (!isNameEl(els[1])) return nearEl(els[1]);
    i = 2;
  }
  const kw = upper(els[i]);
  if (kw === 'PRIMARY' || kw === 'FOREIGN') {
    if (upper(els[i + 1]) !== 'KEY') return nearEl(els[i + 1]);
    if (!isGroup(els[i + 2])) return nearEl(els[i + 2]);
  } else if (kw === 'UNIQUE' || kw === 'CHECK') {
    if (!isGroup(els[i + 1])) return nearEl(els[i + 1]);
  } else if (i > 0) return nearEl(els[i]);
  return undefined;
}
