// Talks to ocm-agent on one node: builds `bash <agent> [--state-dir <dir>] <verb> args…`, reads
// back the one JSON object, and keeps the node's copy of the agent at this repo's version.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CommandFailed, InvalidInput } from '../errors.ts';
import type { NodeAddress } from './connections.ts';
import type { ExecResult, NodeTransport } from './transport.ts';

export interface AgentClientOptions {
  /** Where the agent lives on ssh nodes (config.agent.remotePath; relative = under the login home). */
  remotePath: string;
  /** The agent script this OCM ships: run directly on `local` nodes, uploaded to `ssh` nodes. */
  scriptPath?: string;
}

export interface AgentRunOptions<T> {
  timeoutMs?: number;
  stdin?: Buffer | Readable;
  /** Validate the reply; a mismatch is the node's fault (an old or broken agent), not ours. */
  schema?: z.ZodType<T>;
}

export interface AgentStreamOptions {
  timeoutMs?: number;
  stdin?: Buffer | Readable;
  maxOutputBytes?: number;
}

const VERB = /^[a-z][a-z-]{0,40}$/;
const versionReply = z.object({ agent_version: z.string() });

/** This repository's agent/ocm-agent.sh, found from here whether running from source or dist/. */
export function bundledAgentPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++) {
    const candidate = join(dir, 'agent', 'ocm-agent.sh');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('agent/ocm-agent.sh not found next to OCM: the installation is incomplete');
}

/** The version a script declares on its `OCM_AGENT_VERSION="…"` line. */
export function agentScriptVersion(script: string): string {
  const match = /^OCM_AGENT_VERSION="([^"\n]+)"/m.exec(script);
  if (!match?.[1]) throw new Error('agent script has no OCM_AGENT_VERSION="…" line');
  return match[1];
}

export class AgentClient {
  private readonly scriptPath: string;

  constructor(
    readonly transport: NodeTransport,
    private readonly address: Pick<NodeAddress, 'stateDir'>,
    private readonly options: AgentClientOptions,
  ) {
    this.scriptPath = options.scriptPath ?? bundledAgentPath();
  }

  get nodeId(): string {
    return this.transport.nodeId;
  }

  /** The agent path used on this node. */
  get agentPath(): string {
    return this.transport.kind === 'local' ? this.scriptPath : this.options.remotePath;
  }

  /** Run a verb and return its one JSON object; a non-zero exit becomes CommandFailed with the agent's message. */
  async run<T = unknown>(
    verb: string,
    args: readonly string[] = [],
    options: AgentRunOptions<T> = {},
  ): Promise<T> {
    const result = await this.exec(verb, args, options);
    const label = `ocm-agent ${verb}`;
    const reply = parseReply(result.stdout);
    if (result.exitCode !== 0) {
      throw new CommandFailed(this.nodeId, label, result.exitCode, agentError(reply, result));
    }
    if (reply === undefined) {
      const shown = result.stdout.toString('utf8').trim().slice(0, 200);
      throw new CommandFailed(
        this.nodeId,
        label,
        0,
        `agent printed something other than one JSON object: ${JSON.stringify(shown)}${stderrNote(result)}`,
      );
    }
    if (!options.schema) return reply as T;
    const parsed = options.schema.safeParse(reply);
    if (!parsed.success) {
      const issues = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
      );
      throw new CommandFailed(
        this.nodeId,
        label,
        0,
        `unexpected reply from the agent: ${issues.slice(0, 5).join('; ')}`,
      );
    }
    return parsed.data;
  }

  /** Run a verb whose stdout is raw bytes (`backup`); non-zero exit becomes CommandFailed. */
  async stream(
    verb: string,
    args: readonly string[] = [],
    options: AgentStreamOptions = {},
  ): Promise<Buffer> {
    const result = await this.exec(verb, args, options);
    if (result.exitCode !== 0) {
      throw new CommandFailed(
        this.nodeId,
        `ocm-agent ${verb}`,
        result.exitCode,
        agentError(parseReply(result.stdout), result),
      );
    }
    return result.stdout;
  }

  /**
   * Make sure the node runs this OCM's agent: read its `version` and upload the bundled script
   * when it is missing or different. `local` nodes run the bundled script itself.
   */
  async ensureAgent(): Promise<{ installed: boolean; version: string }> {
    const script = readFileSync(this.scriptPath);
    const wanted = agentScriptVersion(script.toString('utf8'));
    if (this.transport.kind === 'local') return { installed: false, version: await this.version() };

    let current: string | null = null;
    try {
      current = await this.version();
    } catch (err) {
      // Missing or broken agent: install it. Unreachable nodes stay unreachable.
      if (!(err instanceof CommandFailed)) throw err;
    }
    if (current === wanted) return { installed: false, version: current };

    await this.transport.writeFile(this.options.remotePath, script, 0o755);
    const now = await this.version();
    if (now !== wanted) {
      throw new CommandFailed(
        this.nodeId,
        'ocm-agent version',
        0,
        `uploaded agent ${wanted}, but the node reports ${now}`,
      );
    }
    return { installed: true, version: now };
  }

  private async version(): Promise<string> {
    return (await this.run('version', [], { schema: versionReply })).agent_version;
  }

  private exec(verb: string, args: readonly string[], options: AgentStreamOptions): Promise<ExecResult> {
    if (!VERB.test(verb)) throw new InvalidInput(`not an agent verb: ${JSON.stringify(verb)}`);
    const stateDir = this.address.stateDir;
    const argv = ['bash', this.agentPath, ...(stateDir ? ['--state-dir', stateDir] : []), verb, ...args];
    return this.transport.exec(argv, {
      timeoutMs: options.timeoutMs,
      stdin: options.stdin,
      maxOutputBytes: options.maxOutputBytes,
    });
  }
}

/** The one JSON object on stdout, or undefined when stdout is anything else. */
function parseReply(stdout: Buffer): Record<string, unknown> | undefined {
  const text = stdout.toString('utf8').trim();
  if (!text.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function agentError(reply: Record<string, unknown> | undefined, result: ExecResult): string {
  if (typeof reply?.error === 'string' && reply.error) return reply.error;
  return result.stderr.trim() || `exit ${result.exitCode} without a message`;
}

function stderrNote(result: ExecResult): string {
  const tail = result.stderr.trim().split('\n').slice(-3).join(' | ');
  return tail ? ` (stderr: ${tail.slice(-300)})` : '';
}
