// Restarting a node's OpenClaw gateway and waiting until it is healthy again.
import { setTimeout as sleep } from 'node:timers/promises';
import { OperationFailed } from '../errors.ts';
import { recordEvent } from '../events.ts';
import type { Operation } from '../journal.ts';
import type { Ocm } from '../ocm.ts';
import { type AgentHealth, agentGatewaySchema, agentHealthSchema } from './agent-schemas.ts';
import { fleetAccess } from './status.ts';

/** Poll the agent's `health` until every check passes or `waitMs` runs out; returns the last answer. */
export async function waitHealthy(ocm: Ocm, id: string, waitMs: number): Promise<AgentHealth> {
  const agent = await fleetAccess(ocm).agent(id);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const health = await agent.run('health', [], { timeoutMs: 60_000, schema: agentHealthSchema });
    if (health.ok || Date.now() >= deadline) return health;
    await sleep(Math.min(2000, Math.max(0, deadline - Date.now())));
  }
}

export interface RestartResult {
  id: string;
  pid: number | null;
  mode: string | null;
  healthy: boolean;
  checks: AgentHealth['checks'];
  duration_ms: number;
}

/** Restart the gateway, then health-check it. Throws OperationFailed (after an event) if it stays unhealthy. */
export async function restartGateway(
  ocm: Ocm,
  id: string,
  waitMs: number,
  operation?: Operation,
): Promise<RestartResult> {
  const started = performance.now();
  const agent = await fleetAccess(ocm).agent(id);
  operation?.setRecovery({ kind: 'ensure_gateway_running', node: id });
  operation?.step(`restarting ${id}'s gateway`);
  const restarted = await agent.run('openclaw-restart', [], {
    timeoutMs: 120_000,
    schema: agentGatewaySchema,
  });
  operation?.setRecovery(null);
  operation?.step(`gateway started (pid ${restarted.pid ?? '?'}); health-checking`);
  const health = await waitHealthy(ocm, id, waitMs);
  const result = {
    id,
    pid: restarted.pid ?? null,
    mode: restarted.mode ?? null,
    healthy: health.ok,
    checks: health.checks,
    duration_ms: Math.round(performance.now() - started),
  };
  if (!health.ok) {
    const failing = health.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
    recordEvent(ocm.db, {
      node: id,
      type: 'operation',
      severity: 'error',
      message: `${id} restarted but is not healthy after ${Math.round(waitMs / 1000)} s: ${failing.join('; ')}`,
    });
    throw new OperationFailed(
      `${id}: gateway restarted but not healthy after ${Math.round(waitMs / 1000)} s — ${failing.join('; ')}`,
    );
  }
  recordEvent(ocm.db, {
    node: id,
    type: 'operation',
    message: `${id} gateway restarted and healthy in ${Math.round(result.duration_ms / 1000)} s`,
  });
  return result;
}
