// The audited trading host's names and figures (../shared/AUDIT.md, SPEC.md): a report of any
// other host that carries one of them is telling that host's story, not this one's.

/** Names and figures of the audited trading host (../shared/AUDIT.md): none belongs in a report of another host. */
export const ORIGINAL_HOST_WORDS = [
  'kalshi',
  'coordinator',
  'btc_price_history',
  'price history',
  'main_app',
  'watchdog',
  'auto_entry',
  'cascading_failure',
  'trading',
  'trades.db',
  'fills.db',
  'orders.db',
  '27.4',
  '45.9',
  '86.7',
  '21.2',
  '82.2',
  '12/12',
  '11/11',
  '2.5 GB',
  '2.5GB',
  '3.8 GB',
  '3.8GB',
  '2.1GB',
  '479MB',
  '479 MB',
  'port 3000',
  'optimization',
  'archival',
  'NAME',
];

export function originalHostWordsIn(text: string): string[] {
  const lower = text.toLowerCase();
  return ORIGINAL_HOST_WORDS.filter((w) => (w === 'NAME' ? /\bNAME\b/.test(text) : lower.includes(w.toLowerCase())));
}
