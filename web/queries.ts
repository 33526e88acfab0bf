// The read-only SQL the status page needs, over the same tables the tools write. Nothing here
// writes: the page polls every few seconds, and a view must never change the fleet or its records.
import type { AuditRow } from '../mcp-server/audit.ts';
import type { Db } from '../mcp-server/db/index.ts';
import type { EventRow, Severity } from '../mcp-server/events.ts';

export type { Severity };
export const SEVERITIES: readonly Severity[] = ['info', 'warn', 'error', 'critical'];
export const EVENT_TYPES = [
  'install',
  'backup',
  'restore',
  'score',
  'alert',
  'config',
  'deploy',
  'status',
  'operation',
] as const;

export interface BackupRow {
  id: number;
  node_id: string;
  git_commit: string | null;
  git_tag: string | null;
  type: string;
  score: number | null;
  is_stable: number;
  file_count: number | null;
  total_size: number | null;
  changed: number;
  note: string | null;
  created_at: number;
}

export interface ScoreRow {
  id: number;
  node_id: string;
  total_score: number | null;
  memory_score: number | null;
  logic_score: number | null;
  tool_score: number | null;
  quality_score: number | null;
  personality_score: number | null;
  status: string;
  judge: string | null;
  details: string | null;
  action_taken: string | null;
  backup_id: number | null;
  tokens_in: number | null;
  tokens_out: number | null;
  cost_usd: number | null;
  created_at: number;
}

export type { AuditRow } from '../mcp-server/audit.ts';
export type { EventRow } from '../mcp-server/events.ts';

export interface AlertRow {
  id: number;
  rule: string;
  node_id: string | null;
  severity: string;
  message: string;
  status: string;
  fired_at: number;
}

export interface OperationRow {
  id: string;
  tool: string;
  target: string | null;
  caller: string;
  status: string;
  steps: string;
  started_at: number;
  heartbeat_at: number;
}

export interface CostRow {
  node_id: string;
  day: string;
  model: string;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number;
}

/** The five scoring dimensions as the scores table stores them (each out of 20). */
export const DIMENSIONS = [
  { column: 'memory_score', label: 'memory' },
  { column: 'logic_score', label: 'logic' },
  { column: 'tool_score', label: 'tool use' },
  { column: 'quality_score', label: 'reply quality' },
  { column: 'personality_score', label: 'persona' },
] as const;

// ---- time in the operator's timezone ----------------------------------------------------------

const dayFormatters = new Map<string, Intl.DateTimeFormat>();
function dayFormatter(tz: string): Intl.DateTimeFormat {
  let f = dayFormatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormatters.set(tz, f);
  }
  return f;
}

/** `YYYY-MM-DD` of an instant in a timezone. */
export function dayIn(tz: string, ms: number): string {
  return dayFormatter(tz).format(ms);
}

const partFormatters = new Map<string, Intl.DateTimeFormat>();
/** How far `tz`'s wall clock is ahead of UTC at instant `ms`. */
function offsetIn(tz: string, ms: number): number {
  let f = partFormatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    partFormatters.set(tz, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, Number(x.value)]));
  const wall = Date.UTC(p.year as number, (p.month as number) - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(ms / 1000) * 1000;
}

/** UTC ms of the midnight that starts `ms`'s day in `tz` (DST-safe: the offset is taken at that midnight). */
export function startOfDayIn(tz: string, ms: number): number {
  const [y, mo, d] = dayIn(tz, ms).split('-').map(Number) as [number, number, number];
  const wallMidnight = Date.UTC(y, mo - 1, d);
  const first = wallMidnight - offsetIn(tz, wallMidnight);
  return wallMidnight - offsetIn(tz, first);
}

/** The local midnights (UTC ms) of every day from `from`'s day through `to`'s, in order. */
export function dayStartsIn(tz: string, from: number, to: number): number[] {
  const starts = [startOfDayIn(tz, from)];
  for (;;) {
    // 36 h past a midnight is always inside the next local day, DST or not.
    const next = startOfDayIn(tz, (starts[starts.length - 1] as number) + 36 * 3600_000);
    if (next > to) return starts;
    starts.push(next);
  }
}

// ---- the fleet at a glance --------------------------------------------------------------------

export function backupsSince(db: Db, since: number): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM backups WHERE created_at >= ?').get(since) as { n: number })
    .n;
}

/** Spend of a calendar month, `YYYY-MM`, summed over every node and model. */
export function monthCost(db: Db, month: string): number {
  const row = db
    .prepare('SELECT COALESCE(SUM(cost_usd), 0) AS usd FROM costs WHERE substr(day, 1, 7) = ?')
    .get(month) as { usd: number };
  return row.usd;
}

export function firingAlerts(db: Db, node?: string): AlertRow[] {
  return db
    .prepare(
      "SELECT * FROM alerts WHERE status = 'firing' AND (? IS NULL OR node_id = ?) ORDER BY fired_at DESC",
    )
    .all(node ?? null, node ?? null) as AlertRow[];
}

export function runningOperations(db: Db): OperationRow[] {
  return db
    .prepare("SELECT * FROM operations WHERE status = 'running' ORDER BY started_at")
    .all() as OperationRow[];
}

export function operationCounts(db: Db): Record<string, number> {
  const rows = db.prepare('SELECT status, COUNT(*) AS n FROM operations GROUP BY status').all() as {
    status: string;
    n: number;
  }[];
  const counts: Record<string, number> = { running: 0, succeeded: 0, failed: 0, interrupted: 0 };
  for (const r of rows) counts[r.status] = r.n;
  return counts;
}

/** Pending, unexpired confirmations, counted without touching them (for /metrics and the nav). */
export function pendingConfirmationCount(db: Db, now = Date.now()): number {
  return (
    db
      .prepare("SELECT COUNT(*) AS n FROM confirmations WHERE status = 'pending' AND expires_at > ?")
      .get(now) as { n: number }
  ).n;
}

// ---- scores -----------------------------------------------------------------------------------

/** Complete score runs since a time, oldest first, for every node: sparklines and fleet trend. */
export function scorePointsSince(
  db: Db,
  since: number,
): { node_id: string; total_score: number; created_at: number }[] {
  return db
    .prepare(
      `SELECT node_id, total_score, created_at FROM scores
       WHERE created_at >= ? AND status = 'complete' AND total_score IS NOT NULL ORDER BY created_at`,
    )
    .all(since) as { node_id: string; total_score: number; created_at: number }[];
}

export function nodeScores(db: Db, node: string, limit = 120): ScoreRow[] {
  return db
    .prepare('SELECT * FROM scores WHERE node_id = ? ORDER BY created_at DESC, id DESC LIMIT ?')
    .all(node, limit) as ScoreRow[];
}

export function latestCompleteScore(db: Db, node: string): ScoreRow | undefined {
  return db
    .prepare(
      "SELECT * FROM scores WHERE node_id = ? AND status = 'complete' ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .get(node) as ScoreRow | undefined;
}

/** The newest complete run of each node. */
export function latestScorePerNode(db: Db): ScoreRow[] {
  return db
    .prepare(
      `SELECT s.* FROM scores s
       JOIN (SELECT node_id, MAX(created_at) AS at FROM scores WHERE status = 'complete' GROUP BY node_id) latest
         ON latest.node_id = s.node_id AND latest.at = s.created_at
       WHERE s.status = 'complete' GROUP BY s.node_id ORDER BY s.node_id`,
    )
    .all() as ScoreRow[];
}

export function recentScores(db: Db, limit = 100): ScoreRow[] {
  return db
    .prepare('SELECT * FROM scores ORDER BY created_at DESC, id DESC LIMIT ?')
    .all(limit) as ScoreRow[];
}

// ---- backups, events, audit, costs ------------------------------------------------------------

export function backups(db: Db, filter: { node?: string; limit?: number } = {}): BackupRow[] {
  return db
    .prepare(
      'SELECT * FROM backups WHERE (? IS NULL OR node_id = ?) ORDER BY created_at DESC, id DESC LIMIT ?',
    )
    .all(filter.node ?? null, filter.node ?? null, filter.limit ?? 200) as BackupRow[];
}

export function events(
  db: Db,
  filter: { node?: string; type?: string; minSeverity?: Severity; limit?: number } = {},
): EventRow[] {
  const allowed = filter.minSeverity ? SEVERITIES.slice(SEVERITIES.indexOf(filter.minSeverity)) : SEVERITIES;
  return db
    .prepare(
      `SELECT * FROM events WHERE (? IS NULL OR node_id = ?) AND (? IS NULL OR type = ?)
       AND severity IN (${allowed.map(() => '?').join(',')}) ORDER BY created_at DESC, id DESC LIMIT ?`,
    )
    .all(
      filter.node ?? null,
      filter.node ?? null,
      filter.type ?? null,
      filter.type ?? null,
      ...allowed,
      filter.limit ?? 200,
    ) as EventRow[];
}

export function audit(
  db: Db,
  filter: { operator?: string; result?: string; limit?: number } = {},
): AuditRow[] {
  return db
    .prepare(
      'SELECT * FROM audit_log WHERE (? IS NULL OR operator = ?) AND (? IS NULL OR result = ?) ORDER BY id DESC LIMIT ?',
    )
    .all(
      filter.operator ?? null,
      filter.operator ?? null,
      filter.result ?? null,
      filter.result ?? null,
      filter.limit ?? 200,
    ) as AuditRow[];
}

/** Spend per node and month, newest month first. */
export function costsByNodeMonth(
  db: Db,
): { month: string; node_id: string; tokens_in: number; tokens_out: number; cost_usd: number }[] {
  return db
    .prepare(
      `SELECT substr(day, 1, 7) AS month, node_id, SUM(tokens_in) AS tokens_in, SUM(tokens_out) AS tokens_out, SUM(cost_usd) AS cost_usd
       FROM costs GROUP BY month, node_id ORDER BY month DESC, cost_usd DESC`,
    )
    .all() as { month: string; node_id: string; tokens_in: number; tokens_out: number; cost_usd: number }[];
}

/** Whether a later release has created a table yet (rollouts, scheduler runs…), for honest empty states. */
export function tableExists(db: Db, name: string): boolean {
  return !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name);
}

/** A node's backup named by tag or commit: the only refs the page ever hands to the diff pipeline. */
export function backupByRef(db: Db, node: string, ref: string): BackupRow | undefined {
  return db
    .prepare(
      'SELECT * FROM backups WHERE node_id = ? AND (git_tag = ? OR git_commit = ?) ORDER BY created_at DESC LIMIT 1',
    )
    .get(node, ref, ref) as BackupRow | undefined;
}
