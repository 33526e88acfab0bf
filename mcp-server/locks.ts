// Lease locks in SQLite: one per node (`node:<id>`) and one cluster-wide (`cluster`). Waiters queue
// in FIFO order; a lease is renewed while held and expires if its process dies, so a killed OCM
// never leaves a node locked for longer than its lease (or at all, on the same host).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from './db/index.ts';
import { Refused } from './errors.ts';
import { HOST, isProcessAlive, PID } from './process-identity.ts';

export interface LockOptions {
  leaseMs: number;
  waitTimeoutMs: number;
}

export interface HeldLock {
  readonly scope: string;
  release(): void;
}

interface LockRow {
  scope: string;
  holder: string;
  operation: string;
  pid: number;
  host: string;
  acquired_at: number;
  expires_at: number;
}

export class Locks {
  constructor(
    private readonly db: Db,
    private readonly options: LockOptions,
  ) {}

  /** Wait (FIFO) for `scope`, then hold it until release(). Throws Refused on timeout. */
  async acquire(
    scope: string,
    holder: string,
    operation: string,
    waitTimeoutMs = this.options.waitTimeoutMs,
  ): Promise<HeldLock> {
    const { db } = this;
    const waiter = Number(
      db
        .prepare('INSERT INTO lock_waiters (scope, holder, pid, host, heartbeat_at) VALUES (?, ?, ?, ?, ?)')
        .run(scope, holder, PID, HOST, Date.now()).lastInsertRowid,
    );
    const deadline = Date.now() + waitTimeoutMs;
    let delay = 20;
    try {
      for (;;) {
        if (this.tryTake(scope, waiter, holder, operation)) break;
        if (Date.now() >= deadline) {
          const busy = this.holderOf(scope);
          const what = busy
            ? `busy: ${busy.operation} by ${busy.holder} for ${Math.round((Date.now() - busy.acquired_at) / 1000)} s`
            : 'busy';
          throw new Refused(
            `${scope.replace(/^node:/, '')} is ${what}; gave up after ${Math.round(waitTimeoutMs / 1000)} s of waiting — try again later`,
          );
        }
        await sleep(delay);
        delay = Math.min(delay * 2, 250);
        db.prepare('UPDATE lock_waiters SET heartbeat_at = ? WHERE id = ?').run(Date.now(), waiter);
      }
    } finally {
      db.prepare('DELETE FROM lock_waiters WHERE id = ?').run(waiter);
    }

    const renew = setInterval(
      () => {
        db.prepare('UPDATE locks SET expires_at = ? WHERE scope = ? AND pid = ? AND host = ?').run(
          Date.now() + this.options.leaseMs,
          scope,
          PID,
          HOST,
        );
      },
      Math.max(500, Math.floor(this.options.leaseMs / 3)),
    );
    renew.unref();
    let released = false;
    return {
      scope,
      release: () => {
        if (released) return;
        released = true;
        clearInterval(renew);
        db.prepare('DELETE FROM locks WHERE scope = ? AND pid = ? AND host = ? AND holder = ?').run(
          scope,
          PID,
          HOST,
          holder,
        );
      },
    };
  }

  /** Current holder of a scope, if any (for "busy" displays). */
  holderOf(scope: string): LockRow | undefined {
    return this.db.prepare('SELECT * FROM locks WHERE scope = ? AND expires_at > ?').get(scope, Date.now()) as
      | LockRow
      | undefined;
  }

  /** Every live lock, for status displays. */
  held(): LockRow[] {
    return this.db
      .prepare('SELECT * FROM locks WHERE expires_at > ? ORDER BY acquired_at')
      .all(Date.now()) as LockRow[];
  }

  /** Drop locks and waiters whose process is gone. Returns the scopes freed. */
  reapDead(): string[] {
    const freed: string[] = [];
    const rows = this.db.prepare('SELECT * FROM locks').all() as LockRow[];
    for (const row of rows) {
      if (row.expires_at <= Date.now() || isProcessAlive(row.pid, row.host) === false) {
        this.db
          .prepare('DELETE FROM locks WHERE scope = ? AND pid = ? AND host = ?')
          .run(row.scope, row.pid, row.host);
        freed.push(row.scope);
      }
    }
    const waiters = this.db.prepare('SELECT id, pid, host, heartbeat_at FROM lock_waiters').all() as {
      id: number;
      pid: number;
      host: string;
      heartbeat_at: number;
    }[];
    for (const w of waiters) {
      if (isProcessAlive(w.pid, w.host) === false || w.heartbeat_at < Date.now() - 30_000) {
        this.db.prepare('DELETE FROM lock_waiters WHERE id = ?').run(w.id);
      }
    }
    return freed;
  }

  private tryTake(scope: string, waiter: number, holder: string, operation: string): boolean {
    const take = this.db.transaction(() => {
      const current = this.db.prepare('SELECT * FROM locks WHERE scope = ?').get(scope) as
        | LockRow
        | undefined;
      if (current) {
        const expired = current.expires_at <= Date.now();
        if (!expired && isProcessAlive(current.pid, current.host) !== false) return false;
        this.db.prepare('DELETE FROM locks WHERE scope = ?').run(scope);
      }
      // FIFO: only the oldest live waiter may take the lock.
      const first = this.db
        .prepare('SELECT id, pid, host, heartbeat_at FROM lock_waiters WHERE scope = ? ORDER BY id')
        .all(scope) as { id: number; pid: number; host: string; heartbeat_at: number }[];
      for (const w of first) {
        if (w.id === waiter) break;
        if (isProcessAlive(w.pid, w.host) === false || w.heartbeat_at < Date.now() - 30_000) {
          this.db.prepare('DELETE FROM lock_waiters WHERE id = ?').run(w.id);
          continue;
        }
        return false;
      }
      const now = Date.now();
      this.db
        .prepare(
          'INSERT INTO locks (scope, holder, operation, pid, host, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(scope, holder, operation, PID, HOST, now, now + this.options.leaseMs);
      return true;
    });
    return take.immediate();
  }
}
