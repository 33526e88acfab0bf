// `ocm serve`: one HTTP server with /mcp (Streamable HTTP) and the read-only status page.

import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createWebApp } from '../web/app.ts';
import { backupRepo } from './backup/backup.ts';
import { handleMcpRequest, MAX_BODY_BYTES } from './http-mcp.ts';
import type { Ocm } from './ocm.ts';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export function createRootApp(ocm: Ocm): Hono {
  const app = new Hono();
  app.all(
    '/mcp',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) =>
        c.json(
          { jsonrpc: '2.0', error: { code: -32600, message: 'request too large (at most 16 MB)' }, id: null },
          413,
        ),
    }),
    (c) => handleMcpRequest(ocm, c),
  );
  app.route(
    '/',
    createWebApp(ocm, {
      password: ocm.config.secrets.webPassword,
      passwordHash: ocm.config.web.passwordHash,
      backupDiff: async (node, from, to) => (await backupRepo(ocm)).diff(node, from, to),
    }),
  );
  return app;
}

export function startServer(
  ocm: Ocm,
  options: { host?: string; port?: number } = {},
): Promise<RunningServer> {
  const app = createRootApp(ocm);
  const host = options.host ?? ocm.config.http.host;
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, hostname: host, port: options.port ?? ocm.config.http.port },
      (info: AddressInfo) => {
        const shownHost = host.includes(':') ? `[${host}]` : host;
        resolve({
          url: `http://${shownHost}:${info.port}`,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            }),
        });
      },
    );
    server.once('error', reject);
  });
}
