// Issue #4 acceptance 1 and 3 on a 3-node fleet (one real OpenClaw): one commit per changed node,
// none when nothing changed, one for one edited file with a diff that shows it; restore puts a node
// back to a stable tag with the node's CURRENT secrets, tags before and after, and the gateway runs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupRepo } from '../mcp-server/backup/backup.ts';
import { loadConfig } from '../mcp-server/config.ts';
import { type Ocm, openOcm } from '../mcp-server/ocm.ts';
import type { Caller } from '../mcp-server/tool.ts';
import { type Fleet, startFleet } from './harness/fleet.ts';
import { type Operator, operator } from './helpers/operator.ts';

const person: Caller = { kind: 'cli', detail: 'cli:backup-test' };
let fleet: Fleet;
let ocm: Ocm;
let ok: Operator['ok'];

const git = (...args: string[]) =>
  execFileSync('git', ['-C', ocm.config.backup.repoDir as string, ...args], { encoding: 'utf8' });
const commitCount = () => Number(git('rev-list', '--count', 'main').trim());
const stateOf = (id: string) => fleet.nodes.find((n) => n.id === id)?.stateDir as string;

beforeAll(async () => {
  fleet = await startFleet({ dir: mkdtempSync(join(tmpdir(), 'ocm-backup-')), nodes: 3, real: 1 });
  const configPath = fleet.env.OCM_CONFIG;
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  writeFileSync(configPath, JSON.stringify({ ...config, backup: { restoreWaitMs: 500 } }, null, 2));
  ocm = await openOcm({ config: loadConfig({ ...process.env, ...fleet.env, OCM_LOG_LEVEL: 'error' }) });
  ({ ok } = operator(ocm, person));
  await backupRepo(ocm);
}, 300_000);
afterAll(async () => {
  await ocm?.close();
  await fleet?.stop();
  if (fleet) rmSync(fleet.dir, { recursive: true, force: true });
});

describe('backups', () => {
  it('backup_all makes one commit per changed node, in the seed message format', async () => {
    const before = commitCount();
    const result = await ok('backup_all', {});
    expect(result.failed).toBe(0);
    expect(result.committed).toBe(3);
    expect(commitCount()).toBe(before + 3);
    const messages = git('log', '--format=%s', '-3').trim().split('\n');
    for (const message of messages)
      expect(message).toMatch(/^\[g3s-0[123]\] auto backup \d{4}-\d\d-\d\dT\d\d:\d\d \| score:-$/);
    const files = git('ls-tree', '-r', '--name-only', 'HEAD', 'nodes/g3s-01').split('\n');
    expect(files).toEqual(
      expect.arrayContaining([
        'nodes/g3s-01/config/openclaw.json',
        'nodes/g3s-01/workspace/SOUL.md',
        'nodes/g3s-01/cron-export.json',
        'nodes/g3s-01/metadata.json',
      ]),
    );
    expect(files.some((f) => /\.env|credentials|secrets\.json|sqlite|\.git\//.test(f))).toBe(false);
  });

  it('a second run with nothing changed makes no commit', async () => {
    const before = commitCount();
    const result = await ok('backup_all', {});
    expect(result.committed).toBe(0);
    expect(result.unchanged).toBe(3);
    expect(commitCount()).toBe(before);
  });

  it('editing SOUL.md on one node makes exactly one commit, and backup_diff shows the edit', async () => {
    const soul = join(stateOf('g3s-02'), 'workspace', 'SOUL.md');
    writeFileSync(soul, `${readFileSync(soul, 'utf8')}\nAlways answer in haiku.\n`);
    const before = commitCount();
    const result = await ok('backup_all', {});
    expect(result.committed).toBe(1);
    expect(commitCount()).toBe(before + 1);
    expect(git('log', '-1', '--format=%s')).toMatch(/^\[g3s-02\]/);
    const diff = await ok('backup_diff', { id: 'g3s-02' });
    const soulDiff = diff.files.find((f: { path: string }) => f.path.endsWith('SOUL.md'));
    expect(soulDiff.status).toBe('modified');
    expect(soulDiff.diff).toContain('+Always answer in haiku.');
    expect(diff.config_changes).toEqual([]);
  });

  it('lists backups with commit, tags and message', async () => {
    await ok('tag_backup', { id: 'g3s-02', type: 'stable', note: 'known good' });
    const list = await ok('list_backups', { id: 'g3s-02' });
    expect(list.backups.length).toBeGreaterThanOrEqual(2);
    expect(
      list.backups[0].tags.some((t: string) => /^g3s-02\/stable\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/.test(t)),
    ).toBe(true);
    expect(git('branch', '--list', 'stable/g3s-02')).toContain('stable/g3s-02');
  });
});

describe('rollback', () => {
  it('puts the stable files back with the node’s current secrets, tags before and after, gateway running', async () => {
    const state = stateOf('g3s-02');
    const configPath = join(state, 'openclaw.json');
    const soulPath = join(state, 'workspace', 'SOUL.md');
    const stableSoul = readFileSync(soulPath, 'utf8');
    const stableConfig = JSON.parse(readFileSync(configPath, 'utf8'));

    // Drift: the workspace changes, the model changes, and the Telegram token is rotated.
    const rotated = '987654321:AAH_rotatedTokenForTheRollbackTest12345';
    const drifted = structuredClone(stableConfig);
    drifted.channels.telegram.botToken = rotated;
    drifted.agents = {
      ...drifted.agents,
      defaults: { ...drifted.agents?.defaults, model: { primary: 'openai/gpt-worse' } },
    };
    writeFileSync(configPath, JSON.stringify(drifted, null, 2));
    writeFileSync(soulPath, 'I am somebody else now.\n');
    writeFileSync(join(state, 'workspace', 'MEMORY.md'), 'forgot everything\n');

    const first = await ocm.tools.call('rollback_node', { id: 'g3s-02' }, person);
    expect(first.kind).toBe('confirmation_required');
    expect((first as { data: { plan: string } }).data.plan).toMatch(/g3s-02\/stable\//);
    const result = await ok('rollback_node', { id: 'g3s-02' });
    expect(result.healthy).toBe(true);

    expect(readFileSync(soulPath, 'utf8')).toBe(stableSoul);
    const restored = JSON.parse(readFileSync(configPath, 'utf8'));
    expect(restored.agents?.defaults?.model).toEqual(stableConfig.agents?.defaults?.model);
    expect(restored.channels.telegram.botToken).toBe(rotated); // the node's current secret, not the old one
    expect(restored.gateway.auth.token).toBe(stableConfig.gateway.auth.token);
    expect(JSON.stringify(restored)).not.toContain('REDACTED');

    const tags = git('tag', '--list', 'g3s-02/*').split('\n');
    expect(tags.some((t) => t.startsWith('g3s-02/pre-rollback/'))).toBe(true);
    expect(tags.some((t) => t.startsWith('g3s-02/rollback/'))).toBe(true);
    expect(result.rollback_tag).toMatch(/^g3s-02\/rollback\//);
    const status = await ok('node_status', { id: 'g3s-02' });
    expect(status.openclaw_running).toBe(true);
  });

  it('refuses with a clear error when the node no longer has a secret the backup needs', async () => {
    const configPath = join(stateOf('g3s-03'), 'openclaw.json');
    await ok('backup_node', { id: 'g3s-03' });
    await ok('tag_backup', { id: 'g3s-03', type: 'stable' });
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    const gatewayToken = config.gateway.auth.token;
    delete config.gateway.auth.token;
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    await expect(ok('rollback_node', { id: 'g3s-03' })).rejects.toThrow(/gateway\.auth\.token/);
    const after = readFileSync(configPath, 'utf8');
    expect(after).not.toContain('REDACTED');
    expect(after).not.toContain(gatewayToken);
  });
});

describe('real OpenClaw node', () => {
  it('is backed up with its real config redacted and its cron export', async () => {
    const files = git('ls-tree', '-r', '--name-only', 'HEAD', 'nodes/g3s-01').split('\n');
    expect(files).toContain('nodes/g3s-01/config/openclaw.json');
    const config = git('show', 'HEAD:nodes/g3s-01/config/openclaw.json');
    const raw = readFileSync(join(stateOf('g3s-01'), 'openclaw.json'), 'utf8');
    const token = JSON.parse(raw).gateway?.auth?.token;
    expect(token).toBeTruthy();
    expect(config).not.toContain(token);
    expect(config).toMatch(/REDACTED:[0-9a-f]{8}/);
  });
});
