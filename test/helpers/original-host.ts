// The audited trading host's names and figures (the hand audit: docs/background.md): a report of any
// other host that carries one of them is telling that host's story, not this one's.

/** Names and figures of the audited trading host (the hand audit: docs/background.md): none belongs in a report of another host. */
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
  // Sizes as the audit wrote them. Without the space they are also how this host's own
  // figures print (2.1GB of host memory used), so only the audit's spelling is looked for.
  '2.5 GB',
  '3.8 GB',
  '2.1 GB',
  '479 MB',
  '479MB',
  '4.2 MB',
  '3.8 MB',
  'port 3000',
  'optimization',
  'archival',
  'NAME',
];

/** The words of the list found in `text`; a bare figure only as a number of its own (not 21.234 in a time). */
export function originalHostWordsIn(text: string): string[] {
  const lower = text.toLowerCase();
  return ORIGINAL_HOST_WORDS.filter((w) => {
    if (w === 'NAME') return /\bNAME\b/.test(text);
    if (/^\d+\.\d+$/.test(w)) return new RegExp(`(?<![\\d.:])${w.replace('.', '\\.')}(?!\\d)`).test(text);
    return lower.includes(w.toLowerCase());
  });
}
