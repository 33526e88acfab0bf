import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkNodeFiles, hasSignificantChange, replaceNodeTree } from './node-tree.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ocm-node-tree-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const files = (entries: Record<string, string>) =>
  new Map(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v)]));
const configText = (model: string, touched: string) =>
  JSON.stringify(
    { meta: { lastTouchedAt: touched, lastTouchedVersion: '2026.9.6' }, agents: { model } },
    null,
    2,
  );

describe('node folder', () => {
  it('a new node is a significant change; the same files again are not', async () => {
    const set = files({ 'workspace/SOUL.md': 'soul', 'cron-export.json': '{}' });
    expect(await hasSignificantChange(dir, set)).toBe(true);
    await replaceNodeTree(dir, set);
    expect(await hasSignificantChange(dir, set)).toBe(false);
  });

  it('ignores volatile config fields and metadata.json, not real config changes', async () => {
    await replaceNodeTree(
      dir,
      files({ 'config/openclaw.json': configText('a', 't1'), 'metadata.json': '{"v":1}' }),
    );
    expect(
      await hasSignificantChange(
        dir,
        files({ 'config/openclaw.json': configText('a', 't2'), 'metadata.json': '{"v":2}' }),
      ),
    ).toBe(false);
    expect(await hasSignificantChange(dir, files({ 'config/openclaw.json': configText('a', 't1') }))).toBe(
      false,
    );
    expect(
      await hasSignificantChange(
        dir,
        files({ 'config/openclaw.json': configText('b', 't1'), 'metadata.json': '{"v":1}' }),
      ),
    ).toBe(true);
  });

  it('a removed or added file is significant', async () => {
    await replaceNodeTree(dir, files({ a: '1', b: '2' }));
    expect(await hasSignificantChange(dir, files({ a: '1' }))).toBe(true);
    expect(await hasSignificantChange(dir, files({ a: '1', b: '2', c: '3' }))).toBe(true);
  });

  it('replaces the folder exactly, even where a file becomes a folder or a symlink was planted', async () => {
    await replaceNodeTree(dir, files({ 'workspace/memory': 'was a file', 'workspace/old/x.md': 'old' }));
    symlinkSync('/etc/passwd', join(dir, 'workspace/SOUL.md'));
    expect(
      await hasSignificantChange(
        dir,
        files({ 'workspace/memory': 'was a file', 'workspace/old/x.md': 'old' }),
      ),
    ).toBe(true);
    await replaceNodeTree(
      dir,
      files({ 'workspace/memory/today.md': 'now a folder', 'workspace/SOUL.md': 'mine' }),
    );
    expect(readFileSync(join(dir, 'workspace/memory/today.md'), 'utf8')).toBe('now a folder');
    expect(readFileSync(join(dir, 'workspace/SOUL.md'), 'utf8')).toBe('mine');
    expect(readFileSync('/etc/passwd', 'utf8')).not.toBe('mine');
    mkdirSync(join(dir, 'workspace/empty'));
    writeFileSync(join(dir, 'workspace/empty/stray'), 'x');
    await replaceNodeTree(dir, files({ 'workspace/SOUL.md': 'mine' }));
    expect(await hasSignificantChange(dir, files({ 'workspace/SOUL.md': 'mine' }))).toBe(false);
  });

  it('refuses paths that escape, reach .git, or are both file and folder', () => {
    for (const bad of ['../x', '/abs', 'a/../b', 'a//b', 'a/.git/config', 'a\\b', '']) {
      expect(() => checkNodeFiles(files({ [bad]: 'x' })), bad).toThrow(/backup file/);
    }
    expect(() => checkNodeFiles(files({ a: '1', 'a/b': '2' }))).toThrow(/also a folder/);
  });
});
