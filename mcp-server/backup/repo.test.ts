// BackupRepo against real git: a repo in a temp dir and a local bare repo as its remote.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInput } from '../errors.ts';
import { BackupRepo, type BackupRepoOptions } from './repo.ts';

let tmp: string;
let repoDir: string;
let bareDir: string;

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ocm-repo-test-'));
  repoDir = join(tmp, 'backups');
  bareDir = join(tmp, 'remote.git');
  execFileSync('git', ['init', '--quiet', '--bare', bareDir]);
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();
const commitCount = () => Number(git(repoDir, 'rev-list', '--count', 'HEAD'));
const open = (opts: BackupRepoOptions = {}) => BackupRepo.open(repoDir, opts);

const AT = Date.UTC(2026, 1, 15, 8, 0, 0); // 2026-02-15T08:00:00Z
const HOUR = 3600_000;
const DAY = 24 * HOUR;

function config(extra: Record<string, unknown> = {}): Buffer {
  const value = {
    meta: { lastTouchedVersion: '2026.9.6', lastTouchedAt: '2026-02-15T07:00:00.000Z' },
    agents: { defaults: { model: { primary: 'anthropic/claude-sonnet-4-5' } } },
    channels: { telegram: { botToken: '***REDACTED:0a1b2c3d***' } },
    ...extra,
  };
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
}

function nodeFiles(overrides: Record<string, Buffer | string | null> = {}): Map<string, Buffer> {
  const files = new Map<string, Buffer>([
    ['config/openclaw.json', config()],
    ['workspace/SOUL.md', Buffer.from('# Soul\nCalm and precise.\n')],
    ['workspace/MEMORY.md', Buffer.from('# Memory\n- likes tea\n')],
    ['workspace/memory/2026-02-14.md', Buffer.from('yesterday\n')],
    ['workspace/skills/weather/SKILL.md', Buffer.from('---\nname: weather\n---\n')],
    ['cron-export.json', Buffer.from('{"jobs":[]}\n')],
    ['metadata.json', Buffer.from('{"openclaw":"2026.9.6","taken":"2026-02-15T08:00:00Z"}\n')],
  ]);
  for (const [path, content] of Object.entries(overrides)) {
    if (content === null) files.delete(path);
    else files.set(path, typeof content === 'string' ? Buffer.from(content) : content);
  }
  return files;
}

describe('creating and reopening the repo', () => {
  it('starts on main with README.md and .ocm/changelog.md in the first commit, by OCM', async () => {
    await open();
    expect(git(repoDir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    expect(git(repoDir, 'ls-tree', '-r', '--name-only', 'HEAD').split('\n').sort()).toEqual([
      '.ocm/changelog.md',
      'README.md',
    ]);
    expect(git(repoDir, 'log', '-1', '--format=%an <%ae>')).toBe('OCM <ocm@localhost>');
    await open(); // reopening reuses it
    expect(commitCount()).toBe(1);
  });

  it('finishes a repo whose first open died before the first commit', async () => {
    execFileSync('git', ['-c', 'init.defaultBranch=master', 'init', '--quiet', repoDir]);
    const repo = await open();
    expect(git(repoDir, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    expect(git(repoDir, 'ls-tree', '-r', '--name-only', 'HEAD')).toContain('.ocm/changelog.md');
    expect((await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT })).changed).toBe(true);
  });

  it('refuses a folder that has files but is not a repo', async () => {
    rmSync(repoDir, { recursive: true, force: true });
    execFileSync('mkdir', ['-p', repoDir]);
    writeFileSync(join(repoDir, 'notes.txt'), 'mine');
    await expect(open()).rejects.toThrow(/not empty and not a git repository/);
  });

  it('discards uncommitted leftovers of an interrupted write when reopened', async () => {
    const repo = await open();
    await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT });
    writeFileSync(join(repoDir, 'nodes/g3s-01/workspace/SOUL.md'), 'half-written');
    writeFileSync(join(repoDir, 'nodes/g3s-01/workspace/stray.md'), 'stray');
    await open();
    expect(git(repoDir, 'status', '--porcelain')).toBe('');
    expect(readFileSync(join(repoDir, 'nodes/g3s-01/workspace/SOUL.md'), 'utf8')).toBe(
      '# Soul\nCalm and precise.\n',
    );
  });
});

describe('commitNode', () => {
  it('commits a node the first time, with the message and changelog line in the same commit', async () => {
    const repo = await open();
    const files = nodeFiles();
    const result = await repo.commitNode('g3s-01', files, { type: 'auto', at: AT, score: 92 });

    expect(result.changed).toBe(true);
    expect(result.commit).toBe(git(repoDir, 'rev-parse', 'HEAD'));
    expect(result.fileCount).toBe(files.size);
    expect(result.totalBytes).toBe([...files.values()].reduce((n, b) => n + b.length, 0));
    expect(result.changedFiles).toEqual([...files.keys()].sort());
    expect(git(repoDir, 'log', '-1', '--format=%s')).toBe('[g3s-01] auto backup 2026-02-15T08:00 | score:92');
    expect(Number(git(repoDir, 'log', '-1', '--format=%at')) * 1000).toBe(AT);
    expect(git(repoDir, 'show', '--name-only', '--format=', 'HEAD').split('\n')).toContain(
      '.ocm/changelog.md',
    );
    expect(git(repoDir, 'show', 'HEAD:.ocm/changelog.md')).toMatch(
      /\[g3s-01\] auto backup \| score:92 \| 7 files: /,
    );
    expect(git(repoDir, 'show', 'HEAD:nodes/g3s-01/workspace/memory/2026-02-14.md')).toBe('yesterday');
  });

  it('writes "score:-" without a score and names the backup type', async () => {
    const repo = await open();
    await repo.commitNode('g3s-02', nodeFiles(), { type: 'pre-rollback', at: AT + 90_000 });
    expect(git(repoDir, 'log', '-1', '--format=%s')).toBe(
      '[g3s-02] pre-rollback backup 2026-02-15T08:01 | score:-',
    );
    await repo.commitNode('g3s-02', nodeFiles({ 'workspace/SOUL.md': 'new\n' }), {
      type: 'manual',
      at: AT,
      score: null,
    });
    expect(git(repoDir, 'log', '-1', '--format=%s')).toBe(
      '[g3s-02] manual backup 2026-02-15T08:00 | score:-',
    );
  });

  it('makes no commit, and starts no git process, when nothing changed', async () => {
    const repo = await open();
    const first = await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT });
    const before = commitCount();
    const path = process.env.PATH;
    process.env.PATH = join(tmp, 'no-git-here'); // any git spawn would now fail
    try {
      const again = await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT + HOUR });
      expect(again).toMatchObject({ changed: false, commit: first.commit, changedFiles: [] });
    } finally {
      process.env.PATH = path;
    }
    expect(commitCount()).toBe(before);
  });

  it('makes no commit when only volatile config fields and metadata.json changed', async () => {
    const repo = await open();
    await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT });
    const before = commitCount();
    const stamped = Buffer.from(
      config()
        .toString()
        .replace('"lastTouchedVersion": "2026.9.6"', '"lastTouchedVersion": "2026.9.7"')
        .replace('2026-02-15T07:00:00.000Z', '2026-02-15T09:30:00.000Z'),
    );
    const result = await repo.commitNode(
      'g3s-01',
      nodeFiles({ 'config/openclaw.json': stamped, 'metadata.json': '{"taken":"later"}\n' }),
      { type: 'auto', at: AT + HOUR },
    );
    expect(result.changed).toBe(false);
    expect(commitCount()).toBe(before);
    expect(git(repoDir, 'status', '--porcelain')).toBe('');
  });

  it('commits a real config change, and shows it key by key', async () => {
    const repo = await open();
    const first = await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT });
    const changedConfig = config({ agents: { defaults: { model: { primary: 'openai/gpt-5' } } } });
    const second = await repo.commitNode('g3s-01', nodeFiles({ 'config/openclaw.json': changedConfig }), {
      type: 'auto',
      at: AT + HOUR,
    });
    expect(second.changedFiles).toEqual(['config/openclaw.json']);
    const diff = await repo.diff('g3s-01', first.commit, second.commit);
    expect(diff.config_changes).toEqual([
      {
        path: 'agents.defaults.model.primary',
        change: 'changed',
        before: 'anthropic/claude-sonnet-4-5',
        after: 'openai/gpt-5',
      },
    ]);
    expect(diff.files).toEqual([]);
  });

  it('one changed workspace file makes exactly one commit whose diff shows it', async () => {
    const repo = await open();
    const first = await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT });
    const before = commitCount();
    const changed = nodeFiles({
      'workspace/MEMORY.md': '# Memory\n- likes tea\n- moved to Lisbon\n',
      'metadata.json': '{"new":1}\n',
    });
    const second = await repo.commitNode('g3s-01', changed, { type: 'auto', at: AT + HOUR, score: 88 });

    expect(commitCount()).toBe(before + 1);
    expect(second.changedFiles).toEqual(['metadata.json', 'workspace/MEMORY.md']);
    expect(git(repoDir, 'diff', '--name-only', first.commit, second.commit).split('\n').sort()).toEqual([
      '.ocm/changelog.md',
      'nodes/g3s-01/metadata.json',
      'nodes/g3s-01/workspace/MEMORY.md',
    ]);
    const diff = await repo.diff('g3s-01', first.commit, 'main');
    const memory = diff.files.find((f) => f.path === 'workspace/MEMORY.md');
    expect(memory?.status).toBe('modified');
    expect(memory?.diff).toContain('+- moved to Lisbon');
    expect(diff.config_changes).toEqual([]);
  });

  it('removes a file the node no longer has', async () => {
    const repo = await open();
    const first = await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT });
    const second = await repo.commitNode('g3s-01', nodeFiles({ 'workspace/memory/2026-02-14.md': null }), {
      type: 'auto',
      at: AT + HOUR,
    });
    expect(second.changedFiles).toEqual(['workspace/memory/2026-02-14.md']);
    expect(git(repoDir, 'ls-tree', '-r', '--name-only', 'HEAD', 'nodes/g3s-01')).not.toContain(
      '2026-02-14.md',
    );
    expect(existsSync(join(repoDir, 'nodes/g3s-01/workspace/memory'))).toBe(false);
    const diff = await repo.diff('g3s-01', first.commit, second.commit);
    expect(diff.files).toEqual([
      expect.objectContaining({ path: 'workspace/memory/2026-02-14.md', status: 'removed' }),
    ]);
  });

  it('keeps files a planted .gitignore or .gitattributes would hide or convert', async () => {
    const repo = await open();
    const files = nodeFiles({
      'workspace/skills/weather/.gitignore': '*\n',
      'workspace/skills/weather/.gitattributes': '* text eol=crlf\n',
      'workspace/skills/weather/run.sh': 'echo hi\r\necho there\r\n',
    });
    await repo.commitNode('g3s-01', files, { type: 'auto', at: AT });
    const back = await repo.readNodeFiles('g3s-01', 'main');
    expect(back.get('workspace/skills/weather/run.sh')?.toString()).toBe('echo hi\r\necho there\r\n');
    expect([...back.keys()].sort()).toEqual([...files.keys()].sort());
  });

  it('reads back exactly what was committed, binary files included', async () => {
    const repo = await open();
    const files = nodeFiles({ 'workspace/memory/blob.bin': Buffer.from([0, 1, 2, 10, 13, 255, 10]) });
    const { commit } = await repo.commitNode('g3s-01', files, { type: 'auto', at: AT });
    await repo.commitNode('g3s-01', nodeFiles({ 'workspace/SOUL.md': 'later\n' }), {
      type: 'auto',
      at: AT + HOUR,
    });
    const back = await repo.readNodeFiles('g3s-01', commit.slice(0, 10));
    expect([...back.keys()].sort()).toEqual([...files.keys()].sort());
    for (const [path, content] of files) expect(back.get(path)?.equals(content), path).toBe(true);
    await expect(repo.readNodeFiles('g3s-09', 'main')).rejects.toThrow(/holds no backup of g3s-09/);
  });

  it('refuses file paths that could leave the node folder', async () => {
    const repo = await open();
    for (const bad of [
      '../escape.md',
      '/etc/passwd',
      'workspace/.git/hooks/post-commit',
      'a//b',
      'workspace/./x',
    ]) {
      await expect(
        repo.commitNode('g3s-01', nodeFiles({ [bad]: 'x' }), { type: 'auto', at: AT }),
      ).rejects.toBeInstanceOf(InvalidInput);
    }
    await expect(repo.commitNode('../g3s-01', nodeFiles(), { type: 'auto', at: AT })).rejects.toMatchObject({
      field: 'node',
    });
    await expect(repo.commitNode('g3s-01', new Map(), { type: 'auto', at: AT })).rejects.toMatchObject({
      field: 'files',
    });
  });

  it('refuses to write or commit anything secret-shaped that redaction missed', async () => {
    const repo = await open();
    await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT });
    const before = commitCount();
    const token = `ghp_${'A1b2C3d4E5'.repeat(4)}`;
    const leaky = nodeFiles({ 'workspace/MEMORY.md': `# Memory\nmy github token is ${token}\n` });
    await expect(repo.commitNode('g3s-01', leaky, { type: 'auto', at: AT + HOUR })).rejects.toThrow(
      /refusing to back up g3s-01: .*workspace\/MEMORY\.md line 2 \(github-token\)/,
    );
    expect(commitCount()).toBe(before);
    expect(git(repoDir, 'status', '--porcelain')).toBe('');
    expect(readFileSync(join(repoDir, 'nodes/g3s-01/workspace/MEMORY.md'), 'utf8')).not.toContain(token);
  });

  it('commits 5 nodes in parallel as 5 commits, without index.lock errors', async () => {
    const repo = await open();
    const before = commitCount();
    const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const results = await Promise.all(
      nodes.map((n, i) => repo.commitNode(n, nodeFiles(), { type: 'auto', at: AT + i })),
    );
    expect(results.every((r) => r.changed)).toBe(true);
    expect(commitCount()).toBe(before + 5);
    expect(new Set(results.map((r) => r.commit)).size).toBe(5);
    expect(git(repoDir, 'status', '--porcelain')).toBe('');
  });

  it('two repo handles (as two OCM processes would) take turns through the commit lock', async () => {
    let held = false;
    let overlaps = 0;
    let turns = 0;
    const withCommitLock = async <T>(fn: () => Promise<T>): Promise<T> => {
      while (held) await new Promise((r) => setTimeout(r, 1));
      held = true;
      turns++;
      try {
        return await fn();
      } finally {
        held = false;
      }
    };
    const countOverlap = async <T>(fn: () => Promise<T>) => {
      if (held) overlaps++;
      return withCommitLock(fn);
    };
    const a = await open({ withCommitLock: countOverlap });
    const b = await open({ withCommitLock: countOverlap });
    const before = commitCount();
    await Promise.all([
      ...['a1', 'a2', 'a3'].map((n) => a.commitNode(n, nodeFiles(), { type: 'auto', at: AT })),
      ...['b1', 'b2', 'b3'].map((n) => b.commitNode(n, nodeFiles(), { type: 'auto', at: AT })),
    ]);
    expect(commitCount()).toBe(before + 6);
    expect(turns).toBeGreaterThanOrEqual(8); // 2 opens + 6 commits, each inside the lock
    expect(overlaps).toBeGreaterThan(0); // the handles did contend, and still no index.lock error
  });
});

describe("OCM's own files", () => {
  it('commits ocm-master/ (replaced whole) and .ocm/scores.json, and nothing else', async () => {
    const repo = await open();
    const first = await repo.commitOwnFiles(
      new Map([
        ['ocm-master/ocm.db', Buffer.from([1, 2, 3])],
        ['ocm-master/templates/soul.md', Buffer.from('t\n')],
        ['.ocm/scores.json', Buffer.from('{"g3s-01":[92]}\n')],
      ]),
      'OCM master state',
    );
    expect(first.changed).toBe(true);
    expect(git(repoDir, 'log', '-1', '--format=%s')).toBe('OCM master state');
    const second = await repo.commitOwnFiles(
      new Map([['ocm-master/ocm.db', Buffer.from([1, 2, 3])]]),
      'again',
    );
    expect(second.changed).toBe(true); // the template is gone from ocm-master/
    expect(git(repoDir, 'ls-tree', '-r', '--name-only', 'HEAD').split('\n')).toEqual([
      '.ocm/changelog.md',
      '.ocm/scores.json',
      'README.md',
      'ocm-master/ocm.db',
    ]);
    expect(
      await repo.commitOwnFiles(new Map([['ocm-master/ocm.db', Buffer.from([1, 2, 3])]]), 'same'),
    ).toEqual({
      changed: false,
      commit: second.commit,
    });
    await expect(
      repo.commitOwnFiles(new Map([['nodes/g3s-01/x', Buffer.from('x')]]), 'no'),
    ).rejects.toMatchObject({
      field: 'files',
    });
    await expect(repo.commitOwnFiles(new Map(), 'no')).rejects.toMatchObject({ field: 'files' });
  });
});

describe('tags and branches', () => {
  it('names tags {node}/{type}/{timestamp}, annotated, and moves stable/<node>', async () => {
    const repo = await open();
    const { commit } = await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT, score: 92 });
    const tag = await repo.tagNode('g3s-01', 'stable', AT, commit, 'score 92');
    expect(tag).toBe('g3s-01/stable/2026-02-15T08-00-00Z');
    expect(git(repoDir, 'cat-file', '-t', `refs/tags/${tag}`)).toBe('tag');
    expect(git(repoDir, 'rev-parse', 'refs/heads/stable/g3s-01')).toBe(commit);
    expect(await repo.tagNode('g3s-01', 'stable', AT, commit)).toBe('g3s-01/stable/2026-02-15T08-00-00Z-2');

    const later = await repo.commitNode('g3s-01', nodeFiles({ 'workspace/SOUL.md': 'v2\n' }), {
      type: 'auto',
      at: AT + DAY,
    });
    expect(await repo.tagNode('g3s-01', 'pre-rollback', AT + DAY, later.commit)).toBe(
      'g3s-01/pre-rollback/2026-02-16T08-00-00Z',
    );
    expect(git(repoDir, 'rev-parse', 'refs/heads/stable/g3s-01')).toBe(commit); // only stable tags move it

    const snapshot = await repo.snapshotBranch('g3s-01', AT + DAY, later.commit);
    expect(snapshot).toBe('snapshots/g3s-01/2026-02-16T08-00-00Z');
    expect(git(repoDir, 'rev-parse', `refs/heads/${snapshot}`)).toBe(later.commit);
    expect(await repo.snapshotBranch('g3s-01', AT + DAY, later.commit)).toBe(
      'snapshots/g3s-01/2026-02-16T08-00-00Z-2',
    );

    expect((await repo.latestTag('g3s-01', 'stable'))?.name).toBe('g3s-01/stable/2026-02-15T08-00-00Z-2');
    expect(await repo.latestTag('g3s-01', 'rollback')).toBeNull();
    const tags = await repo.listNodeTags('g3s-01');
    expect(tags.map((t) => t.name)).toEqual([
      'g3s-01/pre-rollback/2026-02-16T08-00-00Z',
      'g3s-01/stable/2026-02-15T08-00-00Z-2',
      'g3s-01/stable/2026-02-15T08-00-00Z',
    ]);
    expect(tags[2]).toMatchObject({ type: 'stable', at: AT, commit, note: 'score 92' });

    const history = await repo.listNodeHistory('g3s-01', 10);
    expect(history.map((h) => h.commit)).toEqual([later.commit, commit]);
    expect(history[1]).toMatchObject({ at: AT, message: '[g3s-01] auto backup 2026-02-15T08:00 | score:92' });
    expect(history[1]?.tags.sort()).toEqual([
      'g3s-01/stable/2026-02-15T08-00-00Z',
      'g3s-01/stable/2026-02-15T08-00-00Z-2',
    ]);
    expect(await repo.listNodeHistory('g3s-01', 1)).toHaveLength(1);
  });

  it('marks a cluster deploy once per version with all/deploy/v<version>', async () => {
    const repo = await open();
    const first = await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT });
    const second = await repo.commitNode('g3s-01', nodeFiles({ 'workspace/SOUL.md': 'v2\n' }), {
      type: 'auto',
      at: AT + HOUR,
    });
    expect(await repo.tagDeploy('2026.9.6', first.commit)).toBe('all/deploy/v2026.9.6');
    expect(await repo.tagDeploy('2026.9.6', first.commit)).toBe('all/deploy/v2026.9.6');
    await expect(repo.tagDeploy('2026.9.6', second.commit)).rejects.toThrow(/already marks another commit/);
    await expect(repo.tagDeploy('latest; rm -rf /', first.commit)).rejects.toMatchObject({
      field: 'version',
    });
    expect(await repo.resolveRef('all/deploy/v2026.9.6')).toBe(first.commit);
    expect((await repo.deleteRef('all/deploy/v2026.9.6')).kind).toBe('tag');
  });

  it('resolves tags, branches and short hashes to the commit', async () => {
    const repo = await open();
    const { commit } = await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT });
    const tag = await repo.tagNode('g3s-01', 'manual', AT, commit);
    await repo.tagNode('g3s-01', 'stable', AT, commit);
    for (const ref of [tag, 'stable/g3s-01', 'main', commit, commit.slice(0, 7), commit.toUpperCase()]) {
      expect(await repo.resolveRef(ref), ref).toBe(commit);
    }
    await expect(repo.resolveRef('g3s-01/rollback/2026-02-15T08-00-00Z')).rejects.toThrow(
      /no such tag, branch or commit/,
    );
  });

  it('refuses hostile or malformed refs before they reach git, naming the field', async () => {
    const repo = await open();
    const { commit } = await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT });
    const marker = join(tmp, 'pwned');
    const hostile = [
      `--upload-pack=touch ${marker}`,
      '-n',
      'main..HEAD',
      'HEAD~1',
      'main^',
      '@{-1}',
      'main:README.md',
      'refs/heads/main',
      'g3s-01/stable/../../main',
      'g3s-01/stable/2026-13-45T08-00-00Z',
      'stable/g3s-01 main',
      'stable/G3S',
      '',
    ];
    for (const ref of hostile) {
      await expect(repo.resolveRef(ref), ref).rejects.toMatchObject({ name: 'InvalidInput', field: 'ref' });
    }
    await expect(repo.diff('g3s-01', '--output=/tmp/x', 'main')).rejects.toMatchObject({ field: 'from' });
    await expect(repo.diff('g3s-01', 'main', 'HEAD@{1}')).rejects.toMatchObject({ field: 'to' });
    await expect(repo.readNodeFiles('g3s-01', '-p')).rejects.toBeInstanceOf(InvalidInput);
    await expect(repo.tagNode('g3s-01', 'stable', AT, '--all')).rejects.toMatchObject({ field: 'commit' });
    await expect(repo.tagNode('g3s-01', 'bogus' as 'stable', AT, commit)).rejects.toMatchObject({
      field: 'type',
    });
    await expect(repo.listNodeHistory('g3s-01 --all')).rejects.toMatchObject({ field: 'node' });
    await expect(repo.deleteRef('main')).rejects.toThrow(/cannot be deleted/);
    await expect(repo.deleteRef('stable/g3s-01')).rejects.toThrow(/cannot be deleted/);
    await expect(repo.deleteRef(commit)).rejects.toThrow(/cannot be deleted/);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('the remote', () => {
  it('pushes main, tags, stable/ and snapshots/ branches to a bare repo', async () => {
    const repo = await open({ remote: bareDir });
    const { commit } = await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT });
    const tag = await repo.tagNode('g3s-01', 'stable', AT, commit);
    const snapshot = await repo.snapshotBranch('g3s-01', AT, commit);
    const pushed = await repo.push();
    expect(pushed).toEqual({ ok: true, attempts: 1 });

    const refs = new Map(
      git(tmp, 'ls-remote', bareDir)
        .split('\n')
        .map((line) => line.split('\t').reverse() as [string, string]),
    );
    expect(refs.get('refs/heads/main')).toBe(commit);
    expect(refs.get('refs/heads/stable/g3s-01')).toBe(commit);
    expect(refs.get(`refs/heads/${snapshot}`)).toBe(commit);
    expect(refs.get(`refs/tags/${tag}^{}`)).toBe(commit);
    expect(git(repoDir, 'remote', 'get-url', 'origin')).toBe(bareDir);
  });

  it('a stable point that moved back in history still pushes', async () => {
    const repo = await open({ remote: bareDir });
    const first = await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT });
    const second = await repo.commitNode('g3s-01', nodeFiles({ 'workspace/SOUL.md': 'v2\n' }), {
      type: 'auto',
      at: AT + HOUR,
    });
    await repo.tagNode('g3s-01', 'stable', AT + HOUR, second.commit);
    expect((await repo.push()).ok).toBe(true);
    await repo.tagNode('g3s-01', 'stable', AT + 2 * HOUR, first.commit);
    expect((await repo.push()).ok).toBe(true);
    expect(git(bareDir, 'rev-parse', 'refs/heads/stable/g3s-01')).toBe(first.commit);
  });

  it('an unreachable remote gives ok:false after every attempt, keeps the commit, and leaks no credential', async () => {
    const token = 'ghp_NotARealTokenButSecret123';
    const repo = await open({
      remote: `https://x-access-token:${token}@127.0.0.1:1/org/backups.git`,
      pushRetries: 2,
      pushBackoffMs: 10,
    });
    const { commit } = await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT });
    const pushed = await repo.push();
    expect(pushed.ok).toBe(false);
    expect(pushed.attempts).toBe(3);
    expect(pushed.error).toBeTruthy();
    expect(pushed.error).not.toContain(token);
    expect(git(repoDir, 'rev-parse', 'HEAD')).toBe(commit);
    expect(readFileSync(join(repoDir, '.git/config'), 'utf8')).not.toContain(token);
    expect(git(repoDir, 'remote', 'get-url', 'origin')).toBe('https://127.0.0.1:1/org/backups.git');
  });

  it('uses the configured GIT_SSH_COMMAND for ssh remotes', async () => {
    const calls = join(tmp, 'ssh-calls');
    // Named `ssh` so git treats it as OpenSSH (it passes the port as `-p`).
    execFileSync('mkdir', ['-p', join(tmp, 'bin')]);
    const fakeSsh = join(tmp, 'bin', 'ssh');
    writeFileSync(
      fakeSsh,
      `#!/bin/sh\necho "$@" >> '${calls}'\necho "ssh: connect to host refused" >&2\nexit 255\n`,
    );
    chmodSync(fakeSsh, 0o755);
    const repo = await open({
      remote: 'ssh://git@127.0.0.1:1/org/backups.git',
      gitSshCommand: fakeSsh,
      pushRetries: 0,
    });
    await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT });
    const pushed = await repo.push();
    expect(pushed).toMatchObject({ ok: false, attempts: 1 });
    expect(pushed.error).toMatch(/refused/);
    expect(readFileSync(calls, 'utf8')).toMatch(/git@127\.0\.0\.1.*git-receive-pack '\/org\/backups\.git'/);
  });

  it('refuses a remote git would read as an option or a helper program', async () => {
    for (const remote of ['--upload-pack=sh', 'ext::sh -c touch% /tmp/x', 'a b']) {
      await expect(open({ remote })).rejects.toMatchObject({ name: 'InvalidInput', field: 'backup.remote' });
    }
  });

  it('no remote configured: push is skipped, not failed', async () => {
    const repo = await open();
    expect(await repo.push()).toEqual({ ok: true, attempts: 0, skipped: true });
  });

  it('deletes a tag and a snapshot branch here and on the remote', async () => {
    const repo = await open({ remote: bareDir });
    const { commit } = await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT });
    const tag = await repo.tagNode('g3s-01', 'stable', AT, commit);
    const snapshot = await repo.snapshotBranch('g3s-01', AT, commit);
    await repo.push();

    expect(await repo.deleteRef(tag)).toEqual({ name: tag, kind: 'tag', remote: { ok: true } });
    expect(await repo.deleteRef(snapshot)).toEqual({
      name: snapshot,
      kind: 'snapshot',
      remote: { ok: true },
    });
    expect(git(repoDir, 'tag', '--list')).toBe('');
    const remoteRefs = git(tmp, 'ls-remote', bareDir);
    expect(remoteRefs).not.toContain(tag);
    expect(remoteRefs).not.toContain(snapshot);
    expect(remoteRefs).toContain('refs/heads/stable/g3s-01'); // a stable tag goes, the branch stays
    await expect(repo.deleteRef(tag)).rejects.toThrow(/no tag or snapshot branch named/);
  });

  it('cleans up snapshot branches older than the retention, locally and on the remote, never main', async () => {
    const repo = await open({ remote: bareDir });
    const { commit } = await repo.commitNode('g3s-01', nodeFiles(), { type: 'auto', at: AT });
    const now = AT + 60 * DAY;
    const names = [];
    for (const age of [40, 31, 29, 0])
      names.push(await repo.snapshotBranch('g3s-01', now - age * DAY, commit));
    await repo.snapshotBranch('g3s-02', now - 45 * DAY, commit);
    expect((await repo.push()).ok).toBe(true);

    const cleanup = await repo.cleanupSnapshots(30, now);
    expect(cleanup.deleted.sort()).toEqual(
      [names[0], names[1], 'snapshots/g3s-02/2026-03-02T08-00-00Z'].sort(),
    );
    expect(cleanup.remote?.ok).toBe(true);
    expect(cleanup.remote?.deleted.sort()).toEqual(cleanup.deleted.sort());

    const local = git(repoDir, 'for-each-ref', '--format=%(refname:strip=2)', 'refs/heads')
      .split('\n')
      .sort();
    expect(local).toEqual(['main', names[2], names[3]].sort());
    const remote = git(tmp, 'ls-remote', '--heads', bareDir);
    expect(remote).toContain('refs/heads/main');
    expect(remote).toContain(`refs/heads/${names[2]}`);
    expect(remote).not.toContain(`refs/heads/${names[0]}`);
    expect(remote).not.toContain('g3s-02');
  });
});
