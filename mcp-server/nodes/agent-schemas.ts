// The JSON each ocm-agent verb prints, as zod schemas: the node is another program, so its
// answers are validated like any other input before OCM believes them.
import { z } from 'zod';

const num = z.number().nullable().catch(null);

export const agentStatusSchema = z.object({
  agent_version: z.string(),
  hostname: z.string().optional(),
  os: z.string().nullable().optional(),
  arch: z.string().nullable().optional(),
  cpu_pct: num,
  mem_pct: num,
  mem_total_mb: num.optional(),
  disk_pct: num,
  uptime_s: num,
  load1: num,
  state_dir: z.string().optional(),
  gateway_mode: z.string().optional(),
  openclaw: z.object({
    installed: z.boolean(),
    version: z.string().nullable(),
    version_raw: z.string().nullable().optional(),
    running: z.boolean(),
    pid: z.number().nullable().optional(),
  }),
});
export type AgentStatus = z.infer<typeof agentStatusSchema>;

export const agentHealthSchema = z.object({
  ok: z.boolean(),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string() })),
});
export type AgentHealth = z.infer<typeof agentHealthSchema>;

export const agentGatewaySchema = z.object({
  ok: z.boolean(),
  mode: z.string().optional(),
  pid: z.number().nullable().optional(),
});

export const agentAskSchema = z.object({
  text: z.string().nullable(),
  usage: z.record(z.string(), z.unknown()).nullable().optional(),
  raw: z.unknown().optional(),
});

export const agentRestoreSchema = z.object({
  ok: z.boolean(),
  undo_id: z.string().optional(),
  files: z.number().optional(),
  gateway_started: z.boolean().optional(),
});

