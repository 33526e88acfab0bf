// Issue #2 acceptance 2 and 5 over stdio: every tool is listed with annotations and an output
// schema, results carry structuredContent, and bad input gets an isError result naming the field
// while the server keeps serving.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stdioClient } from './helpers/mcp-clients.ts';
import { makeOcmHome, type OcmHome } from './helpers/ocm-env.ts';

type Result = {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
  content: { type: string; text?: string }[];
};

let home: OcmHome;
let client: Client;
const call = async (name: string, args: unknown) =>
  (await client.callTool({ name, arguments: args as Record<string, unknown> })) as Result;
const text = (r: Result) => r.content.map((c) => c.text ?? '').join('\n');

beforeAll(async () => {
  home = makeOcmHome();
  client = await stdioClient(home);
});
afterAll(async () => {
  await client?.close();
  home?.cleanup();
});

describe('tools/list', () => {
  it('lists every tool with annotations derived from its tier and an output schema', async () => {
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of [
      'list_nodes',
      'get_node',
      'add_node',
      'update_node',
      'remove_node',
      'list_events',
      'audit_log',
      'list_pending_confirmations',
      'cancel_confirmation',
    ]) {
      expect(byName.has(name), name).toBe(true);
    }
    for (const tool of tools) {
      expect(tool.outputSchema?.type, tool.name).toBe('object');
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.annotations).toBeDefined();
    }
    expect(byName.get('list_nodes')?.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: false });
    expect(byName.get('cancel_confirmation')?.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: false,
    });
    expect(byName.get('remove_node')?.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
    });
    expect(Object.keys(byName.get('remove_node')?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining(['id', 'dry_run', 'confirm_token', 'security_code']),
    );
    expect(Object.keys(byName.get('add_node')?.inputSchema.properties ?? {})).not.toContain('security_code');
  });

  it('returns structuredContent that matches the text block', async () => {
    const r = await call('list_nodes', {});
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual({ count: 0, nodes: [] });
    expect(JSON.parse(text(r))).toEqual(r.structuredContent);
  });
});

describe('bad input', () => {
  const cases: [string, string, unknown, RegExp][] = [
    ['unknown tool', 'drop_everything', {}, /unknown tool/],
    ['missing field', 'get_node', {}, /id: /],
    ['path traversal id', 'get_node', { id: '../x' }, /id: node id must be/],
    ['shell metacharacters', 'get_node', { id: 'a;rm -rf /' }, /id: node id must be/],
    ['10 MB string', 'get_node', { id: 'a'.repeat(10 * 1024 * 1024) }, /id: too long/],
    ['wrong type', 'add_node', { id: 'g3s-01', host: '192.0.2.1', port: 'twenty-two' }, /port: /],
    ['out of range', 'add_node', { id: 'g3s-01', host: '192.0.2.1', port: 70000 }, /port: /],
    ['unknown argument', 'list_nodes', { colour: 'red' }, /colour: unknown argument/],
    ['hostile host', 'add_node', { id: 'g3s-01', host: '$(reboot)' }, /host: /],
  ];
  for (const [label, tool, args, message] of cases) {
    it(`${label} → isError naming the field`, async () => {
      const r = await call(tool, args);
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(message);
      expect(text(r)).not.toMatch(/\n\s+at /); // no stack trace
    });
  }

  it('keeps serving afterwards', async () => {
    const r = await call('list_nodes', {});
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent?.count).toBe(0);
  });
});
