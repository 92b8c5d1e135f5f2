// The audited host's supervisord programs (the hand audit (docs/background.md) names six of its twelve; the
// other six are plausible names for the rest of a trading system, marked `named: false`).
export interface AuditedService {
  name: string;
  /** supervisor group: "kalshi" for the kalshi_* programs (as the SPEC's example), else the name. */
  group: string;
  /** Named in the hand audit. */
  named: boolean;
}

const named = [
  'unified_production_coordinator',
  'kalshi_account_sync',
  'main_app',
  'kalshi_api_watchdog',
  'auto_entry_supervisor',
  'cascading_failure_detector',
];
const invented = ['btc_price_recorder', 'order_router', 'fill_reconciler', 'risk_monitor', 'market_data_feed', 'web_interface'];

export const AUDITED_SERVICES: readonly AuditedService[] = [
  ...named.map((name) => ({ name, group: name.startsWith('kalshi_') ? 'kalshi' : name, named: true })),
  ...invented.map((name) => ({ name, group: name, named: false })),
];
