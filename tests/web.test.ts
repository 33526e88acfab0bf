// The status page over a real SQLite data dir, seeded through OCM's own node store and tables.
// Requests go through hono's app.request(); the browser test lives in tests/e2e/status-page.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../mcp-server/config.ts';
import { type Ocm, openOcm } from '../mcp-server/ocm.ts';
import { createWebApp } from '../web/app.ts';
import { hashPassword } from '../web/auth.ts';
import { formatPct, formatUsd } from '../web/views/format.ts';
import { type SeededFleet, seedFleet } from './fixtures/status-fleet.ts';

const PASSWORD = 'web-test-password';
const API_TOKEN = 'api-token-0123456789abcdef';
const METRICS_TOKEN = 'metrics-token-0123456789';

let dir: string;
let ocm: Ocm;
let fleet: SeededFleet;
let app: Hono;
let cookie: string;

/** Everything the page must never write: if a view changed any of these, the counts would move. */
function stateFingerprint(): string {
  const tables = [
    'nodes',
    'backups',
    'scores',
    'events',
    'costs',
    'audit_log',
    'alerts',
    'operations',
    'locks',
    'confirmations',
  ];
  return tables
    .map((t) => `${t}:${JSON.stringify(ocm.db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all())}`)
    .join('\n');
}

const get = (path: string, headers: Record<string, string> = {}) =>
  app.request(path, { headers: { cookie, ...headers } });

/** The HTML of one node card. */
function card(html: string, id: string): string {
  const start = html.indexOf(`data-node="${id}"`);
  expect(start, `card for ${id}`).toBeGreaterThan(-1);
  return html.slice(start, html.indexOf('</a>', start));
}
const field = (fragment: string, name: string) =>
  new RegExp(`data-field="${name}"[^>]*>([^<]*)<`).exec(fragment)?.[1];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ocm-web-'));
  writeFileSync(
    join(dir, 'ocm.config.json'),
    JSON.stringify({
      dataDir: 'data',
      http: { tokens: [{ name: 'ops', token: API_TOKEN, maxTier: 'read' }] },
      web: { metricsToken: METRICS_TOKEN },
      codes: { channels: ['dashboard', 'file'], file: 'codes.jsonl' },
    }),
  );
  ocm = await openOcm({ config: loadConfig({}, dir) });
  fleet = seedFleet(ocm, { nodes: 6, days: 20, eventsPerDay: 1 });
  // A hostile display name: everything the page prints from the DB must be escaped.
  ocm.nodes.update(fleet.ids[1] as string, { name: '<script>alert("x")</script> & co' });
  app = createWebApp(ocm, { passwordHash: await hashPassword(PASSWORD) });
  const login = await app.request('/login', {
    method: 'POST',
    body: new URLSearchParams({ password: PASSWORD }),
  });
  cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
});

afterAll(async () => {
  await ocm?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('without logging in', () => {
  it('pages redirect to the login form; API-ish paths and htmx fragments get 401', async () => {
    for (const path of ['/', '/nodes/g3s-01', '/events?severity=warn', '/confirmations']) {
      const res = await app.request(path);
      expect(res.status, path).toBe(302);
      expect(res.headers.get('location')).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
    for (const path of ['/metrics', '/api/nodes', '/fragments/nodes']) {
      const res = await app.request(path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
    }
    const htmx = await app.request('/', { headers: { 'HX-Request': 'true' } });
    expect(htmx.status).toBe(401);
    expect(htmx.headers.get('hx-redirect')).toBe('/login');
  });

  it('serves /healthz, /login and /static without a session', async () => {
    expect((await app.request('/healthz')).status).toBe(200);
    const login = await app.request('/login');
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('type="password"');
    const htmx = await app.request('/static/htmx.min.js');
    expect(htmx.status).toBe(200);
    expect(htmx.headers.get('content-type')).toContain('javascript');
    expect(await htmx.text()).toBe(
      readFileSync(join(import.meta.dirname, '..', 'node_modules/htmx.org/dist/htmx.min.js'), 'utf8'),
    );
    const css = await app.request('/static/ocm.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');
    expect((await app.request('/static/../package.json')).status).not.toBe(200);
  });

  it('refuses a wrong bearer token and a session cookie signed with another secret', async () => {
    expect(
      (await app.request('/api/nodes', { headers: { authorization: 'Bearer not-the-token-at-all' } })).status,
    ).toBe(401);
    const forged = 'ocm_session=v1.9999999999999.abcdefghijkl.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D';
    expect((await app.request('/', { headers: { cookie: forged } })).status).toBe(302);
  });
});

describe('read-only', () => {
  it('answers 405 to every POST, PUT, DELETE and PATCH except the login form', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      for (const path of ['/', '/nodes/g3s-01', '/metrics', '/api/nodes', '/confirmations', '/mcp']) {
        const res = await app.request(path, { method, headers: { authorization: `Bearer ${API_TOKEN}` } });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.get('allow')).toBe('GET, HEAD');
      }
    }
    for (const method of ['PUT', 'DELETE', 'PATCH'])
      expect((await app.request('/login', { method })).status).toBe(405);
  });
});

describe('login', () => {
  it('rejects wrong passwords, then answers 429 after 5 wrong tries, even with the right password', async () => {
    const limited = createWebApp(ocm, { password: 'another-password' });
    const tryLogin = (password: string) =>
      limited.request('/login', { method: 'POST', body: new URLSearchParams({ password, next: '/' }) });
    for (let i = 0; i < 5; i++) {
      const res = await tryLogin(`wrong-${i}`);
      expect(res.status).toBe(401);
      expect(await res.text()).toContain('Wrong password');
    }
    const blocked = await tryLogin('another-password');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(14 * 60);
    expect(blocked.headers.get('set-cookie')).toBeNull();
    // The count lives in SQLite: the app of the next `ocm serve` still refuses.
    expect(
      (
        await createWebApp(ocm, { password: 'another-password' }).request('/login', {
          method: 'POST',
          body: new URLSearchParams({ password: 'another-password' }),
        })
      ).status,
    ).toBe(429);
    ocm.db.prepare("DELETE FROM settings WHERE key = 'web.login_failures'").run();
  });

  it('with the right password sets a signed HttpOnly SameSite=Strict cookie and goes to a local next page only', async () => {
    const res = await app.request('/login', {
      method: 'POST',
      body: new URLSearchParams({ password: PASSWORD, next: '/events?type=backup' }),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/events?type=backup');
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^ocm_session=/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).not.toContain(PASSWORD);
    expect((await app.request('/', { headers: { cookie: setCookie.split(';')[0] as string } })).status).toBe(
      200,
    );

    for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) {
      const r = await app.request('/login', {
        method: 'POST',
        body: new URLSearchParams({ password: PASSWORD, next }),
      });
      expect(r.headers.get('location'), next).toBe('/');
    }
    const crossSite = await app.request('http://127.0.0.1/login', {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
      body: new URLSearchParams({ password: PASSWORD }),
    });
    expect(crossSite.status).toBe(403);
  });

  it('accepts any configured HTTP token as a bearer, and the metrics token for /metrics only', async () => {
    expect((await app.request('/', { headers: { authorization: `Bearer ${API_TOKEN}` } })).status).toBe(200);
    expect(
      (await app.request('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status,
    ).toBe(200);
    expect((await app.request('/', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(
      302,
    );
  });
});

describe('pages', () => {
  it('overview: summary tiles and one card per node with the node store’s values', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    const html = await res.text();
    const nodes = ocm.nodes.list();
    const up = nodes.filter((n) => n.status === 'online' || n.status === 'degraded');
    expect(field(html, 'online')).toBe(`${up.length}/${nodes.length}`);
    const scores = nodes.map((n) => n.last_score as number);
    expect(field(html, 'average-score')).toBe(
      String(Math.round(scores.reduce((a, b) => a + b, 0) / scores.length)),
    );
    const now = new Date();
    const midnightUtc = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()); // timezone is UTC here
    const today = (
      ocm.db.prepare('SELECT COUNT(*) AS n FROM backups WHERE created_at >= ?').get(midnightUtc) as {
        n: number;
      }
    ).n;
    expect(today).toBeGreaterThanOrEqual(nodes.length);
    expect(field(html, 'backups-today')).toBe(String(today));
    const month = (
      ocm.db
        .prepare('SELECT SUM(cost_usd) AS usd FROM costs WHERE substr(day,1,7) = ?')
        .get(new Date().toISOString().slice(0, 7)) as { usd: number }
    ).usd;
    expect(field(html, 'month-cost')).toBe(formatUsd(month));
    expect(field(html, 'open-alerts')).toBe('1');

    expect(html.match(/class="card /g)).toHaveLength(nodes.length);
    for (const node of nodes) {
      const c = card(html, node.id);
      expect(c).toContain(`data-status="${node.status}"`);
      expect(field(c, 'score')).toBe(String(node.last_score));
      expect(field(c, 'version')).toBe(`v${node.openclaw_version}`);
      if (up.includes(node)) {
        expect(field(c, 'cpu')).toBe(formatPct(node.metrics?.cpu_pct));
        expect(field(c, 'ram')).toBe(formatPct(node.metrics?.mem_pct));
      } else {
        expect(c).toContain('OFFLINE');
        expect(c).toContain(node.status_detail as string);
      }
    }
    // Nodes that want a look are named above the grid: unreachable, degraded, or scoring below 70.
    const flagged = [...html.matchAll(/data-attention="([^"]+)"/g)].map((m) => m[1]);
    const expected = nodes
      .filter((n) => !['online'].includes(n.status) || (n.last_score !== null && n.last_score < 70))
      .map((n) => n.id);
    expect(flagged).toEqual(expected);
    expect(flagged).toContain(fleet.offline);
    expect(flagged).toContain(fleet.degraded);
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
  });

  it('shows a node busy while an operation holds its lock', async () => {
    const id = fleet.ids[0] as string;
    const lock = await ocm.locks.acquire(`node:${id}`, 'cli:web-test', 'restore_node');
    try {
      expect(field(card(await (await get('/fragments/nodes')).text(), id), 'busy')).toMatch(
        /^restore_node · \d+ s$/,
      );
      expect(await (await get(`/nodes/${id}`)).text()).toContain('busy — restore_node by cli:web-test');
    } finally {
      lock.release();
    }
    expect(card(await (await get('/fragments/nodes')).text(), id)).not.toContain('data-field="busy"');
  });

  it('node detail: metrics, backups (with a note that the diff is unavailable), score history, radar, events', async () => {
    const id = fleet.diffNode;
    const node = ocm.nodes.get(id);
    const html = await (await get(`/nodes/${id}`)).text();
    expect(field(html, 'cpu')).toBe(formatPct(node?.metrics?.cpu_pct));
    expect(field(html, 'disk')).toBe(formatPct(node?.metrics?.disk_pct));
    expect(field(html, 'version')).toBe(node?.openclaw_version);
    const commits = fleet.commits.get(id) as string[];
    expect(html).toContain((commits[commits.length - 1] as string).slice(0, 8));
    expect(html).toContain(`${id}/stable/2026-02-14T08-00-00Z`);
    expect(html).toContain('Diff unavailable');
    expect(html).toMatch(/<svg class="chart trend"/);
    expect(html).toMatch(/<svg class="chart radar"/);
    const latest = ocm.db
      .prepare('SELECT * FROM scores WHERE node_id = ? ORDER BY created_at DESC LIMIT 1')
      .get(id) as Record<string, number>;
    expect(html).toContain(`>${latest.memory_score}/20</text>`);
    expect(html).toContain(`>${latest.personality_score}/20</text>`);
    expect(html).toContain(`config of ${id} changed`);

    expect((await get('/nodes/no-such-node')).status).toBe(404);
    expect((await get('/nodes/..%2F..%2Fetc')).status).toBe(404);
  });

  it('diff page hands only this node’s backup refs to the diff pipeline', async () => {
    const id = fleet.diffNode;
    const commits = fleet.commits.get(id) as string[];
    const calls: string[][] = [];
    const withDiff = createWebApp(ocm, {
      password: PASSWORD,
      backupDiff: async (node, from, to) => {
        calls.push([node, from, to]);
        return {
          config_changes: [{ path: 'gateway.port', change: 'changed', before: 18789, after: 18790 }],
          files: [{ path: 'workspace/AGENTS.md', diff: '@@ -1 +1 @@\n-<old>\n+<new>\n' }],
        };
      },
    });
    const [from, to] = [commits[commits.length - 2] as string, commits[commits.length - 1] as string];
    const res = await withDiff.request(`/nodes/${id}/diff?from=${from}&to=${to}`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(calls).toEqual([[id, from, to]]);
    expect(html).toContain('<span class="del">-&lt;old&gt;</span>');
    expect(html).toContain('<span class="add">+&lt;new&gt;</span>');
    expect(html).toContain('gateway.port');

    const other = (fleet.commits.get(fleet.ids[1] as string) as string[])[0] as string;
    expect(
      (await withDiff.request(`/nodes/${id}/diff?from=${other}&to=${to}`, { headers: { cookie } })).status,
    ).toBe(400);
    expect(
      (await withDiff.request(`/nodes/${id}/diff?from=--output=/tmp/x&to=${to}`, { headers: { cookie } }))
        .status,
    ).toBe(400);
    expect(calls).toHaveLength(1);

    const failing = createWebApp(ocm, {
      password: PASSWORD,
      backupDiff: async () => Promise.reject(new Error('git: bad object')),
    });
    const failed = await (
      await failing.request(`/nodes/${id}/diff?from=${from}&to=${to}`, { headers: { cookie } })
    ).text();
    expect(failed).toContain('Diff unavailable: git: bad object');
  });

  it('backups, scores, events (filtered), audit, costs, rollouts and jobs render what the tables hold', async () => {
    const backups = await (await get(`/backups?node=${fleet.ids[0]}`)).text();
    expect(backups.match(/<tr data-backup=/g)).toHaveLength(
      (fleet.commits.get(fleet.ids[0] as string) as string[]).length,
    );

    const scores = await (await get('/scores')).text();
    for (const node of ocm.nodes.list())
      expect(scores).toContain(`data-node="${node.id}">${node.last_score}<`);

    const warn = await (await get(`/events?node=${fleet.offline}&severity=critical`)).text();
    expect(warn).toContain(`${fleet.offline} went offline`);
    expect(warn).not.toContain('score run on');
    const backupsOnly = await (await get('/events?type=backup')).text();
    expect(backupsOnly).toContain('backup of ');
    expect(backupsOnly).not.toContain('disk above 80');
    const bogus = await get('/events?type=%3Cscript%3E&severity=nope&node=x');
    expect(bogus.status).toBe(200);
    expect(await bogus.text()).not.toContain('<script>');

    await ocm.tools.call('list_nodes', {}, { kind: 'cli', detail: 'web-test' });
    const audit = await (await get('/audit')).text();
    expect(audit).toContain('<code>list_nodes</code>');
    expect(audit).toContain('web-test');

    const costs = await (await get('/costs')).text();
    const month = new Date().toISOString().slice(0, 7);
    const perNode = ocm.db
      .prepare('SELECT SUM(cost_usd) AS usd FROM costs WHERE node_id = ? AND substr(day, 1, 7) = ?')
      .get(fleet.ids[0], month) as { usd: number };
    expect(costs).toMatch(
      new RegExp(
        `<td>${month}</td><td><a href="/nodes/${fleet.ids[0]}">${fleet.ids[0]}</a></td>[\\s\\S]*?${formatUsd(perNode.usd).replace('$', '\\$')}`,
      ),
    );

    expect(await (await get('/rollouts')).text()).toContain('No rollouts recorded');
    expect(await (await get('/jobs')).text()).toContain('No scheduler runs recorded');
  });

  it('pending confirmations show the security code of a real high-tier call', async () => {
    const id = fleet.ids[3] as string;
    const outcome = await ocm.tools.call('remove_node', { id }, { kind: 'cli', detail: 'test' });
    expect(outcome.kind).toBe('confirmation_required');
    const lines = readFileSync(join(dir, 'codes.jsonl'), 'utf8').trim().split('\n');
    const { code } = JSON.parse(lines[lines.length - 1] as string) as { code: string };
    expect(code).toMatch(/^\d{4}$/);

    const html = await (await get('/confirmations')).text();
    expect(html).toContain('<code>remove_node</code>');
    expect(html).toContain(`unregister node ${id}`);
    expect(field(html, 'code')).toBe(code);
    expect(html).toContain('data-pending="1"'); // the nav badge
    expect(field(await (await get('/')).text(), 'pending')).toBe('1');
    // The code is for people at the page only: never in /metrics or the JSON API.
    expect(await (await get('/metrics')).text()).not.toContain(code);
  });
});

describe('/metrics', () => {
  it('exposes the fleet in Prometheus text format', async () => {
    const res = await get('/metrics');
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await res.text();
    const nodes = ocm.nodes.list();
    expect(text).toContain(`ocm_nodes_total ${nodes.length}\n`);
    for (const n of nodes) {
      const up = n.status === 'online' || n.status === 'degraded' ? 1 : 0;
      expect(text).toContain(`ocm_node_up{node="${n.id}"} ${up}\n`);
      expect(text).toContain(`ocm_node_last_score{node="${n.id}"} ${n.last_score}\n`);
      expect(text).toMatch(
        new RegExp(`ocm_node_last_backup_age_seconds\\{node="${n.id}"\\} \\d+(\\.\\d+)?\\n`),
      );
    }
    expect(text).toContain('# TYPE ocm_operations_total counter');
    const ops = ocm.db.prepare("SELECT COUNT(*) AS n FROM operations WHERE status = 'succeeded'").get() as {
      n: number;
    };
    expect(text).toContain(`ocm_operations_total{status="succeeded"} ${ops.n}\n`);
    expect(text).toContain('ocm_alerts_firing{severity="critical"} 1\n');
  });
});

describe('security headers and state', () => {
  it('every page carries a CSP without inline scripts, and has no inline script or style', async () => {
    for (const path of [
      '/',
      `/nodes/${fleet.ids[0]}`,
      '/backups',
      '/scores',
      '/events',
      '/audit',
      '/confirmations',
      '/costs',
      '/rollouts',
      '/jobs',
      '/login',
    ]) {
      const res = path === '/login' ? await app.request(path) : await get(path);
      expect(res.status, path).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const html = await res.text();
      expect(html.match(/<script(?![^>]*\bsrc="\/static\/)[^>]*>/g), path).toBeNull();
      expect(html.match(/\sstyle="/g), path).toBeNull();
      expect(html.match(/\son[a-z]+="/g), path).toBeNull();
      expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // no CDN, nothing off-site
    }
  });

  it('viewing every page and fragment changes nothing in the data', async () => {
    const before = stateFingerprint();
    const paths = [
      '/',
      '/nodes/g3s-01',
      `/nodes/${fleet.offline}`,
      '/backups',
      '/scores',
      '/events',
      '/events?severity=warn',
      '/audit',
      '/confirmations',
      '/costs',
      '/rollouts',
      '/jobs',
      '/metrics',
      '/api/nodes',
      '/fragments/summary',
      '/fragments/nodes',
      '/fragments/events',
      '/fragments/event-list?type=backup',
      '/fragments/confirmations',
      '/fragments/nodes/g3s-01/status',
    ];
    for (let round = 0; round < 2; round++) {
      for (const path of paths) expect((await get(path)).status, path).toBe(200);
    }
    expect(stateFingerprint()).toBe(before);
  });
});
