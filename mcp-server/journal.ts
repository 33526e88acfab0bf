// The operation journal: every mutating run records itself and its steps as it goes, so a run
// left `running` by a dead process can be found, marked `interrupted`, and repaired on next start.
import { randomUUID } from 'node:crypto';
import type { Db } from './db/index.ts';
import { HOST, isProcessAlive, PID } from './process-identity.ts';

/** What to do if this run dies half-way, e.g. `{ kind: 'ensure_gateway_running', node: 'g3s-01' }`. */
export interface RecoveryHint {
  kind: string;
  node?: string;
  [key: string]: unknown;
}

export interface OperationRow {
  id: string;
  tool: string;
  target: string | null;
  caller: string;
  status: 'running' | 'succeeded' | 'failed' | 'interrupted';
  steps: string;
  recovery: string | null;
  pid: number;
  host: string;
  error: string | null;
  started_at: number;
  heartbeat_at: number;
  finished_at: number | null;
}

export interface Operation {
  readonly id: string;
  /** Record a step ("stopped gateway", "extracted 42 files"). */
  step(message: string): void;
  /** Set (or clear) what start-up recovery should do if this process dies now. */
  setRecovery(hint: RecoveryHint | null): void;
}

const STALE_AFTER_MS = 60_000;

export class Journal {
  private readonly beating = new Set<string>();
  private heartbeat?: NodeJS.Timeout;

  constructor(private readonly db: Db) {}

  begin(tool: string, target: string | null, caller: string): Operation & { finish(error?: string): void } {
    const id = randomUUID();
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO operations (id, tool, target, caller, status, steps, pid, host, started_at, heartbeat_at)
         VALUES (?, ?, ?, ?, 'running', '[]', ?, ?, ?, ?)`,
      )
      .run(id, tool, target, caller, PID, HOST, now, now);
    this.beating.add(id);
    this.startHeartbeat();
    const db = this.db;
    return {
      id,
      step(message) {
        db.prepare(
          `UPDATE operations SET steps = json_insert(steps, '$[#]', json_object('at', ?, 'step', ?)) WHERE id = ?`,
        ).run(Date.now(), message, id);
      },
      setRecovery(hint) {
        db.prepare('UPDATE operations SET recovery = ? WHERE id = ?').run(
          hint ? JSON.stringify(hint) : null,
          id,
        );
      },
      finish: (error) => {
        this.beating.delete(id);
        db.prepare(
          'UPDATE operations SET status = ?, error = ?, finished_at = ?, recovery = NULL WHERE id = ?',
        ).run(error ? 'failed' : 'succeeded', error ?? null, Date.now(), id);
      },
    };
  }

  /** Mark runs whose process is gone as interrupted; returns them (with their recovery hints). */
  reapInterrupted(): OperationRow[] {
    const running = this.db
      .prepare(`SELECT * FROM operations WHERE status = 'running'`)
      .all() as OperationRow[];
    const dead = running.filter((op) => {
      const alive = isProcessAlive(op.pid, op.host);
      return alive === false || (alive === null && op.heartbeat_at < Date.now() - STALE_AFTER_MS);
    });
    const mark = this.db.prepare(
      `UPDATE operations SET status = 'interrupted', finished_at = ?, error = 'the OCM process running it stopped' WHERE id = ? AND status = 'running'`,
    );
    return dead.filter((op) => mark.run(Date.now(), op.id).changes === 1);
  }

  recent(limit = 50): OperationRow[] {
    return this.db
      .prepare('SELECT * FROM operations ORDER BY started_at DESC LIMIT ?')
      .all(limit) as OperationRow[];
  }

  running(): OperationRow[] {
    return this.db
      .prepare(`SELECT * FROM operations WHERE status = 'running' ORDER BY started_at`)
      .all() as OperationRow[];
  }

  stop(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      if (this.beating.size === 0) return;
      const stmt = this.db.prepare('UPDATE operations SET heartbeat_at = ? WHERE id = ?');
      for (const id of this.beating) stmt.run(Date.now(), id);
    }, 10_000);
    this.heartbeat.unref();
  }
}
