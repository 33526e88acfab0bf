// The tool registry: the one public surface of OCM. Every caller (MCP, CLI, page, scheduler) lists
// and calls tools here, so tiers, confirmations, dry runs, locks, the journal and the audit log are
// enforced in exactly one place, and what a caller sees is built from typed results in one place.
import { z } from 'zod';
import { type AuditResult, writeAudit } from './audit.ts';
import { ConfigError, type Tier } from './config.ts';
import type { PendingConfirmation } from './confirm.ts';
import { CommandFailed, InvalidInput, isExpectedError, NodeUnreachable, Refused } from './errors.ts';
import type { HeldLock } from './locks.ts';
import { log } from './log.ts';
import type { Ocm } from './ocm.ts';
import { type Caller, type ToolContext, type ToolDefinition, tierRank } from './tool.ts';

export type ErrorKind =
  | 'invalid_input'
  | 'unknown_tool'
  | 'denied'
  | 'unreachable'
  | 'command_failed'
  | 'failed'
  | 'internal';

export type CallOutcome =
  | { kind: 'ok'; data: Record<string, unknown> }
  | { kind: 'confirmation_required'; data: PendingConfirmation }
  | { kind: 'dry_run'; data: { status: 'dry_run'; plan: string } }
  | { kind: 'error'; error: ErrorKind; message: string; field?: string };

export interface CallOptions {
  onProgress?: (progress: number, total: number | undefined, message: string | undefined) => void;
}

const MAX_STRING = 64 * 1024;

const confirmationOutput = z.object({
  status: z.literal('confirmation_required'),
  tier: z.enum(['medium', 'high']),
  confirm_token: z.string(),
  plan: z.string(),
  expires_at: z.string(),
  code_sent_to: z.array(z.string()).optional(),
});
const dryRunOutput = z.object({ status: z.literal('dry_run'), plan: z.string() });

/** The control arguments a tier adds to every tool of that tier. */
function controlSchema(tier: Tier) {
  const shape: Record<string, z.ZodType> = {};
  if (tier !== 'read')
    shape.dry_run = z.boolean().optional().describe('Return the plan of what would happen; change nothing.');
  if (tier === 'medium' || tier === 'high') {
    shape.confirm_token = z
      .string()
      .max(200)
      .optional()
      .describe('Token from the confirmation_required result of the same call.');
  }
  if (tier === 'high') {
    shape.security_code = z
      .string()
      .max(20)
      .optional()
      .describe(
        'The 4-digit code sent to the human out of band. Ask the human for it; never guess or invent it.',
      );
  }
  return shape;
}

function describeZodError(error: z.ZodError): { message: string; field?: string } {
  const parts = error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.join('.') : '(arguments)';
    if (issue.code === 'unrecognized_keys')
      return `${issue.keys.join(', ')}: unknown argument${issue.keys.length > 1 ? 's' : ''}`;
    return `${field}: ${issue.message}`;
  });
  const first = error.issues[0];
  const field = first?.code === 'unrecognized_keys' ? first.keys[0] : first?.path.join('.') || undefined;
  return { message: `invalid arguments — ${parts.join('; ')}`, field };
}

/** Find an oversized string before zod sees it, so the error names the field, not a regex. */
function findOversized(value: unknown, path: string[] = []): string | null {
  if (typeof value === 'string') return value.length > MAX_STRING ? path.join('.') || '(arguments)' : null;
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const hit = findOversized(v, [...path, k]);
      if (hit) return hit;
    }
  }
  return null;
}

export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition>();

  constructor(
    private readonly ocm: Ocm,
    definitions: readonly ToolDefinition[],
    private readonly policy: { readOnly: boolean; allowTools?: string[] },
  ) {
    for (const def of definitions) {
      if (this.tools.has(def.name)) throw new Error(`duplicate tool ${def.name}`);
      if (def.tier !== 'read' && !def.plan) throw new Error(`tool ${def.name} mutates but has no plan()`);
      this.tools.set(def.name, def);
    }
    const unknown = (policy.allowTools ?? []).filter((name) => !this.tools.has(name));
    if (unknown.length) {
      throw new ConfigError(
        `allowTools names unknown tools: ${unknown.join(', ')} (known: ${[...this.tools.keys()].join(', ')})`,
      );
    }
  }

  /** Tools this caller may see: read-only mode, the allow-list and the caller's maximum tier applied. */
  list(caller?: Caller): ToolDefinition[] {
    return [...this.tools.values()].filter((def) => this.permitted(def, caller) === null);
  }

  get(name: string): ToolDefinition | undefined {
    return this.tools.get(name);
  }

  /** Full input schema, control arguments included (what MCP clients and the CLI see). */
  inputSchemaOf(def: ToolDefinition) {
    return def.input.extend(controlSchema(def.tier)).strict();
  }

  /** Output schema as JSON Schema: the tool's result, or a confirmation / dry-run answer. */
  outputJsonSchemaOf(def: ToolDefinition): Record<string, unknown> {
    const variants = [def.output];
    if (def.tier !== 'read') variants.push(dryRunOutput as never);
    if (def.tier === 'medium' || def.tier === 'high') variants.push(confirmationOutput as never);
    if (variants.length === 1) return z.toJSONSchema(def.output, { io: 'output' }) as Record<string, unknown>;
    const schema = z.toJSONSchema(z.union(variants as unknown as [z.ZodType, z.ZodType]), {
      io: 'output',
    }) as Record<string, unknown>;
    return { type: 'object', ...schema };
  }

  async call(
    name: string,
    rawArgs: unknown,
    caller: Caller,
    options: CallOptions = {},
  ): Promise<CallOutcome> {
    const started = performance.now();
    const def = this.tools.get(name);
    const args = (rawArgs ?? {}) as Record<string, unknown>;
    const audit = (result: AuditResult, target: string | null, error?: string) =>
      writeAudit(this.ocm.db, {
        operator: caller.kind,
        operatorDetail: caller.detail,
        action: name.slice(0, 100),
        target,
        params: args,
        result,
        error,
        durationMs: performance.now() - started,
      });

    if (!def) {
      audit('denied', null, 'unknown tool');
      return {
        kind: 'error',
        error: 'unknown_tool',
        message: `unknown tool "${name.slice(0, 100)}": see the tool list (ocm tools)`,
      };
    }
    const refusal = this.permitted(def, caller);
    if (refusal) {
      audit('denied', null, refusal);
      return { kind: 'error', error: 'denied', message: refusal };
    }
    if (typeof rawArgs !== 'object' || rawArgs === null || Array.isArray(rawArgs)) {
      audit('denied', null, 'arguments must be an object');
      return {
        kind: 'error',
        error: 'invalid_input',
        message: 'invalid arguments — arguments must be a JSON object',
      };
    }
    const oversized = findOversized(args);
    if (oversized) {
      const message = `invalid arguments — ${oversized}: too long (at most ${MAX_STRING} characters)`;
      audit('denied', null, message);
      return { kind: 'error', error: 'invalid_input', message, field: oversized };
    }
    const parsed = this.inputSchemaOf(def).safeParse(args);
    if (!parsed.success) {
      const { message, field } = describeZodError(parsed.error);
      audit('denied', null, message);
      return { kind: 'error', error: 'invalid_input', message, field };
    }
    const {
      dry_run: dryRun,
      confirm_token: token,
      security_code: code,
      ...input
    } = parsed.data as Record<string, unknown> & {
      dry_run?: boolean;
      confirm_token?: string;
      security_code?: string;
    };
    const target = def.target
      ? def.target(input)
      : typeof input.id === 'string'
        ? input.id
        : typeof input.node === 'string'
          ? input.node
          : null;
    const ctx: ToolContext = {
      ocm: this.ocm,
      caller,
      progress: (progress, total, message) => options.onProgress?.(progress, total, message),
    };
    const identity = caller.detail;

    try {
      if (def.plan && (dryRun || ((def.tier === 'medium' || def.tier === 'high') && !token))) {
        const plan = await def.plan(input, ctx);
        if (dryRun) {
          audit('success', target, undefined);
          return { kind: 'dry_run', data: { status: 'dry_run', plan } };
        }
        const pending = await this.ocm.confirmations.request({
          tool: def.name,
          tier: def.tier,
          args: input,
          caller: identity,
          plan,
          target,
        });
        audit('confirmation_required', target);
        return { kind: 'confirmation_required', data: pending };
      }
      if (token)
        this.ocm.confirmations.consume({ tool: def.name, args: input, caller: identity, token, code });
    } catch (err) {
      return this.failure(err, (result, error) => audit(result, target, error));
    }

    const held: HeldLock[] = [];
    const operation = def.tier === 'read' ? undefined : this.ocm.journal.begin(def.name, target, identity);
    try {
      for (const scope of def.locks?.(input) ?? []) {
        held.push(await this.ocm.locks.acquire(scope, identity, def.name));
      }
      const result = await def.run(input, { ...ctx, operation });
      const checked = def.output.safeParse(result);
      if (!checked.success)
        throw new Error(
          `${def.name} produced output that does not match its schema: ${checked.error.message}`,
        );
      operation?.finish();
      audit('success', target);
      return { kind: 'ok', data: checked.data as Record<string, unknown> };
    } catch (err) {
      operation?.finish(err instanceof Error ? err.message : String(err));
      return this.failure(err, (result, error) => audit(result, target, error));
    } finally {
      for (const lock of held.reverse()) lock.release();
    }
  }

  private failure(err: unknown, audit: (result: AuditResult, error: string) => void): CallOutcome {
    if (isExpectedError(err)) {
      const error: ErrorKind =
        err instanceof InvalidInput
          ? 'invalid_input'
          : err instanceof Refused
            ? 'denied'
            : err instanceof NodeUnreachable
              ? 'unreachable'
              : err instanceof CommandFailed
                ? 'command_failed'
                : 'failed';
      audit(error === 'denied' ? 'denied' : 'failed', err.message);
      return {
        kind: 'error',
        error,
        message: err.message,
        field: err instanceof InvalidInput ? err.field : undefined,
      };
    }
    // Our own bug: full detail to the log, a plain message to the caller.
    log.error('internal error in tool', { error: err instanceof Error ? err.stack : String(err) });
    audit('failed', `internal error: ${err instanceof Error ? err.message : String(err)}`);
    return {
      kind: 'error',
      error: 'internal',
      message: 'internal error in OCM (details are in the server log); nothing more is known to have changed',
    };
  }

  private permitted(def: ToolDefinition, caller?: Caller): string | null {
    if (this.policy.allowTools && !this.policy.allowTools.includes(def.name))
      return `tool ${def.name} is not enabled on this server (allowTools)`;
    if (this.policy.readOnly && def.tier !== 'read')
      return `OCM is in read-only mode: ${def.name} (${def.tier} tier) is disabled`;
    if (caller?.maxTier && tierRank[def.tier] > tierRank[caller.maxTier]) {
      return `${def.name} is ${def.tier} tier; this caller may use tools up to ${caller.maxTier} tier`;
    }
    return null;
  }
}
