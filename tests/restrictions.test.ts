// Read-only mode and the tool allow-list hold on both tools/list and tools/call, for every caller;
// an allow-list naming a tool that does not exist stops OCM from starting at all.
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { stdioClient } from './helpers/mcp-clients.ts';
import { childEnv, makeOcmHome, OCM_BIN, type OcmHome, REPO } from './helpers/ocm-env.ts';

let home: OcmHome | undefined;
afterEach(() => home?.cleanup());

describe('read-only mode', () => {
  it('lists only read tools and refuses the others when called anyway', async () => {
    home = makeOcmHome({ readOnly: true });
    const client = await stdioClient(home);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('list_nodes');
      expect(names).toContain('cluster_status');
      expect(names).not.toContain('add_node');
      expect(names).not.toContain('backup_node');
      const r = await client.callTool({ name: 'add_node', arguments: { id: 'g3s-01', host: '192.0.2.1' } });
      expect(r.isError).toBe(true);
      expect(JSON.stringify(r.content)).toMatch(/read-only mode: add_node \(medium tier\) is disabled/);
    } finally {
      await client.close();
    }
  });
});

describe('allow-list', () => {
  it('exposes exactly the allowed tools', async () => {
    home = makeOcmHome({ allowTools: ['list_nodes', 'get_node'] });
    const client = await stdioClient(home);
    try {
      expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['get_node', 'list_nodes']);
      const r = await client.callTool({ name: 'audit_log', arguments: {} });
      expect(r.isError).toBe(true);
      expect(JSON.stringify(r.content)).toMatch(/not enabled on this server/);
    } finally {
      await client.close();
    }
  });

  it('refuses to start when it names a tool that does not exist', () => {
    home = makeOcmHome();
    const run = spawnSync(process.execPath, [OCM_BIN, 'call', 'list_nodes'], {
      cwd: REPO,
      env: childEnv(home, { OCM_ALLOW_TOOLS: 'list_nodes,list_nodez' }),
      encoding: 'utf8',
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/allowTools names unknown tools: list_nodez/);
  });
});
