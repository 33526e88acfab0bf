import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { type Db, openDb } from '../mcp-server/db/index.ts';
import {
  hashPassword,
  hasSession,
  LoginLimiter,
  parsePasswordHash,
  SESSION_COOKIE,
  sameSecret,
  sessionSecret,
  sessionValueValid,
  startSession,
  verifyPassword,
} from './auth.ts';

const dirs: string[] = [];
const dbs: Db[] = [];
function freshDb(): Db {
  const dir = mkdtempSync(join(tmpdir(), 'ocm-web-auth-'));
  dirs.push(dir);
  const db = openDb(dir);
  dbs.push(db);
  return db;
}
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('password hashing', () => {
  it('hashes with scrypt and a fresh salt, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct horse');
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horse', b)).toBe(true);
    expect(await verifyPassword('correct hors', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('rejects a malformed stored hash as a configuration error, not a wrong password', async () => {
    for (const bad of [
      '',
      'plain-password',
      'scrypt$3$8$1$abc$def',
      'scrypt$2097152$8$1$abc$def',
      'bcrypt$10$8$1$abc$def',
      'scrypt$1024$8$1$$def',
    ]) {
      expect(() => parsePasswordHash(bad)).toThrow(/web\.passwordHash/);
      await expect(verifyPassword('x', bad)).rejects.toThrow(/web\.passwordHash/);
    }
  });

  it('compares secrets of any length without throwing', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('abc', 'abcd')).toBe(false);
  });
});

describe('session cookie', () => {
  function cookieApp(secret: string) {
    const app = new Hono();
    app.get('/in', async (c) => {
      await startSession(c, secret);
      return c.text('ok');
    });
    app.get('/check', async (c) => c.text(String(await hasSession(c, secret))));
    return app;
  }

  it('is HttpOnly, SameSite=Strict, path /, and accepted only with the right signature', async () => {
    const app = cookieApp('secret-one');
    const res = await app.request('/in');
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).not.toContain('Secure'); // plain http on 127.0.0.1
    const cookie = setCookie.split(';')[0] as string;
    expect(await (await app.request('/check', { headers: { cookie } })).text()).toBe('true');

    // Another secret (another OCM), a changed value, or no cookie: no session.
    expect(await (await cookieApp('secret-two').request('/check', { headers: { cookie } })).text()).toBe(
      'false',
    );
    const value = decodeURIComponent(cookie.slice(SESSION_COOKIE.length + 1));
    const [payload, signature] = [
      value.slice(0, value.lastIndexOf('.')),
      value.slice(value.lastIndexOf('.') + 1),
    ];
    const forged = payload.replace(/^v1\.\d+/, `v1.${Date.now() + 10 * 365 * 86_400_000}`);
    const forgedCookie = `${SESSION_COOKIE}=${encodeURIComponent(`${forged}.${signature}`)}`;
    expect(await (await app.request('/check', { headers: { cookie: forgedCookie } })).text()).toBe('false');
    expect(await (await app.request('/check')).text()).toBe('false');
  });

  it('marks the cookie Secure behind https', async () => {
    const res = await cookieApp('s').request('https://ocm.example/in');
    expect(res.headers.get('set-cookie')).toContain('Secure');
  });

  it('expires', () => {
    const now = Date.now();
    expect(sessionValueValid(`v1.${now + 1000}.abcdefghijkl`, now)).toBe(true);
    expect(sessionValueValid(`v1.${now - 1}.abcdefghijkl`, now)).toBe(false);
    expect(sessionValueValid('v1.notanumber.abcdefghijkl', now)).toBe(false);
  });

  it('keeps one HMAC secret per data dir, created once', () => {
    const db = freshDb();
    const first = sessionSecret(db);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sessionSecret(db)).toBe(first);
    expect(sessionSecret(freshDb())).not.toBe(first);
  });
});

describe('LoginLimiter', () => {
  it('allows 5 wrong tries per client in 15 minutes, then blocks until the oldest ages out', () => {
    const db = freshDb();
    const limiter = new LoginLimiter(db);
    const t = 1_700_000_000_000;
    for (let i = 0; i < 5; i++) {
      expect(limiter.retryAfter('10.0.0.1', t + i * 1000)).toBe(0);
      limiter.recordFailure('10.0.0.1', t + i * 1000);
    }
    expect(limiter.retryAfter('10.0.0.1', t + 5000)).toBe(15 * 60 - 5);
    expect(limiter.retryAfter('10.0.0.2', t + 5000)).toBe(0); // per client
    expect(limiter.retryAfter('10.0.0.1', t + 15 * 60_000 + 1)).toBe(0);
    // Survives a restart: the count lives in SQLite.
    expect(new LoginLimiter(db).retryAfter('10.0.0.1', t + 5000)).toBeGreaterThan(0);
  });

  it('forgets a client after a successful login', () => {
    const limiter = new LoginLimiter(freshDb());
    const t = 1_700_000_000_000;
    for (let i = 0; i < 4; i++) limiter.recordFailure('c', t);
    limiter.clear('c', t);
    limiter.recordFailure('c', t);
    expect(limiter.retryAfter('c', t)).toBe(0);
  });
});
