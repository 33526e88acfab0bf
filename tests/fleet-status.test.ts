// Issue #3 acceptance 1 and 3: a 5-node sim fleet over real SSH, seen through OCM's tools — all
// online with metrics; one node taken offline costs only its own timeout; it comes back; a changed
// host key is refused; hostile values never reach a shell unescaped.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../mcp-server/config.ts';
import { agentScriptVersion } from '../mcp-server/nodes/agent-client.ts';
import { type Ocm, openOcm } from '../mcp-server/ocm.ts';
import { type Fleet, startFleet } from './harness/fleet.ts';
import { REPO } from './helpers/ocm-env.ts';
import { type Operator, operator } from './helpers/operator.ts';

let fleet: Fleet;
let ocm: Ocm;
let call: Operator['call'];
let ok: Operator['ok'];

const byId = (data: Record<string, any>) =>
  new Map((data.nodes as { id: string }[]).map((n) => [n.id, n as Record<string, any>]));

beforeAll(async () => {
  fleet = await startFleet({ dir: mkdtempSync(join(tmpdir(), 'ocm-fleet-status-')), nodes: 5 });
  ocm = await openOcm({ config: loadConfig({ ...process.env, ...fleet.env, OCM_LOG_LEVEL: 'error' }) });
  ({ call, ok } = operator(ocm, { kind: 'cli', detail: 'cli:fleet-status-test' }));
}, 180_000);
afterAll(async () => {
  await ocm?.close();
  await fleet?.stop();
  if (fleet) rmSync(fleet.dir, { recursive: true, force: true });
});

describe('cluster_status on a 5-node sim fleet', () => {
  it('reports every node online with CPU, RAM, disk and OpenClaw version', async () => {
    const data = await ok('cluster_status', {});
    expect(data.summary).toMatchObject({ total: 5, online: 5, offline: 0 });
    for (const node of data.nodes) {
      expect(node.status, node.id).toBe('online');
      expect(node.cpu_pct).toBeTypeOf('number');
      expect(node.mem_pct).toBeTypeOf('number');
      expect(node.disk_pct).toBeTypeOf('number');
      expect(node.openclaw_version).toBe('2026.9.6');
      expect(node.openclaw_running).toBe(true);
    }
    // The host key was pinned on first contact.
    expect(ocm.nodes.get('g3s-01')?.host_key).toMatch(/^SHA256:/);
  });

  it('reports an offline node within its own timeout while the others still answer, then sees it return', async () => {
    await fleet.fault('offline', 'g3s-02');
    const down = byId(await ok('cluster_status', {}));
    expect(down.get('g3s-02')?.status).toBe('offline');
    expect(down.get('g3s-02')?.error).toMatch(/g3s-02: unreachable/);
    for (const id of ['g3s-01', 'g3s-03', 'g3s-04', 'g3s-05'])
      expect(down.get(id)?.status, id).toBe('online');
    expect(ocm.nodes.get('g3s-02')?.status).toBe('offline');
    const events = await ok('list_events', { node: 'g3s-02', type: 'status' });
    expect(events.events[0].message).toMatch(/g3s-02 is offline/);

    await fleet.fault('online', 'g3s-02');
    const back = byId(await ok('cluster_status', {}));
    expect(back.get('g3s-02')?.status).toBe('online');
  });

  it('node_status reads the version the node reports; node_health explains itself', async () => {
    const status = await ok('node_status', { id: 'g3s-03' });
    expect(status.openclaw_version_raw).toMatch(/^OpenClaw 2026\.9\.6 /);
    expect(status.gateway_pid).toBeTypeOf('number');
    const health = await ok('node_health', { id: 'g3s-03' });
    expect(health.ok).toBe(true);
    expect(health.checks.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(['gateway_running', 'config_parses']),
    );
  });

  it('restart_node restarts the gateway after confirmation and health-checks it', async () => {
    const before = (await ok('node_status', { id: 'g3s-04' })).gateway_pid;
    const first = await ocm.tools.call(
      'restart_node',
      { id: 'g3s-04' },
      { kind: 'cli', detail: 'cli:fleet-status-test' },
    );
    expect(first.kind).toBe('confirmation_required');
    const result = await ok('restart_node', { id: 'g3s-04' });
    expect(result.healthy).toBe(true);
    expect(result.pid).not.toBe(before);
  });

  it('restart_all restarts the targets one at a time, each health-checked', async () => {
    const result = await ok('restart_all', { targets: ['g3s-01', 'g3s-03'] });
    expect(result.failed).toBeNull();
    expect(result.restarted.map((r: { id: string; healthy: boolean }) => [r.id, r.healthy])).toEqual([
      ['g3s-01', true],
      ['g3s-03', true],
    ]);
  });

  it('install_agent reports the agent version on every target', async () => {
    const { results } = await ok('install_agent', { targets: 'all' });
    const expected = agentScriptVersion(readFileSync(join(REPO, 'agent', 'ocm-agent.sh'), 'utf8'));
    expect(results.map((r: { ok: boolean }) => r.ok)).toEqual([true, true, true, true, true]);
    for (const r of results) expect(r.version).toBe(expected);
  });

  it('refuses a node whose host key changed, with a clear error, until it is re-pinned', async () => {
    const pinned = ocm.nodes.get('g3s-05')?.host_key;
    await fleet.fault('rekey', 'g3s-05');
    const outcome = await call('test_ssh', { id: 'g3s-05' });
    expect(outcome.kind).toBe('ok');
    const data = (outcome as { data: Record<string, any> }).data;
    expect(data.ok).toBe(false);
    expect(data.error).toMatch(/host key changed/i);
    expect(ocm.nodes.get('g3s-05')?.host_key).toBe(pinned);

    await ok('update_node', { id: 'g3s-05', reset_host_key: true });
    const again = await ok('test_ssh', { id: 'g3s-05' });
    expect(again.ok).toBe(true);
    expect(again.host_key).not.toBe(pinned);
  });
});

describe('shell safety', () => {
  it('hostile values in registration fields reach the node only as quoted arguments', async () => {
    const marker = mkdtempSync(join(tmpdir(), 'ocm-pwned-'));
    const hostile = [
      `/tmp/x'; touch ${marker}/quote; '`,
      `/tmp/$(touch ${marker}/subst)`,
      `/tmp/\`touch ${marker}/backtick\``,
      `/tmp/a;touch ${marker}/semicolon`,
      `/tmp/a\ttouch ${marker}/tab`,
    ];
    const port = fleet.nodes[0]?.port;
    for (const [i, path] of hostile.entries()) {
      const id = `hostile-${i}`;
      await ok('add_node', { id, host: '127.0.0.1', port, user: 'root', openclaw_path: path, test: false });
      await call('node_status', { id });
      await call('backup_node', { id, note: `$(touch ${marker}/note) ; touch ${marker}/note2` });
    }
    const newline = await call('add_node', {
      id: 'hostile-nl',
      host: '127.0.0.1',
      openclaw_path: `/tmp/a\ntouch ${marker}/nl`,
    });
    expect(newline.kind).toBe('error');
    expect(readdirSync(marker)).toEqual([]);
    expect(existsSync('/tmp/x')).toBe(false);
    rmSync(marker, { recursive: true, force: true });
  });
});
