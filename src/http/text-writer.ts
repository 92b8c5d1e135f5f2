// A growable byte buffer the exposition is written into, piece by piece, with the text
// format's escaping done while copying: building strings left megabytes of intermediate
// strings per scrape for the garbage collector (docs/performance.md); this writes the
// response body's bytes once.

import type { Labels } from '../collectors/metric-family.js';
import { capLabelValue, LABEL_VALUE_MAX } from './label-cap.js';

const BACKSLASH = 92;
const NEWLINE = 10;
const QUOTE = 34;

/** Where a label set was written in body number `body`. */
interface Span {
  body: number;
  start: number;
  end: number;
}

/**
 * Where each label object was last written, by body. One label object serves every family of
 * a service, so its later samples in the same body copy those bytes rather than escape the
 * values again. Kept by a renderer from body to body: the spans are reused, not reallocated,
 * and go with their label objects.
 */
export class LabelSpans {
  readonly spans = new WeakMap<Labels, Span>();
  private bodies = 0;

  /** A number for the next body: spans of earlier bodies do not match it. */
  nextBody(): number {
    return ++this.bodies;
  }
}

export class TextWriter {
  private buf: Buffer;
  private len = 0;
  private readonly cut = new Map<string, string>();
  private readonly body: number;

  constructor(
    sizeHint: number,
    private readonly spans = new LabelSpans(),
  ) {
    this.buf = Buffer.allocUnsafe(Math.max(4096, sizeHint));
    this.body = spans.nextBody();
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }

  /** The bytes written so far (a view of the buffer; the writer is done with it). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  get length(): number {
    return this.len;
  }

  /** Bytes already written, from `start` to `end`, written again at the end. */
  again(start: number, end: number): void {
    const n = end - start;
    this.room(n);
    this.buf.copyWithin(this.len, start, end);
    this.len += n;
  }

  /**
   * A sample's labels: `{k="v",...}`, nothing for none. The same object written earlier in
   * this body is copied from there (its values were escaped once).
   */
  labelSet(l: Labels): void {
    const hit = this.spans.spans.get(l);
    if (hit !== undefined && hit.body === this.body) {
      this.again(hit.start, hit.end);
      return;
    }
    const start = this.len;
    let open = false;
    for (const key in l) {
      this.char(open ? 44 /* , */ : 123 /* { */);
      open = true;
      this.raw(key);
      this.char(61); // =
      this.char(34); // "
      this.labelValue(String(l[key]));
      this.char(34);
    }
    if (!open) return;
    this.char(125); // }
    if (hit !== undefined) {
      hit.body = this.body;
      hit.start = start;
      hit.end = this.len;
    } else this.spans.spans.set(l, { body: this.body, start, end: this.len });
  }

  /** One ASCII character code. */
  char(c: number): void {
    this.room(1);
    this.buf[this.len++] = c;
  }

  /** Text written as it is (UTF-8). */
  raw(s: string): void {
    this.escaped(s, false, false);
  }

  /** HELP text: backslash and newline escaped. */
  help(s: string): void {
    this.escaped(s, true, false);
  }

  /** A label value: backslash, newline and double quote escaped; cut when too long (label-cap.ts). */
  labelValue(s: string): void {
    if (s.length > LABEL_VALUE_MAX) {
      // Cut once per value and body: a long name recurs in every series of its service.
      let c = this.cut.get(s);
      if (c === undefined) this.cut.set(s, (c = capLabelValue(s)));
      this.escaped(c, true, true);
      return;
    }
    this.escaped(s, true, true);
  }

  /**
   * Copies ASCII characters one by one, escaping as asked; from the first non-ASCII
   * character on, the rest is escaped as a string and encoded by Buffer.write (UTF-8,
   * surrogate pairs included).
   */
  private escaped(s: string, escapes: boolean, quotes: boolean): void {
    const n = s.length;
    this.room(n * 2); // every ASCII character escaped at worst
    const buf = this.buf;
    let len = this.len;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.len = len;
        this.utf8(s.slice(i), escapes, quotes);
        return;
      }
      if (escapes && (c === BACKSLASH || c === NEWLINE || (quotes && c === QUOTE))) {
        buf[len++] = BACKSLASH;
        buf[len++] = c === NEWLINE ? 110 /* n */ : c;
      } else {
        buf[len++] = c;
      }
    }
    this.len = len;
  }

  private utf8(s: string, escapes: boolean, quotes: boolean): void {
    let t = s;
    if (escapes) {
      t = t.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
      if (quotes) t = t.replace(/"/g, '\\"');
    }
    this.room(t.length * 3); // UTF-8 takes at most 3 bytes per UTF-16 code unit
    this.len += this.buf.write(t, this.len, 'utf8');
  }

  /**
   * A sample value as prom-client writes it: `${v}`, with NaN spelled `Nan` and the
   * infinities `+Inf`/`-Inf`. Safe integers are written digit by digit (no string made).
   */
  value(v: number): void {
    if (Number.isSafeInteger(v)) {
      this.room(17);
      const buf = this.buf;
      let x = v;
      if (x < 0) {
        buf[this.len++] = 45; // '-'
        x = -x;
      }
      let digits = 1;
      for (let p = 10; p <= x; p *= 10) digits++;
      let end = this.len + digits;
      this.len = end;
      do {
        buf[--end] = 48 + (x % 10);
        x = Math.floor(x / 10);
      } while (x > 0);
      return;
    }
    if (Number.isNaN(v)) this.raw('Nan'); // sic: prom-client's spelling, kept for identical output
    else if (v === Infinity) this.raw('+Inf');
    else if (v === -Infinity) this.raw('-Inf');
    else this.raw(`${v}`);
  }
}
