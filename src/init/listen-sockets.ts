// The listening TCP sockets of a /proc/PID/net/tcp or tcp6 table: inode and local port of each
// LISTEN row. The table is the host's to write, so it is parsed as hostile: bounded rows and
// row length, a malformed row skipped, never an exception.

export interface ListenSocket {
  inode: number;
  port: number;
}

const MAX_ROWS = 100_000;
const MAX_ROW_CHARS = 512;
const LISTEN = '0A';

export function parseListenSockets(text: string): ListenSocket[] {
  const out: ListenSocket[] = [];
  let start = text.indexOf('\n') + 1; // past the header
  if (start <= 0) return out;
  for (let rows = 0; start < text.length && rows < MAX_ROWS; rows++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end - start <= MAX_ROW_CHARS) {
      const cols = text.slice(start, end).trim().split(/ +/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const local = cols[1] ?? '';
      const colon = local.lastIndexOf(':');
      const portHex = local.slice(colon + 1);
      const inode = cols[9] ?? '';
      if (cols.length >= 10 && cols[3] === LISTEN && colon > 0 && /^[0-9A-Fa-f]{4}$/.test(portHex) && /^\d{1,20}$/.test(inode)) {
        out.push({ inode: Number(inode), port: parseInt(portHex, 16) });
      }
    }
    start = end + 1;
  }
  return out;
}
