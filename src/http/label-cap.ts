// The length cap on label values: a value from the watched host (a program name, a
// description, a path) is copied into many series, so one huge name would multiply into /metrics.
import { createHash } from 'node:crypto';

/** The longest label value written, in UTF-16 code units (characters, for ASCII). */
export const LABEL_VALUE_MAX = 1024;

/**
 * `value` when it fits, else its start followed by `…[cut N chars sha256:HHHHHHHHHHHH]`: N the
 * full length, the hash of the full value, so two long values that share their start stay two
 * series. The result is at most LABEL_VALUE_MAX long and never splits a surrogate pair.
 */
export function capLabelValue(value: string): string {
  if (value.length <= LABEL_VALUE_MAX) return value;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 12);
  const mark = `…[cut ${value.length} chars sha256:${hash}]`;
  let keep = LABEL_VALUE_MAX - mark.length;
  const last = value.charCodeAt(keep - 1);
  if (last >= 0xd800 && last <= 0xdbff) keep--;
  return value.slice(0, keep) + mark;
}
