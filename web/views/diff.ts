// A backup diff as the operator reads it: config as key-level changes, files as unified diffs.
// The diff itself comes from the backup pipeline (`backupDiff`), plugged in through the app options.
import { type Html, html, nothing } from './html.ts';
import { empty } from './parts.ts';

export interface BackupDiffResult {
  config_changes: { path: string; change: string; before?: unknown; after?: unknown }[];
  files: { path: string; diff: string }[];
}

export type BackupDiffFn = (node: string, from: string, to: string) => Promise<BackupDiffResult>;

const shown = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

function diffLines(diff: string): Html {
  const lines = diff.replace(/\n$/, '').split('\n');
  return html`<pre class="diff">${lines.map((line) => {
    const cls = line.startsWith('@@')
      ? 'hunk'
      : line.startsWith('+++') || line.startsWith('---')
        ? 'file'
        : line.startsWith('+')
          ? 'add'
          : line.startsWith('-')
            ? 'del'
            : 'ctx';
    return html`<span class="${cls}">${line}</span>\n`;
  })}</pre>`;
}

export function diffView(result: BackupDiffResult): Html {
  if (!result.config_changes.length && !result.files.length)
    return empty('No differences between these two backups.');
  const config = result.config_changes.length
    ? html`<h3>Config (key-level)</h3>
      <div class="table-wrap"><table class="config-changes">
        <thead><tr><th>key</th><th>change</th><th>before</th><th>after</th></tr></thead>
        <tbody>${result.config_changes.map(
          (c) =>
            html`<tr class="chg-${c.change}"><td><code>${c.path}</code></td><td>${c.change}</td><td><code>${shown(c.before)}</code></td><td><code>${shown(
              c.after,
            )}</code></td></tr>`,
        )}</tbody></table></div>`
    : nothing;
  const files = result.files.length
    ? html`<h3>Files</h3>${result.files.map(
        (f) =>
          html`<details class="file-diff" open><summary><code>${f.path}</code></summary>${diffLines(f.diff)}</details>`,
      )}`
    : nothing;
  return html`<div class="diff-view">${config}${files}</div>`;
}

/** What to show when the diff cannot be produced: the pipeline is absent or it failed. */
export function diffUnavailable(reason: string): Html {
  return html`<p class="notice">Diff unavailable: ${reason}</p>`;
}

/** Run the pluggable diff, turning absence or failure into an honest note instead of an error page. */
export async function renderDiff(
  backupDiff: BackupDiffFn | undefined,
  node: string,
  from: string,
  to: string,
): Promise<Html> {
  if (!backupDiff)
    return diffUnavailable(
      'the backup pipeline is not connected to this status page yet, so only the backup list is shown.',
    );
  try {
    return diffView(await backupDiff(node, from, to));
  } catch (err) {
    return diffUnavailable((err as Error).message);
  }
}
