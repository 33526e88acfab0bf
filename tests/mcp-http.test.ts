// Issue #2 acceptance 2 over Streamable HTTP inside `ocm serve`: the SDK client with a bearer
// token lists and calls tools; no token → 401; a foreign Origin → 403; token tiers limit the surface.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpClient, type ServeProcess, startServe } from './helpers/mcp-clients.ts';
import { makeOcmHome, type OcmHome } from './helpers/ocm-env.ts';

const ADMIN = 'admin-token-0123456789abcdef';
const READER = 'reader-token-0123456789abcdef';
let home: OcmHome;
let serve: ServeProcess;

beforeAll(async () => {
  home = makeOcmHome({
    http: {
      tokens: [
        { name: 'admin', token: ADMIN, maxTier: 'high' },
        { name: 'reader', token: READER, maxTier: 'read' },
      ],
    },
  });
  serve = await startServe(home);
});
afterAll(async () => {
  await serve?.stop();
  home?.cleanup();
});

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curl', version: '1' } },
};
const post = (headers: Record<string, string>) =>
  fetch(`${serve.url}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify(initialize),
  });

describe('Streamable HTTP /mcp', () => {
  it('lists tools and returns structuredContent with a valid token', async () => {
    const client = await httpClient(serve.url, ADMIN);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(
        expect.arrayContaining(['list_nodes', 'remove_node', 'audit_log']),
      );
      for (const tool of tools) expect(tool.outputSchema?.type).toBe('object');
      const result = await client.callTool({ name: 'list_nodes', arguments: {} });
      expect(result.structuredContent).toEqual({ count: 0, nodes: [] });
    } finally {
      await client.close();
    }
  });

  it('answers a 10 MB argument with isError naming the field, and refuses bodies over 16 MB', async () => {
    const client = await httpClient(serve.url, ADMIN);
    try {
      const r = await client.callTool({ name: 'get_node', arguments: { id: 'a'.repeat(10 * 1024 * 1024) } });
      expect(r.isError).toBe(true);
      expect(JSON.stringify(r.content)).toMatch(/id: too long/);
      expect((await client.callTool({ name: 'list_nodes', arguments: {} })).isError).toBeFalsy();
    } finally {
      await client.close();
    }
    const huge = await fetch(`${serve.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${ADMIN}`,
      },
      body: JSON.stringify({
        ...initialize,
        params: { ...initialize.params, padding: 'x'.repeat(17 * 1024 * 1024) },
      }),
    });
    expect(huge.status).toBe(413);
  });

  it('refuses requests without a token (401) or with a wrong one', async () => {
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: 'Bearer not-the-token-at-all' })).status).toBe(401);
  });

  it('refuses a foreign Origin (403) even with a token', async () => {
    expect((await post({ authorization: `Bearer ${ADMIN}`, origin: 'http://evil.example' })).status).toBe(
      403,
    );
    expect((await post({ authorization: `Bearer ${ADMIN}`, origin: serve.url })).status).toBe(200);
  });

  it('limits a token to its maximum tier on list and call', async () => {
    const client = await httpClient(serve.url, READER);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('list_nodes');
      expect(names).not.toContain('remove_node');
      expect(names).not.toContain('cancel_confirmation');
      const r = await client.callTool({ name: 'add_node', arguments: { id: 'g3s-01', host: '192.0.2.1' } });
      expect(r.isError).toBe(true);
      expect(JSON.stringify(r.content)).toMatch(/medium tier; this caller may use tools up to read tier/);
    } finally {
      await client.close();
    }
  });
});
