// A careful human at the tool layer, for integration tests: calls a tool, reads the plan, confirms,
// and for high tier reads the security code from the file channel, exactly as a person would.
import { existsSync, readFileSync } from 'node:fs';
import type { Ocm } from '../../mcp-server/ocm.ts';
import type { CallOutcome } from '../../mcp-server/registry.ts';
import type { Caller } from '../../mcp-server/tool.ts';

export interface Operator {
  /** Call and confirm; returns whatever the confirmed call returned (errors included). */
  call(tool: string, args: Record<string, unknown>): Promise<CallOutcome>;
  /** Call and confirm; throws unless the tool succeeded. */
  ok(tool: string, args: Record<string, unknown>): Promise<Record<string, any>>;
}

/** The code delivered (to `codeFile`) for a confirm token. */
export function codeFromFile(codeFile: string, token: string): string {
  const lines = existsSync(codeFile) ? readFileSync(codeFile, 'utf8').trim().split('\n') : [];
  const hit = lines
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { token: string; code: string })
    .reverse()
    .find((entry) => token.startsWith(entry.token));
  if (!hit) throw new Error(`no security code was delivered for ${token.slice(0, 12)}…`);
  return hit.code;
}

export function operator(ocm: Ocm, caller: Caller, codeFile = ocm.config.codes.file): Operator {
  const call = async (tool: string, args: Record<string, unknown>) => {
    const outcome = await ocm.tools.call(tool, args, caller);
    if (outcome.kind !== 'confirmation_required') return outcome;
    const { confirm_token, tier } = outcome.data;
    const code = tier === 'high' ? { security_code: codeFromFile(codeFile as string, confirm_token) } : {};
    return ocm.tools.call(tool, { ...args, confirm_token, ...code }, caller);
  };
  return {
    call,
    async ok(tool, args) {
      const outcome = await call(tool, args);
      if (outcome.kind !== 'ok') throw new Error(`${tool}: ${JSON.stringify(outcome)}`);
      return outcome.data;
    },
  };
}
