// Long tools report progress over MCP: a real client asking with a progress token gets one
// notification per node from cluster_status and backup_all (local-transport sim nodes).
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../mcp-server/config.ts';
import { openOcm } from '../mcp-server/ocm.ts';
import { seedState } from './harness/seed-state.ts';
import { stdioClient } from './helpers/mcp-clients.ts';
import { makeOcmHome, type OcmHome, REPO } from './helpers/ocm-env.ts';

let home: OcmHome;
let client: Client;
const ids = ['g3s-01', 'g3s-02', 'g3s-03'];

beforeAll(async () => {
  home = makeOcmHome();
  const ocm = await openOcm({ config: loadConfig(home.env) });
  const caller = { kind: 'system' as const, detail: 'system:test-setup' };
  for (const id of ids) {
    const stateDir = join(home.dir, 'fleet', id, 'state');
    const sim = join(REPO, 'tests/harness/sim/openclaw');
    await seedState({
      stateDir,
      nodeName: id,
      agentConf: { gatewayStart: `${sim} gateway run`, openclawBin: sim },
    });
    const args = { id, transport: 'local', openclaw_path: stateDir, test: false };
    const first = await ocm.tools.call('add_node', args, caller);
    if (first.kind !== 'confirmation_required') throw new Error(JSON.stringify(first));
    await ocm.tools.call('add_node', { ...args, confirm_token: first.data.confirm_token }, caller);
  }
  await ocm.close();
  client = await stdioClient(home);
});
afterAll(async () => {
  await client?.close();
  home?.cleanup();
});

describe('progress notifications', () => {
  for (const tool of ['cluster_status', 'backup_all']) {
    it(`${tool} reports progress per node`, async () => {
      const seen: { progress: number; total?: number; message?: string }[] = [];
      const result = await client.callTool({ name: tool, arguments: {} }, undefined, {
        onprogress: (p) => seen.push(p),
        timeout: 120_000,
      });
      expect(result.isError).toBeFalsy();
      expect(seen.length).toBe(ids.length);
      expect(seen.map((p) => p.total)).toEqual([3, 3, 3]);
      expect(seen.map((p) => p.progress).sort()).toEqual([1, 2, 3]);
      expect(seen.map((p) => p.message?.split(':')[0]).sort()).toEqual(ids);
    });
  }
});
