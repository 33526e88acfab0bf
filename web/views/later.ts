// Sections that later parts of OCM fill: costs (the cost-collection job), rollouts (staged
// OpenClaw upgrades) and scheduler jobs. Each shows what exists today and says plainly what does not.
import type { Ocm } from '../../mcp-server/ocm.ts';
import { costsByNodeMonth, dayIn, monthCost, tableExists } from '../queries.ts';
import { formatCount, formatUsd } from './format.ts';
import { type Html, html } from './html.ts';
import { heading } from './layout.ts';
import { empty, section } from './parts.ts';

export function costsBody(ocm: Ocm, now: number): Html {
  const rows = costsByNodeMonth(ocm.db);
  const month = dayIn(ocm.config.timezone, now).slice(0, 7);
  const table = rows.length
    ? html`<div class="table-wrap"><table>
      <thead><tr><th>month</th><th>node</th><th class="num">tokens in</th><th class="num">tokens out</th><th class="num">cost</th></tr></thead>
      <tbody>${rows.map(
        (r) => html`<tr><td>${r.month}</td><td><a href="/nodes/${r.node_id}">${r.node_id}</a></td>
          <td class="num">${formatCount(r.tokens_in)}</td><td class="num">${formatCount(r.tokens_out)}</td><td class="num">${formatUsd(r.cost_usd)}</td></tr>`,
      )}</tbody></table></div>`
    : empty(
        'No LLM spend recorded yet. The cost-collection job reads each node’s usage (openclaw gateway usage-cost) and fills this page; score runs add their own judge cost.',
      );
  return html`${heading('Costs', html`This month (${month}): <strong data-field="month-cost">${formatUsd(monthCost(ocm.db, month))}</strong>`)}
  ${section('Spend per node and month', table)}`;
}

export function rolloutsBody(ocm: Ocm): Html {
  const note = tableExists(ocm.db, 'rollouts')
    ? 'Rollouts are recorded, but this page does not list them yet.'
    : 'No rollouts recorded. Staged OpenClaw upgrades (test nodes first, then approval, then one node at a time) arrive with start_rollout; their progress will appear here.';
  return html`${heading('Rollouts', 'Staged OpenClaw upgrades across the fleet.')}${section('Rollouts', empty(note))}`;
}

export function jobsBody(ocm: Ocm): Html {
  const note = tableExists(ocm.db, 'job_runs')
    ? 'Scheduler runs are recorded, but this page does not list them yet.'
    : 'No scheduler runs recorded. When `ocm scheduler` runs, its jobs (backups every 6 h, daily scores, the 60 s watchdog, cleanup, self-backup) and their last runs will appear here.';
  return html`${heading('Scheduler jobs', 'What runs on its own, and how its last run went.')}${section('Jobs', empty(note))}`;
}
