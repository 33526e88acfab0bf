// What both transports share about running one command: collecting its output under a cap,
// keeping only the tail of stderr, checking the extra environment, naming the command in errors.
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { InvalidInput } from '../errors.ts';
import { shellCommand } from './shell-quote.ts';

/** How much stderr is kept for messages: the end is where the reason usually is. */
export const STDERR_TAIL_BYTES = 8 * 1024;

export class OutputCollector {
  private readonly stdoutChunks: Buffer[] = [];
  private stdoutBytes = 0;
  private stderrTail: Buffer = Buffer.alloc(0);

  constructor(readonly maxStdoutBytes: number) {}

  /** Returns false once stdout has grown past the cap; the caller then ends the command. */
  addStdout(chunk: Buffer): boolean {
    this.stdoutBytes += chunk.length;
    if (this.stdoutBytes > this.maxStdoutBytes) return false;
    this.stdoutChunks.push(chunk);
    return true;
  }

  addStderr(chunk: Buffer): void {
    const joined = Buffer.concat([this.stderrTail, chunk]);
    this.stderrTail =
      joined.length > STDERR_TAIL_BYTES ? joined.subarray(joined.length - STDERR_TAIL_BYTES) : joined;
  }

  stdout(): Buffer {
    return Buffer.concat(this.stdoutChunks);
  }

  stderr(): string {
    return this.stderrTail.toString('utf8');
  }

  tooLargeMessage(): string {
    return `output too large: more than ${this.maxStdoutBytes} bytes on stdout`;
  }
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Environment variable names become words on a command line: only plain names are allowed. */
export function checkEnv(env: Record<string, string> | undefined): [string, string][] {
  const entries = Object.entries(env ?? {});
  for (const [name, value] of entries) {
    if (!ENV_NAME.test(name))
      throw new InvalidInput(`environment variable name ${JSON.stringify(name)} is not a plain name`);
    if (value.includes('\0')) throw new InvalidInput(`environment variable ${name} contains a NUL byte`);
  }
  return entries;
}

/** The command as an operator would type it, shortened for error messages. */
export function describeCommand(argv: readonly string[]): string {
  const line = shellCommand(argv);
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** Shell convention for "killed by signal N": exit code 128 + N. */
export function signalExitCode(signalName: string | null | undefined): number {
  if (!signalName) return 128;
  const name = (
    signalName.startsWith('SIG') ? signalName : `SIG${signalName}`
  ) as keyof typeof constants.signals;
  return 128 + (constants.signals[name] ?? 0);
}

/** Send the caller's stdin (bytes or a stream) to a command, then EOF. */
export function feedStdin(
  sink: NodeJS.WritableStream,
  stdin: Buffer | Readable | undefined,
  onSourceError: (err: Error) => void,
): void {
  if (stdin === undefined) sink.end();
  else if (Buffer.isBuffer(stdin)) sink.end(stdin);
  else {
    stdin.once('error', onSourceError);
    stdin.pipe(sink);
  }
}
