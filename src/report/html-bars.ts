// Horizontal bars as inline SVG: a value against a scale, with tick marks at its thresholds, so
// the page needs no script, no image file and no font. Everything but the numbers is escaped.
import { escapeHtml } from './html-escape.js';

export type Tone = 'ok' | 'warn' | 'crit' | 'neutral';

export interface Mark {
  at: number;
  tone: Tone;
}

export interface BarSpec {
  value: number | null;
  /** The value the full width stands for. */
  max: number;
  marks?: readonly Mark[];
  tone: Tone;
  /** Spoken and shown on hover: what the bar says in words. */
  label: string;
}

const WIDTH = 160;
const HEIGHT = 12;

function x(v: number, max: number): number {
  if (!(max > 0) || !Number.isFinite(v)) return 0;
  return Math.round(Math.min(1, Math.max(0, v / max)) * WIDTH * 10) / 10;
}

export function bar(spec: BarSpec): string {
  const label = escapeHtml(spec.label);
  const fill = spec.value === null ? '' : `<rect class="fill ${spec.tone}" x="0" y="0" width="${x(spec.value, spec.max)}" height="${HEIGHT}" rx="2"/>`;
  const marks = (spec.marks ?? [])
    .map((m) => `<line class="mark ${m.tone}" x1="${x(m.at, spec.max)}" x2="${x(m.at, spec.max)}" y1="0" y2="${HEIGHT}"/>`)
    .join('');
  return `<svg class="bar" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${label}"><title>${label}</title><rect class="track" x="0" y="0" width="${WIDTH}" height="${HEIGHT}" rx="2"/>${fill}${marks}</svg>`;
}

/** The tone of a value against a warning and a critical limit (either may be absent). */
export function toneOf(value: number | null, warn?: number, crit?: number): Tone {
  if (value === null) return 'neutral';
  if (crit !== undefined && value > crit) return 'crit';
  if (warn !== undefined && value > warn) return 'warn';
  return 'ok';
}
