// The dashboards `npm run generate` writes to dashboards/ (provisioned into Grafana from files).
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { fleetOverviewDashboard } from './fleet-overview.js';
import { hostAuditDashboard } from './host-audit.js';
import { serviceDetailDashboard } from './service-detail.js';
import type { ThresholdSet } from '../thresholds.js';

export interface DashboardFile {
  /** File name under dashboards/. */
  file: string;
  /** Threshold lines from T: the built-in thresholds when omitted. */
  build: (T?: ThresholdSet) => dashboard.Dashboard;
}

export const DASHBOARDS: readonly DashboardFile[] = [
  { file: 'host-audit.json', build: hostAuditDashboard },
  { file: 'service-detail.json', build: serviceDetailDashboard },
  { file: 'fleet-overview.json', build: fleetOverviewDashboard },
];
