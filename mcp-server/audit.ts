// The audit log (seed §18.5): one row for every call by every caller. Parameters are stored with
// secrets and security codes removed; confirm tokens are shortened to a hint.
import type { Db } from './db/index.ts';

export type AuditResult = 'success' | 'failed' | 'cancelled' | 'confirmation_required' | 'denied';

const SECRET_KEY =
  /(token|secret|password|passwd|api[-_]?key|authorization|cookie|private[-_]?key|credential|security[-_]?code)/i;

/** Parameters as they may be stored: secret-looking keys dropped, the confirm token shortened. */
export function scrubParams(args: unknown): unknown {
  if (Array.isArray(args)) return args.map(scrubParams);
  if (!args || typeof args !== 'object')
    return typeof args === 'string' && args.length > 500
      ? `${args.slice(0, 100)}… (${args.length} chars)`
      : args;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (key === 'confirm_token' && typeof value === 'string') out[key] = `${value.slice(0, 12)}…`;
    else if (key === 'security_code') out[key] = value === undefined ? undefined : '****';
    else if (SECRET_KEY.test(key)) out[key] = '***';
    else out[key] = scrubParams(value);
  }
  return out;
}

/** An audit_log row as stored. */
export interface AuditRow {
  id: number;
  operator: string;
  operator_detail: string | null;
  action: string;
  target: string | null;
  params: string | null;
  result: string;
  error_message: string | null;
  duration_ms: number | null;
  created_at: number;
}

export interface AuditEntry {
  operator: 'mcp' | 'web' | 'cron' | 'cli' | 'telegram' | 'system';
  operatorDetail: string;
  action: string;
  target: string | null;
  params: unknown;
  result: AuditResult;
  error?: string;
  durationMs: number;
}

export function writeAudit(db: Db, entry: AuditEntry): void {
  db.prepare(
    `INSERT INTO audit_log (operator, operator_detail, action, target, params, result, error_message, duration_ms, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    entry.operator,
    entry.operatorDetail,
    entry.action,
    entry.target,
    JSON.stringify(scrubParams(entry.params)) ?? null,
    entry.result,
    entry.error ?? null,
    Math.round(entry.durationMs),
    Date.now(),
  );
}
