// The fleet-wide lists: backups, scores, events (filterable), the audit log.
import type { Ocm } from '../../mcp-server/ocm.ts';
import type { Series } from '../charts.ts';
import {
  type AuditRow,
  audit,
  backups,
  DIMENSIONS,
  EVENT_TYPES,
  events,
  latestScorePerNode,
  recentScores,
  SEVERITIES,
  type Severity,
} from '../queries.ts';
import { formatTime } from './format.ts';
import { type Html, html, nothing } from './html.ts';
import { heading } from './layout.ts';
import { backupTable, scoreTable } from './node.ts';
import { eventList, fleetTrend } from './overview.ts';
import { empty, live, resultTag, scoreClass, section } from './parts.ts';
import { scoreTrend } from './score-trend.ts';

export function backupsBody(ocm: Ocm, node: string | undefined): Html {
  const rows = backups(ocm.db, { node, limit: 300 });
  return html`${heading('Backups', html`Newest first${node ? html` · node <strong>${node}</strong> · <a href="/backups">all nodes</a>` : nothing} · ${rows.length} shown`)}
  ${section('Backups', backupTable(rows, ocm.config.timezone, { showNode: true }))}`;
}

export function scoresBody(ocm: Ocm, now: number): Html {
  const tz = ocm.config.timezone;
  const latest = latestScorePerNode(ocm.db);
  const nodes = ocm.nodes.list();
  const series: Series[] = fleetTrend(ocm, nodes, now);
  const table = latest.length
    ? html`<div class="table-wrap"><table>
      <thead><tr><th>node</th><th>total</th>${DIMENSIONS.map((d) => html`<th class="num">${d.label}</th>`)}<th>when</th><th>judge</th></tr></thead>
      <tbody>${latest.map(
        (s) => html`<tr><td><a href="/nodes/${s.node_id}">${s.node_id}</a></td>
        <td><span class="score ${scoreClass(s.total_score)}" data-node="${s.node_id}">${s.total_score ?? '–'}</span></td>
        ${DIMENSIONS.map((d) => html`<td class="num">${s[d.column] ?? '–'}</td>`)}
        <td>${formatTime(tz, s.created_at)}</td><td>${s.judge ?? '–'}</td></tr>`,
      )}</tbody></table></div>`
    : empty('No score runs yet.');
  return html`${heading('Scores', 'Five dimensions × 20 = 100: memory, logic, tool use, reply quality, persona. ≥ 90 tags a stable backup; < 50 triggers a rollback.')}
  ${section('Trend', scoreTrend(series, 'score trend, last 30 days', tz))}
  ${section('Latest run per node', table)}
  ${section('Recent runs', scoreTable(recentScores(ocm.db, 100), tz, { showNode: true }))}`;
}

export interface EventFilter {
  node?: string;
  type?: string;
  severity?: Severity;
}

/** Query parameters the events page accepts; anything else is ignored rather than echoed. */
export function parseEventFilter(q: Record<string, string | undefined>, knownNodes: string[]): EventFilter {
  return {
    node: q.node && knownNodes.includes(q.node) ? q.node : undefined,
    type: q.type && (EVENT_TYPES as readonly string[]).includes(q.type) ? q.type : undefined,
    severity:
      q.severity && (SEVERITIES as readonly string[]).includes(q.severity)
        ? (q.severity as Severity)
        : undefined,
  };
}

function filterQuery(f: EventFilter): string {
  const p = new URLSearchParams();
  if (f.node) p.set('node', f.node);
  if (f.type) p.set('type', f.type);
  if (f.severity) p.set('severity', f.severity);
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function eventsFragment(ocm: Ocm, f: EventFilter): Html {
  const rows = events(ocm.db, { node: f.node, type: f.type, minSeverity: f.severity, limit: 300 });
  return live('event-list', `/fragments/event-list${filterQuery(f)}`, eventList(rows, ocm.config.timezone));
}

export function eventsBody(ocm: Ocm, f: EventFilter): Html {
  const nodes = ocm.nodes.rows().map((n) => n.id);
  const select = (
    name: string,
    label: string,
    options: readonly string[],
    current: string | undefined,
    any: string,
  ) =>
    html`<label>${label}<select name="${name}"><option value="">${any}</option>${options.map(
      (o) => html`<option value="${o}"${o === current ? html` selected` : nothing}>${o}</option>`,
    )}</select></label>`;
  return html`${heading('Events', 'What happened to the fleet, newest first.')}
  <form class="filters" method="get" action="/events">
    ${select('node', 'Node', nodes, f.node, 'all nodes')}
    ${select('type', 'Type', EVENT_TYPES, f.type, 'all types')}
    ${select('severity', 'At least', SEVERITIES, f.severity, 'any severity')}
    <button type="submit">Filter</button>
    ${f.node || f.type || f.severity ? html`<a href="/events">clear</a>` : nothing}
  </form>
  ${section('Events', eventsFragment(ocm, f))}`;
}

function params(row: AuditRow): string {
  if (!row.params) return '';
  try {
    const value = JSON.parse(row.params);
    return value && typeof value === 'object' && Object.keys(value).length === 0 ? '' : JSON.stringify(value);
  } catch {
    return row.params;
  }
}

export function auditBody(ocm: Ocm): Html {
  const tz = ocm.config.timezone;
  const rows = audit(ocm.db, { limit: 300 });
  const table = rows.length
    ? html`<div class="table-wrap"><table class="audit">
      <thead><tr><th>time</th><th>caller</th><th>tool</th><th>target</th><th>result</th><th>parameters</th><th class="num">ms</th></tr></thead>
      <tbody>${rows.map(
        (r) => html`<tr>
          <td>${formatTime(tz, r.created_at)}</td>
          <td>${r.operator}${r.operator_detail ? html`<div class="muted small">${r.operator_detail}</div>` : nothing}</td>
          <td><code>${r.action}</code></td>
          <td>${r.target ?? ''}</td>
          <td>${resultTag(r.result)}${r.error_message ? html`<div class="muted small">${r.error_message}</div>` : nothing}</td>
          <td><code class="params">${params(r)}</code></td>
          <td class="num">${r.duration_ms ?? ''}</td>
        </tr>`,
      )}</tbody></table></div>`
    : empty('No tool calls recorded yet.');
  return html`${heading('Audit log', 'Every tool call by every caller, newest first. Parameters are stored with secrets and security codes removed. Viewing this page is not a tool call and is not logged here.')}
  ${section('Calls', table, html`<span class="muted">${rows.length} shown</span>`)}`;
}
