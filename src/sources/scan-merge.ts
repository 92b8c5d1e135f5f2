// A scan's request and result, and the merge of its walkers' counts into the result:
// each multiply-linked inode's size is added once, whichever walkers met it.
import { MAX_ERROR_SAMPLES, type PartialCounts } from './dir-walker.js';

export interface ScanRequest {
  root: string;
  /** Regular files with mtime >= each cutoff (ms since epoch) are counted, in this order. */
  modifiedSince: number[];
  /**
   * Directories inside the tree to measure in the same walk, each as if walked on its own
   * (its own hardlink set and cutoffs): a configured path inside another is not walked twice.
   */
  within?: Array<{ root: string; modifiedSince: number[] }>;
}

export interface ScanResult {
  root: string;
  /** false when the root itself could not be read (missing, not permitted). */
  ok: boolean;
  /** Sum of apparent sizes, as `du -sb`. */
  bytes: number;
  /** Regular files: directory entries, as `find -type f` counts them (two links, two files). */
  files: number;
  /** Regular files modified at or after each of ScanRequest.modifiedSince. */
  filesModified: number[];
  /** Entries that could not be read, as du counts them: an unreadable directory, an entry gone before lstat. */
  errors: number;
  /** Wall-clock time the walk started and how long it took (ms). */
  startedAt: number;
  durationMs: number;
  /** The first few errors, for a debug log line (names that are not UTF-8 escaped). */
  errorSamples: string[];
  /**
   * ScanRequest.within's results, in its order; undefined for one the walk did not reach as
   * a directory (a symlink, gone, unreadable on the way): the caller scans that one on its own.
   */
  within?: Array<ScanResult | undefined>;
}

/** Merges walkers' counts into a result; each multiply-linked inode's size is added once. */
export function mergeCounts(req: ScanRequest, parts: PartialCounts[], startedAt: number, durationMs: number, rootOk: boolean): ScanResult {
  const res = mergeOne(req, parts, startedAt, durationMs, rootOk);
  if (req.within && req.within.length > 0) {
    res.within = req.within.map((w, i) => {
      const subs = parts.map((p) => p.within?.[i]).filter((c): c is PartialCounts & { reached: boolean } => c !== undefined);
      if (!subs.some((c) => c.reached)) return undefined;
      return mergeOne({ root: w.root, modifiedSince: w.modifiedSince }, subs, startedAt, durationMs, true);
    });
  }
  return res;
}

function mergeOne(req: ScanRequest, parts: PartialCounts[], startedAt: number, durationMs: number, rootOk: boolean): ScanResult {
  const res: ScanResult = {
    root: req.root,
    ok: rootOk,
    bytes: 0,
    files: 0,
    filesModified: req.modifiedSince.map(() => 0),
    errors: 0,
    startedAt,
    durationMs,
    errorSamples: [],
  };
  const seen = new Map<number, Set<number>>();
  for (const p of parts) {
    res.bytes += p.bytes;
    res.files += p.files;
    p.filesModified.forEach((n, i) => ((res.filesModified[i] as number) += n));
    res.errors += p.errors;
    for (const s of p.errorSamples) if (res.errorSamples.length < MAX_ERROR_SAMPLES) res.errorSamples.push(s);
    for (const [dev, ino, size] of p.linked) {
      let inodes = seen.get(dev);
      if (!inodes) seen.set(dev, (inodes = new Set()));
      if (inodes.has(ino)) continue;
      inodes.add(ino);
      res.bytes += size;
    }
  }
  return res;
}
