// The inotify watches the exporter may hold, shared by every watched tree: a configured cap
// below the host's fs.inotify.max_user_watches, which other programs of the same user share.
import { readFileSync } from 'node:fs';

export class WatchBudget {
  used = 0;
  constructor(readonly limit: number) {}

  take(): boolean {
    if (this.used >= this.limit) return false;
    this.used++;
    return true;
  }

  release(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

/** A kernel inotify setting (/proc/sys/fs/inotify/NAME), or the fallback when unreadable. */
export function inotifySetting(name: 'max_user_watches' | 'max_queued_events', fallback: number, procRoot = '/proc'): number {
  try {
    const n = Number(readFileSync(`${procRoot}/sys/fs/inotify/${name}`, 'latin1').trim());
    return Number.isInteger(n) && n > 0 ? n : fallback;
  } catch {
    return fallback;
  }
}
