// `ocm mcp`: MCP over stdio. stdout carries the protocol; everything else goes to stderr.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { log } from './log.ts';
import { createMcpServer } from './mcp.ts';
import { openOcm } from './ocm.ts';

export async function runStdio(): Promise<number> {
  const ocm = await openOcm();
  const server = createMcpServer(ocm, (client) => ({
    kind: 'mcp',
    detail: `mcp:stdio:${client}`.slice(0, 200),
  }));
  // Room for oversized requests, so a 10 MB argument gets a clear isError instead of a dropped connection.
  const transport = new StdioServerTransport(process.stdin, process.stdout, {
    maxBufferSize: 64 * 1024 * 1024,
  });
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await server.close().catch(() => {});
    await ocm.close();
    process.exit(0);
  };
  transport.onclose = () => void shutdown();
  process.stdin.on('end', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  await server.connect(transport);
  log.info('ocm mcp ready on stdio', { tools: ocm.tools.list().length, dataDir: ocm.config.dataDir });
  return 0;
}
