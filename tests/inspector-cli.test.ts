// Issue #2 acceptance 2 as a new user would check it: the MCP Inspector CLI against `npx ocm mcp`.
// The Inspector exits 0 even when a tool fails, so the assertions read its output.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnv, makeOcmHome, REPO } from './helpers/ocm-env.ts';

const run = promisify(execFile);
const home = makeOcmHome();
afterAll(() => home.cleanup());

async function inspector(...args: string[]) {
  const { stdout } = await run(
    'npx',
    ['@modelcontextprotocol/inspector', '--cli', 'npx', 'ocm', 'mcp', ...args],
    { cwd: REPO, env: childEnv(home), timeout: 120_000 },
  );
  return JSON.parse(stdout);
}

describe('MCP Inspector CLI', () => {
  it('tools/list shows every tool with annotations and an output schema', async () => {
    const { tools } = await inspector('--method', 'tools/list');
    expect(tools.length).toBeGreaterThanOrEqual(9);
    for (const tool of tools) {
      expect(tool.annotations, tool.name).toBeDefined();
      expect(tool.outputSchema?.type, tool.name).toBe('object');
    }
  });

  it('tools/call list_nodes returns structuredContent', async () => {
    const result = await inspector('--method', 'tools/call', '--tool-name', 'list_nodes');
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ count: 0, nodes: [] });
  });

  it('tools/call with a hostile id returns isError naming the field', async () => {
    const result = await inspector(
      '--method',
      'tools/call',
      '--tool-name',
      'get_node',
      '--tool-arg',
      'id=a;rm -rf /',
    );
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toMatch(/id: node id must be/);
  });
});
