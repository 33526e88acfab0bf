// How OCM reaches a node. `ssh` (pooled ssh2 connections) and `local` (the OCM host itself)
// implement this one interface and pass one shared contract suite.
import type { Readable } from 'node:stream';

export interface ExecOptions {
  /** Bytes fed to the command's stdin, then EOF. */
  stdin?: Buffer | Readable;
  /** Kill the command (and, over SSH, the remote process) after this long. */
  timeoutMs?: number;
  /** Fail with CommandFailed once stdout grows past this many bytes. */
  maxOutputBytes?: number;
  /** Extra environment for the command (values are quoted, never interpolated). */
  env?: Record<string, string>;
}

export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  /** Last few KiB of stderr, for messages. */
  stderr: string;
}

export interface NodeTransport {
  readonly nodeId: string;
  readonly kind: 'ssh' | 'local';
  /**
   * Run a program with an argument vector. Every element is quoted for the remote shell; nothing
   * is interpolated. Throws NodeUnreachable when the node cannot be reached or the timeout hits;
   * returns the exit code otherwise (callers decide whether non-zero is a failure).
   */
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Write a file on the node (creating parent directories), atomically, with the given mode. */
  writeFile(path: string, content: Buffer, mode: number): Promise<void>;
  /**
   * Try to connect on the next call even if a recent attempt failed. Explicit checks (a status
   * sweep, test_ssh) use it so a node that just came back is seen at once; other calls keep the
   * backoff that spares a dead node from being hammered.
   */
  retryNow?(): void;
  /** The pinned host key fingerprint (ssh) or null (local). */
  hostKeyFingerprint(): string | null;
  close(): Promise<void>;
}
