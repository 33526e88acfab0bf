// Restore (SPEC §5, seed §3.5): tag the current state, build the target's file set from git, put
// the node's CURRENT secrets back into every placeholder (in memory), stream it to the agent,
// health-check after a wait, undo on failure, and tag the rollback.
import { setTimeout as sleep } from 'node:timers/promises';
import { OperationFailed } from '../errors.ts';
import { recordEvent } from '../events.ts';
import type { Operation } from '../journal.ts';
import { agentRestoreSchema } from '../nodes/agent-schemas.ts';
import { waitHealthy } from '../nodes/gateway.ts';
import { fleetAccess } from '../nodes/status.ts';
import type { Ocm } from '../ocm.ts';
import { backupNode, backupRepo } from './backup.ts';
import { collectSecrets, restoreConfigSecrets, restoreTextSecrets } from './merge-secrets.ts';
import { containsPlaceholder } from './redact.ts';
import { redactionKey } from './redaction-key.ts';
import { readTar, writeTar } from './tar.ts';

export interface RestoreResult {
  id: string;
  restored_to: string;
  commit: string;
  pre_rollback_tag: string;
  rollback_tag: string;
  files: number;
  healthy: boolean;
  duration_ms: number;
}

/** Build the tar the agent's `restore` takes: the target's files with the node's secrets merged back. */
export async function buildRestoreTar(
  ocm: Ocm,
  id: string,
  commit: string,
): Promise<{ tar: Buffer; files: number }> {
  const repo = await backupRepo(ocm);
  const target = await repo.readNodeFiles(id, commit);
  const configText = target.get('config/openclaw.json');
  if (!configText)
    throw new OperationFailed(`${commit.slice(0, 8)} has no config for ${id}: is it a backup of this node?`);

  // The node's current raw config and files, read into memory only, are where its secrets come from.
  // One `backup` stream carries both (the agent refuses it without a config).
  const agent = await fleetAccess(ocm).agent(id);
  const currentFiles = await readTar(await agent.stream('backup', [], { timeoutMs: 300_000 }));
  const currentConfig = currentFiles.get('openclaw.json')?.toString('utf8');
  if (currentConfig === undefined)
    throw new OperationFailed(`${id} sent no current config: nothing to take its secrets from`);
  const key = redactionKey(ocm.config);
  const knownSecrets = collectSecrets(
    currentConfig,
    [...currentFiles.values()].map((b) => b.toString('utf8')),
  );

  const out = new Map<string, Buffer>();
  out.set(
    'openclaw.json',
    Buffer.from(restoreConfigSecrets(configText.toString('utf8'), currentConfig, key)),
  );
  for (const [path, content] of target) {
    if (!path.startsWith('workspace/')) continue;
    const text = content.toString('utf8');
    out.set(
      path,
      containsPlaceholder(text) ? Buffer.from(restoreTextSecrets(text, knownSecrets, key, path)) : content,
    );
  }
  return { tar: await writeTar(out), files: out.size };
}

export async function restoreNode(
  ocm: Ocm,
  id: string,
  ref: string,
  operation?: Operation,
): Promise<RestoreResult> {
  const started = performance.now();
  const repo = await backupRepo(ocm);
  const commit = await repo.resolveRef(ref);

  operation?.step(`snapshotting ${id}'s current state before the restore`);
  const pre = await backupNode(ocm, id, 'pre-rollback', operation, `before restoring ${ref}`);

  operation?.step(`building the file set of ${ref} with ${id}'s current secrets`);
  const { tar, files } = await buildRestoreTar(ocm, id, commit);

  const agent = await fleetAccess(ocm).agent(id);
  operation?.setRecovery({ kind: 'ensure_gateway_running', node: id });
  operation?.step(`restoring ${files} files on ${id} (gateway stopped, undo copy kept on the node)`);
  const restored = await agent.run('restore', [], {
    stdin: tar,
    timeoutMs: 300_000,
    schema: agentRestoreSchema,
  });
  operation?.setRecovery(null);

  operation?.step(`waiting ${Math.round(ocm.config.backup.restoreWaitMs / 1000)} s, then health-checking`);
  await sleep(ocm.config.backup.restoreWaitMs);
  // A gateway the agent could not even start will not get healthy by waiting: check once, then undo.
  const healthWait = restored.gateway_started === false ? 0 : ocm.config.backup.healthWaitMs;
  const health = await waitHealthy(ocm, id, healthWait);
  if (!health.ok) {
    const failing = health.checks
      .filter((c) => !c.ok)
      .map((c) => `${c.name}: ${c.detail}`)
      .join('; ');
    operation?.step(`unhealthy (${failing}); undoing`);
    let undone = 'undone from the node-local copy';
    try {
      await agent.run('restore-undo', restored.undo_id ? [restored.undo_id] : [], { timeoutMs: 300_000 });
    } catch (err) {
      undone = `UNDO FAILED: ${(err as Error).message}`;
    }
    recordEvent(ocm.db, {
      node: id,
      type: 'restore',
      severity: 'critical',
      message: `restore of ${id} to ${ref} failed its health check (${failing}); ${undone}`,
    });
    throw new OperationFailed(
      `restore of ${id} to ${ref} failed its health check (${failing}); ${undone}. Pre-restore state is tagged ${pre.tag}.`,
    );
  }

  const rollbackTag = await repo.tagNode(id, 'rollback', Date.now(), commit, `restored from ${ref}`);
  recordEvent(ocm.db, {
    node: id,
    type: 'restore',
    severity: 'warn',
    message: `${id} restored to ${ref} (${commit.slice(0, 8)}); before: ${pre.tag}`,
    details: { commit, pre_rollback: pre.tag, rollback: rollbackTag },
  });
  return {
    id,
    restored_to: ref,
    commit,
    pre_rollback_tag: pre.tag as string,
    rollback_tag: rollbackTag,
    files,
    healthy: true,
    duration_ms: Math.round(performance.now() - started),
  };
}
