// Real MCP clients (the SDK's Client) over stdio (`ocm mcp`) and Streamable HTTP (`ocm serve`).
import { type ChildProcess, spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { childEnv, OCM_BIN, type OcmHome, REPO } from './ocm-env.ts';

export async function stdioClient(home: OcmHome, name = 'vitest'): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [OCM_BIN, 'mcp'],
    env: childEnv(home),
    cwd: REPO,
    stderr: 'pipe',
  });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return client;
}

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Start `ocm serve` on a free port and wait for it to say where it listens. */
export async function startServe(
  home: OcmHome,
  extraEnv: Record<string, string> = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [OCM_BIN, 'serve'], {
    env: childEnv(home, { OCM_HTTP_PORT: '0', OCM_LOG_LEVEL: 'info', ...extraEnv }),
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`ocm serve did not start:\n${seen}`)), 30_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /OCM status page: (http:\/\/\S+?)\//.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.once('exit', (code) => reject(new Error(`ocm serve exited with ${code}:\n${seen}`)));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function httpClient(url: string, token: string, name = 'vitest-http'): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return client;
}
