// The registry as an MCP server. Both transports (stdio and Streamable HTTP) use this; the only
// difference between them is who the caller is.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Ocm } from './ocm.ts';
import type { CallOutcome } from './registry.ts';
import type { Caller, ToolDefinition } from './tool.ts';
import { OCM_VERSION } from './version.ts';

const INSTRUCTIONS = `OCM manages a fleet of OpenClaw nodes. Start with list_nodes or cluster_status.
Medium and high tier tools first return {status:"confirmation_required", confirm_token, plan}: show the plan to the human and only repeat the call with confirm_token after they agree.
High tier tools also need security_code: a 4-digit code sent to the human out of band. Ask the human to read it to you; never guess it. Every mutating tool accepts dry_run: true.`;

export function toMcpTool(ocm: Ocm, def: ToolDefinition): Tool {
  const input = z.toJSONSchema(ocm.tools.inputSchemaOf(def), { io: 'input' }) as Tool['inputSchema'];
  const destructive = def.tier === 'medium' || def.tier === 'high';
  return {
    name: def.name,
    title: def.title,
    description: `${def.description} [tier: ${def.tier}]`,
    inputSchema: input,
    outputSchema: ocm.tools.outputJsonSchemaOf(def) as Tool['outputSchema'],
    annotations: {
      title: def.title,
      readOnlyHint: def.tier === 'read',
      destructiveHint: def.tier === 'read' ? undefined : destructive,
      idempotentHint: def.idempotent ?? def.tier === 'read',
      openWorldHint: def.openWorld ?? false,
    },
  };
}

export function toCallToolResult(outcome: CallOutcome): CallToolResult {
  if (outcome.kind === 'error') {
    return { isError: true, content: [{ type: 'text', text: `${outcome.error}: ${outcome.message}` }] };
  }
  const data = outcome.data as Record<string, unknown>;
  return { content: [{ type: 'text', text: JSON.stringify(data) }], structuredContent: data };
}

/** One MCP server over the tool layer; `callerOf` names the caller once the client has said hello. */
export function createMcpServer(ocm: Ocm, callerOf: (clientName: string) => Caller): Server {
  const server = new Server(
    { name: 'ocm', title: 'OpenClaw Cluster Manager', version: OCM_VERSION },
    { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS },
  );
  const caller = () => callerOf(server.getClientVersion()?.name ?? 'unknown');

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: ocm.tools.list(caller()).map((def) => toMcpTool(ocm, def)),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const progressToken = request.params._meta?.progressToken;
    const outcome = await ocm.tools.call(request.params.name, request.params.arguments ?? {}, caller(), {
      onProgress:
        progressToken === undefined
          ? undefined
          : (progress, total, message) => {
              void extra
                .sendNotification({
                  method: 'notifications/progress',
                  params: { progressToken, progress, total, message },
                })
                .catch(() => {});
            },
    });
    return toCallToolResult(outcome);
  });
  return server;
}
