// Pure parsers for the per-process /proc files behind the service depth figures: io, status,
// limits and smaps_rollup. No I/O. Each looks only at the first MAX_SCAN characters (the real
// files are a few hundred bytes) and gives undefined for a value it cannot find whole.

/** More than any real io, status, limits or smaps_rollup file; a longer text is not read further. */
export const MAX_SCAN = 16 * 1024;

/** The unsigned decimal after `key` at the start of a line ("read_bytes: 123"), or undefined. */
function field(text: string, key: string): number | undefined {
  const t = text.length > MAX_SCAN ? text.slice(0, MAX_SCAN) : text;
  let at = t.startsWith(key) ? 0 : -1;
  if (at < 0) {
    const i = t.indexOf(`\n${key}`);
    if (i < 0) return undefined;
    at = i + 1;
  }
  let i = at + key.length;
  while (i < t.length && (t.charCodeAt(i) === 32 || t.charCodeAt(i) === 9)) i++;
  let n = 0;
  let digits = 0;
  for (; i < t.length && digits <= 20; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
    digits++;
  }
  if (digits === 0 || digits > 20) return undefined;
  const end = i === t.length ? 10 : t.charCodeAt(i);
  return end === 10 || end === 32 || end === 9 ? n : undefined;
}

export interface ProcIo {
  readBytes: number;
  writeBytes: number;
}

/** /proc/PID/io: the storage I/O (`read_bytes`, `write_bytes`), not rchar/wchar (which count cache hits and pipes). */
export function parseProcIo(text: string): ProcIo | undefined {
  const readBytes = field(text, 'read_bytes:');
  const writeBytes = field(text, 'write_bytes:');
  return readBytes === undefined || writeBytes === undefined ? undefined : { readBytes, writeBytes };
}

export interface ContextSwitches {
  voluntary: number;
  nonvoluntary: number;
}

/** voluntary_ctxt_switches and nonvoluntary_ctxt_switches of /proc/PID/status. */
export function parseContextSwitches(text: string): ContextSwitches | undefined {
  const voluntary = field(text, 'voluntary_ctxt_switches:');
  const nonvoluntary = field(text, 'nonvoluntary_ctxt_switches:');
  return voluntary === undefined || nonvoluntary === undefined ? undefined : { voluntary, nonvoluntary };
}

/**
 * The soft limit of "Max open files" in /proc/PID/limits: a number, Infinity for
 * "unlimited", undefined when the line is missing or malformed.
 */
export function parseNofileSoftLimit(text: string): number | undefined {
  const t = text.length > MAX_SCAN ? text.slice(0, MAX_SCAN) : text;
  const i = t.indexOf('\nMax open files');
  if (i < 0) return undefined;
  const eol = t.indexOf('\n', i + 1);
  const line = t.slice(i + 1 + 'Max open files'.length, eol < 0 ? t.length : eol);
  const m = /^\s+(\d{1,20}|unlimited)\s+(?:\d{1,20}|unlimited)\s+files\s*$/.exec(line);
  if (!m) return undefined;
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

export interface SmapsRollup {
  pssBytes: number;
  swapBytes: number;
}

/** Pss and Swap of /proc/PID/smaps_rollup (kB in the file), in bytes. */
export function parseSmapsRollup(text: string): SmapsRollup | undefined {
  const kb = (key: string): number | undefined => {
    const t = text.length > MAX_SCAN ? text.slice(0, MAX_SCAN) : text;
    const i = t.indexOf(`\n${key}`);
    if (i < 0) return undefined;
    const eol = t.indexOf('\n', i + 1);
    const m = /^\s+(\d{1,17}) kB\s*$/.exec(t.slice(i + 1 + key.length, eol < 0 ? t.length : eol));
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const pssBytes = kb('Pss:');
  const swapBytes = kb('Swap:');
  return pssBytes === undefined || swapBytes === undefined ? undefined : { pssBytes, swapBytes };
}

/**
 * Whether a /proc/PID/fd link names a deleted file that may hold disk: an absolute path
 * the kernel marked " (deleted)". memfd and other anonymous shmem files also carry the mark
 * but never had a name on a disk.
 */
export function isDeletedFileLink(link: string): boolean {
  return link.startsWith('/') && link.endsWith(' (deleted)') && !link.startsWith('/memfd:') && !link.startsWith('/SYSV');
}
