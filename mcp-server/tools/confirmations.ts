// Pending confirmations: list them (never the codes or tokens) and withdraw one.
import { z } from 'zod';
import { InvalidInput } from '../errors.ts';
import { defineTool } from '../tool.ts';

export const listPendingConfirmations = defineTool({
  name: 'list_pending_confirmations',
  title: 'List pending confirmations',
  description:
    'Medium/high-tier operations waiting for confirmation: tool, plan, who asked, when it expires. Never shows tokens or security codes.',
  tier: 'read',
  input: z.strictObject({}),
  output: z.object({
    pending: z.array(
      z.object({
        id: z.string(),
        tool: z.string(),
        tier: z.string(),
        plan: z.string(),
        target: z.string().nullable(),
        caller: z.string(),
        expires_at: z.string(),
      }),
    ),
  }),
  idempotent: true,
  async run(_args, { ocm }) {
    return {
      pending: ocm.confirmations
        .pending()
        .map((p) => ({ ...p, created_at: undefined, expires_at: new Date(p.expires_at).toISOString() })),
    };
  },
});

export const cancelConfirmation = defineTool({
  name: 'cancel_confirmation',
  title: 'Cancel a pending confirmation',
  description:
    'Withdraw a pending operation so its confirm_token can no longer be used. Pass the confirm_token you received (only its caller may), or the id shown by list_pending_confirmations.',
  tier: 'low',
  input: z.strictObject({
    token: z.string().max(200).optional().describe('The confirm_token to withdraw'),
    id: z
      .string()
      .regex(/^[0-9a-f]{12}$/, 'id: the 12-hex id from list_pending_confirmations')
      .optional(),
  }),
  output: z.object({ cancelled: z.boolean() }),
  target: () => null,
  plan({ token, id }) {
    if (!token && !id) throw new InvalidInput('token or id: pass one of them', 'token');
    return `withdraw pending confirmation ${id ?? `${token?.slice(0, 12)}…`}`;
  },
  async run({ token, id }, { ocm, caller }) {
    if (token) return { cancelled: ocm.confirmations.cancel(token, caller.detail) };
    if (id) return { cancelled: ocm.confirmations.cancelById(id) };
    throw new InvalidInput('token or id: pass one of them', 'token');
  },
});

export const confirmationTools = [listPendingConfirmations, cancelConfirmation];
