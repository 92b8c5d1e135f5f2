// Typed-array columns of the tree model that take only the width their values need: a large
// tree's sizes and inode numbers fit 32 bits and its devices a handful of indexes, so paying
// 8 bytes for each would be most of the model's memory.

const TWO_32 = 4294967296;
const TWO_64 = TWO_32 * TWO_32;

/**
 * Non-negative integral numbers below 2^64 (as lstat gives them: an overlayfs inode number with
 * its high bits set is past 2^53 and kept as the double it arrived as): the low 32 bits in one
 * array, the high ones in a second array made only when a value first needs it (a file of 4 GiB
 * or more, an inode number past 2^32). Both halves are exact, so their sum is the value.
 */
export class U64Column {
  private lo: Uint32Array;
  private hi: Uint32Array | undefined;

  constructor(capacity: number) {
    this.lo = new Uint32Array(capacity);
  }

  get(i: number): number {
    const lo = this.lo[i] as number;
    return this.hi === undefined ? lo : (this.hi[i] as number) * TWO_32 + lo;
  }

  set(i: number, v: number): void {
    if (!(v >= 0 && v < TWO_64 && Number.isInteger(v))) throw new RangeError(`${v} is not an integer from 0 to 2^64`);
    const hi = Math.floor(v / TWO_32);
    if (hi !== 0 && this.hi === undefined) this.hi = new Uint32Array(this.lo.length);
    this.lo[i] = v % TWO_32;
    if (this.hi !== undefined) this.hi[i] = hi;
  }

  grow(capacity: number): void {
    this.lo = copyInto(new Uint32Array(capacity), this.lo);
    if (this.hi !== undefined) this.hi = copyInto(new Uint32Array(capacity), this.hi);
  }

  /** Bytes held (tests and the memory notes). */
  get byteLength(): number {
    return this.lo.byteLength + (this.hi?.byteLength ?? 0);
  }
}

/**
 * Small non-negative integers (indexes into a short list): one byte each until a value needs
 * two, two until one needs four.
 */
export class IndexColumn {
  private a: Uint8Array | Uint16Array | Uint32Array;

  constructor(capacity: number) {
    this.a = new Uint8Array(capacity);
  }

  get(i: number): number {
    return this.a[i] as number;
  }

  set(i: number, v: number): void {
    if (!(v >= 0 && v <= 0xffffffff && Number.isInteger(v))) throw new RangeError(`${v} is not an index`);
    if (v > 0xff && this.a instanceof Uint8Array) this.a = copyInto(new Uint16Array(this.a.length), this.a);
    if (v > 0xffff && this.a instanceof Uint16Array) this.a = copyInto(new Uint32Array(this.a.length), this.a);
    this.a[i] = v;
  }

  grow(capacity: number): void {
    const a = this.a;
    if (a instanceof Uint8Array) this.a = copyInto(new Uint8Array(capacity), a);
    else if (a instanceof Uint16Array) this.a = copyInto(new Uint16Array(capacity), a);
    else this.a = copyInto(new Uint32Array(capacity), a);
  }

  get byteLength(): number {
    return this.a.byteLength;
  }
}

function copyInto<T extends Uint8Array | Uint16Array | Uint32Array>(to: T, from: Uint8Array | Uint16Array | Uint32Array): T {
  to.set(from);
  return to;
}
