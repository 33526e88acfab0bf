// `ocm serve`: the long-running process — status page and /mcp on one port.
import { log } from './log.ts';
import { openOcm } from './ocm.ts';
import { startServer } from './serve.ts';

export async function runServe(): Promise<number> {
  const ocm = await openOcm();
  const server = await startServer(ocm);
  log.info('ocm serve listening', {
    url: server.url,
    mcp: `${server.url}/mcp`,
    tokens: ocm.config.http.tokens.map((t) => t.name),
  });
  process.stderr.write(`OCM status page: ${server.url}/   MCP: ${server.url}/mcp\n`);
  const shutdown = async () => {
    await server.close();
    await ocm.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  return 0;
}
