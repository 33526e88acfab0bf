// Node registration tools: list, get, add, update, remove.
import { z } from 'zod';
import { InvalidInput } from '../errors.ts';
import { recordEvent } from '../events.ts';
import { nodeId } from '../ids.ts';
import { nodeFields, nodeSchema, nodeStatusSchema, roleSchema } from '../nodes/store.ts';
import type { Ocm } from '../ocm.ts';
import { defineTool, nodeLock } from '../tool.ts';

function requireNode(ocm: Ocm, id: string) {
  const node = ocm.nodes.get(id);
  if (!node) throw new InvalidInput(`id: no node "${id}" is registered (see list_nodes)`, 'id');
  return node;
}

export const listNodes = defineTool({
  name: 'list_nodes',
  title: 'List nodes',
  description:
    'List every registered OpenClaw node with its status (online/offline/…), versions, last seen/backup/score and any operation in progress. Use this first to learn node ids. Status is from the last finished check; call cluster_status for a fresh sweep.',
  tier: 'read',
  input: z.strictObject({
    role: roleSchema.optional().describe('Only nodes with this role'),
    status: nodeStatusSchema.optional().describe('Only nodes with this status'),
  }),
  output: z.object({ count: z.number(), nodes: z.array(nodeSchema) }),
  idempotent: true,
  async run({ role, status }, { ocm }) {
    const nodes = ocm.nodes
      .list()
      .filter((n) => (!role || n.role === role) && (!status || n.status === status));
    return { count: nodes.length, nodes };
  },
});

export const getNode = defineTool({
  name: 'get_node',
  title: 'Get one node',
  description:
    'Everything OCM knows about one node: registration, pinned host key, versions, last metrics, busy state.',
  tier: 'read',
  input: z.strictObject({ id: nodeId.describe('Node id, e.g. g3s-01') }),
  output: nodeSchema,
  idempotent: true,
  async run({ id }, { ocm }) {
    return requireNode(ocm, id);
  },
});

/** Every registration field, each optional: add_node and update_node take the same ones. */
const registrationFields = z.object(nodeFields).partial().shape;

const addNodeInput = z.strictObject({
  id: nodeId.describe('New node id: lowercase letters, digits and "-", e.g. g3s-06'),
  ...registrationFields,
  host: nodeFields.host.optional().describe('DNS name or IP (required for ssh nodes)'),
  test: z.boolean().default(true).describe('Connect after registering and report the result (default true)'),
});

export const addNode = defineTool({
  name: 'add_node',
  title: 'Register a node',
  description:
    'Register a new OpenClaw node so OCM manages it (medium tier: returns confirmation_required first; repeat the call with confirm_token). Then connects once, pins its SSH host key and reports status. Nothing is installed on the node except the small ocm-agent script.',
  tier: 'medium',
  input: addNodeInput,
  output: z.object({
    node: nodeSchema,
    test: z.object({ ok: z.boolean(), detail: z.string() }).nullable(),
  }),
  locks: ({ id }) => [nodeLock(id)],
  plan({ id, host, port, user, transport, role }, { ocm }) {
    if (ocm.nodes.row(id))
      throw new InvalidInput(`id: node "${id}" already exists (use update_node to change it)`, 'id');
    if ((transport ?? 'ssh') === 'ssh' && !host)
      throw new InvalidInput('host: required for ssh nodes', 'host');
    const where =
      (transport ?? 'ssh') === 'local'
        ? 'on this OCM host (local transport)'
        : `at ${user ?? 'ocm'}@${host}:${port ?? 22} over SSH`;
    return `register node ${id} ${where} with role ${role ?? 'production'}, then connect once and pin its host key`;
  },
  async run(args, ctx) {
    const { ocm } = ctx;
    if (ocm.nodes.row(args.id))
      throw new InvalidInput(`id: node "${args.id}" already exists (use update_node to change it)`, 'id');
    const { test, ...registration } = args;
    ocm.nodes.insert(registration);
    recordEvent(ocm.db, {
      node: args.id,
      type: 'config',
      message: `node ${args.id} registered by ${ctx.caller.kind}`,
    });
    let result: { ok: boolean; detail: string } | null = null;
    if (test && ocm.access) result = await ocm.access.probe(args.id);
    return { node: requireNode(ocm, args.id), test: result };
  },
});

export const updateNode = defineTool({
  name: 'update_node',
  title: 'Change a node registration',
  description:
    'Change registration fields of a node (name, host, port, user, role, key, state dir, tags). Changing host or port, or reset_host_key: true, forgets the pinned SSH host key so the next contact pins the new one — only do that when the machine was really reinstalled. Medium tier.',
  tier: 'medium',
  input: z.strictObject({
    id: nodeId,
    ...registrationFields,
    reset_host_key: z.boolean().optional().describe('Forget the pinned host key (after a reinstall)'),
  }),
  output: z.object({ node: nodeSchema, changed: z.array(z.string()) }),
  locks: ({ id }) => [nodeLock(id)],
  plan(args, { ocm }) {
    const node = requireNode(ocm, args.id);
    const changes = Object.entries(args)
      .filter(([k, v]) => k !== 'id' && v !== undefined)
      .map(([k, v]) =>
        k === 'reset_host_key'
          ? 'forget the pinned host key'
          : `${k}: ${JSON.stringify((node as Record<string, unknown>)[k])} → ${JSON.stringify(v)}`,
      );
    if (!changes.length) throw new InvalidInput('nothing to change: pass at least one field besides id');
    return `update node ${args.id}: ${changes.join('; ')}`;
  },
  async run({ id, ...changes }, { ocm }) {
    requireNode(ocm, id);
    ocm.nodes.update(id, changes);
    ocm.access?.forget(id);
    const changed = Object.keys(changes).filter((k) => (changes as Record<string, unknown>)[k] !== undefined);
    recordEvent(ocm.db, {
      node: id,
      type: 'config',
      message: `node ${id} registration changed: ${changed.join(', ')}`,
    });
    return { node: requireNode(ocm, id), changed };
  },
});

export const removeNode = defineTool({
  name: 'remove_node',
  title: 'Unregister a node',
  description:
    'Unregister a node: OCM stops managing it. Its backups stay in git and can still be listed and restored elsewhere. Nothing on the node is touched. High tier: needs confirm_token and the 4-digit security code that the human receives out of band.',
  tier: 'high',
  input: z.strictObject({ id: nodeId }),
  output: z.object({ removed: z.string(), backups_kept: z.number() }),
  locks: ({ id }) => [nodeLock(id)],
  plan({ id }, { ocm }) {
    const node = requireNode(ocm, id);
    const backups = (
      ocm.db.prepare('SELECT COUNT(*) AS n FROM backups WHERE node_id = ?').get(id) as { n: number }
    ).n;
    return `unregister node ${id} (${node.name}, ${node.host}); its ${backups} backups stay in git; nothing on the node is changed`;
  },
  async run({ id }, { ocm, caller }) {
    requireNode(ocm, id);
    const backups = (
      ocm.db.prepare('SELECT COUNT(*) AS n FROM backups WHERE node_id = ?').get(id) as { n: number }
    ).n;
    ocm.nodes.remove(id);
    ocm.access?.forget(id);
    recordEvent(ocm.db, {
      node: id,
      type: 'config',
      severity: 'warn',
      message: `node ${id} unregistered by ${caller.kind}`,
    });
    return { removed: id, backups_kept: backups };
  },
});

export const nodeTools = [listNodes, getNode, addNode, updateNode, removeNode];
