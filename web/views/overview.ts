// The overview: the fleet at a glance (seed §8.2): summary tiles, one card per node, the score
// trend and recent events. The tiles, the grid and the events are live regions.

import type { Node } from '../../mcp-server/nodes/store.ts';
import type { Ocm } from '../../mcp-server/ocm.ts';
import { type Series, sparkline, usageBar } from '../charts.ts';
import {
  backupsSince,
  dayIn,
  dayStartsIn,
  type EventRow,
  events,
  firingAlerts,
  monthCost,
  type OperationRow,
  pendingConfirmationCount,
  runningOperations,
  scorePointsSince,
  startOfDayIn,
} from '../queries.ts';
import { formatAge, formatDuration, formatPct, formatTime, formatUsd, isoMs } from './format.ts';
import { type Html, html, nothing, trustedSvg } from './html.ts';
import { heading } from './layout.ts';
import { empty, live, scoreClass, section, severityTag, statusDot } from './parts.ts';
import { scoreTrend } from './score-trend.ts';

const DAY = 86_400_000;
const SPARK_POINTS = 14;
const TREND_DAYS = 30;

/** Reachable nodes: online, or degraded (answering, but with something wrong). */
export const isUp = (n: Node) => n.status === 'online' || n.status === 'degraded';

export interface FleetSummary {
  online: number;
  total: number;
  backupsToday: number;
  averageScore: number | null;
  monthCostUsd: number;
  month: string;
  openAlerts: number;
  pendingConfirmations: number;
}

export function fleetSummary(ocm: Ocm, nodes: Node[], now: number): FleetSummary {
  const tz = ocm.config.timezone;
  const scored = nodes.map((n) => n.last_score).filter((s): s is number => s !== null);
  const month = dayIn(tz, now).slice(0, 7);
  return {
    online: nodes.filter(isUp).length,
    total: nodes.length,
    backupsToday: backupsSince(ocm.db, startOfDayIn(tz, now)),
    averageScore: scored.length ? Math.round(scored.reduce((a, b) => a + b, 0) / scored.length) : null,
    monthCostUsd: monthCost(ocm.db, month),
    month,
    openAlerts: firingAlerts(ocm.db).length,
    pendingConfirmations: pendingConfirmationCount(ocm.db, now),
  };
}

export function summaryFragment(s: FleetSummary): Html {
  const tile = (label: string, value: string, field: string, cls = '', sub: Html = nothing) =>
    html`<div class="tile ${cls}"><div class="tile-label">${label}</div><div class="tile-value" data-field="${field}">${value}</div>${sub}</div>`;
  const allUp = s.online === s.total;
  return live(
    'summary',
    '/fragments/summary',
    html`${tile('Online', `${s.online}/${s.total}`, 'online', s.total === 0 ? '' : allUp ? 'good' : 'bad')}
    ${tile('Backups today', String(s.backupsToday), 'backups-today')}
    ${tile('Average score', s.averageScore === null ? '–' : String(s.averageScore), 'average-score', scoreClass(s.averageScore))}
    ${tile(`Cost ${s.month}`, formatUsd(s.monthCostUsd), 'month-cost')}
    ${tile('Open alerts', String(s.openAlerts), 'open-alerts', s.openAlerts > 0 ? 'bad' : 'good')}
    ${
      s.pendingConfirmations > 0
        ? html`<a class="tile attention" href="/confirmations"><div class="tile-label">Waiting for a code</div><div class="tile-value" data-field="pending">${s.pendingConfirmations}</div><div class="tile-sub">pending confirmation${s.pendingConfirmations > 1 ? 's' : ''} →</div></a>`
        : nothing
    }`,
    'div',
    'tiles',
  );
}

export interface GridData {
  nodes: Node[];
  sparks: Map<string, number[]>;
  operations: Map<string, OperationRow>;
  now: number;
}

export function loadGrid(
  ocm: Ocm,
  nodes: Node[],
  now: number,
  points = scorePointsSince(ocm.db, now - TREND_DAYS * DAY),
): GridData {
  const sparks = new Map<string, number[]>();
  for (const p of points) {
    const list = sparks.get(p.node_id) ?? [];
    list.push(p.total_score);
    if (list.length > SPARK_POINTS) list.shift();
    sparks.set(p.node_id, list);
  }
  const operations = new Map<string, OperationRow>();
  for (const op of runningOperations(ocm.db)) if (op.target) operations.set(op.target, op);
  return { nodes, sparks, operations, now };
}

function busyLine(node: Node, op: OperationRow | undefined, now: number): Html {
  if (node.busy) {
    const full = `busy — ${node.busy.operation} by ${node.busy.by}, ${formatDuration(node.busy.seconds)}`;
    return html`<div class="busy" data-field="busy" title="${full}">${node.busy.operation} · ${formatDuration(node.busy.seconds)}</div>`;
  }
  if (op) {
    const full = `running ${op.tool} for ${op.caller}, ${formatDuration((now - op.started_at) / 1000)}`;
    return html`<div class="busy" data-field="busy" title="${full}">${op.tool} · ${formatDuration((now - op.started_at) / 1000)}</div>`;
  }
  return nothing;
}

export function nodeCard(node: Node, data: GridData): Html {
  const m = node.metrics ?? {};
  const up = isUp(node);
  const spark = data.sparks.get(node.id) ?? [];
  const metric = (label: string, field: string, value: number | null | undefined) =>
    html`<div class="metric"><span class="metric-label">${label}</span><span class="metric-value" data-field="${field}">${formatPct(value)}</span>${trustedSvg(
      usageBar(value, `${label} ${formatPct(value)}`),
    )}</div>`;
  return html`<a class="card st-${node.status}" href="/nodes/${node.id}" data-node="${node.id}" data-status="${node.status}">
  <div class="card-head">${statusDot(node.status)}<span class="card-id">${node.id}</span>${
    node.role === 'production' ? nothing : html`<span class="role">${node.role}</span>`
  }</div>
  <div class="card-name" title="${node.name}">${node.name}</div>
  ${
    up
      ? html`<div class="metrics">${metric('CPU', 'cpu', m.cpu_pct)}${metric('RAM', 'ram', m.mem_pct)}</div>`
      : html`<div class="down-note"><strong>${node.status === 'unknown' ? 'not checked yet' : node.status.toUpperCase()}</strong><span>${
          node.status_detail ?? ''
        }</span><span>last seen ${formatAge(isoMs(node.last_seen_at), data.now)}</span></div>`
  }
  <div class="card-score">
    <span class="score score-big ${scoreClass(node.last_score)}" data-field="score">${node.last_score ?? '–'}</span>
    ${trustedSvg(sparkline(spark, { min: spark.length ? Math.max(0, Math.floor(Math.min(...spark) / 10) * 10 - 10) : 0 }))}
  </div>
  <div class="card-foot">
    <span data-field="version">${node.openclaw_version ? `v${node.openclaw_version.replace(/^v/, '')}` : 'version ?'}</span>
    <span title="last backup">⟲ ${formatAge(isoMs(node.last_backup_at), data.now)}</span>
  </div>
  ${busyLine(node, data.operations.get(node.id), data.now)}
</a>`;
}

/** Why a node wants a look, or null: unreachable, degraded, or scoring in the warning band or below. */
export function attentionReason(node: Node): string | null {
  if (node.status === 'offline' || node.status === 'error') return node.status;
  if (node.status === 'degraded') return 'degraded';
  if (node.last_score !== null && node.last_score < 70) return `score ${node.last_score}`;
  return null;
}

/** In a big fleet the cards stay in id order; the nodes that want a look are named above them. */
function attentionStrip(nodes: Node[]): Html {
  const flagged = nodes.map((n) => ({ n, why: attentionReason(n) })).filter((x) => x.why !== null);
  if (!flagged.length) return nothing;
  return html`<div class="attention"><span class="attention-label">Needs a look</span>${flagged.map(
    ({ n, why }) =>
      html`<a class="chip st-${n.status}" href="/nodes/${n.id}" data-attention="${n.id}">${statusDot(n.status)}${n.id} <span class="chip-why">${why}</span></a>`,
  )}</div>`;
}

export function gridFragment(data: GridData): Html {
  const content = data.nodes.length
    ? html`${attentionStrip(data.nodes)}<div class="grid">${data.nodes.map((n) => nodeCard(n, data))}</div>`
    : empty(html`No nodes registered yet. Add one with <code>ocm call add_node</code> or ask the OCM Bot.`);
  return live('node-grid', '/fragments/nodes', content);
}

export function eventList(rows: EventRow[], tz: string, opts: { showNode?: boolean } = {}): Html {
  if (!rows.length) return empty('No events yet.');
  return html`<ol class="events">${rows.map(
    (e) => html`<li class="event sev-${e.severity}">
      <time datetime="${new Date(e.created_at).toISOString()}">${formatTime(tz, e.created_at)}</time>
      ${severityTag(e.severity)}
      ${opts.showNode !== false && e.node_id ? html`<a class="event-node" href="/nodes/${e.node_id}">${e.node_id}</a>` : nothing}
      <span class="event-msg">${e.message}</span>
    </li>`,
  )}</ol>`;
}

export function recentEventsFragment(ocm: Ocm): Html {
  return live(
    'recent-events',
    '/fragments/events',
    eventList(events(ocm.db, { limit: 10 }), ocm.config.timezone),
  );
}

type ScorePoint = { node_id: string; total_score: number; created_at: number };

/** Per-node lines for a small fleet; for a big one the fleet average and the three weakest nodes. */
export function fleetTrend(
  ocm: Ocm,
  nodes: Node[],
  now: number,
  points = scorePointsSince(ocm.db, now - TREND_DAYS * DAY),
): Series[] {
  const tz = ocm.config.timezone;
  const byNode = new Map<string, { at: number; value: number }[]>();
  for (const p of points) {
    const list = byNode.get(p.node_id) ?? [];
    list.push({ at: p.created_at, value: p.total_score });
    byNode.set(p.node_id, list);
  }
  if (nodes.length <= 6) {
    return nodes
      .filter((n) => byNode.has(n.id))
      .map((n) => ({ label: n.id, points: byNode.get(n.id) ?? [] }));
  }
  // Daily average in the operator's timezone. Points come oldest first, so one pass over the
  // day boundaries buckets them (a timezone lookup per point would dominate the page's cost).
  const known = new Set(nodes.map((n) => n.id));
  const average: Series = { label: 'fleet avg', main: true, points: [] };
  if (points.length) {
    const starts = dayStartsIn(tz, (points[0] as ScorePoint).created_at, now);
    let day = 0;
    let sum = 0;
    let count = 0;
    const flush = () => {
      if (count)
        average.points.push({
          at: (starts[day] as number) + DAY / 2,
          value: Math.round((sum / count) * 10) / 10,
        });
      sum = 0;
      count = 0;
    };
    for (const p of points) {
      while (day + 1 < starts.length && p.created_at >= (starts[day + 1] as number)) {
        flush();
        day++;
      }
      if (!known.has(p.node_id)) continue;
      sum += p.total_score;
      count++;
    }
    flush();
  }
  const weakest = nodes
    .filter((n) => n.last_score !== null && byNode.has(n.id))
    .sort((a, b) => (a.last_score as number) - (b.last_score as number))
    .slice(0, 3)
    .map((n) => ({ label: n.id, points: byNode.get(n.id) ?? [] }));
  return [average, ...weakest];
}

function operationsPanel(ops: OperationRow[], now: number): Html {
  if (!ops.length) return nothing;
  return section(
    'In progress',
    html`<ul class="ops">${ops.map((op) => {
      const steps = safeSteps(op.steps);
      const last = steps[steps.length - 1];
      return html`<li><strong>${op.tool}</strong>${op.target ? html` on <a href="/nodes/${op.target}">${op.target}</a>` : nothing}
        <span class="muted">by ${op.caller}, ${formatDuration((now - op.started_at) / 1000)}</span>${
          last ? html`<span class="muted"> · ${last.step}</span>` : nothing
        }</li>`;
    })}</ul>`,
  );
}

export function safeSteps(json: string): { at: number; step: string }[] {
  try {
    const steps = JSON.parse(json);
    return Array.isArray(steps) ? steps : [];
  } catch {
    return [];
  }
}

export function overviewBody(ocm: Ocm, now: number): Html {
  const nodes = ocm.nodes.list();
  const tz = ocm.config.timezone;
  const points = scorePointsSince(ocm.db, now - TREND_DAYS * DAY);
  const series = fleetTrend(ocm, nodes, now, points);
  const title =
    nodes.length <= 6
      ? 'score per node, last 30 days'
      : 'fleet average and the three lowest-scoring nodes, last 30 days';
  return html`${heading('Fleet overview', html`${nodes.length} node${nodes.length === 1 ? '' : 's'} · updated ${formatTime(tz, now)}`)}
  ${summaryFragment(fleetSummary(ocm, nodes, now))}
  ${operationsPanel(runningOperations(ocm.db), now)}
  ${section('Nodes', gridFragment(loadGrid(ocm, nodes, now, points)))}
  <div class="two">
    ${section('Score trend', scoreTrend(series, title, tz), html`<a class="more" href="/scores">all scores →</a>`)}
    ${section('Recent events', recentEventsFragment(ocm), html`<a class="more" href="/events">all events →</a>`)}
  </div>`;
}
