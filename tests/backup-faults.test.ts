// Issue #4 acceptance 4 and the second half of 3, on a 2-node sim fleet over real SSH: a node's
// sshd killed mid-backup fails the backup cleanly; OCM killed mid-restore is reported and repaired
// on the next start; a malicious tar changes nothing; a workspace symlink is never followed; a
// restore whose health check fails is undone and reported.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupRepo } from '../mcp-server/backup/backup.ts';
import { loadConfig } from '../mcp-server/config.ts';
import { CommandFailed } from '../mcp-server/errors.ts';
import type { OperationRow } from '../mcp-server/journal.ts';
import { fleetAccess } from '../mcp-server/nodes/status.ts';
import { type Ocm, openOcm } from '../mcp-server/ocm.ts';
import type { Caller } from '../mcp-server/tool.ts';
import { type Fleet, isAlive, startFleet } from './harness/fleet.ts';
import { plantWorkspaceSymlink, type SeededState } from './harness/seed-state.ts';
import { REPO } from './helpers/ocm-env.ts';
import { codeFromFile, operator } from './helpers/operator.ts';

const person: Caller = { kind: 'cli', detail: 'cli:backup-faults-test' };
let fleet: Fleet;
let ocm: Ocm;

const ocmEnv = () => ({ ...process.env, ...fleet.env, OCM_LOG_LEVEL: 'error' });
const git = (...args: string[]) =>
  execFileSync('git', ['-C', ocm.config.backup.repoDir as string, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
const commitCount = () => Number(git('rev-list', '--count', '--all').trim());
const stateOf = (id: string) => fleet.nodes.find((n) => n.id === id)?.stateDir as string;

const call = (tool: string, args: Record<string, unknown>, on: Ocm = ocm) =>
  operator(on, person).call(tool, args);
const ok = (tool: string, args: Record<string, unknown>, on: Ocm = ocm) =>
  operator(on, person).ok(tool, args);
/** The high-tier code as the file channel delivered it (what the human would read back). */
const codeFor = (token: string) => codeFromFile(fleet.env.OCM_CODE_FILE, token);

async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Every entry under `dir` (type, mode, content or link target), hashed; `skip` by relative path. */
function treeHash(dir: string, skip: (rel: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const child = rel ? `${rel}/${name}` : name;
      if (skip(child)) continue;
      const path = join(dir, child);
      const st = lstatSync(path);
      if (st.isSymbolicLink()) out.set(child, `link ${readlinkSync(path)}`);
      else if (st.isDirectory()) {
        out.set(child, `dir ${(st.mode & 0o7777).toString(8)}`);
        walk(child);
      } else {
        const digest = createHash('sha256').update(readFileSync(path)).digest('hex');
        out.set(child, `file ${(st.mode & 0o7777).toString(8)} ${digest}`);
      }
    }
  };
  walk('');
  return out;
}

/** The pid of a node's sim gateway (as it records itself), if that process is alive. */
function runningGatewayPid(id: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(join(stateOf(id), '.sim', 'gateway.pid'), 'utf8'), 10);
    return isAlive(pid) ? pid : null;
  } catch {
    return null;
  }
}

/** ocm-agent processes on this machine working on `id`'s state dir with `verb`. */
function agentProcesses(id: string, verb: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.endsWith('ocm-agent.sh')) && argv.includes(stateOf(id)) && argv.includes(verb)) {
        found.push(Number(entry));
      }
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

beforeAll(async () => {
  // Big enough workspaces (~6 MB a node) that a backup through a slow link streams for a while.
  fleet = await startFleet({
    dir: mkdtempSync(join(tmpdir(), 'ocm-backup-faults-')),
    nodes: 2,
    files: 120,
    fileBytes: 50_000,
  });
  const config = JSON.parse(readFileSync(fleet.env.OCM_CONFIG, 'utf8'));
  writeFileSync(fleet.env.OCM_CONFIG, JSON.stringify({ ...config, backup: { restoreWaitMs: 300 } }, null, 2));
  ocm = await openOcm({ config: loadConfig(ocmEnv()) });
  await backupRepo(ocm);
  await ok('backup_all', {});
}, 300_000);
afterAll(async () => {
  await ocm?.close();
  await fleet?.stop();
  if (fleet) rmSync(fleet.dir, { recursive: true, force: true });
});

describe('a node’s sshd killed mid-backup', () => {
  it('fails the backup cleanly: no partial commit, lock freed, node marked, event raised', async () => {
    const stageDirs = () =>
      readdirSync(join(stateOf('g3s-01'), '.ocm')).filter((n) => n.startsWith('backup.'));
    expect(stageDirs()).toEqual([]);
    const commits = commitCount();
    const tree = git('rev-parse', 'main^{tree}').trim();
    const tags = git('tag', '--list');

    await fleet.fault('slow', 'g3s-01', { delayMs: 300 });
    const backup = call('backup_node', { id: 'g3s-01', note: 'interrupted' });
    // The agent's staging dir exists from the start of `backup` until it has streamed everything.
    await until(() => stageDirs().length > 0, 90_000, "g3s-01's agent to start streaming its backup");
    await fleet.fault('offline', 'g3s-01');
    const outcome = await backup;

    expect(outcome.kind).toBe('error');
    expect((outcome as { message: string }).message).toMatch(/g3s-01/);
    expect(commitCount()).toBe(commits);
    expect(git('rev-parse', 'main^{tree}').trim()).toBe(tree);
    expect(git('tag', '--list')).toBe(tags);
    expect(git('status', '--porcelain')).toBe('');
    expect(ocm.locks.held()).toEqual([]);
    expect(['offline', 'error']).toContain(ocm.nodes.row('g3s-01')?.status);
    const events = await ok('list_events', { node: 'g3s-01', type: 'backup', severity: 'error' });
    expect(events.events[0]?.message).toMatch(/^backup of g3s-01 failed/);

    // Nothing is left locked: another node backs up at once, and this one once it is back.
    const other = await ok('backup_node', { id: 'g3s-02', note: 'after the fault' });
    expect(other.tag).toMatch(/^g3s-02\/manual\//);
    await fleet.fault('online', 'g3s-01');
    const again = await ok('backup_node', { id: 'g3s-01', note: 'after the fault' });
    expect(again.tag).toMatch(/^g3s-01\/manual\//);
    expect(ocm.locks.held()).toEqual([]);
    await fleet.fault('fast', 'g3s-01');
  });
});

interface TarEntry {
  name: string;
  type?: 'file' | 'symlink' | 'link' | 'fifo' | 'character-device' | 'directory';
  linkname?: string;
  body?: string;
}

/** A tar built entry by entry, names and link targets exactly as given (tar-stream checks nothing). */
async function buildTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = {
      name: e.name,
      type,
      linkname: e.linkname,
      mode: type === 'directory' ? 0o755 : 0o644,
      devmajor: 1,
      devminor: 3,
    };
    if (type === 'file') pack.entry(header, e.body ?? '');
    else pack.entry(header);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('a malicious restore tar', () => {
  it('is refused by the agent over SSH and changes nothing on the node', async () => {
    const id = 'g3s-02';
    const state = stateOf(id);
    const outside = mkdtempSync(join(fleet.dir, 'outside-'));
    writeFileSync(join(outside, 'victim.txt'), 'outside the state dir\n');
    // What a tar would do if accepted: a new config and a new soul, then the attack entry.
    const looksFine: TarEntry[] = [
      { name: 'openclaw.json', body: '{"pwned": true}\n' },
      { name: 'workspace/SOUL.md', body: 'pwned\n' },
    ];
    const attacks: Record<string, TarEntry[]> = {
      'relative escape': [{ name: '../escape', body: 'pwned\n' }],
      'escape through the layout': [{ name: 'workspace/memory/../../../escape', body: 'pwned\n' }],
      'absolute path': [{ name: join(outside, 'abs'), body: 'pwned\n' }],
      'absolute path inside the layout': [{ name: '/workspace/SOUL.md', body: 'pwned\n' }],
      'symlink out of the tree, then a file through it': [
        { name: 'workspace/memory/out', type: 'symlink', linkname: outside },
        { name: 'workspace/memory/out/pwned.md', body: 'pwned\n' },
      ],
      'symlink in place of a workspace file': [
        { name: 'workspace/USER.md', type: 'symlink', linkname: join(outside, 'victim.txt') },
      ],
      'hardlink to a file outside': [
        { name: 'workspace/memory/hard.md', type: 'link', linkname: join(outside, 'victim.txt') },
      ],
      'hardlink inside the layout': [
        { name: 'workspace/memory/hard.md', type: 'link', linkname: 'openclaw.json' },
      ],
      "the agent's own config": [
        { name: '.ocm/agent.conf', body: `GATEWAY_START=touch ${join(outside, 'pwned')}\n` },
      ],
      'a never-backed-up secret file': [{ name: '.env', body: 'ANTHROPIC_API_KEY=pwned\n' }],
      'a fifo': [{ name: 'workspace/memory/pipe', type: 'fifo' }],
      'a device': [{ name: 'workspace/memory/null', type: 'character-device' }],
    };

    const agent = await fleetAccess(ocm).agent(id);
    const gatewayPid = runningGatewayPid(id);
    expect(gatewayPid).not.toBeNull();
    const stateBefore = treeHash(state);
    const outsideBefore = treeHash(outside);

    for (const [attack, entries] of Object.entries(attacks)) {
      const tarball = await buildTar([...looksFine, ...entries]);
      const error = await agent.run('restore', [], { stdin: tarball, timeoutMs: 60_000 }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(error, attack).toBeInstanceOf(CommandFailed);
      expect((error as CommandFailed).exitCode, attack).toBe(3);
      expect((error as CommandFailed).message, attack).toMatch(/refused/);
    }

    expect(treeHash(state)).toEqual(stateBefore);
    expect(treeHash(outside)).toEqual(outsideBefore);
    for (const escaped of [
      join(state, '.ocm', 'escape'),
      join(state, 'escape'),
      join(state, '..', 'escape'),
    ]) {
      expect(existsSync(escaped), escaped).toBe(false);
    }
    expect(runningGatewayPid(id)).toBe(gatewayPid);
    const health = await ok('node_health', { id });
    expect(health.ok).toBe(true);
  });
});

describe('a workspace symlink pointing outside the state dir', () => {
  it('is never followed by a backup', async () => {
    const id = 'g3s-02';
    const outside = mkdtempSync(join(fleet.dir, 'outside-ws-'));
    const marker = `outside-only-${randomBytes(12).toString('hex')}`;
    writeFileSync(join(outside, 'notes.md'), `# notes\n${marker}\n`);
    mkdirSync(join(outside, 'skill'));
    writeFileSync(join(outside, 'skill', 'SKILL.md'), `---\nname: linked\n---\n${marker}\n`);
    const seeded = { workspaceDir: join(stateOf(id), 'workspace') } as SeededState;
    const links = ['HEARTBEAT.md', 'memory/linked-notes.md', 'memory/linked-dir', 'skills/linked-skill'];
    await plantWorkspaceSymlink(seeded, 'HEARTBEAT.md', join(outside, 'notes.md'));
    await plantWorkspaceSymlink(seeded, 'memory/linked-notes.md', join(outside, 'notes.md'));
    await plantWorkspaceSymlink(seeded, 'memory/linked-dir', outside);
    await plantWorkspaceSymlink(seeded, 'skills/linked-skill', join(outside, 'skill'));
    try {
      const result = await ok('backup_node', { id, note: 'with symlinks planted' });
      const files = git('ls-tree', '-r', '--name-only', result.commit, `nodes/${id}`).split('\n');
      expect(files).toContain(`nodes/${id}/workspace/SOUL.md`);
      expect(files.filter((f) => /HEARTBEAT|linked/.test(f))).toEqual([]);
      const everyObject = execFileSync(
        'git',
        ['-C', ocm.config.backup.repoDir as string, 'cat-file', '--batch-all-objects', '--batch'],
        {
          maxBuffer: 1 << 30,
        },
      );
      expect(everyObject.includes(marker)).toBe(false);
      expect(JSON.stringify(result)).not.toContain(marker);
    } finally {
      for (const link of links) rmSync(join(seeded.workspaceDir, link));
    }
  });
});

describe('a restore whose health check fails', () => {
  it('is undone automatically and reported: files as before, gateway running, a critical event', async () => {
    const id = 'g3s-02';
    const state = stateOf(id);
    const configPath = join(state, 'openclaw.json');
    const current = readFileSync(configPath, 'utf8');

    // A backup whose config the gateway refuses to start with (it is running, so it has not noticed).
    writeFileSync(configPath, JSON.stringify({ ...JSON.parse(current), simRefuseStart: true }, null, 2));
    await ok('backup_node', { id, note: 'config the gateway will refuse' });
    const { tag } = await ok('tag_backup', { id, type: 'manual', note: 'bad config' });
    writeFileSync(configPath, current);

    const skipAgentScratch = (rel: string) => rel === '.ocm' || rel === '.sim';
    const before = treeHash(state, skipAgentScratch);
    const outcome = await call('restore_node', { id, ref: tag });

    expect(outcome.kind).toBe('error');
    const message = (outcome as { message: string }).message;
    expect(message).toMatch(/failed its health check/);
    expect(message).toMatch(/undone from the node-local copy/);
    expect(message).not.toMatch(/UNDO FAILED/);
    expect(treeHash(state, skipAgentScratch)).toEqual(before);
    expect(readFileSync(configPath, 'utf8')).toBe(current);
    // The gateway really did refuse the restored config, the way the real one does.
    expect(readFileSync(join(state, '.ocm', 'gateway.log'), 'utf8')).toMatch(/Config invalid/);

    const status = await ok('node_status', { id });
    expect(status.openclaw_running).toBe(true);
    expect((await ok('node_health', { id })).ok).toBe(true);
    const events = await ok('list_events', { node: id, type: 'restore', severity: 'critical' });
    expect(events.events[0]?.message).toMatch(
      new RegExp(`^restore of ${id} to ${tag} failed its health check`),
    );
    expect(ocm.locks.held()).toEqual([]);
  }, 150_000); // OCM health-checks a restored node for 60 s before it gives up and undoes
});

describe('OCM killed mid-restore', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
  });

  it('is reported as interrupted on the next start, and the node’s gateway is running again', async () => {
    const id = 'g3s-01';
    const state = stateOf(id);
    const { tag } = await ok('tag_backup', { id, type: 'manual', note: 'restore target' });
    // A slow gateway stop keeps the gateway down for a while inside the agent's restore.
    const agentConf = join(state, '.ocm', 'agent.conf');
    const agentConfBefore = readFileSync(agentConf, 'utf8');
    appendFileSync(
      agentConf,
      `GATEWAY_STOP=sh ${join(REPO, 'tests', 'fixtures', 'slow-gateway-stop.sh')} ${state} 8\n`,
    );

    try {
      const first = await ocm.tools.call('restore_node', { id, ref: tag }, person);
      if (first.kind !== 'confirmation_required') throw new Error(JSON.stringify(first));
      const token = first.data.confirm_token;
      const restoreRow = () =>
        ocm.db
          .prepare(
            `SELECT * FROM operations WHERE tool = 'restore_node' AND target = ? ORDER BY started_at DESC LIMIT 1`,
          )
          .get(id) as OperationRow | undefined;
      const previousRow = restoreRow()?.id;

      child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          join(REPO, 'tests', 'fixtures', 'restore-in-child.ts'),
          id,
          tag,
          token,
          codeFor(token),
          person.detail,
        ],
        { cwd: REPO, env: ocmEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let childOutput = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        childOutput += chunk.toString();
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        childOutput += chunk.toString();
      });
      const exited = new Promise((done) => child?.once('exit', done));

      // Inside the agent's restore, with the gateway stopped: kill OCM there.
      await until(
        () => {
          if (child?.exitCode !== null)
            throw new Error(`the restore finished before it could be interrupted: ${childOutput}`);
          const row = restoreRow();
          return (
            row !== undefined &&
            row.id !== previousRow &&
            row.recovery !== null &&
            runningGatewayPid(id) === null
          );
        },
        120_000,
        `the restore of ${id} to reach its stopped-gateway window`,
      );
      child.kill('SIGKILL');
      await exited;
      // The agent dies with its SSH session; until it is gone it could still finish on its own.
      await until(() => agentProcesses(id, 'restore').length === 0, 30_000, `${id}'s agent restore to end`);
      expect(runningGatewayPid(id)).toBeNull();

      const next = await openOcm({ config: loadConfig(ocmEnv()) });
      try {
        const row = next.db
          .prepare('SELECT * FROM operations WHERE id = ?')
          .get(restoreRow()?.id) as OperationRow;
        expect(row.status).toBe('interrupted');
        const events = await ok('list_events', { node: id, type: 'operation' }, next);
        const reported = events.events.find((e: { message: string }) =>
          e.message.startsWith(`restore_node on ${id} was interrupted`),
        );
        expect(reported?.message).toMatch(/its OCM process stopped/);
        expect(reported?.message).toMatch(new RegExp(`started ${id}'s gateway again`));
        expect(reported?.severity).toBe('error');
        expect(runningGatewayPid(id)).not.toBeNull();
        expect((await ok('node_status', { id }, next)).openclaw_running).toBe(true);
        expect(next.locks.held()).toEqual([]);
        expect(ocm.locks.held()).toEqual([]);
      } finally {
        await next.close();
      }
    } finally {
      writeFileSync(agentConf, agentConfBefore);
    }
  });
});
