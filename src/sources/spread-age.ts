// Maximum ages of cached readings, spread by pid: readings first taken on one scrape (all of
// them, at start) would otherwise all come due again on one later scrape, a spike every period.

/** A reading's maximum age for one pid: between half of `max` and `max`. */
export function spreadAge(max: number, pid: number): number {
  return max - ((pid * 7919) % Math.floor(max / 2));
}
