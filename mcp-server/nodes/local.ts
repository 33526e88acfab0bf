// The `local` transport: the OCM host itself (the master's own OpenClaw, the demo). Same contract
// as `ssh`: an argument vector (spawned without a shell), timeouts that end the whole process
// group, an output cap, atomic file writes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CommandFailed, InvalidInput, NodeUnreachable } from '../errors.ts';
import { checkEnv, describeCommand, feedStdin, OutputCollector, signalExitCode } from './exec-output.ts';
import type { ExecOptions, ExecResult, NodeTransport } from './transport.ts';

export interface LocalSettings {
  commandTimeoutMs: number;
  maxOutputBytes: number;
}

export class LocalTransport implements NodeTransport {
  readonly kind = 'local' as const;

  constructor(
    readonly nodeId: string,
    private readonly settings: LocalSettings,
  ) {}

  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0)
      return Promise.reject(new InvalidInput('empty command: the argument vector needs a program'));
    const extraEnv = Object.fromEntries(checkEnv(options.env));
    const timeoutMs = options.timeoutMs ?? this.settings.commandTimeoutMs;
    const output = new OutputCollector(options.maxOutputBytes ?? this.settings.maxOutputBytes);
    const [program, ...args] = argv as [string, ...string[]];

    return new Promise((resolvePromise, reject) => {
      // Its own process group, so a timeout ends the command and everything it started, like the
      // ssh transport's signal to the remote session.
      const child = spawn(program, args, {
        env: { ...process.env, ...extraEnv },
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
      let failure: Error | undefined;
      const killGroup = (why: Error) => {
        failure ??= why;
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      const timer = setTimeout(
        () =>
          killGroup(
            new NodeUnreachable(
              this.nodeId,
              `timed out after ${timeoutMs} ms running ${describeCommand(argv)}`,
            ),
          ),
        timeoutMs,
      );

      child.stdout.on('data', (chunk: Buffer) => {
        if (!output.addStdout(chunk)) {
          killGroup(new CommandFailed(this.nodeId, describeCommand(argv), null, output.tooLargeMessage()));
        }
      });
      child.stderr.on('data', (chunk: Buffer) => output.addStderr(chunk));
      // A command that exits without reading its stdin makes our writes fail with EPIPE: harmless.
      child.stdin.on('error', () => {});
      feedStdin(child.stdin, options.stdin, (err) => killGroup(err));

      child.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        // Same answer a shell gives over ssh: 127 not found, 126 not executable.
        if (err.code === 'ENOENT' || err.code === 'EACCES') {
          const exitCode = err.code === 'ENOENT' ? 127 : 126;
          resolvePromise({ exitCode, stdout: Buffer.alloc(0), stderr: `${program}: ${err.message}\n` });
        } else {
          reject(new NodeUnreachable(this.nodeId, `cannot start ${program}: ${err.message}`));
        }
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (failure) reject(failure);
        else
          resolvePromise({
            exitCode: code ?? signalExitCode(signal),
            stdout: output.stdout(),
            stderr: output.stderr(),
          });
      });
    });
  }

  async writeFile(path: string, content: Buffer, mode: number): Promise<void> {
    const target = resolve(path);
    const dir = dirname(target);
    // Same directory as the target, so the final rename is atomic.
    const temp = join(dir, `.${basename(target)}.ocm-tmp-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(dir, { recursive: true });
      const handle = await open(temp, 'wx', mode);
      try {
        await handle.writeFile(content);
      } finally {
        await handle.close();
      }
      await chmod(temp, mode); // open()'s mode is filtered by the umask
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw new CommandFailed(this.nodeId, `write ${target}`, null, (err as Error).message);
    }
  }

  hostKeyFingerprint(): null {
    return null;
  }

  async close(): Promise<void> {}
}
