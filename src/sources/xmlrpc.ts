// Minimal XML-RPC (the subset supervisord speaks): encode a call, decode a response.
// Pure functions, unit-tested and fuzzed; transport lives in supervisor.ts.
export type XmlRpcValue = string | number | boolean | null | XmlRpcValue[] | { [k: string]: XmlRpcValue };

/** Peer text as it goes into an error message (and so a log line): at most `max` characters. */
export function clip(s: string, max = 200): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length} chars)`;
}

export class XmlRpcFault extends Error {
  constructor(
    readonly faultCode: number,
    readonly faultString: string,
  ) {
    super(`XML-RPC fault ${faultCode}: ${clip(faultString)}`);
    this.name = 'XmlRpcFault';
  }
}

/** A response that is not well-formed XML-RPC, or exceeds the decoder's budget. */
export class XmlRpcFormatError extends Error {
  constructor(message: string) {
    super(`malformed XML-RPC response: ${message}`);
    this.name = 'XmlRpcFormatError';
  }
}

/**
 * The decoder's budget: nesting (the recursion is bounded by it, so a deep document cannot
 * overflow the stack) and values in all (bounds the memory an answer can make). supervisord
 * nests four deep (multicall list, process list, struct, value) and sends some 15 values per
 * process, so these allow some 16,000 processes; the value cap also bounds the decoding time.
 */
export const MAX_DEPTH = 32;
export const MAX_VALUES = 250_000;

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function encodeValue(v: XmlRpcValue): string {
  if (typeof v === 'string') return `<value><string>${escapeXml(v)}</string></value>`;
  if (typeof v === 'boolean') return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (typeof v === 'number') {
    return Number.isInteger(v) ? `<value><int>${v}</int></value>` : `<value><double>${v}</double></value>`;
  }
  if (v === null) return '<value><nil/></value>';
  if (Array.isArray(v)) return `<value><array><data>${v.map(encodeValue).join('')}</data></array></value>`;
  const members = Object.entries(v)
    .map(([k, x]) => `<member><name>${escapeXml(k)}</name>${encodeValue(x)}</member>`)
    .join('');
  return `<value><struct>${members}</struct></value>`;
}

export function encodeCall(method: string, params: readonly XmlRpcValue[] = []): string {
  const ps = params.map((p) => `<param>${encodeValue(p)}</param>`).join('');
  return `<?xml version="1.0"?>\n<methodCall><methodName>${escapeXml(method)}</methodName><params>${ps}</params></methodCall>`;
}

// A hand-written decoder for the small, fixed grammar of an XML-RPC response. It replaced
// fast-xml-parser: on supervisord's getAllProcessInfo for 500 processes the generic parser
// (DOM of every element, then a walk) cost ~20x more CPU and allocated ~10x more per scrape;
// see docs/performance.md, "Scrape cost and scale". Entities and CDATA are decoded, text is never
// trimmed (a program's description may carry meaningful spaces), numbers are not guessed.

class Cursor {
  i = 0;
  depth = 0;
  values = 0;
  constructor(readonly s: string) {}

  fail(what: string): never {
    throw new XmlRpcFormatError(what);
  }

  /** Skips whitespace, comments and processing instructions. */
  skip(): void {
    const s = this.s;
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (c === 32 || c === 10 || c === 13 || c === 9) {
        this.i++;
      } else if (c === 60 /* < */ && s.startsWith('<!--', this.i)) {
        const e = s.indexOf('-->', this.i + 4);
        if (e < 0) this.fail('unterminated comment');
        this.i = e + 3;
      } else if (c === 60 && s.charCodeAt(this.i + 1) === 63 /* ? */) {
        const e = s.indexOf('?>', this.i + 2);
        if (e < 0) this.fail('unterminated processing instruction');
        this.i = e + 2;
      } else {
        return;
      }
    }
  }

  /**
   * At "<name ...>" or "<name/>" (after skip()): returns the tag name and whether it closed
   * itself, and moves past it. Undefined (not moved) when the next thing is not an opening tag.
   */
  open(): { tag: string; empty: boolean } | undefined {
    const s = this.s;
    if (s.charCodeAt(this.i) !== 60) return undefined;
    const c1 = s.charCodeAt(this.i + 1);
    if (c1 === 47 /* / */ || c1 === 33 /* ! */ || c1 === 63 /* ? */) return undefined;
    const end = s.indexOf('>', this.i + 1);
    if (end < 0) this.fail('unterminated tag');
    const empty = s.charCodeAt(end - 1) === 47; /* / */
    // The name ends at whitespace, the '/' of an empty element or the '>' (no regex, no
    // intermediate string: this runs once per element).
    let e = this.i + 1;
    const stop = empty ? end - 1 : end;
    for (; e < stop; e++) {
      const c = s.charCodeAt(e);
      if (c === 32 || c === 10 || c === 13 || c === 9) break;
    }
    const tag = s.slice(this.i + 1, e);
    this.i = end + 1;
    return { tag, empty };
  }

  expectOpen(tag: string): boolean {
    this.skip();
    const at = this.i;
    const o = this.open();
    if (!o || o.tag !== tag) {
      this.i = at;
      this.fail(`expected <${tag}>`);
    }
    return o.empty;
  }

  /** Whether "</tag>" is next (after skip()); consumes it when it is. */
  atClose(tag: string): boolean {
    this.skip();
    const s = this.s;
    if (s.charCodeAt(this.i) !== 60 || s.charCodeAt(this.i + 1) !== 47) return false;
    // Compared in place: "</tag>" or "</tag >", without slicing the closing tag out.
    if (!s.startsWith(tag, this.i + 2)) return false;
    let e = this.i + 2 + tag.length;
    for (;;) {
      const c = s.charCodeAt(e);
      if (c === 62 /* > */) break;
      if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return false;
      e++;
    }
    this.i = e + 1;
    return true;
  }

  expectClose(tag: string): void {
    if (!this.atClose(tag)) this.fail(`expected </${tag}>`);
  }

  /** Character data up to the next tag, entities and CDATA decoded. */
  text(): string {
    const s = this.s;
    let out = '';
    for (;;) {
      const lt = s.indexOf('<', this.i);
      if (lt < 0) this.fail('unexpected end of document');
      out += decodeEntities(s.slice(this.i, lt));
      this.i = lt;
      if (s.startsWith('<![CDATA[', lt)) {
        const e = s.indexOf(']]>', lt + 9);
        if (e < 0) this.fail('unterminated CDATA');
        out += s.slice(lt + 9, e);
        this.i = e + 3;
        continue;
      }
      return out;
    }
  }

  /** Text content of an element whose opening tag was just read, and its closing tag. */
  content(tag: string, empty: boolean): string {
    if (empty) return '';
    const t = this.text();
    this.expectClose(tag);
    return t;
  }
}

const ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(t: string): string {
  if (t.indexOf('&') < 0) return t;
  return t.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e.charCodeAt(0) === 35 /* # */) {
      const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    return ENTITIES[e] ?? m;
  });
}

/** Decodes the inside of a <value> whose opening tag was just read, through its </value>. */
function decodeValue(c: Cursor, empty: boolean): XmlRpcValue {
  if (++c.values > MAX_VALUES) c.fail(`more than ${MAX_VALUES} values`);
  if (empty) return '';
  const lead = c.text();
  if (c.atClose('value')) return lead; // <value>text</value> is a string
  const o = c.open();
  if (!o) return c.fail('expected a typed value or </value>');
  if (lead.trim() !== '') c.fail('text beside a typed value');
  let v: XmlRpcValue;
  switch (o.tag) {
    case 'string':
      v = c.content('string', o.empty);
      break;
    case 'int':
    case 'i4':
    case 'i8': {
      const t = c.content(o.tag, o.empty).trim();
      const n = Number(t);
      if (t === '' || !Number.isInteger(n)) c.fail(`bad <${o.tag}> value`);
      v = n;
      break;
    }
    case 'double': {
      const t = c.content('double', o.empty).trim();
      const n = Number(t);
      if (t === '' || Number.isNaN(n)) c.fail('bad <double> value');
      v = n;
      break;
    }
    case 'boolean':
      v = c.content('boolean', o.empty).trim() === '1';
      break;
    case 'nil':
      if (!o.empty) c.expectClose('nil');
      v = null;
      break;
    case 'dateTime.iso8601':
    case 'base64':
      v = c.content(o.tag, o.empty).trim();
      break;
    case 'array': {
      const out: XmlRpcValue[] = [];
      if (!o.empty) {
        if (++c.depth > MAX_DEPTH) c.fail(`nested deeper than ${MAX_DEPTH}`);
        if (!c.expectOpen('data')) {
          while (!c.atClose('data')) out.push(decodeValue(c, c.expectOpen('value')));
        }
        c.expectClose('array');
        c.depth--;
      }
      v = out;
      break;
    }
    case 'struct': {
      const out: Record<string, XmlRpcValue> = {};
      if (!o.empty) {
        if (++c.depth > MAX_DEPTH) c.fail(`nested deeper than ${MAX_DEPTH}`);
        while (!c.atClose('struct')) {
          c.expectOpen('member');
          let name: string | undefined;
          let value: XmlRpcValue | undefined;
          let has = false;
          while (!c.atClose('member')) {
            c.skip();
            const m = c.open();
            if (m?.tag === 'name') name = c.content('name', m.empty);
            else if (m?.tag === 'value') {
              value = decodeValue(c, m.empty);
              has = true;
            } else c.fail('expected <name> or <value> in <member>');
          }
          if (name === undefined || !has) c.fail('struct member without name or value');
          // A member named "__proto__" is data, not the object's prototype (defineProperty for
          // it alone: it is several times slower than an assignment).
          if (name === '__proto__') Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
          else out[name] = value as XmlRpcValue;
        }
        c.depth--;
      }
      v = out;
      break;
    }
    default:
      c.fail(`unsupported XML-RPC type <${clip(o.tag, 40)}>`);
  }
  c.expectClose('value');
  return v;
}

/**
 * Decodes a methodResponse; throws XmlRpcFault for a <fault>, XmlRpcFormatError for anything
 * malformed or over budget. Time is linear in the text's length.
 */
export function decodeResponse(xml: string): XmlRpcValue {
  const c: Cursor = new Cursor(xml);
  return decodeValue(c, openResult(c));
}

/**
 * decodeResponse in slices: the elements of the answer's arrays down to `levels` deep (a
 * multicall's list, its process list) are decoded one by one, with `pause()` awaited before
 * each, so a large answer does not hold the event loop; pause() may throw to stop. The same
 * values and errors as decodeResponse.
 */
export async function decodeResponseSliced(xml: string, pause: () => Promise<void>, levels = 2): Promise<XmlRpcValue> {
  const c: Cursor = new Cursor(xml);
  return decodeValueSliced(c, openResult(c), pause, levels);
}

async function decodeValueSliced(c: Cursor, empty: boolean, pause: () => Promise<void>, levels: number): Promise<XmlRpcValue> {
  if (empty || levels === 0) return decodeValue(c, empty);
  // Read as decodeValue reads the start of a value; anything but a non-empty array goes back
  // to it whole.
  const at = c.i;
  const lead = c.text();
  const o = c.atClose('value') ? undefined : c.open();
  if (o?.tag !== 'array' || o.empty || lead.trim() !== '') {
    c.i = at;
    return decodeValue(c, false);
  }
  if (++c.values > MAX_VALUES) c.fail(`more than ${MAX_VALUES} values`);
  if (++c.depth > MAX_DEPTH) c.fail(`nested deeper than ${MAX_DEPTH}`);
  const out: XmlRpcValue[] = [];
  if (!c.expectOpen('data')) {
    while (!c.atClose('data')) {
      await pause();
      out.push(await decodeValueSliced(c, c.expectOpen('value'), pause, levels - 1));
    }
  }
  c.expectClose('array');
  c.depth--;
  c.expectClose('value');
  return out;
}

/**
 * Moves the cursor into the answer's one <value>; returns whether it is empty. Throws
 * XmlRpcFault for a <fault>.
 */
function openResult(c: Cursor): boolean {
  const xml = c.s;
  const start = xml.indexOf('<methodResponse');
  if (start < 0) throw new XmlRpcFormatError('no <methodResponse>');
  c.i = start;
  if (c.expectOpen('methodResponse')) c.fail('no <param><value>');
  c.skip();
  const o = c.open();
  if (o?.tag === 'fault') {
    let f: XmlRpcValue = {};
    if (!o.empty) f = decodeValue(c, c.expectOpen('value'));
    const s = (f && typeof f === 'object' && !Array.isArray(f) ? f : {}) as Record<string, XmlRpcValue>;
    // typeof, not String()/Number(): a struct member named toString or valueOf would make those throw.
    const code = typeof s.faultCode === 'number' ? s.faultCode : 0;
    throw new XmlRpcFault(code, typeof s.faultString === 'string' ? s.faultString : 'unknown fault');
  }
  if (o?.tag !== 'params' || o.empty) c.fail('no <param><value>');
  c.skip();
  const p = c.open();
  if (p?.tag !== 'param' || p.empty) c.fail('no <param><value>');
  c.skip();
  const v = c.open();
  if (v?.tag !== 'value') c.fail('no <param><value>');
  return v.empty;
}
