// Shared pieces of the dashboards, typed with @grafana/grafana-foundation-sdk: the
// datasource/job/instance variables, Prometheus queries bound to the `datasource` variable,
// threshold lines taken from the thresholds module, and stable panel ids.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';

/** Every panel and query reads from the dashboard's `datasource` variable (provisioned, no `${DS_...}` inputs). */
export const DATASOURCE: dashboard.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** The job/instance matchers every query carries, so one dashboard serves many hosts. */
export const HOST = 'job=~"$job", instance=~"$instance"';

/** A label selector: the host matchers plus `extra`. */
export function sel(extra?: string): string {
  return extra ? `{${HOST}, ${extra}}` : `{${HOST}}`;
}

export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus');
}

function queryVariable(name: string, label: string, query: string): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query({ query, refId: `${name}-variable` })
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc);
}

/** `job` and `instance` from the exporter's build info (present whatever is configured). */
export function hostVariables(): dashboard.QueryVariableBuilder[] {
  return [
    queryVariable('job', 'Job', 'label_values(hostaudit_exporter_build_info, job)'),
    queryVariable('instance', 'Instance', 'label_values(hostaudit_exporter_build_info{job=~"$job"}, instance)'),
  ];
}

export function serviceVariables(): dashboard.QueryVariableBuilder[] {
  return [
    queryVariable('group', 'Group', `label_values(hostaudit_service_info${sel()}, group)`),
    queryVariable('name', 'Service', `label_values(hostaudit_service_info${sel('group=~"$group"')}, name)`),
  ];
}

export function query(expr: string, legend: string, refId = 'A'): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder().datasource(DATASOURCE).expr(expr).legendFormat(legend).refId(refId);
}

export function instantTable(expr: string, refId = 'A'): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .datasource(DATASOURCE)
    .expr(expr)
    .instant()
    .format(prometheus.PromQueryFormat.Table)
    .legendFormat('__auto')
    .refId(refId);
}

export interface Line {
  value: number;
  color: 'orange' | 'red' | 'blue';
}

/** Green below the first line; each line a step (a threshold line from the thresholds module). */
export function thresholds(lines: Line[] = []): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([{ value: null, color: 'green' }, ...lines.map((l) => ({ value: l.value, color: l.color }))]);
}

interface PanelOptions {
  title: string;
  description: string;
  unit: string;
  targets: prometheus.DataqueryBuilder[];
  width?: number;
  height?: number;
}

export function timeseriesPanel(o: PanelOptions & { lines?: Line[]; stack?: boolean; min?: number }): timeseries.PanelBuilder {
  const p = new timeseries.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .unit(o.unit)
    .span(o.width ?? 12)
    .height(o.height ?? 8)
    .targets(o.targets)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Right)
        .calcs(['lastNotNull', 'max']),
    )
    .thresholds(thresholds(o.lines));
  if (o.lines && o.lines.length > 0) {
    p.thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
  }
  if (o.stack) p.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  if (o.min !== undefined) p.min(o.min);
  return p;
}

export function statPanel(
  o: PanelOptions & { lines?: Line[]; mappings?: dashboard.ValueMapping[]; colorMode?: common.BigValueColorMode },
): stat.PanelBuilder {
  const p = new stat.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .unit(o.unit)
    .span(o.width ?? 6)
    .height(o.height ?? 4)
    .targets(o.targets)
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(o.colorMode ?? common.BigValueColorMode.Value)
    .textMode(common.BigValueTextMode.ValueAndName)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .thresholds(thresholds(o.lines));
  if (o.mappings) p.mappings(o.mappings);
  return p;
}

export function statetimelinePanel(o: PanelOptions & { mappings: dashboard.ValueMapping[] }): statetimeline.PanelBuilder {
  return new statetimeline.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .unit(o.unit)
    .span(o.width ?? 24)
    .height(o.height ?? 8)
    .targets(o.targets)
    .mappings(o.mappings)
    .showValue(common.VisibilityMode.Never)
    .mergeValues(true)
    .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.Thresholds))
    .thresholds(thresholds());
}

export function tablePanel(o: PanelOptions & { mappings?: dashboard.ValueMapping[]; lines?: Line[] }): table.PanelBuilder {
  const p = new table.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .unit(o.unit)
    .span(o.width ?? 12)
    .height(o.height ?? 8)
    .targets(o.targets)
    .thresholds(thresholds(o.lines))
    .cellOptions({ type: common.TableCellDisplayMode.ColorText })
    // Table-format queries return a Time column and a __name__ column; hide them.
    .withTransformation({ id: 'organize', options: { excludeByName: { Time: true, __name__: true } } });
  if (o.mappings) p.mappings(o.mappings);
  return p;
}

/** 1 → `one` (green), 0 → `zero` (red). */
export function booleanMapping(one: string, zero: string): dashboard.ValueMapping[] {
  return [
    {
      type: dashboard.MappingType.ValueToText,
      options: { '1': { text: one, color: 'green', index: 0 }, '0': { text: zero, color: 'red', index: 1 } },
    },
  ];
}

/** supervisord's own numeric state codes, as the service state queries compute them. */
export const SUPERVISOR_STATES: ReadonlyArray<{ state: string; code: number; color: string }> = [
  { state: 'STOPPED', code: 0, color: 'text' },
  { state: 'STARTING', code: 10, color: 'blue' },
  { state: 'RUNNING', code: 20, color: 'green' },
  { state: 'BACKOFF', code: 30, color: 'orange' },
  { state: 'STOPPING', code: 40, color: 'blue' },
  { state: 'EXITED', code: 100, color: 'red' },
  { state: 'FATAL', code: 200, color: 'dark-red' },
  { state: 'UNKNOWN', code: 1000, color: 'purple' },
];

/**
 * One series per service whose value is supervisord's state code (RUNNING = 20, FATAL = 200,
 * …), from the `hostaudit_service_state` state set, for state timelines.
 */
export function serviceStateCodeExpr(selector: string): string {
  const parts = SUPERVISOR_STATES.map(
    (s) => `hostaudit_service_state{${selector}, state="${s.state}"} * ${s.code}`,
  );
  return `sum by (group, name) (\n  ${parts.join('\n  or ')}\n)`;
}

export function stateMappings(): dashboard.ValueMapping[] {
  return [
    {
      type: dashboard.MappingType.ValueToText,
      options: Object.fromEntries(
        SUPERVISOR_STATES.map((s, index) => [String(s.code), { text: s.state, color: s.color, index }]),
      ),
    },
  ];
}

/** Gives every panel (rows included) a stable id in the order they appear. */
export function numberPanels(d: dashboard.Dashboard): dashboard.Dashboard {
  let id = 1;
  for (const p of d.panels ?? []) {
    p.id = id++;
    if (p.type === 'row') for (const inner of (p as dashboard.RowPanel).panels) inner.id = id++;
  }
  return d;
}

export type AnyPanelBuilder = cog.Builder<dashboard.Panel>;
