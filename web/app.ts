// The status page (SPEC §10): a read-only hono app that `ocm serve` mounts next to /mcp.
// Pages read the same stores the tools use but never call tools (each call writes an audit row,
// and the page polls). The only writes are the login rate limit and the session secret.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getConnInfo } from '@hono/node-server/conninfo';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { NODE_ID_PATTERN } from '../mcp-server/ids.ts';
import { log } from '../mcp-server/log.ts';
import type { Ocm } from '../mcp-server/ocm.ts';
import {
  endSession,
  hashPassword,
  hasSession,
  LoginLimiter,
  parsePasswordHash,
  sameSecret,
  sessionSecret,
  startSession,
  verifyPassword,
} from './auth.ts';
import { renderMetrics } from './metrics.ts';
import { backupByRef, pendingConfirmationCount } from './queries.ts';
import { confirmationsBody, confirmationsFragment } from './views/confirmations.ts';
import type { BackupDiffFn } from './views/diff.ts';
import { formatDuration } from './views/format.ts';
import { type Html, html } from './views/html.ts';
import { costsBody, jobsBody, rolloutsBody } from './views/later.ts';
import { loginPage, type NavKey, page } from './views/layout.ts';
import {
  auditBody,
  backupsBody,
  eventsBody,
  eventsFragment,
  parseEventFilter,
  scoresBody,
} from './views/lists.ts';
import { diffBody, nodeBody, statusFragment } from './views/node.ts';
import {
  fleetSummary,
  gridFragment,
  loadGrid,
  overviewBody,
  recentEventsFragment,
  summaryFragment,
} from './views/overview.ts';
import { empty } from './views/parts.ts';

export interface WebOptions {
  /** Plain dashboard password; hashed in memory at start and then forgotten. */
  password?: string;
  /** scrypt hash (`hashPassword`); wins over `password` and over config. */
  passwordHash?: string;
  /** The backup pipeline's diff; without it node pages list backups and say the diff is unavailable. */
  backupDiff?: BackupDiffFn;
  /** Wrong passwords allowed per client and window (default 5 per 15 min). */
  loginLimit?: { maxFailures: number; windowMs: number };
}

// Content-Security-Policy: scripts only from /static, no inline script or style, no eval, no
// framing; the login form may post only to us.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: string;
  type: string;
  etag: string;
}

function loadAssets(): Map<string, Asset> {
  const require = createRequire(import.meta.url);
  const files: [string, string, string][] = [
    ['htmx.min.js', require.resolve('htmx.org/dist/htmx.min.js'), 'text/javascript; charset=utf-8'],
    ['ocm.css', new URL('./static/ocm.css', import.meta.url).pathname, 'text/css; charset=utf-8'],
    ['favicon.svg', new URL('./static/favicon.svg', import.meta.url).pathname, 'image/svg+xml'],
  ];
  const assets = new Map<string, Asset>();
  for (const [name, path, type] of files) {
    const body = readFileSync(path, 'utf8');
    assets.set(name, {
      body,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`,
    });
  }
  return assets;
}

/** The password hash to check logins against: options first, then config; null if none is set. */
function passwordHashFor(ocm: Ocm, options: WebOptions): Promise<string | null> {
  const stored = options.passwordHash ?? (options.password ? undefined : ocm.config.web.passwordHash);
  if (stored) {
    parsePasswordHash(stored); // a malformed hash stops `ocm serve` at start, not at the first login
    return Promise.resolve(stored);
  }
  const plain = options.password ?? ocm.config.secrets.webPassword;
  return plain ? hashPassword(plain) : Promise.resolve(null);
}

function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // not served by @hono/node-server (e.g. app.request in tests)
  }
}

/** Only same-site paths, so /login?next= cannot send anyone elsewhere. */
function safeNext(next: string | undefined): string {
  return next && /^\/(?![/\\])[^\s]*$/.test(next) && !next.startsWith('/login') ? next : '/';
}

/** Requests a person does not look at directly: answer 401 rather than redirect to the login form. */
function isApiRequest(c: Context): boolean {
  const path = c.req.path;
  return (
    path === '/metrics' ||
    path.startsWith('/api/') ||
    path.startsWith('/fragments/') ||
    c.req.header('hx-request') === 'true'
  );
}

export function createWebApp(ocm: Ocm, options: WebOptions = {}): Hono {
  const app = new Hono();
  const secret = sessionSecret(ocm.db);
  const limiter = new LoginLimiter(ocm.db, options.loginLimit);
  const passwordHash = passwordHashFor(ocm, options);
  passwordHash.catch(() => {}); // surfaced at login; avoids an unhandled rejection before then
  const tokens = ocm.config.http.tokens.map((t) => t.token).filter((t): t is string => !!t);
  const metricsToken = ocm.config.web.metricsToken;
  const assets = loadAssets();
  const tz = ocm.config.timezone;

  const render = (
    c: Context,
    active: NavKey | null,
    title: string,
    body: Html,
    status: 200 | 400 | 404 = 200,
  ) => c.html(page({ title, active, pending: pendingConfirmationCount(ocm.db), timezone: tz }, body), status);

  app.use('*', async (c, next) => {
    await next();
    c.header('Content-Security-Policy', CSP);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cross-Origin-Opener-Policy', 'same-origin');
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  });

  // Read-only: the login form is the one thing that may be posted.
  app.use('*', async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD' || (method === 'POST' && c.req.path === '/login'))
      return next();
    c.header('Allow', c.req.path === '/login' ? 'GET, HEAD, POST' : 'GET, HEAD');
    return c.text(
      '405 method not allowed: the status page is read-only; change things through OCM tools (MCP, CLI, the OCM Bot)\n',
      405,
    );
  });

  app.get('/healthz', (c) => c.json({ ok: true }));

  app.get('/static/:file', (c) => {
    const asset = assets.get(c.req.param('file'));
    if (!asset) return c.text('not found\n', 404);
    c.header('ETag', asset.etag);
    c.header('Cache-Control', 'public, max-age=300');
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304);
    return c.body(asset.body, 200, { 'Content-Type': asset.type });
  });

  app.get('/login', async (c) => {
    const next = safeNext(c.req.query('next'));
    if (await hasSession(c, secret)) return c.redirect(next, 302);
    return c.html(loginPage({ next, configured: (await passwordHash.catch(() => null)) !== null }));
  });

  app.post(
    '/login',
    bodyLimit({ maxSize: 4096, onError: (c) => c.text('413 login form too large\n', 413) }),
    async (c) => {
      const origin = c.req.header('origin');
      if (
        origin &&
        origin !== 'null' &&
        URL.canParse(origin) &&
        new URL(origin).host !== new URL(c.req.url).host
      ) {
        return c.text('403 cross-site login refused\n', 403);
      }
      const form = await c.req.parseBody();
      const next = safeNext(typeof form.next === 'string' ? form.next : undefined);
      const password = typeof form.password === 'string' ? form.password : '';
      const client = clientAddress(c);
      const hash = await passwordHash;
      const retryAfter = limiter.retryAfter(client);
      if (retryAfter > 0) {
        c.header('Retry-After', String(retryAfter));
        const error = `Too many wrong passwords from this address. Try again in ${formatDuration(retryAfter)}.`;
        return c.html(loginPage({ next, configured: hash !== null, error }), 429);
      }
      if (hash === null) {
        return c.html(
          loginPage({ next, configured: false, error: 'Password login is not set up on this server.' }),
          401,
        );
      }
      if (!password || !(await verifyPassword(password, hash))) {
        limiter.recordFailure(client);
        log.warn('status page: wrong password', { client });
        return c.html(loginPage({ next, configured: true, error: 'Wrong password.' }), 401);
      }
      limiter.clear(client);
      await startSession(c, secret);
      return c.redirect(next, 303);
    },
  );

  app.get('/logout', (c) => {
    endSession(c);
    return c.redirect('/login', 302);
  });

  // Everything below needs a session cookie or a bearer token.
  app.use('*', async (c, next) => {
    const auth = c.req.header('authorization');
    const bearer = auth?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    if (bearer) {
      if (tokens.some((t) => sameSecret(bearer, t))) return next();
      if (c.req.path === '/metrics' && metricsToken && sameSecret(bearer, metricsToken)) return next();
    }
    if (await hasSession(c, secret)) return next();
    if (isApiRequest(c)) {
      c.header('WWW-Authenticate', 'Bearer realm="ocm"');
      if (c.req.header('hx-request') === 'true') c.header('HX-Redirect', '/login');
      return c.text('401 log in at /login, or send Authorization: Bearer <token>\n', 401);
    }
    const wanted = c.req.path + (new URL(c.req.url).search || '');
    return c.redirect(`/login?next=${encodeURIComponent(wanted)}`, 302);
  });

  app.get('/metrics', (c) =>
    c.body(renderMetrics(ocm), 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }),
  );
  app.get('/api/nodes', (c) => c.json({ nodes: ocm.nodes.list() }));

  app.get('/', (c) => render(c, 'overview', 'Overview', overviewBody(ocm, Date.now())));
  app.get('/nodes', (c) => c.redirect('/', 302));

  const nodeOr404 = (c: Context) => {
    const id = c.req.param('id') ?? '';
    return NODE_ID_PATTERN.test(id) ? ocm.nodes.get(id) : undefined;
  };
  const unknownNode = (c: Context) =>
    render(
      c,
      null,
      'Unknown node',
      html`<div class="page-head"><h1>Unknown node</h1></div>${empty(html`No node with that id is registered. <a href="/">Back to the overview</a>.`)}`,
      404,
    );

  app.get('/nodes/:id', async (c) => {
    const node = nodeOr404(c);
    if (!node) return unknownNode(c);
    return render(c, null, node.id, await nodeBody(ocm, node, Date.now(), options.backupDiff));
  });

  app.get('/nodes/:id/diff', async (c) => {
    const node = nodeOr404(c);
    if (!node) return unknownNode(c);
    // Only refs of this node's recorded backups ever reach the diff pipeline.
    const from = backupByRef(ocm.db, node.id, c.req.query('from') ?? '');
    const to = backupByRef(ocm.db, node.id, c.req.query('to') ?? '');
    if (!from || !to) {
      return render(
        c,
        null,
        'Unknown backup',
        html`<div class="page-head"><h1>Unknown backup</h1></div>${empty(html`<code>from</code> and <code>to</code> must name backups of ${node.id}. <a href="/nodes/${node.id}">Back to ${node.id}</a>.`)}`,
        400,
      );
    }
    return render(c, null, `${node.id} changes`, await diffBody(ocm, node, from, to, options.backupDiff));
  });

  app.get('/backups', (c) => {
    const node = c.req.query('node');
    const known = node && NODE_ID_PATTERN.test(node) ? node : undefined;
    return render(c, 'backups', 'Backups', backupsBody(ocm, known));
  });
  app.get('/scores', (c) => render(c, 'scores', 'Scores', scoresBody(ocm, Date.now())));
  app.get('/events', (c) => {
    const filter = parseEventFilter(
      c.req.query(),
      ocm.nodes.rows().map((n) => n.id),
    );
    return render(c, 'events', 'Events', eventsBody(ocm, filter));
  });
  app.get('/audit', (c) => render(c, 'audit', 'Audit log', auditBody(ocm)));
  app.get('/confirmations', (c) =>
    render(c, 'confirmations', 'Confirmations', confirmationsBody(ocm, Date.now())),
  );
  app.get('/costs', (c) => render(c, 'costs', 'Costs', costsBody(ocm, Date.now())));
  app.get('/rollouts', (c) => render(c, 'rollouts', 'Rollouts', rolloutsBody(ocm)));
  app.get('/jobs', (c) => render(c, 'jobs', 'Scheduler jobs', jobsBody(ocm)));

  // Live fragments, polled by htmx.
  app.get('/fragments/summary', (c) =>
    c.html(summaryFragment(fleetSummary(ocm, ocm.nodes.list(), Date.now()))),
  );
  app.get('/fragments/nodes', (c) => {
    const now = Date.now();
    return c.html(gridFragment(loadGrid(ocm, ocm.nodes.list(), now)));
  });
  app.get('/fragments/events', (c) => c.html(recentEventsFragment(ocm)));
  app.get('/fragments/event-list', (c) =>
    c.html(
      eventsFragment(
        ocm,
        parseEventFilter(
          c.req.query(),
          ocm.nodes.rows().map((n) => n.id),
        ),
      ),
    ),
  );
  app.get('/fragments/confirmations', (c) => c.html(confirmationsFragment(ocm, Date.now())));
  app.get('/fragments/nodes/:id/status', (c) => {
    const node = nodeOr404(c);
    if (!node) return c.text('unknown node\n', 404);
    return c.html(statusFragment(ocm, node, Date.now()));
  });

  app.notFound((c) =>
    render(
      c,
      null,
      'Not found',
      html`<div class="page-head"><h1>Not found</h1></div>${empty(html`Nothing here. <a href="/">Back to the overview</a>.`)}`,
      404,
    ),
  );
  app.onError((err, c) => {
    log.error('status page: internal error', { path: c.req.path, error: err.stack ?? String(err) });
    return c.text('500 internal error in the OCM status page (details are in the server log)\n', 500);
  });
  return app;
}
