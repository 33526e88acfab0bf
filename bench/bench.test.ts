// Smoke test for the fleet benchmarks: each one's measuring code runs once on a 2-node fleet and
// prints its ratio lines. Nothing here asserts on timings; a sweep that misses a node, a baseline
// that fetches nothing, or a repo that grows on unchanged sweeps fails it.
import { describe, expect, it } from 'vitest';
import { withFleet } from './_lib.ts';
import { closeBackupBench, measureBackup, prepareBackupBench } from './backup.ts';
import { measureSize, prepareStatusBench } from './status.ts';

describe('bench status', () => {
  it('sweeps through OCM (warm, cold, CLI), parallel-ssh and an ssh loop, and prints the target ratios', async () => {
    const text = await withFleet({ nodes: 2, kind: 'sim' }, async (fleet) => {
      const bench = await prepareStatusBench(fleet, `${fleet.dir}/bench`);
      try {
        return (await measureSize(bench, 2, 1)).text;
      } finally {
        await bench.warm.close();
      }
    });
    for (const variant of ['ocm warm', 'ocm cold', 'ocm cli', 'parallel-ssh', 'ssh loop'])
      expect(text).toMatch(new RegExp(`^  ${variant} +\\d`, 'm'));
    expect(text).toMatch(/^ {2}ocm warm \/ parallel-ssh = \d+\.\d\d \(target ≤ 0\.5\) (met|MISSED)$/m);
    expect(text).toMatch(/^ {2}ocm cold \/ parallel-ssh = \d+\.\d\d \(target ≤ 1\) (met|MISSED)$/m);
    expect(text).toMatch(/^ {2}ssh loop \/ parallel-ssh = \d+\.\d\d$/m);
  }, 120_000);
});

describe('bench backup', () => {
  it('runs first, unchanged and one-file sweeps on both sides, and the repo does not grow when nothing changed', async () => {
    const report = await withFleet({ nodes: 2, kind: 'sim', files: 5, fileBytes: 2000 }, async (fleet) => {
      const bench = await prepareBackupBench(fleet, `${fleet.dir}/bench`);
      try {
        return await measureBackup(bench, { reps: 1, unchangedSweeps: 2 });
      } finally {
        await closeBackupBench(bench);
      }
    });
    for (const sweep of ['first', 'unchanged', 'one file'])
      expect(report.text).toContain(`backup sweep "${sweep}"`);
    expect(report.text.match(/^ {2}ocm backup_all \/ ssh\|tar \+ git = \d+\.\d\d$/gm)).toHaveLength(3);
    expect(report.text).toMatch(/ocm backup_all: 0 B, 0 commits, 0 refs \(must be zero\) ok/);
    expect(report.ocmGrew).toBe(false);
  }, 120_000);
});
