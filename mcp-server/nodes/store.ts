// The nodes table and the one public shape of a node. Tools read and write nodes only through here.
import { z } from 'zod';
import type { Db } from '../db/index.ts';
import { hostName, nodeId, userName } from '../ids.ts';
import type { Locks } from '../locks.ts';
import { nodeLock } from '../tool.ts';

export const transportSchema = z.enum(['ssh', 'local']);
export const roleSchema = z.enum(['production', 'test', 'standby']);
export const nodeStatusSchema = z.enum(['unknown', 'online', 'offline', 'error', 'degraded']);

const absolutePath = z
  .string()
  .max(1024)
  .regex(/^\/[^\0\n]*$/, 'must be an absolute path')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."');

/** Registration fields a caller may set (add_node / update_node). */
export const nodeFields = {
  name: z.string().min(1).max(100).describe('Display name, e.g. "study G3S #1"'),
  host: hostName.describe('DNS name or IP of the node'),
  port: z.number().int().min(1).max(65535).describe('SSH port'),
  user: userName.describe('SSH login user'),
  transport: transportSchema.describe('"ssh" (default) or "local" (the OCM host itself)'),
  role: roleSchema.describe('production, test (rollouts start here) or standby'),
  key_path: absolutePath.describe('SSH private key on the OCM host (default: ssh.keyPath from config)'),
  openclaw_path: absolutePath.describe(
    'OpenClaw state directory on the node (default: the agent finds ~/.openclaw)',
  ),
  tags: z.array(z.string().regex(/^[a-z0-9][a-z0-9:_-]{0,40}$/, 'tags: a-z, 0-9, ":", "_", "-"')).max(20),
};

export const nodeMetricsSchema = z
  .object({
    cpu_pct: z.number().nullable(),
    mem_pct: z.number().nullable(),
    disk_pct: z.number().nullable(),
    uptime_s: z.number().nullable(),
    load1: z.number().nullable(),
    openclaw_running: z.boolean().nullable(),
  })
  .partial();

export const nodeSchema = z.object({
  id: z.string(),
  name: z.string(),
  host: z.string(),
  port: z.number(),
  user: z.string(),
  transport: transportSchema,
  role: roleSchema,
  key_path: z.string().nullable(),
  openclaw_path: z.string().nullable(),
  tags: z.array(z.string()),
  status: nodeStatusSchema,
  status_detail: z.string().nullable(),
  host_key: z.string().nullable(),
  agent_version: z.string().nullable(),
  openclaw_version: z.string().nullable(),
  os: z.string().nullable(),
  metrics: nodeMetricsSchema.nullable(),
  last_seen_at: z.string().nullable(),
  last_checked_at: z.string().nullable(),
  last_backup_at: z.string().nullable(),
  last_score: z.number().nullable(),
  last_score_at: z.string().nullable(),
  busy: z.object({ operation: z.string(), by: z.string(), seconds: z.number() }).nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Node = z.infer<typeof nodeSchema>;

export interface NodeRow {
  id: string;
  name: string;
  host: string;
  port: number;
  ssh_user: string;
  ssh_key_path: string | null;
  openclaw_path: string | null;
  transport: 'ssh' | 'local';
  role: 'production' | 'test' | 'standby';
  host_key: string | null;
  agent_version: string | null;
  openclaw_version: string | null;
  os: string | null;
  status: z.infer<typeof nodeStatusSchema>;
  status_detail: string | null;
  metrics: string | null;
  last_seen_at: number | null;
  last_checked_at: number | null;
  last_backup_at: number | null;
  last_score: number | null;
  last_score_at: number | null;
  tags: string;
  created_at: number;
  updated_at: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export interface NodeRegistration {
  id: string;
  name?: string;
  host?: string;
  port?: number;
  user?: string;
  transport?: 'ssh' | 'local';
  role?: 'production' | 'test' | 'standby';
  key_path?: string;
  openclaw_path?: string;
  tags?: string[];
}

export class NodeStore {
  constructor(
    private readonly db: Db,
    private readonly locks: Locks,
  ) {}

  row(id: string): NodeRow | undefined {
    return this.db.prepare('SELECT * FROM nodes WHERE id = ?').get(id) as NodeRow | undefined;
  }

  rows(): NodeRow[] {
    return this.db.prepare('SELECT * FROM nodes ORDER BY id').all() as NodeRow[];
  }

  get(id: string): Node | undefined {
    const row = this.row(id);
    return row && this.toNode(row);
  }

  list(): Node[] {
    const busy = new Map(this.locks.held().map((lock) => [lock.scope, lock]));
    return this.rows().map((row) => this.toNode(row, busy.get(nodeLock(row.id)) ?? null));
  }

  insert(reg: NodeRegistration): void {
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO nodes (id, name, host, port, ssh_user, ssh_key_path, openclaw_path, transport, role, tags, created_at, updated_at)
         VALUES (@id, @name, @host, @port, @user, @key_path, @openclaw_path, @transport, @role, @tags, @now, @now)`,
      )
      .run({
        id: reg.id,
        name: reg.name ?? reg.id,
        host: reg.host ?? (reg.transport === 'local' ? 'localhost' : reg.id),
        port: reg.port ?? 22,
        user: reg.user ?? 'ocm',
        key_path: reg.key_path ?? null,
        openclaw_path: reg.openclaw_path ?? null,
        transport: reg.transport ?? 'ssh',
        role: reg.role ?? 'production',
        tags: JSON.stringify(reg.tags ?? []),
        now,
      });
  }

  update(id: string, changes: Omit<NodeRegistration, 'id'> & { reset_host_key?: boolean }): void {
    const columns: Record<string, unknown> = {
      name: changes.name,
      host: changes.host,
      port: changes.port,
      ssh_user: changes.user,
      ssh_key_path: changes.key_path,
      openclaw_path: changes.openclaw_path,
      transport: changes.transport,
      role: changes.role,
      tags: changes.tags && JSON.stringify(changes.tags),
    };
    const set = Object.entries(columns).filter(([, v]) => v !== undefined);
    if (changes.reset_host_key || changes.host !== undefined || changes.port !== undefined)
      set.push(['host_key', null]);
    set.push(['updated_at', Date.now()]);
    this.db
      .prepare(`UPDATE nodes SET ${set.map(([k]) => `${k} = ?`).join(', ')} WHERE id = ?`)
      .run(...set.map(([, v]) => v), id);
  }

  remove(id: string): void {
    this.db.prepare('DELETE FROM nodes WHERE id = ?').run(id);
  }

  pinHostKey(id: string, fingerprint: string): void {
    this.db.prepare('UPDATE nodes SET host_key = ? WHERE id = ? AND host_key IS NULL').run(fingerprint, id);
  }

  /** Record a finished status check. Status only ever changes here, on a finished check. */
  recordCheck(
    id: string,
    result:
      | {
          ok: true;
          status?: 'online' | 'degraded';
          metrics: z.infer<typeof nodeMetricsSchema>;
          agentVersion?: string | null;
          openclawVersion?: string | null;
          os?: string | null;
          detail?: string | null;
        }
      | { ok: false; status: 'offline' | 'error'; detail: string },
  ): { previous: string; current: string } {
    const previous = (this.row(id)?.status ?? 'unknown') as string;
    const now = Date.now();
    if (result.ok) {
      this.db
        .prepare(
          `UPDATE nodes SET status = ?, status_detail = ?, metrics = ?, last_seen_at = ?, last_checked_at = ?,
             agent_version = COALESCE(?, agent_version), openclaw_version = COALESCE(?, openclaw_version), os = COALESCE(?, os)
           WHERE id = ?`,
        )
        .run(
          result.status ?? 'online',
          result.detail ?? null,
          JSON.stringify(result.metrics),
          now,
          now,
          result.agentVersion ?? null,
          result.openclawVersion ?? null,
          result.os ?? null,
          id,
        );
      return { previous, current: result.status ?? 'online' };
    }
    this.db
      .prepare('UPDATE nodes SET status = ?, status_detail = ?, last_checked_at = ? WHERE id = ?')
      .run(result.status, result.detail, now, id);
    return { previous, current: result.status };
  }

  toNode(row: NodeRow, lock = this.locks.holderOf(nodeLock(row.id)) ?? null): Node {
    return {
      id: row.id,
      name: row.name,
      host: row.host,
      port: row.port,
      user: row.ssh_user,
      transport: row.transport,
      role: row.role,
      key_path: row.ssh_key_path,
      openclaw_path: row.openclaw_path,
      tags: JSON.parse(row.tags),
      status: row.status,
      status_detail: row.status_detail,
      host_key: row.host_key,
      agent_version: row.agent_version,
      openclaw_version: row.openclaw_version,
      os: row.os,
      metrics: row.metrics ? JSON.parse(row.metrics) : null,
      last_seen_at: iso(row.last_seen_at),
      last_checked_at: iso(row.last_checked_at),
      last_backup_at: iso(row.last_backup_at),
      last_score: row.last_score,
      last_score_at: iso(row.last_score_at),
      busy: lock
        ? {
            operation: lock.operation,
            by: lock.holder,
            seconds: Math.round((Date.now() - lock.acquired_at) / 1000),
          }
        : null,
      created_at: new Date(row.created_at).toISOString(),
      updated_at: new Date(row.updated_at).toISOString(),
    };
  }
}

export { nodeId };
