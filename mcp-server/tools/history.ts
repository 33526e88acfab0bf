// Read-only history: fleet events and the audit log.
import { z } from 'zod';
import type { AuditRow } from '../audit.ts';
import type { EventRow } from '../events.ts';
import { nodeId } from '../ids.ts';
import { defineTool } from '../tool.ts';

const since = z.iso.datetime({ offset: true }).describe('Only entries at or after this time (ISO 8601)');
const limit = z
  .number()
  .int()
  .min(1)
  .max(1000)
  .default(50)
  .describe('At most this many, newest first (default 50)');

export const eventSchema = z.object({
  id: z.number(),
  node: z.string().nullable(),
  type: z.string(),
  severity: z.enum(['info', 'warn', 'error', 'critical']),
  message: z.string(),
  details: z.unknown().nullable(),
  at: z.string(),
});

export const listEvents = defineTool({
  name: 'list_events',
  title: 'List fleet events',
  description:
    'What happened to the fleet: backups, restores, status changes, alerts, config changes. Filter by node, type and minimum severity.',
  tier: 'read',
  input: z.strictObject({
    node: nodeId.optional(),
    type: z
      .enum(['install', 'backup', 'restore', 'score', 'alert', 'config', 'deploy', 'status', 'operation'])
      .optional(),
    severity: z.enum(['info', 'warn', 'error', 'critical']).optional().describe('Minimum severity'),
    since: since.optional(),
    limit,
  }),
  output: z.object({ events: z.array(eventSchema) }),
  idempotent: true,
  async run({ node, type, severity, since: from, limit: max }, { ocm }) {
    const levels = ['info', 'warn', 'error', 'critical'];
    const allowed = severity ? levels.slice(levels.indexOf(severity)) : levels;
    const rows = ocm.db
      .prepare(
        `SELECT * FROM events WHERE (? IS NULL OR node_id = ?) AND (? IS NULL OR type = ?) AND created_at >= ?
         AND severity IN (${allowed.map(() => '?').join(',')}) ORDER BY created_at DESC, id DESC LIMIT ?`,
      )
      .all(
        node ?? null,
        node ?? null,
        type ?? null,
        type ?? null,
        from ? Date.parse(from) : 0,
        ...allowed,
        max,
      ) as EventRow[];
    return {
      events: rows.map((r) => ({
        id: r.id,
        node: r.node_id,
        type: r.type,
        severity: r.severity,
        message: r.message,
        details: r.details ? JSON.parse(r.details) : null,
        at: new Date(r.created_at).toISOString(),
      })),
    };
  },
});

export const auditEntrySchema = z.object({
  id: z.number(),
  operator: z.string(),
  operator_detail: z.string().nullable(),
  action: z.string(),
  target: z.string().nullable(),
  params: z.unknown().nullable(),
  result: z.string(),
  error: z.string().nullable(),
  duration_ms: z.number().nullable(),
  at: z.string(),
});

export const auditLog = defineTool({
  name: 'audit_log',
  title: 'Audit log',
  description:
    'Who called which tool, when, on what, with what result (success, failed, denied, confirmation_required…). Parameters are shown with secrets and codes removed.',
  tier: 'read',
  input: z.strictObject({
    operator: z.enum(['mcp', 'web', 'cron', 'cli', 'telegram', 'system']).optional(),
    action: z.string().max(100).optional().describe('Tool name'),
    target: z.string().max(100).optional(),
    result: z.enum(['success', 'failed', 'cancelled', 'confirmation_required', 'denied']).optional(),
    since: since.optional(),
    limit,
  }),
  output: z.object({ entries: z.array(auditEntrySchema) }),
  idempotent: true,
  async run({ operator, action, target, result, since: from, limit: max }, { ocm }) {
    const rows = ocm.db
      .prepare(
        `SELECT * FROM audit_log WHERE (? IS NULL OR operator = ?) AND (? IS NULL OR action = ?) AND (? IS NULL OR target = ?)
         AND (? IS NULL OR result = ?) AND created_at >= ? ORDER BY id DESC LIMIT ?`,
      )
      .all(
        operator ?? null,
        operator ?? null,
        action ?? null,
        action ?? null,
        target ?? null,
        target ?? null,
        result ?? null,
        result ?? null,
        from ? Date.parse(from) : 0,
        max,
      ) as AuditRow[];
    return {
      entries: rows.map((r) => ({
        id: r.id,
        operator: r.operator,
        operator_detail: r.operator_detail,
        action: r.action,
        target: r.target,
        params: r.params ? JSON.parse(r.params) : null,
        result: r.result,
        error: r.error_message,
        duration_ms: r.duration_ms,
        at: new Date(r.created_at).toISOString(),
      })),
    };
  },
});

export const historyTools = [listEvents, auditLog];
