// The one quoting function for POSIX sh. Every argument that reaches a remote shell goes through
// here; nothing is ever interpolated into a command line any other way.
import { InvalidInput } from '../errors.ts';

/** Characters that mean nothing to sh anywhere in a word (no `=`: a first word `a=b` is an assignment; no `~`). */
const PLAIN_WORD = /^[A-Za-z0-9_/.,:@%+-]+$/;

/**
 * Quote one argument so sh passes it to the program byte for byte: plain words as they are,
 * everything else in single quotes, where only `'` itself needs care (`'\''`).
 */
export function shellQuote(arg: string): string {
  if (arg.includes('\0'))
    throw new InvalidInput('an argument contains a NUL byte, which no command line can carry');
  if (arg === '') return "''";
  if (PLAIN_WORD.test(arg)) return arg;
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/** Quote an argument vector into one sh command line (program first). */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new InvalidInput('empty command: the argument vector needs a program');
  return argv.map(shellQuote).join(' ');
}
