// Who may read the status page: a password (kept only as a scrypt hash) that buys a signed session
// cookie, or a bearer token from config. Failed logins are counted in SQLite so a restart of
// `ocm serve` does not reset an attacker's budget.
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import type { Db } from '../mcp-server/db/index.ts';

// ---- password hashing -----------------------------------------------------------------------

/** scrypt cost: 2^15 × 8 × 1 needs 32 MiB and ~0.1 s, dear for a guesser, cheap for one login. */
const DEFAULT_COST = { N: 2 ** 15, r: 8, p: 1 };
const MAX_N = 2 ** 20;

function scrypt(
  plain: string,
  salt: Buffer,
  keyLen: number,
  cost: { N: number; r: number; p: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(plain, salt, keyLen, { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** `scrypt$N$r$p$<salt base64url>$<hash base64url>`: what `web.passwordHash` holds. */
export async function hashPassword(plain: string): Promise<string> {
  if (!plain) throw new Error('hashPassword: the password is empty');
  const salt = randomBytes(16);
  const key = await scrypt(plain, salt, 32, DEFAULT_COST);
  const { N, r, p } = DEFAULT_COST;
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Throws on a malformed stored hash (a configuration error), so a typo never reads as "wrong password". */
export function parsePasswordHash(stored: string): {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
} {
  const parts = stored.split('$');
  const [scheme, n, r, p, salt, key] = parts;
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  const ok =
    parts.length === 6 &&
    scheme === 'scrypt' &&
    Number.isInteger(N) &&
    N >= 2 &&
    N <= MAX_N &&
    (N & (N - 1)) === 0 &&
    Number.isInteger(R) &&
    R >= 1 &&
    R <= 32 &&
    Number.isInteger(P) &&
    P >= 1 &&
    P <= 16 &&
    !!salt &&
    !!key;
  if (!ok)
    throw new Error(
      'web.passwordHash is not a scrypt hash of the form scrypt$N$r$p$salt$hash (make one with hashPassword)',
    );
  return {
    N,
    r: R,
    p: P,
    salt: Buffer.from(salt as string, 'base64url'),
    key: Buffer.from(key as string, 'base64url'),
  };
}

export async function verifyPassword(plain: string, stored: string): Promise<boolean> {
  const { N, r, p, salt, key } = parsePasswordHash(stored);
  const actual = await scrypt(plain, salt, key.length, { N, r, p });
  return timingSafeEqual(actual, key);
}

/** Constant-time comparison for tokens of any length. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

// ---- session cookie -------------------------------------------------------------------------

export const SESSION_COOKIE = 'ocm_session';
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const SECRET_KEY = 'web.session_secret';

/** The HMAC key for session cookies: made once, kept in `settings`, shared by every `ocm serve`. */
export function sessionSecret(db: Db): string {
  db.prepare('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)').run(
    SECRET_KEY,
    randomBytes(32).toString('base64url'),
  );
  return (db.prepare('SELECT value FROM settings WHERE key = ?').get(SECRET_KEY) as { value: string }).value;
}

/** The signed value is only an expiry and a nonce: nothing to steal but the cookie itself. */
export function sessionValue(now: number, ttlMs = SESSION_TTL_MS): string {
  return `v1.${now + ttlMs}.${randomBytes(9).toString('base64url')}`;
}

export function sessionValueValid(value: string, now: number): boolean {
  const m = /^v1\.(\d{13,15})\.[A-Za-z0-9_-]{12}$/.exec(value);
  return !!m && Number(m[1]) > now;
}

export async function startSession(c: Context, secret: string): Promise<void> {
  await setSignedCookie(c, SESSION_COOKIE, sessionValue(Date.now()), secret, {
    path: '/',
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttps(c),
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure: isHttps(c) });
}

export async function hasSession(c: Context, secret: string): Promise<boolean> {
  const value = await getSignedCookie(c, secret, SESSION_COOKIE);
  return typeof value === 'string' && sessionValueValid(value, Date.now());
}

function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

// ---- login rate limit -----------------------------------------------------------------------

const FAILURES_KEY = 'web.login_failures';
/** Remember at most this many clients, so a spray of addresses cannot grow the row without bound. */
const MAX_CLIENTS = 10_000;

/** Wrong-password counter per client in a sliding window, stored in `settings` as one JSON row. */
export class LoginLimiter {
  constructor(
    private readonly db: Db,
    readonly options: { maxFailures: number; windowMs: number } = {
      maxFailures: 5,
      windowMs: 15 * 60 * 1000,
    },
  ) {}

  /** Seconds until this client may try again, or 0 if it may try now. */
  retryAfter(client: string, now = Date.now()): number {
    const recent = this.read(now)[client] ?? [];
    if (recent.length < this.options.maxFailures) return 0;
    const oldest = recent[recent.length - this.options.maxFailures] as number;
    return Math.max(1, Math.ceil((oldest + this.options.windowMs - now) / 1000));
  }

  recordFailure(client: string, now = Date.now()): void {
    this.update(now, (all) => {
      all[client] = [...(all[client] ?? []), now].slice(-this.options.maxFailures);
    });
  }

  clear(client: string, now = Date.now()): void {
    this.update(now, (all) => {
      delete all[client];
    });
  }

  private read(now: number): Record<string, number[]> {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(FAILURES_KEY) as
      | { value: string }
      | undefined;
    let all: Record<string, number[]> = {};
    try {
      all = row ? JSON.parse(row.value) : {};
    } catch {
      all = {};
    }
    const since = now - this.options.windowMs;
    const live: Record<string, number[]> = {};
    for (const [client, times] of Object.entries(all)) {
      const kept = Array.isArray(times) ? times.filter((t) => typeof t === 'number' && t > since) : [];
      if (kept.length) live[client] = kept;
    }
    return live;
  }

  private update(now: number, change: (all: Record<string, number[]>) => void): void {
    this.db
      .transaction(() => {
        const all = this.read(now);
        change(all);
        const clients = Object.entries(all);
        const kept =
          clients.length > MAX_CLIENTS
            ? Object.fromEntries(
                clients.sort((a, b) => Math.max(...b[1]) - Math.max(...a[1])).slice(0, MAX_CLIENTS),
              )
            : all;
        this.db
          .prepare(
            'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
          )
          .run(FAILURES_KEY, JSON.stringify(kept));
      })
      .immediate();
  }
}
