// Backup tools: back up now, list, diff, tag, delete. Restores live in restore.ts.
import { z } from 'zod';
import { backupNode, backupRepo, pushBackups } from '../backup/backup.ts';
import { InvalidInput, isExpectedError } from '../errors.ts';
import { nodeId } from '../ids.ts';
import { fleetAccess } from '../nodes/status.ts';
import { mapBounded, resolveTargets, targetsSchema } from '../targets.ts';
import { CLUSTER_LOCK, defineTool, nodeLock } from '../tool.ts';

export const refSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'a tag (g3s-01/stable/2026-02-14T08-00-00Z), branch or commit sha')
  .refine((r) => !r.includes('..') && !r.endsWith('/') && !r.endsWith('.lock'), 'not a valid git ref');

const backupResult = z.object({
  id: z.string(),
  changed: z.boolean(),
  commit: z.string(),
  tag: z.string().nullable(),
  files: z.number(),
  bytes: z.number(),
  redactions: z.number(),
  changed_files: z.array(z.string()),
});

export const backupNodeTool = defineTool({
  name: 'backup_node',
  title: 'Back up one node now',
  description:
    "Back up one node's OpenClaw config (secrets redacted), workspace and cron jobs into git now. Commits only if something changed; a manual backup is also tagged {node}/manual/{time}. Returns the commit and the changed files.",
  tier: 'low',
  input: z.strictObject({
    id: nodeId,
    note: z.string().max(200).optional().describe('Why, kept with the tag'),
  }),
  output: backupResult.extend({ pushed: z.boolean(), push_error: z.string().nullable() }),
  locks: ({ id }) => [nodeLock(id)],
  plan: ({ id }) => `back up ${id} now (manual backup, tagged)`,
  async run({ id, note }, { ocm, operation }) {
    fleetAccess(ocm).row(id);
    const result = await backupNode(ocm, id, 'manual', operation, note);
    const push = await pushBackups(ocm);
    return { ...result, pushed: push.pushed, push_error: push.error };
  },
});

export const backupAll = defineTool({
  name: 'backup_all',
  title: 'Back up the fleet',
  description:
    'Back up the target nodes in parallel (default: all) and push once. One commit per changed node; unchanged nodes make no commit. A node that fails does not stop the others; each result says what happened.',
  tier: 'low',
  input: z.strictObject({ targets: targetsSchema.default('all') }),
  output: z.object({
    results: z.array(
      z.union([
        backupResult.extend({ ok: z.literal(true) }),
        z.object({ id: z.string(), ok: z.literal(false), error: z.string() }),
      ]),
    ),
    committed: z.number(),
    unchanged: z.number(),
    failed: z.number(),
    snapshots_removed: z.number().describe('Snapshot branches older than the retention, deleted'),
    pushed: z.boolean(),
    push_error: z.string().nullable(),
  }),
  locks: () => [CLUSTER_LOCK],
  target: ({ targets }) => (Array.isArray(targets) ? targets.join(',') : targets),
  plan({ targets }, { ocm }) {
    const ids = resolveTargets(ocm, targets);
    return `back up ${ids.length} node(s) in parallel: ${ids.join(', ')}`;
  },
  async run({ targets }, { ocm, progress, caller, operation }) {
    const ids = resolveTargets(ocm, targets);
    let done = 0;
    const results = await mapBounded(ids, ocm.config.backup.concurrency, async (id) => {
      try {
        const lock = await ocm.locks.acquire(nodeLock(id), caller.detail, 'backup_all');
        try {
          return { ok: true as const, ...(await backupNode(ocm, id, 'auto', operation)) };
        } finally {
          lock.release();
        }
      } catch (err) {
        if (!isExpectedError(err)) throw err;
        return { id, ok: false as const, error: err.message };
      } finally {
        progress(++done, ids.length, id);
      }
    });
    // Snapshot branches older than the retention go in the same sweep (main is never rewritten).
    const cleanup = await (await backupRepo(ocm)).cleanupSnapshots(
      ocm.config.backup.snapshotRetentionDays,
      Date.now(),
    );
    const push = await pushBackups(ocm);
    return {
      results,
      snapshots_removed: cleanup.deleted.length,
      committed: results.filter((r) => r.ok && r.changed).length,
      unchanged: results.filter((r) => r.ok && !r.changed).length,
      failed: results.filter((r) => !r.ok).length,
      pushed: push.pushed,
      push_error: push.error,
    };
  },
});

export const listBackups = defineTool({
  name: 'list_backups',
  title: 'List a node’s backups',
  description:
    "A node's backups, newest first: commit, time, type, tags (stable, manual, rollback…), score at the time, files and size. Use the commit or a tag as `ref` for backup_diff or restore_node.",
  tier: 'read',
  input: z.strictObject({ id: nodeId, limit: z.number().int().min(1).max(500).default(20) }),
  output: z.object({
    backups: z.array(
      z.object({
        commit: z.string(),
        at: z.string(),
        message: z.string(),
        tags: z.array(z.string()),
        type: z.string().nullable(),
        score: z.number().nullable(),
        files: z.number().nullable(),
        bytes: z.number().nullable(),
      }),
    ),
  }),
  idempotent: true,
  async run({ id, limit }, { ocm }) {
    const repo = await backupRepo(ocm);
    const history = await repo.listNodeHistory(id, limit);
    const rows = new Map(
      (
        ocm.db
          .prepare('SELECT git_commit, type, score, file_count, total_size FROM backups WHERE node_id = ?')
          .all(id) as {
          git_commit: string;
          type: string;
          score: number | null;
          file_count: number | null;
          total_size: number | null;
        }[]
      ).map((r) => [r.git_commit, r]),
    );
    return {
      backups: history.map((h) => {
        const row = rows.get(h.commit);
        return {
          commit: h.commit,
          at: new Date(h.at).toISOString(),
          message: h.message,
          tags: h.tags,
          type: row?.type ?? null,
          score: row?.score ?? null,
          files: row?.file_count ?? null,
          bytes: row?.total_size ?? null,
        };
      }),
    };
  },
});

export const backupDiff = defineTool({
  name: 'backup_diff',
  title: 'Diff two backups of a node',
  description:
    'What changed on a node between two points (commits or tags; `to` defaults to the latest backup, `from` to the one before it): config as key-level changes (secrets only ever appear as placeholders), other files as unified diffs.',
  tier: 'read',
  input: z.strictObject({ id: nodeId, from: refSchema.optional(), to: refSchema.optional() }),
  output: z.object({
    from: z.string(),
    to: z.string(),
    config_changes: z.array(
      z.object({
        path: z.string(),
        change: z.enum(['added', 'removed', 'changed']),
        before: z.unknown().optional(),
        after: z.unknown().optional(),
      }),
    ),
    files: z.array(
      z.object({ path: z.string(), status: z.enum(['added', 'removed', 'modified']), diff: z.string() }),
    ),
  }),
  idempotent: true,
  async run({ id, from, to }, { ocm }) {
    const repo = await backupRepo(ocm);
    const history = await repo.listNodeHistory(id, 2);
    const toRef = to ?? history[0]?.commit;
    const fromRef = from ?? (to ? undefined : history[1]?.commit);
    if (!toRef || !fromRef)
      throw new InvalidInput(
        `${id} has fewer than two backups: pass from/to explicitly or back it up again`,
        from ? 'to' : 'from',
      );
    const diff = await repo.diff(id, fromRef, toRef);
    return { from: fromRef, to: toRef, ...diff };
  },
});

export const tagBackup = defineTool({
  name: 'tag_backup',
  title: 'Tag a backup',
  description:
    'Put a tag on a backup of a node: `manual` (a named point) or `stable` (known good; rollback_node goes to the latest stable tag and stable/<node> moves to it). Default: the latest backup.',
  tier: 'low',
  input: z.strictObject({
    id: nodeId,
    ref: refSchema.optional(),
    type: z.enum(['manual', 'stable']).default('manual'),
    note: z.string().max(200).optional(),
  }),
  output: z.object({ tag: z.string(), commit: z.string() }),
  locks: ({ id }) => [nodeLock(id)],
  plan: ({ id, ref, type }) =>
    `tag ${ref ?? `the latest backup of ${id}`} as ${id}/${type}/<now>${type === 'stable' ? ` and move stable/${id} to it` : ''}`,
  async run({ id, ref, type, note }, { ocm }) {
    const repo = await backupRepo(ocm);
    const commit = ref ? await repo.resolveRef(ref) : (await repo.listNodeHistory(id, 1))[0]?.commit;
    if (!commit) throw new InvalidInput(`${id} has no backups yet: run backup_node first`, 'id');
    const tag = await repo.tagNode(id, type, Date.now(), commit, note);
    if (type === 'stable')
      ocm.db.prepare('UPDATE backups SET is_stable = 1 WHERE node_id = ? AND git_commit = ?').run(id, commit);
    await pushBackups(ocm);
    return { tag, commit };
  },
});

export const deleteBackup = defineTool({
  name: 'delete_backup',
  title: 'Delete a backup tag or snapshot branch',
  description:
    "Delete one of a node's tags or snapshot branches (local and remote). History on main is never rewritten, so the files stay recoverable by commit. High tier.",
  tier: 'high',
  input: z.strictObject({
    id: nodeId,
    ref: refSchema.describe('A tag {node}/{type}/{time} or a branch snapshots/{node}/{time}'),
  }),
  output: z.object({ deleted: z.string() }),
  locks: ({ id }) => [nodeLock(id)],
  plan({ id, ref }) {
    if (!ref.startsWith(`${id}/`) && !ref.startsWith(`snapshots/${id}/`))
      throw new InvalidInput(`ref: ${ref} is not a tag or snapshot branch of ${id}`, 'ref');
    return `delete ${ref} (local and remote); main's history is kept`;
  },
  async run({ id, ref }, { ocm }) {
    if (!ref.startsWith(`${id}/`) && !ref.startsWith(`snapshots/${id}/`))
      throw new InvalidInput(`ref: ${ref} is not a tag or snapshot branch of ${id}`, 'ref');
    await (await backupRepo(ocm)).deleteRef(ref);
    ocm.db.prepare('UPDATE backups SET git_tag = NULL WHERE node_id = ? AND git_tag = ?').run(id, ref);
    return { deleted: ref };
  },
});

export const backupTools = [backupNodeTool, backupAll, listBackups, backupDiff, tagBackup, deleteBackup];
