// The node-access layer: turns node rows into warm transports and agent clients, keeps each
// node's agent current, and repairs what an interrupted operation left behind.

import { InvalidInput, NodeUnreachable } from '../errors.ts';
import type { OperationRow } from '../journal.ts';
import { log } from '../log.ts';
import type { NodeAccess, Ocm } from '../ocm.ts';
import { AgentClient } from './agent-client.ts';
import { type AgentStatus, agentGatewaySchema, agentStatusSchema } from './agent-schemas.ts';
import { type NodeAddress, NodeConnections } from './connections.ts';
import type { NodeRow } from './store.ts';

export class FleetAccess implements NodeAccess {
  readonly connections: NodeConnections;
  /** Nodes whose agent version was checked by this process (once per process is enough). */
  private readonly agentReady = new Map<string, Promise<void>>();

  constructor(private readonly ocm: Ocm) {
    this.connections = new NodeConnections({
      ssh: ocm.config.ssh,
      onHostKeyPinned: (id, fingerprint) => {
        ocm.nodes.pinHostKey(id, fingerprint);
        log.info('pinned host key on first contact', { node: id, fingerprint });
      },
    });
  }

  address(row: NodeRow): NodeAddress {
    return {
      id: row.id,
      transport: row.transport,
      host: row.host,
      port: row.port,
      user: row.ssh_user,
      keyPath: row.ssh_key_path ?? this.ocm.config.ssh.keyPath ?? null,
      stateDir: row.openclaw_path,
      pinnedHostKey: row.host_key,
    };
  }

  row(id: string): NodeRow {
    const row = this.ocm.nodes.row(id);
    if (!row) throw new InvalidInput(`no node "${id}" is registered (see list_nodes)`, 'id');
    return row;
  }

  /** An agent client for the node, its agent uploaded or upgraded first if needed. */
  async agent(id: string): Promise<AgentClient> {
    const row = this.row(id);
    const address = this.address(row);
    const client = new AgentClient(this.connections.get(address), address, {
      remotePath: this.ocm.config.agent.remotePath,
    });
    let ready = this.agentReady.get(id);
    if (!ready) {
      ready = client.ensureAgent().then(
        (result) => {
          if (result.installed)
            log.info('installed ocm-agent on node', { node: id, version: result.version });
        },
        (err) => {
          this.agentReady.delete(id);
          throw err;
        },
      );
      this.agentReady.set(id, ready);
    }
    await ready;
    return client;
  }

  /** The agent's `status`, bounded by `timeoutMs` overall (connect included). */
  async status(id: string, timeoutMs: number): Promise<AgentStatus> {
    this.connections.get(this.address(this.row(id))).retryNow?.();
    return withDeadline(id, timeoutMs, async () =>
      (await this.agent(id)).run('status', [], { timeoutMs, schema: agentStatusSchema }),
    );
  }

  async probe(id: string): Promise<{ ok: boolean; detail: string }> {
    const { checkNode } = await import('./status.ts');
    const result = await checkNode(this.ocm, id, this.ocm.config.status.nodeTimeoutMs);
    return result.ok
      ? {
          ok: true,
          detail: `${result.status}: OpenClaw ${result.openclaw_version ?? 'not installed'}, host key ${this.ocm.nodes.row(id)?.host_key ?? 'n/a'}`,
        }
      : { ok: false, detail: result.error ?? 'unreachable' };
  }

  forget(id: string): void {
    this.agentReady.delete(id);
    void this.connections.drop(id);
  }

  /** Start-up repair after a crash mid-operation. */
  async repair(op: OperationRow): Promise<string> {
    const hint = op.recovery ? (JSON.parse(op.recovery) as { kind: string; node?: string }) : null;
    if (!hint?.node || !this.ocm.nodes.row(hint.node)) return 'nothing to repair';
    const agent = await this.agent(hint.node);
    if (hint.kind === 'restore_undo') {
      await agent.run('restore-undo', [], { timeoutMs: 120_000 });
      return `put ${hint.node}'s files back from its node-local undo copy and started its gateway`;
    }
    if (hint.kind === 'ensure_gateway_running') {
      const started = await agent.run('openclaw-start', [], {
        timeoutMs: 120_000,
        schema: agentGatewaySchema,
      });
      return `started ${hint.node}'s gateway again (pid ${started.pid ?? '?'})`;
    }
    return `no repair known for ${hint.kind}`;
  }

  async close(): Promise<void> {
    await this.connections.closeAll();
  }
}

/** Run `fn`, but give up with NodeUnreachable once `ms` have passed. */
export async function withDeadline<T>(nodeId: string, ms: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new NodeUnreachable(nodeId, `no answer within ${Math.round(ms / 100) / 10} s`)),
      ms,
    );
  });
  try {
    return await Promise.race([fn(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
