// The log files of the supervised processes, as supervisord last listed them: the supervisor
// collector records them, the filesystem collector asks which filesystems hold them.
import type { SupervisorProcess } from './supervisor.js';

export class ServiceLogFiles {
  private files: readonly string[] = [];

  update(processes: readonly SupervisorProcess[]): void {
    const out = new Set<string>();
    for (const p of processes) {
      for (const f of [p.stdoutLogfile, p.stderrLogfile]) if (isLogFile(f)) out.add(f);
    }
    this.files = [...out];
  }

  list(): readonly string[] {
    return this.files;
  }
}

/** A file supervisor writes and rotates itself: not syslog, /dev/stdout, /dev/null (a tmpfs under /dev/shm is a file). */
export function isLogFile(f: string): boolean {
  return f.startsWith('/') && (!f.startsWith('/dev/') || f.startsWith('/dev/shm/'));
}
