// The one shared set of name patterns. Every id that may reach a shell, a git ref or a path is
// checked against these before use; nothing is ever interpolated raw.
import { z } from 'zod';

export const NODE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const nodeId = z
  .string()
  .regex(NODE_ID_PATTERN, 'node id must be 1-63 chars of a-z, 0-9 and "-", starting with a letter or digit');

/** A host name or IP literal: no spaces, quotes, shell or option characters. */
export const hostName = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9.:-]*$/,
    'host must be a DNS name or IP address (letters, digits, ".", ":", "-")',
  );

/** A POSIX user name. */
export const userName = z
  .string()
  .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'user must be a POSIX user name (a-z, 0-9, "_", "-")');

/** UTC timestamp safe for git ref names: YYYY-MM-DDTHH-MM-SSZ. */
export function refTimestamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
}

export function assertNodeId(id: string): string {
  if (!NODE_ID_PATTERN.test(id)) throw new Error(`invalid node id ${JSON.stringify(id)}`);
  return id;
}
