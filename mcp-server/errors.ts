// Errors that say whose fault it is. The registry turns each kind into a tool result the caller
// can act on; anything else is our bug and is reported as an internal error.

/** The caller sent something we cannot accept; the message says what to fix. */
export class InvalidInput extends Error {
  override readonly name = 'InvalidInput';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** SSH (or the local spawn) could not reach the node, or the node did not answer in time. */
export class NodeUnreachable extends Error {
  override readonly name = 'NodeUnreachable';
  constructor(
    readonly nodeId: string,
    message: string,
  ) {
    super(`${nodeId}: unreachable: ${message}`);
  }
}

/** The node answered, but the command failed. */
export class CommandFailed extends Error {
  override readonly name = 'CommandFailed';
  constructor(
    readonly nodeId: string,
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
  ) {
    super(
      `${nodeId}: ${command} failed (exit ${exitCode ?? 'signal'}): ${stderrTail.trim().slice(-500) || 'no output'}`,
    );
  }
}

/** The operation was refused by policy: tiers, read-only mode, locks, confirmations. */
export class Refused extends Error {
  override readonly name = 'Refused';
}

/** Something this operation needs is missing or in the wrong state (e.g. no stable tag yet). */
export class OperationFailed extends Error {
  override readonly name = 'OperationFailed';
}

export function isExpectedError(
  err: unknown,
): err is InvalidInput | NodeUnreachable | CommandFailed | Refused | OperationFailed {
  return (
    err instanceof InvalidInput ||
    err instanceof NodeUnreachable ||
    err instanceof CommandFailed ||
    err instanceof Refused ||
    err instanceof OperationFailed
  );
}
