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
  /** The pin the transport was created with (it may have pinned one itself since). */
  givenPin: string | null;
  transport: NodeTransport;
}

export class NodeConnections {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: NodeConnectionsOptions) {}

  /** The transport for this node, created on first use; connecting happens lazily on the first command. */
  get(node: NodeAddress): NodeTransport {
    const reachKey = JSON.stringify([node.transport, node.host, node.port, node.user, node.keyPath ?? null]);
    const existing = this.entries.get(node.id);
    if (existing && existing.reachKey === reachKey && !pinChanged(existing, node.pinnedHostKey ?? null)) {
      return existing.transport;
    }
    if (existing) {
      log.info('node address changed: reconnecting', { node: node.id });
      void existing.transport.close().catch(() => {});
    }
    const transport = this.create(node);
    this.entries.set(node.id, { reachKey, givenPin: node.pinnedHostKey ?? null, transport });
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
 * Did the operator change the pin under this transport? A cleared pin (`reset_host_key`) counts only
 * if the transport was given one: a caller still holding the node row from before this transport
 * pinned its first key is not a reset, and must not tear down a connection with commands in flight.
 */
function pinChanged(entry: Entry, pin: string | null): boolean {
  if (entry.transport.kind !== 'ssh') return false;
  if (pin === null) return entry.givenPin !== null;
  return pin !== entry.transport.hostKeyFingerprint();
}
