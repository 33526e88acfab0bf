// "Targets" arguments: one node id, a list of ids, `all`, or a role (`role:test`). Resolved against
// the registry so a typo is an error naming the unknown id, never a silent no-op.
import { z } from 'zod';
import { InvalidInput } from './errors.ts';
import { nodeId } from './ids.ts';
import type { Ocm } from './ocm.ts';

export const targetsSchema = z
  .union([
    z.literal('all'),
    z.enum(['role:production', 'role:test', 'role:standby']),
    nodeId,
    z.array(nodeId).min(1).max(500),
  ])
  .describe('A node id, a list of ids, "all", or a role such as "role:test"');

export type Targets = z.infer<typeof targetsSchema>;

export function resolveTargets(ocm: Ocm, targets: Targets, field = 'targets'): string[] {
  const rows = ocm.nodes.rows();
  if (targets === 'all') return rows.map((r) => r.id);
  if (typeof targets === 'string' && targets.startsWith('role:')) {
    const role = targets.slice(5);
    return rows.filter((r) => r.role === role).map((r) => r.id);
  }
  const ids = Array.isArray(targets) ? [...new Set(targets)] : [targets as string];
  const known = new Set(rows.map((r) => r.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length)
    throw new InvalidInput(
      `${field}: no node ${unknown.map((id) => `"${id}"`).join(', ')} is registered (see list_nodes)`,
      field,
    );
  return ids;
}

/** Run `fn` for each item with at most `limit` in flight; results keep the input order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  });
  await Promise.all(workers);
  return results;
}
