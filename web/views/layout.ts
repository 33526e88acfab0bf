// The page shell: header with navigation, one stylesheet, htmx from /static, nothing inline.
import { type Html, html, nothing } from './html.ts';

export interface PageFrame {
  title: string;
  /** Which nav entry is current. */
  active: NavKey | null;
  /** Pending confirmations, shown as a badge because a human may be waiting to read a code. */
  pending: number;
  timezone: string;
}

export type NavKey =
  | 'overview'
  | 'backups'
  | 'scores'
  | 'events'
  | 'audit'
  | 'confirmations'
  | 'costs'
  | 'rollouts'
  | 'jobs';

const NAV: { key: NavKey; href: string; label: string }[] = [
  { key: 'overview', href: '/', label: 'Overview' },
  { key: 'backups', href: '/backups', label: 'Backups' },
  { key: 'scores', href: '/scores', label: 'Scores' },
  { key: 'events', href: '/events', label: 'Events' },
  { key: 'confirmations', href: '/confirmations', label: 'Confirmations' },
  { key: 'audit', href: '/audit', label: 'Audit' },
  { key: 'costs', href: '/costs', label: 'Costs' },
  { key: 'rollouts', href: '/rollouts', label: 'Rollouts' },
  { key: 'jobs', href: '/jobs', label: 'Jobs' },
];

// htmx: no indicator <style> element and no eval, so the CSP needs no 'unsafe-inline'/'unsafe-eval'.
const HTMX_CONFIG =
  '{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"historyCacheSize":0}';

function head(title: string): Html {
  return html`<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content="${HTMX_CONFIG}">
<meta name="referrer" content="no-referrer">
<title>${title} · OCM</title>
<link rel="stylesheet" href="/static/ocm.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<script src="/static/htmx.min.js" defer></script>
</head>`;
}

export function page(frame: PageFrame, body: Html): Html {
  const nav = NAV.map(
    (n) =>
      html`<a href="${n.href}"${n.key === frame.active ? html` class="active" aria-current="page"` : nothing}>${n.label}${
        n.key === 'confirmations' && frame.pending > 0
          ? html` <span class="count" data-pending="${frame.pending}">${frame.pending}</span>`
          : nothing
      }</a>`,
  );
  return html`<!doctype html>
<html lang="en">
${head(frame.title)}
<body>
<header class="top">
  <a class="brand" href="/"><span class="logo">OCM</span><span class="brand-sub">OpenClaw Cluster Manager</span></a>
  <nav class="nav" aria-label="sections">${nav}</nav>
  <a class="logout" href="/logout">Log out</a>
</header>
<main>
${body}
</main>
<footer class="foot">Read-only status page · times in ${frame.timezone} · live parts refresh every few seconds</footer>
</body>
</html>`;
}

/** The login page stands alone: no navigation before you are in. */
export function loginPage(opts: {
  error?: string;
  next: string;
  configured: boolean;
  retryAfter?: number;
}): Html {
  return html`<!doctype html>
<html lang="en">
${head('Log in')}
<body class="login-body">
<main class="login">
  <h1><span class="logo">OCM</span> status page</h1>
  ${
    opts.configured
      ? nothing
      : html`<p class="notice warn">No dashboard password is configured. Set <code>OCM_WEB_PASSWORD</code> (or <code>web.passwordHash</code>
        in the config file) and restart <code>ocm serve</code>; until then only bearer tokens work.</p>`
  }
  ${opts.error ? html`<p class="notice error" role="alert">${opts.error}</p>` : nothing}
  <form method="post" action="/login">
    <input type="hidden" name="next" value="${opts.next}">
    <input type="text" name="username" value="ocm" autocomplete="username" hidden>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
    <button type="submit">Log in</button>
  </form>
</main>
</body>
</html>`;
}

/** A page-level heading with an optional line of context. */
export function heading(title: string, sub?: Html | string): Html {
  return html`<div class="page-head"><h1>${title}</h1>${sub ? html`<p class="sub">${sub}</p>` : nothing}</div>`;
}
