// One node: live status and metrics, score history and radar, backups with their diffs, events.
import type { Node } from '../../mcp-server/nodes/store.ts';
import type { Ocm } from '../../mcp-server/ocm.ts';
import { radarChart, type Series, usageBar } from '../charts.ts';
import {
  type BackupRow,
  backups,
  DIMENSIONS,
  events,
  firingAlerts,
  latestCompleteScore,
  nodeScores,
  runningOperations,
  type ScoreRow,
} from '../queries.ts';
import { type BackupDiffFn, renderDiff } from './diff.ts';
import {
  formatAge,
  formatBytes,
  formatDuration,
  formatPct,
  formatTime,
  formatUsd,
  isoMs,
  shortRef,
} from './format.ts';
import { type Html, html, nothing, trustedSvg } from './html.ts';
import { eventList, isUp } from './overview.ts';
import { empty, live, scoreClass, section, severityTag, statusDot, statusTag } from './parts.ts';
import { scoreTrend } from './score-trend.ts';

const NODE_BACKUPS_SHOWN = 15;

/** A backup's name for the diff pipeline: its tag if it has one, else its commit. */
export const backupRef = (b: BackupRow) => b.git_tag ?? b.git_commit;

export function statusFragment(ocm: Ocm, node: Node, now: number): Html {
  const m = node.metrics ?? {};
  const op = runningOperations(ocm.db).find((o) => o.target === node.id);
  const alerts = firingAlerts(ocm.db, node.id);
  const stale = !isUp(node);
  const meter = (label: string, field: string, v: number | null | undefined) =>
    html`<div class="metric"><span class="metric-label">${label}</span><span class="metric-value" data-field="${field}">${formatPct(v)}</span>${trustedSvg(
      usageBar(v, `${label} ${formatPct(v)}`),
    )}</div>`;
  const row = (label: string, value: Html | string, field?: string) =>
    html`<div><dt>${label}</dt><dd${field ? html` data-field="${field}"` : nothing}>${value}</dd></div>`;
  const content = html`
  ${node.status_detail ? html`<p class="notice ${stale ? 'error' : ''}">${node.status_detail}</p>` : nothing}
  ${alerts.map((a) => html`<p class="notice error">${severityTag(a.severity)} ${a.message} <span class="muted">since ${formatTime(ocm.config.timezone, a.fired_at)}</span></p>`)}
  ${
    node.busy
      ? html`<p class="busy" data-field="busy">busy — ${node.busy.operation} by ${node.busy.by}, ${formatDuration(node.busy.seconds)}</p>`
      : op
        ? html`<p class="busy" data-field="busy">running ${op.tool} (${op.caller}), ${formatDuration((now - op.started_at) / 1000)}</p>`
        : nothing
  }
  <div class="metrics wide${stale ? ' stale' : ''}">${meter('CPU', 'cpu', m.cpu_pct)}${meter('RAM', 'ram', m.mem_pct)}${meter('Disk', 'disk', m.disk_pct)}</div>
  ${stale && node.metrics ? html`<p class="muted small">Metrics are from the last successful check (${formatAge(isoMs(node.last_seen_at), now)}).</p>` : nothing}
  <dl class="facts">
    ${row('Status', statusTag(node.status), 'status')}
    ${row('OpenClaw', node.openclaw_version ?? '–', 'version')}
    ${row('Gateway', m.openclaw_running === undefined || m.openclaw_running === null ? '–' : m.openclaw_running ? 'running' : 'stopped')}
    ${row('Load (1 min)', m.load1 === undefined || m.load1 === null ? '–' : m.load1.toFixed(2))}
    ${row('Uptime', m.uptime_s === undefined || m.uptime_s === null ? '–' : formatDuration(m.uptime_s))}
    ${row('Agent', node.agent_version ?? '–')}
    ${row('OS', node.os ?? '–')}
    ${row('Last seen', formatAge(isoMs(node.last_seen_at), now))}
    ${row('Last checked', formatAge(isoMs(node.last_checked_at), now))}
    ${row('Last backup', formatAge(isoMs(node.last_backup_at), now))}
    ${row('Host key', node.host_key ? html`<code class="wrap">${node.host_key}</code>` : 'not pinned yet')}
  </dl>`;
  return live('node-status', `/fragments/nodes/${node.id}/status`, content);
}

function scoreDetails(s: ScoreRow): Html {
  if (!s.details) return nothing;
  let pretty = s.details;
  try {
    pretty = JSON.stringify(JSON.parse(s.details), null, 2);
  } catch {
    // shown as stored
  }
  return html`<details class="score-details"><summary>details</summary><pre>${pretty}</pre></details>`;
}

export function scoreTable(rows: ScoreRow[], tz: string, opts: { showNode?: boolean } = {}): Html {
  if (!rows.length)
    return empty('No score runs yet. Run one with run_score, or wait for the daily score job.');
  return html`<div class="table-wrap"><table class="scores">
    <thead><tr><th>time</th>${opts.showNode ? html`<th>node</th>` : nothing}<th>total</th>${DIMENSIONS.map(
      (d) => html`<th class="num">${d.label}</th>`,
    )}<th>status</th><th>judge</th><th>action</th><th class="num">cost</th><th></th></tr></thead>
    <tbody>${rows.map(
      (s) => html`<tr>
        <td>${formatTime(tz, s.created_at)}</td>
        ${opts.showNode ? html`<td><a href="/nodes/${s.node_id}">${s.node_id}</a></td>` : nothing}
        <td><span class="score ${scoreClass(s.total_score)}">${s.total_score ?? '–'}</span></td>
        ${DIMENSIONS.map((d) => html`<td class="num">${s[d.column] ?? '–'}</td>`)}
        <td>${s.status}</td><td>${s.judge ?? '–'}</td><td>${s.action_taken ?? '–'}</td>
        <td class="num">${formatUsd(s.cost_usd)}</td>
        <td>${scoreDetails(s)}</td>
      </tr>`,
    )}</tbody></table></div>`;
}

export function radarFor(s: ScoreRow | undefined, title: string): string {
  return radarChart(
    DIMENSIONS.map((d) => ({ label: d.label, value: s ? s[d.column] : null, max: 20 })),
    { title },
  );
}

export function backupTable(
  rows: BackupRow[],
  tz: string,
  opts: { showNode?: boolean; olderThanShown?: BackupRow } = {},
): Html {
  if (!rows.length) return empty('No backups yet. Run backup_node, or wait for the 6-hourly backup job.');
  // Rows are newest first; the diff of a row is against the next older backup of the same node.
  const older = new Map<number, BackupRow>();
  const lastSeen = new Map<string, BackupRow>();
  if (opts.olderThanShown) lastSeen.set(opts.olderThanShown.node_id, opts.olderThanShown);
  for (const b of [...rows].reverse()) {
    const prev = lastSeen.get(b.node_id);
    if (prev) older.set(b.id, prev);
    lastSeen.set(b.node_id, b);
  }
  return html`<div class="table-wrap"><table class="backups">
    <thead><tr><th>time</th>${opts.showNode ? html`<th>node</th>` : nothing}<th>type</th><th>tag / commit</th><th class="num">files</th><th class="num">size</th><th class="num">score</th><th>note</th><th>diff</th></tr></thead>
    <tbody>${rows.map((b) => {
      const prev = older.get(b.id);
      const from = prev && backupRef(prev);
      const to = backupRef(b);
      return html`<tr data-backup="${b.id}">
        <td>${formatTime(tz, b.created_at)}</td>
        ${opts.showNode ? html`<td><a href="/nodes/${b.node_id}">${b.node_id}</a></td>` : nothing}
        <td>${b.type}${b.is_stable ? html` <span class="tag stable">stable</span>` : nothing}${b.changed ? nothing : html` <span class="tag muted">unchanged</span>`}</td>
        <td><code>${shortRef(b.git_tag ?? b.git_commit)}</code></td>
        <td class="num">${b.file_count ?? '–'}</td>
        <td class="num">${formatBytes(b.total_size)}</td>
        <td class="num">${b.score ?? '–'}</td>
        <td>${b.note ?? ''}</td>
        <td>${
          from && to
            ? html`<a href="/nodes/${b.node_id}/diff?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}">changes</a>`
            : html`<span class="muted" title="no earlier backup in this list">–</span>`
        }</td>
      </tr>`;
    })}</tbody></table></div>`;
}

export async function nodeBody(
  ocm: Ocm,
  node: Node,
  now: number,
  backupDiff: BackupDiffFn | undefined,
): Promise<Html> {
  const tz = ocm.config.timezone;
  const scores = nodeScores(ocm.db, node.id, 120);
  const complete = scores.filter((s) => s.status === 'complete' && s.total_score !== null);
  const latest = latestCompleteScore(ocm.db, node.id);
  const history: Series[] = [
    { label: node.id, points: complete.map((s) => ({ at: s.created_at, value: s.total_score as number })) },
  ];
  // One more than shown, so the oldest row shown still has a predecessor to diff against.
  const recent = backups(ocm.db, { node: node.id, limit: NODE_BACKUPS_SHOWN + 1 });
  const nodeBackups = recent.slice(0, NODE_BACKUPS_SHOWN);
  // The newest backup that changed something, diffed against the one before it.
  const changedIdx = recent.findIndex((b, i) => b.changed && i + 1 < recent.length);
  const newest = recent[changedIdx];
  const before = recent[changedIdx + 1];
  let latestChange: Html = empty('Fewer than two backups: nothing to compare yet.');
  if (newest && before && backupRef(newest) && backupRef(before)) {
    latestChange = html`<p class="muted">${formatTime(tz, before.created_at)} → ${formatTime(tz, newest.created_at)}
      (<code>${shortRef(backupRef(before))}</code> → <code>${shortRef(backupRef(newest))}</code>)</p>
      ${await renderDiff(backupDiff, node.id, backupRef(before) as string, backupRef(newest) as string)}`;
  }
  const tags = node.tags.length
    ? html` · ${node.tags.map((t) => html`<span class="tag">${t}</span>`)}`
    : nothing;
  return html`<div class="page-head">
    <p class="crumbs"><a href="/">Overview</a> / node</p>
    <h1>${statusDot(node.status)} ${node.id} <span class="muted">${node.name}</span></h1>
    <p class="sub">${node.user}@${node.host}:${node.port} · ${node.transport} · ${node.role}${tags}</p>
  </div>
  ${section('Status', statusFragment(ocm, node, now))}
  <div class="two">
    ${section('Score history', scoreTrend(history, `${node.id} score history`, tz))}
    ${section(
      'Latest score by dimension',
      html`<div class="chart-box radar-box">${trustedSvg(radarFor(latest, `${node.id} latest score by dimension`))}</div>${
        latest
          ? html`<p class="muted center">${formatTime(tz, latest.created_at)} · total <strong>${latest.total_score}</strong> · ${latest.judge ?? 'judge ?'}</p>`
          : nothing
      }`,
    )}
  </div>
  ${section('Latest change', latestChange)}
  ${section('Backups', backupTable(nodeBackups, tz, { olderThanShown: recent[NODE_BACKUPS_SHOWN] }), html`<a class="more" href="/backups?node=${node.id}">all backups of ${node.id} →</a>`)}
  ${section('Scores', scoreTable(scores.slice(0, 10), tz), html`<span class="muted">newest 10 of the history above</span>`)}
  ${section(
    'Events',
    eventList(events(ocm.db, { node: node.id, limit: 20 }), tz, { showNode: false }),
    html`<a class="more" href="/events?node=${node.id}">all events of ${node.id} →</a>`,
  )}`;
}

export async function diffBody(
  ocm: Ocm,
  node: Node,
  from: BackupRow,
  to: BackupRow,
  backupDiff: BackupDiffFn | undefined,
): Promise<Html> {
  const tz = ocm.config.timezone;
  return html`<div class="page-head">
    <p class="crumbs"><a href="/">Overview</a> / <a href="/nodes/${node.id}">${node.id}</a> / changes</p>
    <h1>Changes on ${node.id}</h1>
    <p class="sub">from <code>${shortRef(backupRef(from))}</code> (${formatTime(tz, from.created_at)}) to <code>${shortRef(backupRef(to))}</code> (${formatTime(
      tz,
      to.created_at,
    )})</p>
  </div>
  ${section('Diff', await renderDiff(backupDiff, node.id, backupRef(from) as string, backupRef(to) as string))}`;
}
