// Fleet events (seed §6.4): what happened to the fleet, for people. Distinct from the audit log,
// which records who called what.
import type { Db } from './db/index.ts';

export type Severity = 'info' | 'warn' | 'error' | 'critical';
export type EventType =
  | 'install'
  | 'backup'
  | 'restore'
  | 'score'
  | 'alert'
  | 'config'
  | 'deploy'
  | 'status'
  | 'operation';

/** An events row as stored. */
export interface EventRow {
  id: number;
  node_id: string | null;
  type: string;
  severity: Severity;
  message: string;
  details: string | null;
  created_at: number;
}

export function recordEvent(
  db: Db,
  event: { node?: string | null; type: EventType; severity?: Severity; message: string; details?: unknown },
): void {
  db.prepare(
    'INSERT INTO events (node_id, type, severity, message, details, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(
    event.node ?? null,
    event.type,
    event.severity ?? 'info',
    event.message,
    event.details === undefined ? null : JSON.stringify(event.details),
    Date.now(),
  );
}
