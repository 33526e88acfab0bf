// The pool OCM reaches nodes through: one transport per node id, kept warm between calls and
// replaced when the node's address (or its pinned host key, after a re-pin) changes.
import type { OcmConfig } from '../config.ts';
import { log } from '../log.ts';
import { LocalTransport } from './local.ts';
import { SshTransport } from './ssh.ts';
import type { NodeTransport } from './transport.ts';

export interface NodeAddress {
  id: string;
  transport: 'ssh' | 'local';
  host: string;
  port: number;
  user: string;
  keyPath?: string | null;
  /** The node's OpenClaw state dir when it is not the agent's default (used by AgentClient). */
  stateDir?: string | null;
  pinnedHostKey?: string | null;
}

export interface NodeConnectionsOptions {
  ssh: OcmConfig['ssh'];
  /** Persist a host key seen for the first time (the node's `host_key`). */
  onHostKeyPinned?: (nodeId: string, fingerprint: string) => void | Promise<void>;
}

interface Entry {
  reachKey: string;
  transport: NodeTransport;
}

export class NodeConnections {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: NodeConnectionsOptions) {}

  /** The transport for this node, created on first use; connecting happens lazily on the first command. */
  get(node: NodeAddress): NodeTransport {
    const reachKey = JSON.stringify([node.transport, node.host, node.port, node.user, node.keyPath ?? null]);
    const existing = this.entries.get(node.id);
    if (
      existing &&
      existing.reachKey === reachKey &&
      !pinChanged(existing.transport, node.pinnedHostKey ?? null)
    ) {
      return existing.transport;
    }
    if (existing) {
      log.info('node address or host key pin changed: new connection', { node: node.id });
      retire(existing.transport);
    }
    const transport = this.create(node);
    this.entries.set(node.id, { reachKey, transport });
    return transport;
  }

  /** Forget one node (removed from the fleet), closing its connection. */
  async drop(nodeId: string): Promise<void> {
    const entry = this.entries.get(nodeId);
    this.entries.delete(nodeId);
    await entry?.transport.close();
  }

  async closeAll(): Promise<void> {
    const transports = [...this.entries.values()].map((entry) => entry.transport);
    this.entries.clear();
    await Promise.allSettled(transports.map((transport) => transport.close()));
  }

  private create(node: NodeAddress): NodeTransport {
    const { ssh } = this.options;
    if (node.transport === 'local') {
      return new LocalTransport(node.id, {
        commandTimeoutMs: ssh.commandTimeoutMs,
        maxOutputBytes: ssh.maxOutputBytes,
      });
    }
    return new SshTransport(
      {
        nodeId: node.id,
        host: node.host,
        port: node.port,
        user: node.user,
        keyPath: node.keyPath,
        pinnedHostKey: node.pinnedHostKey,
      },
      { settings: ssh, onHostKeyPinned: this.options.onHostKeyPinned },
    );
  }
}

/**
 * The stored pin is not the one this transport holds: an operator re-pin (`reset_host_key`) or
 * edit. A caller still holding the node row from before the first pin also lands here; that only
 * costs one extra connection, which pins the same key again.
 */
function pinChanged(transport: NodeTransport, pin: string | null): boolean {
  return transport.kind === 'ssh' && pin !== transport.hostKeyFingerprint();
}

/** Let a replaced transport finish the commands it is running, then close it. */
function retire(transport: NodeTransport): void {
  const done = transport instanceof SshTransport ? transport.closeWhenIdle() : transport.close();
  done.catch((err: Error) =>
    log.warn('closing a replaced connection failed', { node: transport.nodeId, error: err.message }),
  );
}
