import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fullRef, nodeTagName, parseRefNames, parseRefTimestamp, snapshotBranchName } from './ref-names.ts';

const AT = Date.UTC(2026, 1, 15, 8, 0, 0);

describe('backup-point names', () => {
  it('builds ref-safe names that read back to the same node, type and instant', () => {
    expect(nodeTagName('g3s-01', 'stable', AT)).toBe('g3s-01/stable/2026-02-15T08-00-00Z');
    expect(nodeTagName('g3s-01', 'pre-update', AT, 3)).toBe('g3s-01/pre-update/2026-02-15T08-00-00Z-3');
    expect(snapshotBranchName('macmini-01', AT)).toBe('snapshots/macmini-01/2026-02-15T08-00-00Z');
    expect(parseRefNames('g3s-01/pre-update/2026-02-15T08-00-00Z-3')).toEqual([
      {
        kind: 'node-tag',
        name: 'g3s-01/pre-update/2026-02-15T08-00-00Z-3',
        node: 'g3s-01',
        type: 'pre-update',
        at: AT,
        seq: 3,
      },
    ]);
  });

  it('round-trips any instant, node and type', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) }),
        fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/),
        fc.constantFrom('stable', 'manual', 'rollback', 'pre-rollback', 'pre-update' as const),
        (ms, node, type) => {
          const at = Math.floor(ms / 1000) * 1000;
          const [tag] = parseRefNames(nodeTagName(node, type, at));
          expect(tag).toMatchObject({ kind: 'node-tag', node, type, at });
        },
      ),
    );
  });

  it('knows branches, deploy tags and commit hashes, and what git ref each stands for', () => {
    expect(parseRefNames('main').map(fullRef)).toEqual(['refs/heads/main']);
    expect(parseRefNames('stable/g3s-01').map(fullRef)).toEqual(['refs/heads/stable/g3s-01']);
    expect(parseRefNames('all/deploy/v2026.9.6-beta.1').map(fullRef)).toEqual([
      'refs/tags/all/deploy/v2026.9.6-beta.1',
    ]);
    expect(parseRefNames('0123abc').map(fullRef)).toEqual(['0123abc']);
  });

  it('gives both readings of a name that fits a tag and a snapshot branch, tag first', () => {
    expect(parseRefNames('snapshots/stable/2026-02-15T08-00-00Z').map((r) => r.kind)).toEqual([
      'node-tag',
      'snapshot-branch',
    ]);
  });

  it('recognises nothing git could read as an option, a range, a revision expression or a path', () => {
    for (const bad of [
      '-n',
      '--all',
      'main..stable/g3s-01',
      'main...x',
      'HEAD~1',
      'HEAD^{tree}',
      'main@{yesterday}',
      'main:nodes',
      ':/fix',
      'refs/heads/main',
      'g3s-01/stable/2026-02-15T08-00-00Z.lock',
      'g3s-01/stable/2026-02-15T08-00-00Z-1',
      'g3s-01/stable/2026-02-30T08-00-00Z',
      'g3s-01/bogus/2026-02-15T08-00-00Z',
      'G3S-01/stable/2026-02-15T08-00-00Z',
      'stable/g3s-01/x',
      'all/deploy/v1..2',
      'abc',
      '0123abz',
      'a'.repeat(41),
      ' main',
      'main\n',
    ]) {
      expect(parseRefNames(bad), JSON.stringify(bad)).toEqual([]);
    }
  });

  it('rejects timestamps that are not real instants', () => {
    expect(parseRefTimestamp('2026-02-15T08-00-00Z')).toBe(AT);
    expect(parseRefTimestamp('2026-13-01T00-00-00Z')).toBeNaN();
    expect(parseRefTimestamp('2026-02-15T24-00-00Z')).toBeNaN();
  });
});
