// One contract, two transports: everything OCM relies on from `exec` and `writeFile` must hold
// the same for the OCM host itself (`local`) and for a node behind a real sshd (`ssh`).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandFailed, NodeUnreachable } from '../mcp-server/errors.ts';
import { eventually, isAlive, localSubject, type Subject, sshSubject } from './harness/transport-subjects.ts';

const root = mkdtempSync(join(tmpdir(), 'ocm-transport-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const subjects: Record<'local' | 'ssh', (dir: string) => Promise<Subject>> = {
  local: async () => localSubject(),
  ssh: (dir) => sshSubject(dir),
};

describe.each(['local', 'ssh'] as const)('%s transport', (kind) => {
  const dir = join(root, kind);
  const marker = join(dir, 'pwned');
  let subject: Subject;

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    subject = await subjects[kind](dir);
  });
  afterAll(async () => {
    await subject?.stop();
  });

  it('passes hostile arguments byte-exact and runs none of them', async () => {
    const hostile = [
      "it's",
      '"quoted"',
      `a; touch ${marker}`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      'line1\nline2',
      '../../etc/passwd',
      'two  spaces ',
      '',
      '*',
      '$HOME',
      'ünïcødé ✓',
      `| touch ${marker}`,
    ];
    const result = await subject.transport.exec(['printf', '%s\\0', ...hostile]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.toString('utf8').split('\0').slice(0, -1)).toEqual(hostile);
    expect(existsSync(marker)).toBe(false);
  });

  it('passes extra environment as values, never as code', async () => {
    const value = `$(touch ${marker}) 'x' "y" \`z\``;
    const result = await subject.transport.exec(['printenv', 'OCM_TEST_VALUE'], {
      env: { OCM_TEST_VALUE: value },
    });
    expect(result.stdout.toString('utf8')).toBe(`${value}\n`);
    expect(existsSync(marker)).toBe(false);
  });

  it('passes 5 MB of binary stdin through unchanged', async () => {
    const bytes = randomBytes(5 * 1024 * 1024);
    const result = await subject.transport.exec(['cat'], { stdin: bytes });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.equals(bytes)).toBe(true);
  });

  it('accepts stdin as a stream', async () => {
    const result = await subject.transport.exec(['wc', '-c'], {
      stdin: Readable.from([Buffer.from('abc'), Buffer.from('de')]),
    });
    expect(result.stdout.toString().trim()).toBe('5');
  });

  it('reports exit codes and the stderr tail instead of throwing', async () => {
    const failed = await subject.transport.exec(['sh', '-c', 'echo "the reason" >&2; exit 3']);
    expect(failed.exitCode).toBe(3);
    expect(failed.stderr).toContain('the reason');
    expect((await subject.transport.exec(['true'])).exitCode).toBe(0);
    expect((await subject.transport.exec(['ocm-no-such-program'])).exitCode).toBe(127);
  });

  it('on timeout throws NodeUnreachable and ends the command and its children', async () => {
    const shellPid = join(dir, 'shell.pid');
    const childPid = join(dir, 'child.pid');
    const script = `echo $$ > ${shellPid}; sleep 300 & echo $! > ${childPid}; wait`;
    const run = subject.transport.exec(['sh', '-c', script], { timeoutMs: 2_000 });
    await expect(run).rejects.toThrow(NodeUnreachable);
    await expect(run).rejects.toThrow(/timed out/);
    const pids = [shellPid, childPid].map((file) => Number(readFileSync(file, 'utf8')));
    expect(pids.every((pid) => pid > 1)).toBe(true);
    expect(await eventually(() => pids.every((pid) => !isAlive(pid)))).toBe(true);
    // The node is still usable afterwards.
    expect((await subject.transport.exec(['true'])).exitCode).toBe(0);
  });

  it('fails with CommandFailed "output too large" past the cap', async () => {
    const run = subject.transport.exec(['head', '-c', '3000000', '/dev/zero'], { maxOutputBytes: 100_000 });
    await expect(run).rejects.toThrow(CommandFailed);
    await expect(run).rejects.toThrow(/output too large/);
    const atCap = await subject.transport.exec(['head', '-c', '100000', '/dev/zero'], {
      maxOutputBytes: 100_000,
    });
    expect(atCap.stdout.length).toBe(100_000);
  });

  it('writes files atomically with content and mode, creating parents', async () => {
    const target = join(dir, 'write', 'deep dir', "it's a file");
    const first = randomBytes(70_000);
    await subject.transport.writeFile(target, first, 0o640);
    expect(readFileSync(target).equals(first)).toBe(true);
    expect(statSync(target).mode & 0o7777).toBe(0o640);

    await subject.transport.writeFile(target, Buffer.from('second\n'), 0o755);
    expect(readFileSync(target, 'utf8')).toBe('second\n');
    expect(statSync(target).mode & 0o7777).toBe(0o755);
    // No temp files left beside it.
    expect(readdirSync(join(dir, 'write', 'deep dir'))).toEqual(["it's a file"]);
  });

  it('runs 30 commands in parallel on one node', async () => {
    const runs = Array.from({ length: 30 }, (_, i) =>
      subject.transport.exec(['sh', '-c', 'sleep 0.3; printf %s "$0"', `job-${i}`]),
    );
    const results = await Promise.all(runs);
    expect(results.map((r) => r.stdout.toString())).toEqual(Array.from({ length: 30 }, (_, i) => `job-${i}`));
    expect(results.every((r) => r.exitCode === 0)).toBe(true);
  });
});
