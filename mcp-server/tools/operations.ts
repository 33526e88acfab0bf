// Operations on running nodes: restarts, one node or rolling across the fleet.
import { z } from 'zod';
import { isExpectedError } from '../errors.ts';
import { nodeId } from '../ids.ts';
import { restartGateway } from '../nodes/gateway.ts';
import { fleetAccess } from '../nodes/status.ts';
import { resolveTargets, targetsSchema } from '../targets.ts';
import { CLUSTER_LOCK, defineTool, nodeLock } from '../tool.ts';

const waitSeconds = z
  .number()
  .int()
  .min(5)
  .max(600)
  .default(60)
  .describe('How long to wait for the node to be healthy again (default 60 s)');
const checkSchema = z.object({ name: z.string(), ok: z.boolean(), detail: z.string() });
const restartResult = z.object({
  id: z.string(),
  pid: z.number().nullable(),
  mode: z.string().nullable(),
  healthy: z.boolean(),
  checks: z.array(checkSchema),
  duration_ms: z.number(),
});

export const restartNode = defineTool({
  name: 'restart_node',
  title: 'Restart OpenClaw on a node',
  description:
    'Restart the OpenClaw gateway on one node, then health-check it until healthy (or report why not). Medium tier: confirm first.',
  tier: 'medium',
  input: z.strictObject({ id: nodeId, wait_s: waitSeconds }),
  output: restartResult,
  locks: ({ id }) => [nodeLock(id)],
  plan({ id, wait_s }, { ocm }) {
    const row = fleetAccess(ocm).row(id);
    return `restart the OpenClaw gateway on ${id} (${row.name}), then wait up to ${wait_s} s for it to be healthy`;
  },
  run: ({ id, wait_s }, { ocm, operation }) => restartGateway(ocm, id, wait_s * 1000, operation),
});

export const restartAll = defineTool({
  name: 'restart_all',
  title: 'Rolling restart',
  description:
    'Restart OpenClaw on the target nodes one at a time, health-checking each before the next. Stops at the first node that does not come back healthy (the rest are left untouched). Medium tier.',
  tier: 'medium',
  input: z.strictObject({ targets: targetsSchema.default('all'), wait_s: waitSeconds }),
  output: z.object({
    restarted: z.array(restartResult),
    failed: z.object({ id: z.string(), error: z.string() }).nullable(),
    skipped: z.array(z.string()),
  }),
  locks: () => [CLUSTER_LOCK],
  target: ({ targets }) => (Array.isArray(targets) ? targets.join(',') : targets),
  plan({ targets, wait_s }, { ocm }) {
    const ids = resolveTargets(ocm, targets);
    return `rolling restart of ${ids.length} node(s), one at a time, each health-checked for up to ${wait_s} s: ${ids.join(' → ')}; stops at the first failure`;
  },
  async run({ targets, wait_s }, { ocm, progress, operation, caller }) {
    const ids = resolveTargets(ocm, targets);
    const restarted = [];
    for (const [index, id] of ids.entries()) {
      progress(index, ids.length, `restarting ${id}`);
      const lock = await ocm.locks.acquire(nodeLock(id), caller.detail, 'restart_all');
      try {
        restarted.push(await restartGateway(ocm, id, wait_s * 1000, operation));
      } catch (err) {
        if (!isExpectedError(err)) throw err;
        return { restarted, failed: { id, error: err.message }, skipped: ids.slice(index + 1) };
      } finally {
        lock.release();
      }
    }
    progress(ids.length, ids.length, 'done');
    return { restarted, failed: null, skipped: [] };
  },
});

export const operationTools = [restartNode, restartAll];
