// Out-of-band delivery of 4-digit security codes. The code goes to a person through these
// channels and nowhere else: never into a tool result, an audit row or anything an MCP client sees.
import { appendFileSync, chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { OcmConfig } from '../config.ts';
import { log } from '../log.ts';

export interface CodeDelivery {
  tool: string;
  target: string | null;
  plan: string;
  /** First characters of the confirm token, so a person can match code to request. */
  tokenHint: string;
  code: string;
  expiresAt: number;
}

export interface CodeChannel {
  readonly name: string;
  deliver(delivery: CodeDelivery): Promise<void> | void;
}

/** stderr: for a person watching `ocm serve`; never sent to MCP clients. */
export const logChannel: CodeChannel = {
  name: 'log',
  deliver({ tool, target, tokenHint, code }) {
    process.stderr.write(
      `[ocm] security code for ${tool}${target ? ` on ${target}` : ''} (token ${tokenHint}…): ${code}\n`,
    );
  },
};

/** Appends one JSON line per code to a 0600 file: what tests and scripts read. */
export function fileChannel(path: string): CodeChannel {
  return {
    name: 'file',
    deliver(d) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const line = JSON.stringify({
        at: new Date().toISOString(),
        tool: d.tool,
        target: d.target,
        token: d.tokenHint,
        code: d.code,
        expires_at: new Date(d.expiresAt).toISOString(),
      });
      appendFileSync(path, `${line}\n`, { mode: 0o600 });
      chmodSync(path, 0o600);
    },
  };
}

/**
 * The status page's "pending confirmations" panel. The confirmations row itself carries the code
 * for the page (cleared once the confirmation is settled), so nothing more to do here.
 */
export const dashboardChannel: CodeChannel = { name: 'dashboard', deliver() {} };

export function codeChannelsFrom(config: OcmConfig, extra: CodeChannel[] = []): CodeChannel[] {
  const channels: CodeChannel[] = [];
  for (const name of config.codes.channels) {
    if (name === 'log') channels.push(logChannel);
    else if (name === 'file' && config.codes.file) channels.push(fileChannel(config.codes.file));
    else if (name === 'dashboard') channels.push(dashboardChannel);
    else if (name === 'telegram' && !extra.some((c) => c.name === 'telegram')) {
      log.warn(
        'codes.channels has "telegram" but Telegram is not configured; codes go to the other channels',
      );
    }
  }
  return [...channels, ...extra];
}
