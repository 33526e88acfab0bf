// /metrics in the Prometheus text exposition format (0.0.4), for operators who outgrow the page.
// Read-only: built from the node store and the same tables the page reads.
import type { Ocm } from '../mcp-server/ocm.ts';
import {
  backupsSince,
  dayIn,
  firingAlerts,
  monthCost,
  operationCounts,
  pendingConfirmationCount,
  startOfDayIn,
} from './queries.ts';

type Labels = Record<string, string>;

/** Label values escape backslash, double quote and newline, as the format requires. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

class Exposition {
  private readonly lines: string[] = [];

  metric(
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    samples: { labels?: Labels; value: number | null | undefined }[],
  ): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const s of samples) {
      if (s.value === null || s.value === undefined || Number.isNaN(s.value)) continue;
      const labels =
        s.labels && Object.keys(s.labels).length
          ? `{${Object.entries(s.labels)
              .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
              .join(',')}}`
          : '';
      this.lines.push(`${name}${labels} ${s.value}`);
    }
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

export function renderMetrics(ocm: Ocm, now = Date.now()): string {
  const nodes = ocm.nodes.list();
  const out = new Exposition();
  const tz = ocm.config.timezone;
  const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso));

  out.metric('ocm_nodes_total', 'gauge', 'Registered nodes.', [{ value: nodes.length }]);
  out.metric(
    'ocm_node_up',
    'gauge',
    'Whether the last check reached the node (online or degraded = 1).',
    nodes.map((n) => ({
      labels: { node: n.id },
      value: n.status === 'online' || n.status === 'degraded' ? 1 : 0,
    })),
  );
  out.metric(
    'ocm_node_info',
    'gauge',
    'Node facts as labels (always 1).',
    nodes.map((n) => ({
      labels: {
        node: n.id,
        status: n.status,
        role: n.role,
        transport: n.transport,
        openclaw_version: n.openclaw_version ?? '',
        agent_version: n.agent_version ?? '',
      },
      value: 1,
    })),
  );
  const perNode = (pick: (n: (typeof nodes)[number]) => number | null | undefined) =>
    nodes.map((n) => ({ labels: { node: n.id }, value: pick(n) }));
  out.metric(
    'ocm_node_cpu_percent',
    'gauge',
    'CPU use at the last successful check.',
    perNode((n) => n.metrics?.cpu_pct),
  );
  out.metric(
    'ocm_node_memory_percent',
    'gauge',
    'Memory use at the last successful check.',
    perNode((n) => n.metrics?.mem_pct),
  );
  out.metric(
    'ocm_node_disk_percent',
    'gauge',
    'Disk use at the last successful check.',
    perNode((n) => n.metrics?.disk_pct),
  );
  out.metric(
    'ocm_node_last_seen_age_seconds',
    'gauge',
    'Seconds since the node last answered a check.',
    perNode((n) => (ms(n.last_seen_at) === null ? null : (now - (ms(n.last_seen_at) as number)) / 1000)),
  );
  out.metric(
    'ocm_node_last_backup_age_seconds',
    'gauge',
    'Seconds since the node’s last backup (absent if it has none).',
    perNode((n) => (ms(n.last_backup_at) === null ? null : (now - (ms(n.last_backup_at) as number)) / 1000)),
  );
  out.metric(
    'ocm_node_last_score',
    'gauge',
    'Total of the node’s last intelligence score (0–100).',
    perNode((n) => n.last_score),
  );
  out.metric(
    'ocm_node_busy',
    'gauge',
    'Whether an operation holds the node’s lock.',
    perNode((n) => (n.busy ? 1 : 0)),
  );

  const ops = operationCounts(ocm.db);
  out.metric(
    'ocm_operations_total',
    'counter',
    'Mutating tool runs recorded in the operation journal, by status.',
    Object.entries(ops).map(([status, value]) => ({ labels: { status }, value })),
  );
  const alerts = firingAlerts(ocm.db);
  const bySeverity: Record<string, number> = { warning: 0, critical: 0 };
  for (const a of alerts) bySeverity[a.severity] = (bySeverity[a.severity] ?? 0) + 1;
  out.metric(
    'ocm_alerts_firing',
    'gauge',
    'Alerts currently firing, by severity.',
    Object.entries(bySeverity).map(([severity, value]) => ({ labels: { severity }, value })),
  );
  out.metric(
    'ocm_confirmations_pending',
    'gauge',
    'Confirmations waiting for the caller to repeat the call.',
    [{ value: pendingConfirmationCount(ocm.db, now) }],
  );
  out.metric('ocm_backups_today', 'gauge', `Backups taken since midnight (${tz}).`, [
    { value: backupsSince(ocm.db, startOfDayIn(tz, now)) },
  ]);
  out.metric('ocm_cost_month_usd', 'gauge', `LLM spend recorded for the current month (${tz}).`, [
    { value: monthCost(ocm.db, dayIn(tz, now).slice(0, 7)) },
  ]);
  return out.toString();
}
