// The confirmation protocol (SPEC §3). A medium/high call without a token stores a pending
// confirmation bound to tool + argument hash + caller; the repeat call must match all three,
// arrive before expiry, be the first use, and (high tier) carry the out-of-band code.
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Tier } from './config.ts';
import type { Db } from './db/index.ts';
import { Refused } from './errors.ts';
import type { CodeChannel } from './notify/code-channels.ts';

export interface PendingConfirmation {
  status: 'confirmation_required';
  tier: Tier;
  confirm_token: string;
  plan: string;
  expires_at: string;
  code_sent_to?: string[];
}

/** What anyone may see of a pending confirmation: never its token or code. */
export interface PendingSummary {
  /** The first 12 hex of the token's hash: enough to name it, useless to confirm with. */
  id: string;
  tool: string;
  tier: Tier;
  plan: string;
  target: string | null;
  caller: string;
  created_at: number;
  expires_at: number;
}

interface ConfirmationRow {
  token: string;
  tool: string;
  args_hash: string;
  caller: string;
  tier: Tier;
  plan: string;
  target: string | null;
  code_hash: string | null;
  code_salt: string | null;
  dashboard_code: string | null;
  attempts: number;
  status: string;
  created_at: number;
  expires_at: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Canonical JSON (sorted keys) so the same arguments always hash the same. */
export function hashArgs(args: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as object)
          .sort()
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return sha256(JSON.stringify(canonical(args)));
}

export class Confirmations {
  constructor(
    private readonly db: Db,
    private readonly options: { ttlMs: number; maxCodeAttempts: number; channels: CodeChannel[] },
  ) {}

  async request(input: {
    tool: string;
    tier: Tier;
    args: unknown;
    caller: string;
    plan: string;
    target: string | null;
  }): Promise<PendingConfirmation> {
    const token = `ocm_${randomBytes(18).toString('base64url')}`;
    const now = Date.now();
    // Settle what expired meanwhile, so no stale code lingers for the dashboard.
    this.db
      .prepare(
        `UPDATE confirmations SET status = 'expired', dashboard_code = NULL WHERE status = 'pending' AND expires_at <= ?`,
      )
      .run(now);
    const expiresAt = now + this.options.ttlMs;
    let code: string | undefined;
    let codeHash: string | null = null;
    let salt: string | null = null;
    if (input.tier === 'high') {
      code = String(randomInt(0, 10_000)).padStart(4, '0');
      salt = randomBytes(16).toString('hex');
      codeHash = sha256(`${salt}:${code}`);
    }
    const dashboardCode = code && this.options.channels.some((c) => c.name === 'dashboard') ? code : null;
    this.db
      .prepare(
        `INSERT INTO confirmations (token, tool, args_hash, caller, tier, plan, target, code_hash, code_salt, dashboard_code, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        sha256(token),
        input.tool,
        hashArgs(input.args),
        input.caller,
        input.tier,
        input.plan,
        input.target,
        codeHash,
        salt,
        dashboardCode,
        now,
        expiresAt,
      );

    const pending: PendingConfirmation = {
      status: 'confirmation_required',
      tier: input.tier,
      confirm_token: token,
      plan: input.plan,
      expires_at: new Date(expiresAt).toISOString(),
    };
    if (code) {
      const delivery = {
        tool: input.tool,
        target: input.target,
        plan: input.plan,
        tokenHint: token.slice(0, 12),
        code,
        expiresAt,
      };
      for (const channel of this.options.channels) await channel.deliver(delivery);
      pending.code_sent_to = this.options.channels.map((c) => c.name);
    }
    return pending;
  }

  /**
   * Check a repeated call against its pending confirmation and consume it. Throws Refused with a
   * message that says what to do; a wrong code counts toward burning the token.
   */
  consume(input: { tool: string; args: unknown; caller: string; token: string; code?: string }): void {
    const key = sha256(input.token);
    const verdict = this.db
      .transaction((): string | null => {
        const row = this.db.prepare('SELECT * FROM confirmations WHERE token = ?').get(key) as
          | ConfirmationRow
          | undefined;
        if (!row) return 'unknown confirm_token: call the tool again without confirm_token to get a new one';
        if (row.status !== 'pending')
          return `this confirm_token was already ${row.status}: call the tool again without confirm_token to get a new one`;
        if (row.expires_at <= Date.now()) {
          this.settle(key, 'expired');
          return 'this confirm_token has expired: call the tool again without confirm_token to get a new one';
        }
        if (row.tool !== input.tool)
          return `this confirm_token was issued for ${row.tool}, not ${input.tool}`;
        if (row.caller !== input.caller) return 'this confirm_token was issued to another caller';
        if (row.args_hash !== hashArgs(input.args)) {
          return 'the arguments differ from the ones this confirm_token was issued for: call again without confirm_token to confirm the new arguments';
        }
        if (row.tier === 'high') {
          const given = input.code ?? '';
          const expected = Buffer.from(row.code_hash ?? '', 'hex');
          const actual = createHash('sha256').update(`${row.code_salt}:${given}`).digest();
          const ok =
            /^\d{4}$/.test(given) && expected.length === actual.length && timingSafeEqual(expected, actual);
          if (!ok) {
            const attempts = row.attempts + 1;
            if (attempts >= this.options.maxCodeAttempts) {
              this.settle(key, 'burned', attempts);
              return `wrong security_code: ${attempts} wrong tries, this confirm_token is now burned; call the tool again without confirm_token to start over`;
            }
            this.db.prepare('UPDATE confirmations SET attempts = ? WHERE token = ?').run(attempts, key);
            return given
              ? `wrong security_code (${this.options.maxCodeAttempts - attempts} tries left): ask the human for the 4-digit code that was sent to them`
              : 'security_code required: ask the human for the 4-digit code that was sent to them out of band';
          }
        }
        this.settle(key, 'used', row.attempts);
        return null;
      })
      .immediate();
    if (verdict) throw new Refused(verdict);
  }

  cancel(token: string, caller: string): boolean {
    const row = this.db
      .prepare('SELECT caller, status FROM confirmations WHERE token = ?')
      .get(sha256(token)) as { caller: string; status: string } | undefined;
    if (row?.status !== 'pending') return false;
    if (row.caller !== caller) throw new Refused('this confirm_token was issued to another caller');
    this.settle(sha256(token), 'cancelled');
    return true;
  }

  cancelById(id: string): boolean {
    const rows = this.db
      .prepare(`SELECT token FROM confirmations WHERE status = 'pending' AND token LIKE ?`)
      .all(`${id}%`) as { token: string }[];
    if (rows.length !== 1) return false;
    this.settle((rows[0] as { token: string }).token, 'cancelled');
    return true;
  }

  /** Pending, unexpired confirmations. Never includes tokens or codes. */
  pending(): PendingSummary[] {
    return this.pendingRows().map(({ code: _code, ...summary }) => summary);
  }

  /** For the status page's dashboard channel only: pending confirmations with their codes. */
  pendingWithCodes(): (PendingSummary & { code: string | null })[] {
    return this.pendingRows();
  }

  private pendingRows(): (PendingSummary & { code: string | null })[] {
    const rows = this.db
      .prepare(
        `SELECT token, tool, tier, plan, target, caller, created_at, expires_at, dashboard_code FROM confirmations
         WHERE status = 'pending' AND expires_at > ? ORDER BY created_at`,
      )
      .all(Date.now()) as ConfirmationRow[];
    return rows.map((r) => ({
      id: r.token.slice(0, 12),
      tool: r.tool,
      tier: r.tier,
      plan: r.plan,
      target: r.target,
      caller: r.caller,
      created_at: r.created_at,
      expires_at: r.expires_at,
      code: r.dashboard_code,
    }));
  }

  private settle(key: string, status: 'used' | 'burned' | 'cancelled' | 'expired', attempts?: number): void {
    this.db
      .prepare(
        'UPDATE confirmations SET status = ?, attempts = COALESCE(?, attempts), dashboard_code = NULL WHERE token = ?',
      )
      .run(status, attempts ?? null, key);
  }
}
