// The `ssh` transport: one warm ssh2 connection per node, host key pinned on first contact and
// refused when it changes, commands as quoted argument vectors with a timeout that also ends the
// remote process, an output cap, and a channel limit under OpenSSH's MaxSessions.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import type { OcmConfig } from '../config.ts';
import { CommandFailed, InvalidInput, NodeUnreachable } from '../errors.ts';
import { log } from '../log.ts';
import { checkEnv, describeCommand, feedStdin, OutputCollector, signalExitCode } from './exec-output.ts';
import { shellCommand } from './shell-quote.ts';
import type { ExecOptions, ExecResult, NodeTransport } from './transport.ts';

export type SshSettings = OcmConfig['ssh'];

/** Where and how to reach one node over SSH. */
export interface SshTarget {
  nodeId: string;
  host: string;
  port: number;
  user: string;
  /** The node's own key; default `ssh.keyPath` from the config. */
  keyPath?: string | null;
  /** `SHA256:…` from an earlier contact; null/undefined means "pin whatever answers first". */
  pinnedHostKey?: string | null;
}

export interface SshTransportOptions {
  settings: SshSettings;
  /** Called once when a host key is first seen; must persist it. The connection waits for it. */
  onHostKeyPinned?: (nodeId: string, fingerprint: string) => void | Promise<void>;
}

/** OpenSSH allows 10 sessions per connection (MaxSessions); stay under it with room to spare. */
export const MAX_CHANNELS_PER_CONNECTION = 8;
const RECONNECT_BACKOFF_FIRST_MS = 500;
const RECONNECT_BACKOFF_MAX_MS = 30_000;
const KILL_TIMEOUT_MS = 10_000;

/** The fingerprint OpenSSH prints for a host key: `SHA256:` + unpadded base64 of its SHA-256. */
export function hostKeyFingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

export class SshTransport implements NodeTransport {
  readonly kind = 'ssh' as const;
  readonly nodeId: string;
  private pinnedHostKey: string | null;
  private client: Client | null = null;
  private connecting: Promise<Client> | null = null;
  private failedAttempts = 0;
  private retryAt = 0;
  private lastFailure = '';
  private closed = false;
  private retiring = false;
  private active = 0;
  private readonly slots = new ChannelSlots(MAX_CHANNELS_PER_CONNECTION);

  constructor(
    private readonly target: SshTarget,
    private readonly options: SshTransportOptions,
  ) {
    this.nodeId = target.nodeId;
    this.pinnedHostKey = target.pinnedHostKey ?? null;
  }

  hostKeyFingerprint(): string | null {
    return this.pinnedHostKey;
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const command = remoteCommand(argv, options.env);
    const timeoutMs = options.timeoutMs ?? this.options.settings.commandTimeoutMs;
    const timedOut = () =>
      new NodeUnreachable(this.nodeId, `timed out after ${timeoutMs} ms running ${describeCommand(argv)}`);
    // One deadline for the whole call (connect, wait for a channel, run): a slow node never holds
    // its caller longer than the timeout it asked for.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    this.active++;
    try {
      return await this.execOnce(command, argv, options, deadline.signal, timedOut);
    } finally {
      clearTimeout(timer);
      this.active--;
      if (this.retiring && this.active === 0) void this.close();
    }
  }

  private async execOnce(
    command: string,
    argv: readonly string[],
    options: ExecOptions,
    deadline: AbortSignal,
    timedOut: () => Error,
  ): Promise<ExecResult> {
    for (let attempt = 1; ; attempt++) {
      const client = await untilAborted(this.connection(), deadline, timedOut);
      const release = await this.slots.acquire(deadline, timedOut);
      try {
        return await this.run(client, command, argv, options, deadline, timedOut);
      } catch (err) {
        // The connection died before ssh2 told us (e.g. the node restarted): one fresh attempt.
        if (err instanceof StaleConnection && attempt === 1) continue;
        throw err instanceof StaleConnection ? new NodeUnreachable(this.nodeId, err.message) : err;
      } finally {
        release();
      }
    }
  }

  async writeFile(path: string, content: Buffer, mode: number): Promise<void> {
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)
      throw new InvalidInput(`file mode ${mode} is not a permission mode`);
    const result = await this.exec(
      ['sh', '-c', WRITE_FILE_SCRIPT, 'ocm-write-file', path, mode.toString(8)],
      {
        stdin: content,
      },
    );
    if (result.exitCode !== 0)
      throw new CommandFailed(this.nodeId, `write ${path}`, result.exitCode, result.stderr);
  }

  /** Close once the commands in flight are done (the pool replaced this transport). */
  closeWhenIdle(): Promise<void> {
    this.retiring = true;
    return this.active === 0 ? this.close() : Promise.resolve();
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = null;
    client?.end();
  }

  private run(
    client: Client,
    command: string,
    argv: readonly string[],
    options: ExecOptions,
    deadline: AbortSignal,
    timedOut: () => Error,
  ): Promise<ExecResult> {
    const output = new OutputCollector(options.maxOutputBytes ?? this.options.settings.maxOutputBytes);
    return new Promise((resolve, reject) => {
      let refusals = 0;
      const onChannel = (err: Error | undefined, channel: ClientChannel) => {
        if (err) {
          // sshd frees a finished session a moment after we see it close; under MaxSessions a
          // new channel can be refused in that gap. Try again shortly, within the deadline.
          if (/open failed|prohibited/i.test(err.message) && refusals < 20 && !deadline.aborted) {
            refusals++;
            setTimeout(() => {
              try {
                client.exec(command, onChannel);
              } catch (retryError) {
                this.forget(client);
                reject(new StaleConnection(`connection lost: ${(retryError as Error).message}`));
              }
            }, 25 * refusals);
            return;
          }
          reject(new NodeUnreachable(this.nodeId, `could not open a session: ${err.message}`));
          return;
        }
        const stderr = new PidMarkerReader((chunk) => output.addStderr(chunk));
        let settled = false;
        let exit: { code: number | null; signal?: string } | undefined;
        const settle = (outcome: () => void) => {
          if (settled) return;
          settled = true;
          deadline.removeEventListener('abort', onDeadline);
          outcome();
        };
        const end = (why: Error) => {
          if (settled) return;
          // The signal ends the remote process group (sshd: killpg on the session); closing the
          // channel alone would leave a command that never writes running on the node. Settle now:
          // sshd holds the channel open until its child is gone, which without the signal is never.
          sendSignal(channel, 'KILL');
          channel.close();
          if (stderr.pid !== null) this.killRemoteGroup(stderr.pid);
          settle(() => reject(why));
        };
        const onDeadline = () => end(timedOut());
        if (deadline.aborted) onDeadline();
        else deadline.addEventListener('abort', onDeadline, { once: true });

        channel.on('data', (chunk: Buffer) => {
          if (!output.addStdout(chunk)) {
            end(new CommandFailed(this.nodeId, describeCommand(argv), null, output.tooLargeMessage()));
          }
        });
        channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        channel.on('exit', (code: number | null, signal?: string) => {
          exit = { code, signal };
        });
        channel.on('error', (channelError: Error) =>
          end(new NodeUnreachable(this.nodeId, channelError.message)),
        );
        channel.on('close', () => {
          if (!exit) {
            settle(() =>
              reject(
                new NodeUnreachable(this.nodeId, `connection lost while running ${describeCommand(argv)}`),
              ),
            );
          } else {
            const exitCode = exit.code ?? signalExitCode(exit.signal);
            settle(() => resolve({ exitCode, stdout: output.stdout(), stderr: output.stderr() }));
          }
        });
        feedStdin(channel, options.stdin, (stdinError) => end(stdinError));
      };
      try {
        client.exec(command, onChannel);
      } catch (err) {
        // ssh2 throws synchronously when the socket died between connection() and here.
        this.forget(client);
        reject(new StaleConnection(`connection lost: ${(err as Error).message}`));
      }
    });
  }

  /** Kill a timed-out command's process group by pid, over a fresh channel (best effort). */
  private killRemoteGroup(pid: number): void {
    this.exec(
      [
        'sh',
        '-c',
        'kill -s KILL -- "-$1" 2>/dev/null || kill -s KILL "$1" 2>/dev/null; true',
        'ocm-kill',
        String(pid),
      ],
      {
        timeoutMs: KILL_TIMEOUT_MS,
      },
    ).catch((err: Error) =>
      log.debug('could not end a timed-out command', { node: this.nodeId, pid, error: err.message }),
    );
  }

  retryNow(): void {
    this.retryAt = 0;
  }

  /** The ready connection, opening one if needed; after failures, waits out a growing backoff. */
  private connection(): Promise<Client> {
    if (this.closed) return Promise.reject(new NodeUnreachable(this.nodeId, 'transport closed'));
    if (this.client) return Promise.resolve(this.client);
    if (this.connecting) return this.connecting;
    const waitMs = this.retryAt - Date.now();
    if (waitMs > 0) {
      return Promise.reject(
        new NodeUnreachable(
          this.nodeId,
          `${this.lastFailure} (next connection attempt in ${Math.ceil(waitMs / 1000)} s)`,
        ),
      );
    }
    this.connecting = this.open().then(
      (client) => {
        this.failedAttempts = 0;
        this.retryAt = 0;
        this.connecting = null;
        if (this.closed) {
          client.end();
          throw new NodeUnreachable(this.nodeId, 'transport closed');
        }
        this.client = client;
        return client;
      },
      (err: Error) => {
        this.failedAttempts++;
        const backoff = Math.min(
          RECONNECT_BACKOFF_FIRST_MS * 2 ** (this.failedAttempts - 1),
          RECONNECT_BACKOFF_MAX_MS,
        );
        this.retryAt = Date.now() + backoff;
        this.lastFailure =
          err instanceof NodeUnreachable
            ? err.message.replace(`${this.nodeId}: unreachable: `, '')
            : err.message;
        this.connecting = null;
        throw err;
      },
    );
    return this.connecting;
  }

  private open(): Promise<Client> {
    const { host, port, user } = this.target;
    const { settings } = this.options;
    const keyPath = this.target.keyPath || settings.keyPath;
    if (!keyPath) {
      return Promise.reject(
        new NodeUnreachable(
          this.nodeId,
          "no SSH key configured: set ssh.keyPath (or OCM_SSH_KEY) or the node's key_path",
        ),
      );
    }
    let privateKey: Buffer;
    try {
      privateKey = readFileSync(keyPath);
    } catch (err) {
      return Promise.reject(
        new NodeUnreachable(this.nodeId, `cannot read SSH key ${keyPath}: ${(err as Error).message}`),
      );
    }

    return new Promise((resolve, reject) => {
      const client = new Client();
      let settled = false;
      let hostKeyProblem: string | null = null;
      const fail = (message: string) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(new NodeUnreachable(this.nodeId, message));
      };

      const hostVerifier = (key: Buffer, verify: (valid: boolean) => void) => {
        const seen = hostKeyFingerprintOf(key);
        const pinned = this.pinnedHostKey;
        if (pinned) {
          if (seen === pinned) return verify(true);
          hostKeyProblem =
            `host key changed: expected ${pinned}, got ${seen}. If the node was reinstalled on purpose, ` +
            `re-pin it with update_node {"node_id": "${this.nodeId}", "reset_host_key": true}; otherwise ` +
            'someone may be intercepting the connection';
          return verify(false);
        }
        // Trust on first contact, but only once the pin is stored, so a restart cannot forget it.
        Promise.resolve(this.options.onHostKeyPinned?.(this.nodeId, seen)).then(
          () => {
            this.pinnedHostKey = seen;
            log.info('pinned host key', { node: this.nodeId, fingerprint: seen });
            verify(true);
          },
          (err: Error) => {
            hostKeyProblem = `could not save the host key ${seen}: ${err.message}`;
            verify(false);
          },
        );
      };

      client.on('ready', () => {
        if (settled) return;
        settled = true;
        resolve(client);
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        if (!settled) fail(hostKeyProblem ?? describeConnectError(err, { host, port, user, keyPath }));
        else log.warn('ssh connection error', { node: this.nodeId, error: err.message });
      });
      client.on('close', () => {
        this.forget(client);
        fail(hostKeyProblem ?? `connection to ${host}:${port} closed during the SSH handshake`);
      });

      const config: ConnectConfig = {
        host,
        port,
        username: user,
        privateKey,
        readyTimeout: settings.connectTimeoutMs,
        keepaliveInterval: settings.keepaliveMs,
        keepaliveCountMax: 3,
        hostVerifier,
      };
      try {
        client.connect(config);
      } catch (err) {
        // ssh2 parses the key synchronously: a passphrase-protected or garbled key lands here.
        fail(`cannot use SSH key ${keyPath}: ${(err as Error).message}`);
      }
    });
  }

  /** Drop a dead connection so the next call reconnects (a drop is not a failed attempt). */
  private forget(client: Client): void {
    if (this.client === client) {
      this.client = null;
      log.info('ssh connection closed', { node: this.nodeId });
    }
  }
}

/**
 * The login shell only ever sees `exec sh -c <fixed script> ocm <argv…>`: the argument vector
 * travels as sh's positional parameters, quoted once. The script starts in $HOME (where OpenSSH
 * starts anyway; `cd` also honours a HOME set by the server, which the test fleet uses to give
 * each node its own home), tells us its pid on stderr, then `exec`s the program, so that pid is
 * the program's and leads its process group (sshd puts each session in its own). Extra
 * environment goes through `env`, since sshd usually refuses setenv requests.
 */
export function remoteCommand(argv: readonly string[], env?: Record<string, string>): string {
  if (argv.length === 0) throw new InvalidInput('empty command: the argument vector needs a program');
  const vars = checkEnv(env);
  if (vars.length > 0 && argv[0]?.includes('=')) {
    throw new InvalidInput('a program name containing "=" cannot be run with extra environment');
  }
  const prefix = vars.length > 0 ? ['env', ...vars.map(([name, value]) => `${name}=${value}`)] : [];
  return shellCommand(['exec', 'sh', '-c', SESSION_SCRIPT, 'ocm', ...prefix, ...argv]);
}

const PID_MARKER = 'ocm-pid:';
const PID_LINE = /^ocm-pid:(\d+)$/;
const SESSION_SCRIPT = `cd 2>/dev/null; echo "${PID_MARKER}$$" >&2; exec "$@"`;

/**
 * Reads the pid line the session script writes first on stderr and passes the rest on. The pid
 * lets a timeout end the command even where sshd refuses the "signal" request (root logins, where
 * OpenSSH runs the session without privilege separation, and older servers).
 */
class PidMarkerReader {
  pid: number | null = null;
  private head: Buffer | null = Buffer.alloc(0);

  constructor(private readonly forward: (chunk: Buffer) => void) {}

  push(chunk: Buffer): void {
    if (this.head === null) {
      this.forward(chunk);
      return;
    }
    const joined = Buffer.concat([this.head, chunk]);
    const newline = joined.indexOf(10);
    if (newline < 0 && joined.length < 64) {
      this.head = joined;
      return;
    }
    this.head = null;
    const line = joined.subarray(0, Math.max(newline, 0)).toString('latin1');
    const match = newline >= 0 ? PID_LINE.exec(line) : null;
    if (match) {
      this.pid = Number(match[1]);
      const rest = joined.subarray(newline + 1);
      if (rest.length > 0) this.forward(rest);
    } else {
      this.forward(joined);
    }
  }
}

/** Content arrives on stdin, goes to a temp file beside the target, then one atomic `mv`. */
const WRITE_FILE_SCRIPT = `set -e
target=$1
case $target in /*) ;; *) target=./$target ;; esac
dir=$(dirname -- "$target")
mkdir -p -- "$dir"
tmp=$(mktemp "$dir/.ocm-tmp.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
cat > "$tmp"
chmod "$2" "$tmp"
mv -f -- "$tmp" "$target"
trap - EXIT`;

/**
 * ssh2 (1.17) only sends a signal while the channel's stdin is still writable, so after we sent
 * EOF it silently drops it (mscdex/ssh2#1510). The protocol allows signals until the channel is
 * closed, so send the request directly.
 */
function sendSignal(channel: ClientChannel, name: string): void {
  const raw = channel as unknown as {
    outgoing?: { id: number; state: string };
    _client?: { _protocol?: { signal(id: number, name: string): void } };
  };
  const outgoing = raw.outgoing;
  if (!outgoing || (outgoing.state !== 'open' && outgoing.state !== 'eof')) return;
  try {
    raw._client?._protocol?.signal(outgoing.id, name);
  } catch (err) {
    log.debug('could not send signal', { error: (err as Error).message });
  }
}

function describeConnectError(
  err: Error & { level?: string; code?: string },
  where: { host: string; port: number; user: string; keyPath: string },
): string {
  const at = `${where.host}:${where.port}`;
  if (err.code === 'ECONNREFUSED') return `connection refused by ${at} (is sshd running there?)`;
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return `host ${where.host} not found`;
  if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') return `no route to ${at}`;
  if (err.code === 'ETIMEDOUT' || /timed out/i.test(err.message))
    return `no SSH answer from ${at} in time: ${err.message}`;
  if (err.level === 'client-authentication') {
    return `key ${where.keyPath} was not accepted for ${where.user}@${at} (is its public key in authorized_keys?)`;
  }
  return `${at}: ${err.message}`;
}

/** Wait for `promise`, or fail with `onAbort()` once `signal` fires (the work itself carries on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise((resolve, reject) => {
    const abort = () => reject(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener('abort', abort);
        reject(err);
      },
    );
  });
}

/** The pooled connection turned out to be dead before a command could start on it. */
class StaleConnection extends Error {}

/** A counting semaphore whose waiters give up when their deadline passes. */
class ChannelSlots {
  private inUse = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  acquire(deadline: AbortSignal, onAbort: () => Error): Promise<() => void> {
    if (deadline.aborted) return Promise.reject(onAbort());
    if (this.inUse < this.limit) {
      this.inUse++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        deadline.removeEventListener('abort', abort);
        this.inUse++;
        resolve(this.releaser());
      };
      const abort = () => {
        const index = this.waiting.indexOf(grant);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(onAbort());
      };
      deadline.addEventListener('abort', abort, { once: true });
      this.waiting.push(grant);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inUse--;
      this.waiting.shift()?.();
    };
  }
}
