// Streamable HTTP at /mcp: bearer token required (each token has a maximum tier), Origin checked
// against DNS rebinding, one stateless transport per request so any number of clients can share it.
import { createHash, timingSafeEqual } from 'node:crypto';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Context } from 'hono';
import type { Tier } from './config.ts';
import { createMcpServer } from './mcp.ts';
import type { Ocm } from './ocm.ts';

/** Big enough that an oversized argument gets a clear tool error rather than a bare 413. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Match a presented bearer token against the configured ones, in constant time. */
export function tokenFor(ocm: Ocm, header: string | undefined): { name: string; maxTier: Tier } | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!match) return null;
  const presented = digest(match[1] as string);
  let found: { name: string; maxTier: Tier } | null = null;
  for (const token of ocm.config.http.tokens) {
    if (token.token && timingSafeEqual(presented, digest(token.token)))
      found = { name: token.name, maxTier: token.maxTier };
  }
  return found;
}

function originAllowed(ocm: Ocm, origin: string | undefined, host: string | undefined): boolean {
  if (!origin) return true; // not a browser, or a same-origin navigation
  if (ocm.config.http.allowedOrigins.includes(origin)) return true;
  try {
    const url = new URL(origin);
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    return loopback && url.host === host;
  } catch {
    return false;
  }
}

export async function handleMcpRequest(ocm: Ocm, c: Context): Promise<Response> {
  if (!originAllowed(ocm, c.req.header('origin'), c.req.header('host'))) {
    return c.json(
      { jsonrpc: '2.0', error: { code: -32000, message: 'Forbidden: Origin not allowed' }, id: null },
      403,
    );
  }
  const token = tokenFor(ocm, c.req.header('authorization'));
  if (!token) {
    c.header('WWW-Authenticate', 'Bearer realm="ocm"');
    const hint = ocm.config.http.tokens.length
      ? 'a valid bearer token is required'
      : 'no HTTP tokens are configured (set OCM_HTTP_TOKEN or http.tokens)';
    return c.json(
      { jsonrpc: '2.0', error: { code: -32001, message: `Unauthorized: ${hint}` }, id: null },
      401,
    );
  }
  const server = createMcpServer(ocm, (client) => ({
    kind: 'mcp',
    detail: `mcp:http:${token.name}:${client}`.slice(0, 200),
    maxTier: token.maxTier,
  }));
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: false,
    maxRequestBodySize: MAX_BODY_BYTES,
  });
  await server.connect(transport);
  const response = await transport.handleRequest(c.req.raw);
  // Stateless: the server lives as long as this request's response stream.
  if (!response.body) void server.close();
  return response;
}
