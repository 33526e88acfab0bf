// Issue #3 acceptance 2: OCM against the real OpenClaw (2026.9.6, under Node 24, gateway in the
// foreground, a local model stand-in) over real SSH — the real version string, a confirmed restart
// of the real gateway that comes back healthy, and one question answered through `openclaw agent --json`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../mcp-server/config.ts';
import { agentAskSchema } from '../mcp-server/nodes/agent-schemas.ts';
import { fleetAccess } from '../mcp-server/nodes/status.ts';
import { type Ocm, openOcm } from '../mcp-server/ocm.ts';
import type { Caller } from '../mcp-server/tool.ts';
import { type Fleet, startFleet } from './harness/fleet.ts';
import { type Operator, operator } from './helpers/operator.ts';

const person: Caller = { kind: 'cli', detail: 'cli:real-node-test' };
let fleet: Fleet;
let ocm: Ocm;
let ok: Operator['ok'];

beforeAll(async () => {
  fleet = await startFleet({ dir: mkdtempSync(join(tmpdir(), 'ocm-real-')), nodes: 1, real: 1 });
  ocm = await openOcm({ config: loadConfig({ ...process.env, ...fleet.env, OCM_LOG_LEVEL: 'error' }) });
  ({ ok } = operator(ocm, person));
}, 300_000);
afterAll(async () => {
  await ocm?.close();
  await fleet?.stop();
  if (fleet) rmSync(fleet.dir, { recursive: true, force: true });
});

describe('a real OpenClaw node', () => {
  it('node_status reports the real OpenClaw version string', async () => {
    const status = await ok('node_status', { id: 'g3s-01' });
    expect(status.openclaw_version_raw).toMatch(/^OpenClaw 2026\.9\.6 \([0-9a-f]+\)$/);
    expect(status.openclaw_version).toBe('2026.9.6');
    expect(status.openclaw_running).toBe(true);
    expect(ocm.nodes.get('g3s-01')?.openclaw_version).toBe('2026.9.6');
  });

  it('restart_node, once confirmed, restarts the real gateway and node_health is OK afterwards', async () => {
    const before = (await ok('node_status', { id: 'g3s-01' })).gateway_pid;
    const pending = await ocm.tools.call('restart_node', { id: 'g3s-01', wait_s: 120 }, person);
    expect(pending.kind).toBe('confirmation_required');
    const restarted = await ok('restart_node', { id: 'g3s-01', wait_s: 120 });
    expect(restarted.healthy).toBe(true);
    expect(restarted.pid).not.toBe(before);
    const health = await ok('node_health', { id: 'g3s-01' });
    expect(health.ok).toBe(true);
    expect(health.checks.find((c: { name: string }) => c.name === 'openclaw_health')?.ok).toBe(true);
  });

  it('answers a question through `openclaw agent --json` with the model stand-in’s reply', async () => {
    const agent = await fleetAccess(ocm).agent('g3s-01');
    const reply = await agent.run('ask', ['ocm-eval-test-1', 'What is 17 * 23?', '120'], {
      timeoutMs: 180_000,
      schema: agentAskSchema,
    });
    expect(reply.text).toContain('391');
    expect(reply.usage).toBeTruthy();
  });
});
