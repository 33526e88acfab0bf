// Seeing the fleet: sweeps, one node's status and health, SSH tests, agent installs.
import { z } from 'zod';
import { CommandFailed, NodeUnreachable } from '../errors.ts';
import { nodeId } from '../ids.ts';
import { withDeadline } from '../nodes/access.ts';
import { agentHealthSchema } from '../nodes/agent-schemas.ts';
import { checkNode, fleetAccess, type NodeCheck } from '../nodes/status.ts';
import type { Node } from '../nodes/store.ts';
import { mapBounded, resolveTargets, targetsSchema } from '../targets.ts';
import { defineTool, nodeLock } from '../tool.ts';

const nodeCheckSchema = z.object({
  id: z.string(),
  ok: z.boolean(),
  status: z.enum(['online', 'degraded', 'offline', 'error']),
  cpu_pct: z.number().nullable(),
  mem_pct: z.number().nullable(),
  disk_pct: z.number().nullable(),
  uptime_s: z.number().nullable(),
  load1: z.number().nullable(),
  openclaw_version: z.string().nullable(),
  openclaw_running: z.boolean().nullable(),
  agent_version: z.string().nullable(),
  error: z.string().nullable(),
  checked_in_ms: z.number(),
});

const summarySchema = z.object({
  total: z.number(),
  online: z.number(),
  degraded: z.number(),
  offline: z.number(),
  error: z.number(),
});

/** A node's last finished check as stored, in the shape of a fresh one (for `cached: true`). */
function lastCheckOf(n: Node): NodeCheck {
  const m = n.metrics ?? {};
  return {
    id: n.id,
    ok: n.status === 'online' || n.status === 'degraded',
    status: n.status === 'unknown' ? 'offline' : n.status,
    cpu_pct: m.cpu_pct ?? null,
    mem_pct: m.mem_pct ?? null,
    disk_pct: m.disk_pct ?? null,
    uptime_s: m.uptime_s ?? null,
    load1: m.load1 ?? null,
    openclaw_version: n.openclaw_version,
    openclaw_running: m.openclaw_running ?? null,
    agent_version: n.agent_version,
    error: n.status === 'unknown' ? 'never checked' : n.status_detail,
    checked_in_ms: 0,
  };
}

export const clusterStatus = defineTool({
  name: 'cluster_status',
  title: 'Fleet status',
  description:
    'Sweep every node (or the given targets) in parallel and report each one: online/degraded/offline/error, CPU, RAM, disk, uptime, OpenClaw version and whether its gateway runs. One dead node only costs its own timeout. With cached: true, returns the last finished checks without contacting nodes.',
  tier: 'read',
  input: z.strictObject({
    targets: targetsSchema.default('all'),
    cached: z.boolean().default(false).describe('Return the last finished checks instead of sweeping now'),
  }),
  output: z.object({
    summary: summarySchema,
    swept_at: z.string(),
    duration_ms: z.number(),
    cached: z.boolean(),
    nodes: z.array(
      nodeCheckSchema.extend({
        name: z.string(),
        busy: z.string().nullable(),
        checked_at: z.string().nullable(),
      }),
    ),
  }),
  idempotent: true,
  async run({ targets, cached }, { ocm, progress }) {
    const started = performance.now();
    const ids = resolveTargets(ocm, targets);
    let done = 0;
    const checks: NodeCheck[] = cached
      ? ocm.nodes
          .list()
          .filter((n) => ids.includes(n.id))
          .map(lastCheckOf)
      : await mapBounded(ids, ocm.config.status.concurrency, async (id) => {
          const check = await checkNode(ocm, id, ocm.config.status.nodeTimeoutMs);
          progress(++done, ids.length, `${id}: ${check.status}`);
          return check;
        });
    const nodes = new Map(ocm.nodes.list().map((n) => [n.id, n]));
    const summary = { total: checks.length, online: 0, degraded: 0, offline: 0, error: 0 };
    for (const c of checks) summary[c.status]++;
    return {
      summary,
      swept_at: new Date().toISOString(),
      duration_ms: Math.round(performance.now() - started),
      cached,
      nodes: checks.map((c) => {
        const node = nodes.get(c.id);
        const busy = node?.busy ? `${node.busy.operation} (${node.busy.seconds} s)` : null;
        return { ...c, name: node?.name ?? c.id, busy, checked_at: node?.last_checked_at ?? null };
      }),
    };
  },
});

export const nodeStatus = defineTool({
  name: 'node_status',
  title: 'One node’s status',
  description:
    'Check one node now: CPU, RAM, disk, uptime, load, OpenClaw version (as `openclaw --version` reports it) and whether its gateway runs, with pid.',
  tier: 'read',
  input: z.strictObject({ id: nodeId }),
  output: nodeCheckSchema.extend({
    hostname: z.string().nullable(),
    os: z.string().nullable(),
    openclaw_version_raw: z.string().nullable(),
    gateway_pid: z.number().nullable(),
    gateway_mode: z.string().nullable(),
  }),
  idempotent: true,
  async run({ id }, { ocm }) {
    fleetAccess(ocm).row(id);
    const check = await checkNode(ocm, id, ocm.config.status.nodeTimeoutMs);
    if (!check.ok) {
      if (check.status === 'offline') throw new NodeUnreachable(id, check.error ?? 'no answer');
      throw new CommandFailed(id, 'ocm-agent status', null, check.error ?? '');
    }
    const s = await fleetAccess(ocm).status(id, ocm.config.status.nodeTimeoutMs);
    return {
      ...check,
      hostname: s.hostname ?? null,
      os: s.os ?? null,
      openclaw_version_raw: s.openclaw.version_raw ?? null,
      gateway_pid: s.openclaw.pid ?? null,
      gateway_mode: s.gateway_mode ?? null,
    };
  },
});

export const nodeHealth = defineTool({
  name: 'node_health',
  title: 'One node’s health',
  description:
    'Live health checks on one node with reasons: gateway running, config parses, workspace present, `openclaw health` answers.',
  tier: 'read',
  input: z.strictObject({ id: nodeId }),
  output: z.object({ id: z.string(), ok: z.boolean(), checks: agentHealthSchema.shape.checks }),
  idempotent: true,
  async run({ id }, { ocm }) {
    const agent = await fleetAccess(ocm).agent(id);
    const health = await agent.run('health', [], { timeoutMs: 60_000, schema: agentHealthSchema });
    return { id, ...health };
  },
});

export const testSsh = defineTool({
  name: 'test_ssh',
  title: 'Test the connection to a node',
  description:
    'Connect to a node (fresh connection) and report the round-trip latency, the pinned host key and the agent version. Pins the host key on first contact.',
  tier: 'low',
  input: z.strictObject({ id: nodeId }),
  output: z.object({
    id: z.string(),
    ok: z.boolean(),
    transport: z.string(),
    latency_ms: z.number().nullable(),
    host_key: z.string().nullable(),
    agent_version: z.string().nullable(),
    error: z.string().nullable(),
  }),
  plan: ({ id }) => `open a fresh connection to ${id} and run \`ocm-agent version\``,
  async run({ id }, { ocm }) {
    const access = fleetAccess(ocm);
    const row = access.row(id);
    access.forget(id);
    const started = performance.now();
    try {
      const agent = await withDeadline(id, ocm.config.ssh.connectTimeoutMs + 5000, () => access.agent(id));
      const version = await agent.run('version', [], {
        timeoutMs: 10_000,
        schema: z.object({ agent_version: z.string() }),
      });
      return {
        id,
        ok: true,
        transport: row.transport,
        latency_ms: Math.round(performance.now() - started),
        host_key: ocm.nodes.row(id)?.host_key ?? null,
        agent_version: version.agent_version,
        error: null,
      };
    } catch (err) {
      if (!(err instanceof NodeUnreachable || err instanceof CommandFailed)) throw err;
      return {
        id,
        ok: false,
        transport: row.transport,
        latency_ms: null,
        host_key: row.host_key,
        agent_version: null,
        error: err.message,
      };
    }
  },
});

export const installAgent = defineTool({
  name: 'install_agent',
  title: 'Install or upgrade ocm-agent',
  description:
    'Upload the ocm-agent script to the target nodes, or upgrade it where the version differs. OCM also does this on first contact; use this after upgrading OCM to roll the agent out at once.',
  tier: 'medium',
  input: z.strictObject({ targets: targetsSchema }),
  output: z.object({
    results: z.array(
      z.object({
        id: z.string(),
        ok: z.boolean(),
        installed: z.boolean(),
        version: z.string().nullable(),
        error: z.string().nullable(),
      }),
    ),
  }),
  locks: () => [],
  target: ({ targets }) => (Array.isArray(targets) ? targets.join(',') : targets),
  plan({ targets }, { ocm }) {
    const ids = resolveTargets(ocm, targets);
    return `upload or upgrade ocm-agent on ${ids.length} node(s): ${ids.join(', ')}`;
  },
  async run({ targets }, { ocm, progress }) {
    const ids = resolveTargets(ocm, targets);
    let done = 0;
    const results = await mapBounded(ids, ocm.config.status.concurrency, async (id) => {
      const lock = await ocm.locks.acquire(nodeLock(id), 'system:install_agent', 'install_agent');
      try {
        const access = fleetAccess(ocm);
        access.forget(id);
        const agent = await access.agent(id);
        const result = await agent.ensureAgent();
        return { id, ok: true, installed: result.installed, version: result.version, error: null };
      } catch (err) {
        if (!(err instanceof NodeUnreachable || err instanceof CommandFailed)) throw err;
        return { id, ok: false, installed: false, version: null, error: err.message };
      } finally {
        lock.release();
        progress(++done, ids.length, id);
      }
    });
    return { results };
  },
});

export const statusTools = [clusterStatus, nodeStatus, nodeHealth, testSsh, installAgent];
