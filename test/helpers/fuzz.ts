// Shared settings for the fast-check fuzz targets (test/fuzz/). The suite runs each target a
// few thousand times; `npm run fuzz` sets FUZZ_RUNS for a longer run. FUZZ_SEED replays one run.
import fc from 'fast-check';

export function fuzzRuns(inSuite: number): number {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : inSuite;
}

/** fast-check parameters for one target: run count, an optional replay seed, no time-based end. */
export function fuzzParams(inSuite: number): fc.Parameters<unknown> {
  const seed = Number(process.env.FUZZ_SEED);
  return { numRuns: fuzzRuns(inSuite), ...(Number.isInteger(seed) ? { seed } : {}) };
}

export type TextEdit = { kind: 'delete' | 'insert' | 'replace' | 'duplicate' | 'truncate'; at: number; len: number; text: string };

/** Edits of a real input: at a relative position, delete, insert, replace, duplicate a span, or cut it there. */
export function textEdit(opts: { maxLen: number; text: fc.Arbitrary<string>; kinds?: ReadonlyArray<TextEdit['kind']> }): fc.Arbitrary<TextEdit> {
  return fc.record({
    kind: fc.constantFrom(...(opts.kinds ?? (['delete', 'insert', 'replace', 'duplicate', 'truncate'] as const))),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    len: fc.nat(opts.maxLen),
    text: opts.text,
  });
}

/** Applies edits in turn to a text. */
export function mutate(doc: string, edits: readonly TextEdit[]): string {
  let d = doc;
  for (const e of edits) {
    const i = Math.floor(e.at * d.length);
    if (e.kind === 'delete') d = d.slice(0, i) + d.slice(i + e.len);
    else if (e.kind === 'insert') d = d.slice(0, i) + e.text + d.slice(i);
    else if (e.kind === 'replace') d = d.slice(0, i) + e.text + d.slice(i + Math.max(1, e.text.length));
    else if (e.kind === 'duplicate') d = d.slice(0, i + e.len) + d.slice(i, i + e.len) + d.slice(i + e.len);
    else d = d.slice(0, i);
  }
  return d;
}
