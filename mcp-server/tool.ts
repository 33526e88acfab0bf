// What a tool is: a plain definition object. The registry turns each into an MCP tool, a CLI
// command and an in-process function for the page and the scheduler; nothing else changes the fleet.
import type { z } from 'zod';
import type { Tier } from './config.ts';
import type { Operation } from './journal.ts';
import type { Ocm } from './ocm.ts';

export type CallerKind = 'mcp' | 'web' | 'cron' | 'cli' | 'telegram' | 'system';

/** Who is calling. `detail` binds confirmations: a token issued to one caller is useless to another. */
export interface Caller {
  kind: CallerKind;
  detail: string;
  /** The highest tier this caller may list or call (HTTP tokens carry one). */
  maxTier?: Tier;
}

export interface ToolContext {
  ocm: Ocm;
  caller: Caller;
  /** Report progress of a long run (MCP progress notifications, CLI stderr). */
  progress(progress: number, total?: number, message?: string): void;
  /** The journal entry of this run (mutating tools only). */
  operation?: Operation;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds tools of every shape
export type AnyObjectSchema = z.ZodObject<any>;

export interface ToolDefinition<
  I extends AnyObjectSchema = AnyObjectSchema,
  O extends AnyObjectSchema = AnyObjectSchema,
> {
  name: string;
  title: string;
  /** Written for an LLM: when to use it, what it returns. */
  description: string;
  tier: Tier;
  input: I;
  output: O;
  /** Lock scopes this call needs while it runs: `node:<id>` or `cluster`. */
  locks?: (args: z.infer<I>) => string[];
  /** The node (or `all`, a role…) this call is about, for audit rows and confirmations. */
  target?: (args: z.infer<I>) => string | null;
  idempotent?: boolean;
  /** True when the tool reaches Telegram, Drive or an LLM. */
  openWorld?: boolean;
  /** What a call would do, in operator terms. Required for mutating tools; must change nothing. */
  plan?: (args: z.infer<I>, ctx: ToolContext) => Promise<string> | string;
  run: (args: z.infer<I>, ctx: ToolContext) => Promise<z.infer<O>>;
}

/** Identity helper that keeps the input/output types of a definition tied together. */
export function defineTool<I extends AnyObjectSchema, O extends AnyObjectSchema>(
  def: ToolDefinition<I, O>,
): ToolDefinition<I, O> {
  return def;
}

export const tierRank: Record<Tier, number> = { read: 0, low: 1, medium: 2, high: 3 };

export const nodeLock = (id: string) => `node:${id}`;
export const CLUSTER_LOCK = 'cluster';
