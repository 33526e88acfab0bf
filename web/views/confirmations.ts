// Pending confirmations: the dashboard channel for high-tier security codes. A person reads the
// code here and tells it to whoever asked (the OCM Bot, an MCP client); the page never confirms.
import type { Ocm } from '../../mcp-server/ocm.ts';
import { formatDuration, formatTime } from './format.ts';
import { type Html, html, nothing } from './html.ts';
import { heading } from './layout.ts';
import { empty, live, section } from './parts.ts';

export function confirmationsFragment(ocm: Ocm, now: number): Html {
  const tz = ocm.config.timezone;
  const pending = ocm.confirmations.pendingWithCodes();
  const content = pending.length
    ? html`<div class="confirmations">${pending.map(
        (p) => html`<article class="confirmation tier-${p.tier}" data-confirmation="${p.id}">
        <div class="conf-main">
          <div class="conf-tool"><code>${p.tool}</code>${p.target ? html` on <a href="/nodes/${p.target}">${p.target}</a>` : nothing}
            <span class="tag tier">${p.tier} tier</span></div>
          <p class="conf-plan">${p.plan}</p>
          <p class="muted small">requested by ${p.caller} · id ${p.id} · expires ${formatTime(tz, p.expires_at)} (in ${formatDuration(
            (p.expires_at - now) / 1000,
          )})</p>
        </div>
        <div class="conf-code">${
          p.code
            ? html`<div class="code-label">security code</div><div class="code" data-field="code">${p.code}</div>`
            : p.tier === 'high'
              ? html`<div class="code-label">security code</div><div class="muted small">sent through another channel, not shown here</div>`
              : html`<div class="code-label">no code</div><div class="muted small">medium tier: the caller repeats the call to confirm</div>`
        }</div>
      </article>`,
      )}</div>`
    : empty('Nothing is waiting for confirmation.');
  return live('confirmation-list', '/fragments/confirmations', content);
}

export function confirmationsBody(ocm: Ocm, now: number): Html {
  return html`${heading(
    'Pending confirmations',
    'Medium and high tier calls wait here until the caller repeats them. For high tier, read the 4-digit code to the person or bot that asked — only if you meant the action. Codes expire, and three wrong tries burn the request.',
  )}
  ${section('Waiting', confirmationsFragment(ocm, now))}`;
}
