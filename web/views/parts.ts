// Small pieces every page shares: status dots, severity tags, empty states, live (polled) regions.
import { type Html, html, nothing } from './html.ts';

/** How often live regions poll. Short enough to watch a restore, long enough not to load the host. */
export const POLL = 'every 5s';

export function statusDot(status: string): Html {
  return html`<span class="dot st-${status}" title="${status}" aria-hidden="true"></span>`;
}

export function statusTag(status: string): Html {
  return html`<span class="tag st-${status}">${status}</span>`;
}

export function severityTag(severity: string): Html {
  return html`<span class="tag sev-${severity}">${severity}</span>`;
}

export function resultTag(result: string): Html {
  return html`<span class="tag res-${result}">${result.replaceAll('_', ' ')}</span>`;
}

/** Score coloured by the policy bands (≥90 stable, 70–89 fine, 50–69 warning, <50 rollback). */
export function scoreClass(score: number | null | undefined): string {
  if (score === null || score === undefined) return 'score-none';
  if (score >= 90) return 'score-stable';
  if (score >= 70) return 'score-ok';
  if (score >= 50) return 'score-warn';
  return 'score-bad';
}

export function empty(message: Html | string): Html {
  return html`<p class="empty">${message}</p>`;
}

/**
 * A region htmx re-fetches on a timer and replaces whole (outerHTML), so the fragment it gets
 * back carries the same attributes and keeps polling. Without JavaScript it is plain content.
 */
export function live(id: string, url: string, content: Html, tag: 'div' | 'section' = 'div', cls = ''): Html {
  const attrs = html`id="${id}" class="${cls}" hx-get="${url}" hx-trigger="${POLL}" hx-swap="outerHTML"`;
  return tag === 'section'
    ? html`<section ${attrs}>${content}</section>`
    : html`<div ${attrs}>${content}</div>`;
}

export function section(title: string, content: Html, extra: Html = nothing, cls = ''): Html {
  return html`<section class="panel ${cls}"><div class="panel-head"><h2>${title}</h2>${extra}</div>${content}</section>`;
}
