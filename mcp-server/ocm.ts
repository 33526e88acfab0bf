// One OCM instance: config, the SQLite store, and the services the tools share. Every entry point
// (MCP stdio, `ocm serve`, the CLI, the scheduler, tests) opens one of these and calls tools on it.
import { loadConfig, type OcmConfig } from './config.ts';
import { Confirmations } from './confirm.ts';
import { type Db, openDb } from './db/index.ts';
import { recordEvent } from './events.ts';
import { Journal, type OperationRow } from './journal.ts';
import { Locks } from './locks.ts';
import { log } from './log.ts';
import { FleetAccess } from './nodes/access.ts';
import { NodeStore } from './nodes/store.ts';
import { type CodeChannel, codeChannelsFrom } from './notify/code-channels.ts';
import { ToolRegistry } from './registry.ts';
import type { ToolDefinition } from './tool.ts';
import { allTools } from './tools/index.ts';

/** Reaching nodes: set up by the node-access layer; absent in a bare store (e.g. unit tests). */
export interface NodeAccess {
  /** Connect once, pin the host key, refresh status: `{ok, detail}` for add_node. */
  probe(id: string): Promise<{ ok: boolean; detail: string }>;
  /** Drop any cached connection (after the registration changed or the node was removed). */
  forget(id: string): void;
  /** Put a node back into service after a crash mid-operation (start its gateway, …). */
  repair?(op: OperationRow): Promise<string>;
  close(): Promise<void>;
}

export interface Ocm {
  readonly config: OcmConfig;
  readonly db: Db;
  readonly locks: Locks;
  readonly journal: Journal;
  readonly confirmations: Confirmations;
  readonly nodes: NodeStore;
  readonly tools: ToolRegistry;
  access?: NodeAccess;
  close(): Promise<void>;
}

export interface OpenOptions {
  config?: OcmConfig;
  /** Extra code channels (e.g. Telegram) on top of those named in config. */
  codeChannels?: CodeChannel[];
  tools?: readonly ToolDefinition[];
  /** Build the node-access layer for this instance (the default wires SSH/local transports). */
  access?: (ocm: Ocm) => NodeAccess | undefined;
}

export async function openOcm(options: OpenOptions = {}): Promise<Ocm> {
  const config = options.config ?? loadConfig();
  const db = openDb(config.dataDir);
  const locks = new Locks(db, config.locks);
  const journal = new Journal(db);
  const confirmations = new Confirmations(db, {
    ttlMs: config.confirm.ttlMs,
    maxCodeAttempts: config.confirm.maxCodeAttempts,
    channels: codeChannelsFrom(config, options.codeChannels),
  });
  const nodes = new NodeStore(db, locks);
  const ocm: Ocm = {
    config,
    db,
    locks,
    journal,
    confirmations,
    nodes,
    tools: undefined as unknown as ToolRegistry,
    async close() {
      journal.stop();
      await ocm.access?.close();
      db.close();
    },
  };
  (ocm as { tools: ToolRegistry }).tools = new ToolRegistry(ocm, options.tools ?? allTools, {
    readOnly: config.readOnly,
    allowTools: config.allowTools,
  });
  ocm.access = (options.access ?? defaultAccess)(ocm);
  await recoverFromCrash(ocm);
  return ocm;
}

const defaultAccess = (ocm: Ocm): NodeAccess => new FleetAccess(ocm);

/** Free what dead processes held and repair what their interrupted operations left behind. */
async function recoverFromCrash(ocm: Ocm): Promise<void> {
  const freed = ocm.locks.reapDead();
  if (freed.length) log.warn('freed locks held by stopped OCM processes', { scopes: freed });
  for (const op of ocm.journal.reapInterrupted()) {
    let repair = 'no repair needed';
    if (op.recovery && ocm.access?.repair) {
      try {
        repair = await ocm.access.repair(op);
      } catch (err) {
        repair = `repair failed: ${(err as Error).message}`;
      }
    }
    const node = op.target && ocm.nodes.row(op.target) ? op.target : null;
    recordEvent(ocm.db, {
      node,
      type: 'operation',
      severity: 'error',
      message: `${op.tool}${op.target ? ` on ${op.target}` : ''} was interrupted (its OCM process stopped); ${repair}`,
      details: {
        operation: op.id,
        steps: JSON.parse(op.steps),
        recovery: op.recovery ? JSON.parse(op.recovery) : null,
      },
    });
    log.warn('operation interrupted by a stopped OCM process', { tool: op.tool, target: op.target, repair });
  }
}
