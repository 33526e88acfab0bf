// Restore and rollback: put a node back to an earlier backup with its own current secrets.
import { z } from 'zod';
import { backupRepo } from '../backup/backup.ts';
import { restoreNode } from '../backup/restore.ts';
import { OperationFailed } from '../errors.ts';
import { nodeId } from '../ids.ts';
import { fleetAccess } from '../nodes/status.ts';
import type { Ocm } from '../ocm.ts';
import { defineTool, nodeLock } from '../tool.ts';
import { refSchema } from './backups.ts';

const restoreOutput = z.object({
  id: z.string(),
  restored_to: z.string(),
  commit: z.string(),
  pre_rollback_tag: z.string(),
  rollback_tag: z.string(),
  files: z.number(),
  healthy: z.boolean(),
  duration_ms: z.number(),
});

async function describeRestore(ocm: Ocm, id: string, ref: string) {
  const row = fleetAccess(ocm).row(id);
  const repo = await backupRepo(ocm);
  const commit = await repo.resolveRef(ref);
  const score = row.last_score === null ? '' : ` from score ${row.last_score}`;
  const wait = Math.round(ocm.config.backup.restoreWaitMs / 1000);
  return `restore ${id}${score} to ${ref} (${commit.slice(0, 8)}) with ${id}'s current secrets; a pre-rollback snapshot will be tagged first; the gateway is stopped and started, health-checked after ${wait} s, and undone automatically if unhealthy`;
}

async function latestStable(ocm: Ocm, id: string): Promise<string> {
  const tag = await (await backupRepo(ocm)).latestTag(id, 'stable');
  if (!tag)
    throw new OperationFailed(
      `${id} has no stable tag yet: tag a known-good backup with tag_backup (type stable) or use restore_node with a ref`,
    );
  return tag.name;
}

export const restoreNodeTool = defineTool({
  name: 'restore_node',
  title: 'Restore a node to a backup',
  description:
    "Put a node's config and workspace back to a backup (tag or commit from list_backups), with the node's CURRENT secrets merged back in. Tags the current state first, restarts the gateway, health-checks, and undoes itself if unhealthy. High tier: confirm_token + the human's 4-digit security_code.",
  tier: 'high',
  input: z.strictObject({ id: nodeId, ref: refSchema }),
  output: restoreOutput,
  locks: ({ id }) => [nodeLock(id)],
  plan: ({ id, ref }, { ocm }) => describeRestore(ocm, id, ref),
  run: ({ id, ref }, { ocm, operation }) => restoreNode(ocm, id, ref, operation),
});

export const rollbackNode = defineTool({
  name: 'rollback_node',
  title: 'Roll a node back to its latest stable backup',
  description:
    "Restore a node to its latest stable tag ({node}/stable/…), secrets merged back, exactly like restore_node. Use when a node's assistant got worse. High tier.",
  tier: 'high',
  input: z.strictObject({ id: nodeId }),
  output: restoreOutput,
  locks: ({ id }) => [nodeLock(id)],
  async plan({ id }, { ocm }) {
    return describeRestore(ocm, id, await latestStable(ocm, id));
  },
  async run({ id }, { ocm, operation }) {
    return restoreNode(ocm, id, await latestStable(ocm, id), operation);
  },
});

export const restoreTools = [restoreNodeTool, rollbackNode];
