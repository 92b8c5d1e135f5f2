// How many client connections the server may hold: below the process's open-file limit, with
// room kept for the exporter's own descriptors (supervisord's socket, /proc and log reads,
// SQLite files, probes), so a connection flood can never make a collector fail with EMFILE.
import { readFileSync } from 'node:fs';

/** The soft RLIMIT_NOFILE from /proc/self/limits; undefined when unreadable or unlimited. */
export function readNofileLimit(text?: string): number | undefined {
  let t = text;
  if (t === undefined) {
    try {
      t = readFileSync('/proc/self/limits', 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EACCES') return undefined;
      throw err;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(t);
  if (!m || m[1] === 'unlimited') return undefined;
  return Number(m[1]);
}

/** Descriptors kept for the exporter itself: a quarter of the limit, at least 96. */
export function reservedDescriptors(limit: number): number {
  return Math.max(96, Math.floor(limit / 4));
}

/** Connections allowed at once: the limit less the reserve, between 16 and 4096. */
export function connectionCap(limit: number | undefined): number {
  if (limit === undefined) return 4096;
  return Math.min(4096, Math.max(16, limit - reservedDescriptors(limit)));
}
