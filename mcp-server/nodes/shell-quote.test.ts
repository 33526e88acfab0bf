import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInput } from '../errors.ts';
import { shellCommand, shellQuote } from './shell-quote.ts';

const scratch = mkdtempSync(join(tmpdir(), 'ocm-quote-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Run a quoted command line through the real /bin/sh and return the raw stdout bytes. */
function sh(commandLine: string): Buffer {
  const result = spawnSync('/bin/sh', ['-c', commandLine], { cwd: scratch });
  expect(result.status, result.stderr.toString()).toBe(0);
  return result.stdout;
}

/** Each argument comes back NUL-terminated, so boundaries between arguments are checked too. */
function roundTrip(args: string[]): string[] {
  const out = sh(shellCommand(['printf', '%s\\0', ...args]));
  return out.toString('utf8').split('\0').slice(0, -1);
}

const hostile = [
  "it's",
  '"double"',
  'a;touch pwned',
  '$(touch pwned)',
  '`touch pwned`',
  'line1\nline2',
  '../../etc',
  'two words',
  '',
  '*',
  '~',
  'A=B',
  '-n',
  '\\',
  "'",
  "''",
  'tab\there',
  'ünïcødé ✓ 🦀',
  '$HOME',
  '!event',
  '#comment',
  '{a,b}',
  'a|b&c>d<e',
];

describe('shellQuote', () => {
  it('passes hostile strings through sh byte-exact and runs nothing', () => {
    expect(roundTrip(hostile)).toEqual(hostile);
    expect(readdirSync(scratch)).toEqual([]);
  });

  it('leaves plain words readable and quotes the rest', () => {
    expect(shellQuote('status')).toBe('status');
    expect(shellQuote('/root/.ocm/ocm-agent.sh')).toBe('/root/.ocm/ocm-agent.sh');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('A=B')).toBe("'A=B'");
  });

  it('a first word that looks like an assignment is still run as a program name', () => {
    const result = spawnSync('/bin/sh', ['-c', shellCommand(['A=B'])], { cwd: scratch });
    expect(result.status).toBe(127);
  });

  it('refuses NUL bytes and empty commands', () => {
    expect(() => shellQuote('a\0b')).toThrow(InvalidInput);
    expect(() => shellCommand([])).toThrow(InvalidInput);
  });

  it('round-trips arbitrary Unicode argument vectors through a real /bin/sh', () => {
    const arg = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0'));
    fc.assert(
      fc.property(fc.array(arg, { minLength: 1, maxLength: 6 }), (args) => {
        expect(roundTrip(args)).toEqual(args);
      }),
      { numRuns: 150 },
    );
    expect(existsSync(join(scratch, 'pwned'))).toBe(false);
  });
});
