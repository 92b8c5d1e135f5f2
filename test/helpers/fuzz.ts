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
