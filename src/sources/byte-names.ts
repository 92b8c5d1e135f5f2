// File names are bytes; labels are UTF-8. Valid UTF-8 is shown as it is, each byte that is not
// part of a valid UTF-8 sequence as \xNN (and a backslash as \\), so two names never share a label.
export function displayName(name: Buffer): string {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const b = name[i] as number;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len > 0 && i + len <= name.length) {
      const s = name.toString('utf8', i, i + len);
      if (len === 1 || (s.length > 0 && !s.includes('\ufffd') && Buffer.byteLength(s) === len)) {
        out += s === '\\' ? '\\\\' : s;
        i += len;
        continue;
      }
    }
    out += `\\x${b.toString(16).padStart(2, '0')}`;
    i += 1;
  }
  return out;
}
