// ocm-agent.sh run for real (bash, tar, the sim `openclaw` on PATH) against a seeded state dir:
// the JSON each verb prints, what a backup holds and never holds, restore's refusals and its
// undo, and that hostile input stays data.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import tar from 'tar-stream';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agentScriptVersion } from '../mcp-server/nodes/agent-client.ts';
import { isAlive } from '../tests/harness/processes.ts';
import { plantWorkspaceSymlink, type SeededState, seedState } from '../tests/harness/seed-state.ts';

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
const AGENT = join(REPO, 'agent', 'ocm-agent.sh');
const AGENT_VERSION = agentScriptVersion(readFileSync(AGENT, 'utf8'));
const SIM_BIN = join(REPO, 'tests', 'harness', 'sim');

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

function runAgent(stateDir: string, args: readonly string[], stdin?: Buffer): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn('bash', [AGENT, ...args], {
      env: { ...process.env, OPENCLAW_STATE_DIR: stateDir, PATH: `${SIM_BIN}:${process.env.PATH}` },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.end(stdin ?? Buffer.alloc(0));
  });
}

/** Run a JSON verb: exactly one JSON object on stdout, nothing after it. */
async function json(
  stateDir: string,
  args: readonly string[],
  stdin?: Buffer,
): Promise<{ code: number | null; body: Record<string, unknown>; stderr: string }> {
  const run = await runAgent(stateDir, args, stdin);
  const text = run.stdout.toString();
  expect(
    text.endsWith('\n'),
    `stdout of ${args.join(' ')} ends with one newline: ${JSON.stringify(text)}`,
  ).toBe(true);
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(typeof body === 'object' && body !== null && !Array.isArray(body)).toBe(true);
  return { code: run.code, body, stderr: run.stderr };
}

interface Member {
  name: string;
  type: string;
  content: Buffer;
}

async function readTar(buffer: Buffer): Promise<Member[]> {
  const extract = tar.extract();
  const members: Member[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      members.push({
        name: entry.header.name,
        type: entry.header.type ?? 'file',
        content: Buffer.concat(chunks),
      });
    }
  })();
  extract.end(buffer);
  await done;
  return members;
}

type Entry = {
  name: string;
  content?: string;
  type?: 'file' | 'symlink' | 'link' | 'directory';
  linkname?: string;
};
async function makeTar(entries: readonly Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === 'symlink' || e.type === 'link')
      pack.entry({ name: e.name, type: e.type, linkname: e.linkname ?? '' });
    else if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory' });
    else pack.entry({ name: e.name }, e.content ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Every path under the state dir (except the agent's own .ocm) with its type and content hash. */
function snapshot(stateDir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const rel = relative(stateDir, path);
      if (rel === '.ocm' || rel === '.sim') continue;
      const st = lstatSync(path);
      if (st.isSymbolicLink()) out[rel] = 'symlink';
      else if (st.isDirectory()) {
        out[rel] = 'dir';
        walk(path);
      } else out[rel] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(stateDir);
  return out;
}

function hasSqlite3CommandLine(): boolean {
  try {
    execFileSync('sqlite3', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Live, non-zombie processes in a process group. */
function groupMembers(pgid: number): number[] {
  const out = execFileSync('ps', ['-A', '-o', 'pgid=,pid=,stat='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([group, , stat]) => Number(group) === pgid && stat !== undefined && !/^[ZX]/.test(stat))
    .map(([, pid]) => Number(pid));
}

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

async function freshNode(): Promise<SeededState> {
  const dir = await mkdtemp(join(tmpdir(), 'ocm-agent-test-'));
  scratch.push(dir);
  return seedState({
    stateDir: join(dir, 'state'),
    nodeName: 'agent-test',
    agentConf: { gatewayStart: `${join(SIM_BIN, 'openclaw')} gateway run` },
  });
}

let node: SeededState;
beforeEach(async () => {
  node = await freshNode();
});
afterEach(async () => {
  // Whatever a test started, stop it (by the pid the agent recorded).
  await runAgent(node.stateDir, ['openclaw-stop']);
});

describe('ocm-agent.sh basics', () => {
  it('is valid bash and starts with the version line OCM reads', () => {
    execFileSync('bash', ['-n', AGENT]);
    const first = readFileSync(AGENT, 'utf8').split('\n')[0];
    expect(first).toMatch(/^OCM_AGENT_VERSION="\d+\.\d+\.\d+"$/);
  });

  it('answers version, status and openclaw-version with the contract shapes', async () => {
    const version = await json(node.stateDir, ['version']);
    expect(version).toMatchObject({ code: 0, body: { agent_version: AGENT_VERSION } });

    const status = await json(node.stateDir, ['status']);
    expect(status.code).toBe(0);
    const shape = z.object({
      agent_version: z.literal(AGENT_VERSION),
      hostname: z.string().min(1),
      os: z.enum(['Linux', 'Darwin']),
      arch: z.string().min(1),
      cpu_pct: z.number().min(0).max(100),
      mem_pct: z.number().min(0).max(100),
      mem_total_mb: z.number().int().positive(),
      disk_pct: z.number().min(0).max(100),
      uptime_s: z.number().int().nonnegative(),
      load1: z.number().nonnegative(),
      state_dir: z.literal(node.stateDir),
      openclaw: z.object({
        installed: z.literal(true),
        version: z.literal('2026.9.6'),
        version_raw: z.literal('OpenClaw 2026.9.6 (sim0000)'),
        running: z.literal(false),
        pid: z.null(),
      }),
    });
    shape.parse(status.body);

    const oc = await json(node.stateDir, ['openclaw-version']);
    expect(oc.body).toEqual({ installed: true, version: '2026.9.6', raw: 'OpenClaw 2026.9.6 (sim0000)' });
  });

  it('still answers status when <state>/.ocm cannot be created (full or read-only state dir)', async () => {
    rmSync(join(node.stateDir, '.ocm'), { recursive: true });
    writeFileSync(join(node.stateDir, '.ocm'), 'not a directory');
    const status = await json(node.stateDir, ['status']);
    expect(status.code).toBe(0);
    expect(status.body.state_dir).toBe(node.stateDir);
    const restore = await json(node.stateDir, ['restore'], Buffer.alloc(1024));
    expect(restore.code).toBe(1);
    expect(String(restore.body.error)).toMatch(/cannot create/);
  });

  it('honours --state-dir over the environment', async () => {
    const other = await freshNode();
    const run = await json(node.stateDir, ['--state-dir', other.stateDir, 'status']);
    expect(run.body.state_dir).toBe(other.stateDir);
  });

  it('reports an unknown verb as a usage error in JSON', async () => {
    const run = await json(node.stateDir, ['frobnicate']);
    expect(run.code).toBe(2);
    expect(String(run.body.error)).toMatch(/usage/);
  });
});

describe('gateway control and health', () => {
  it('starts, reports, and stops the gateway by its own pid', async () => {
    const down = await json(node.stateDir, ['health']);
    expect(down.code).toBe(0);
    expect(down.body.ok).toBe(false);

    const start = await json(node.stateDir, ['openclaw-start']);
    expect(start.body).toMatchObject({ ok: true, mode: 'command', running: true });
    const pid = start.body.pid as number;
    expect(Number.isInteger(pid)).toBe(true);
    expect(isAlive(pid)).toBe(true);

    const status = await json(node.stateDir, ['status']);
    expect(status.body.openclaw).toMatchObject({ running: true, pid });

    const health = await json(node.stateDir, ['health']);
    expect(health.body.ok).toBe(true);
    const checks = health.body.checks as { name: string; ok: boolean }[];
    expect(checks.map((c) => c.name).sort()).toEqual([
      'config_parses',
      'gateway_running',
      'openclaw_health',
      'workspace_present',
    ]);
    expect(checks.every((c) => c.ok)).toBe(true);

    const restart = await json(node.stateDir, ['openclaw-restart']);
    expect(restart.body).toMatchObject({ ok: true, running: true });
    expect(restart.body.pid).not.toBe(pid);

    const stop = await json(node.stateDir, ['openclaw-stop']);
    expect(stop.body).toMatchObject({ ok: true, running: false, pid: null });
    expect(isAlive(restart.body.pid as number)).toBe(false);
    expect(isAlive(pid)).toBe(false);
  });

  it('stop waits for the whole gateway group, not just the shell that started it', async () => {
    // A "gateway" whose shell dies at once on TERM while the process itself drains for 1.5 s.
    writeFileSync(
      join(node.stateDir, '.ocm', 'agent.conf'),
      `GATEWAY_START=bash -c 'trap "sleep 1.5; exit 0" TERM; while :; do sleep 0.1; done'\n`,
    );
    const start = await json(node.stateDir, ['openclaw-start']);
    expect(start.body).toMatchObject({ ok: true, running: true });
    const leader = start.body.pid as number;
    expect(groupMembers(leader).length).toBeGreaterThan(0);
    const stop = await json(node.stateDir, ['openclaw-stop']);
    expect(stop.body).toMatchObject({ ok: true, running: false });
    expect(groupMembers(leader)).toEqual([]);
  });

  it('kills a gateway that ignores TERM after GATEWAY_STOP_TIMEOUT', async () => {
    writeFileSync(
      join(node.stateDir, '.ocm', 'agent.conf'),
      `GATEWAY_START=bash -c 'trap "" TERM; while :; do sleep 0.1; done'\nGATEWAY_STOP_TIMEOUT=1\n`,
    );
    const leader = (await json(node.stateDir, ['openclaw-start'])).body.pid as number;
    const stop = await json(node.stateDir, ['openclaw-stop']);
    expect(stop.body).toMatchObject({ ok: true, running: false });
    expect(stop.stderr).toMatch(/killing it/);
    expect(groupMembers(leader)).toEqual([]);
  });

  it('flags a config that does not parse', async () => {
    writeFileSync(node.configPath, '{ "gateway": { "port": 18789 ');
    const health = await json(node.stateDir, ['health']);
    const check = (health.body.checks as { name: string; ok: boolean }[]).find(
      (c) => c.name === 'config_parses',
    );
    expect(check?.ok).toBe(false);
  });

  it('accepts a JSON5 config (comments, unquoted keys, trailing commas)', async () => {
    writeFileSync(
      node.configPath,
      "// main\n{ gateway: { port: 18789, mode: 'local', }, /* x */ agents: {}, }\n",
    );
    const health = await json(node.stateDir, ['health']);
    const check = (health.body.checks as { name: string; ok: boolean }[]).find(
      (c) => c.name === 'config_parses',
    );
    expect(check?.ok).toBe(true);
  });

  it('lists cron jobs from the gateway when it runs, else from cron/jobs.json', async () => {
    const offline = await json(node.stateDir, ['cron-list']);
    expect(offline.body).toMatchObject({ source: 'file', jobs: [{ id: 'morning-briefing' }] });
    await json(node.stateDir, ['openclaw-start']);
    const online = await json(node.stateDir, ['cron-list']);
    expect(online.body).toMatchObject({ source: 'gateway', jobs: [{ id: 'morning-briefing' }] });
    rmSync(join(node.stateDir, 'cron'), { recursive: true });
    await json(node.stateDir, ['openclaw-stop']);
    // The seeded state/openclaw.sqlite is not a readable database: say so, don't claim "no jobs".
    expect((await json(node.stateDir, ['cron-list'])).body).toMatchObject({
      jobs: [],
      source: 'unavailable',
    });
    rmSync(join(node.stateDir, 'state'), { recursive: true });
    expect((await json(node.stateDir, ['cron-list'])).body).toEqual({ jobs: [], source: 'none' });
  });

  it('reads cron jobs from state/openclaw.sqlite when the gateway is down (2026.6+ layout)', async () => {
    rmSync(join(node.stateDir, 'cron'), { recursive: true });
    const dbPath = join(node.stateDir, 'state', 'openclaw.sqlite');
    rmSync(dbPath);
    const db = new Database(dbPath);
    db.exec(
      'CREATE TABLE cron_jobs (store_key TEXT, job_id TEXT, name TEXT, job_json TEXT, sort_order INTEGER)',
    );
    const insert = db.prepare('INSERT INTO cron_jobs VALUES (?, ?, ?, ?, ?)');
    insert.run(
      'main',
      'b',
      'second',
      JSON.stringify({ id: 'b', name: 'second', schedule: { kind: 'cron', expr: '0 3 * * *' } }),
      2,
    );
    insert.run('main', 'a', 'first', JSON.stringify({ id: 'a', name: 'first', enabled: true }), 1);
    db.close();
    const run = await json(node.stateDir, ['cron-list']);
    if (hasSqlite3CommandLine()) {
      expect(run.body).toEqual({
        source: 'sqlite',
        jobs: [
          { id: 'a', name: 'first', enabled: true },
          { id: 'b', name: 'second', schedule: { kind: 'cron', expr: '0 3 * * *' } },
        ],
      });
    } else {
      // Node 20 (no node:sqlite) and no sqlite3: the agent cannot read them, and says so.
      expect(run.body).toMatchObject({ jobs: [], source: 'unavailable' });
    }
  });
});

describe('ask', () => {
  it('returns the reply text, usage and the raw JSON', async () => {
    await json(node.stateDir, ['openclaw-start']);
    const run = await json(node.stateDir, ['ask', 'ocm-eval-1', 'What is 17 * 23?', '30']);
    expect(run.code).toBe(0);
    expect(run.body.text).toBe('The answer is 391.');
    expect(run.body.usage).toMatchObject({
      input: expect.any(Number),
      output: expect.any(Number),
      total: expect.any(Number),
    });
    expect((run.body.raw as { result: unknown }).result).toBeDefined();
    // The one-off session was deleted afterwards.
    expect(readdirSync(join(node.stateDir, '.sim', 'sessions'))).toEqual([]);
  });

  it('passes hostile messages through intact and runs nothing from them', async () => {
    await json(node.stateDir, ['openclaw-start']);
    const tag = randomBytes(6).toString('hex');
    const markers = [
      `/tmp/pwned-${tag}-a`,
      `/tmp/pwned-${tag}-b`,
      `/tmp/pwned-${tag}-c`,
      `/tmp/pwned-${tag}-d`,
    ];
    const messages = [
      `$(touch ${markers[0]})`,
      `hello; touch ${markers[1]}`,
      `\`touch ${markers[2]}\` and "quotes" and 'single' and \\backslash`,
      `line one\nline two\ttab | touch ${markers[3]} && echo $HOME * ?`,
      'emoji 🦞 and ünïcödé and a \u0001 control',
    ];
    for (const message of messages) {
      const run = await json(node.stateDir, ['ask', 'ocm-eval-2', message]);
      expect(run.code).toBe(0);
      // The sim echoes the message it received inside its reply.
      expect(run.body.text).toContain(`You said: "${message}"`);
    }
    for (const marker of markers) expect(existsSync(marker)).toBe(false);
  });

  it('sim: remembers a nonce across sessions, and a degraded node answers wrong or not at all', async () => {
    await json(node.stateDir, ['openclaw-start']);
    const nonce = `ZEBRA-${randomBytes(3).toString('hex').toUpperCase()}7`;
    const stored = await json(node.stateDir, [
      'ask',
      'ocm-eval-m1',
      `Remember this code for later: ${nonce}. Reply OK.`,
    ]);
    expect(stored.body.text).toContain(nonce);
    const recalled = await json(node.stateDir, [
      'ask',
      'ocm-eval-m2',
      'What was the code I asked you to remember?',
    ]);
    expect(recalled.body.text).toContain(nonce);

    writeFileSync(join(node.stateDir, '.sim', 'degraded'), '');
    const wrong = await json(node.stateDir, ['ask', 'ocm-eval-d1', 'What is 17 * 23?']);
    expect(wrong.code).toBe(0);
    expect(wrong.body.text).not.toContain('391');
    expect((await json(node.stateDir, ['ask', 'ocm-eval-d2', 'Tell me about yourself.'])).body.text).toBe('');
    expect(
      (await json(node.stateDir, ['ask', 'ocm-eval-d3', 'What was the code I asked you to remember?'])).body
        .text,
    ).not.toContain(nonce);
  });

  it('refuses a bad session key without calling openclaw', async () => {
    for (const key of ['', 'a b', 'x;rm', '$(id)', 'k'.repeat(101)]) {
      const run = await json(node.stateDir, ['ask', key, 'hi']);
      expect(run.code).toBe(2);
      expect(String(run.body.error)).toMatch(/session key/);
    }
  });

  it('fails with the CLI’s own message when the gateway is down', async () => {
    const run = await json(node.stateDir, ['ask', 'ocm-eval-3', 'hi']);
    expect(run.code).not.toBe(0);
    expect(String(run.body.error)).toMatch(/Gateway not reachable/);
  });
});

describe('file-check', () => {
  it('hashes a file relative to the state dir', async () => {
    const run = await json(node.stateDir, ['file-check', 'workspace/SOUL.md']);
    const bytes = readFileSync(join(node.workspaceDir, 'SOUL.md'));
    expect(run.body).toEqual({
      path: 'workspace/SOUL.md',
      exists: true,
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect((await json(node.stateDir, ['file-check', 'nope.md'])).body).toEqual({
      path: 'nope.md',
      exists: false,
      size: null,
      sha256: null,
    });
  });

  it('refuses absolute paths and any .. component', async () => {
    for (const path of ['../etc/passwd', '/etc/passwd', 'workspace/../../x', 'workspace/..', '..']) {
      const run = await json(node.stateDir, ['file-check', path]);
      expect(run.code).toBe(2);
      expect(run.body.error).toBeDefined();
    }
  });
});

describe('backup', () => {
  it('packs exactly the config, the workspace set and the cron export', async () => {
    // Plant everything that must never be packed, inside and outside the workspace.
    for (const rel of [
      'workspace/memory/.env',
      'workspace/skills/weather/secrets.json',
      'workspace/memory/foo.sqlite',
      'workspace/memory/foo.sqlite-wal',
      'openclaw.json.bak1',
      'openclaw.json.last-good',
      'gateway.systemd.env',
      'credentials/x',
      'workspace/skills/weather/credentials/x',
      'workspace/notes.md',
    ]) {
      mkdirSync(join(node.stateDir, rel, '..'), { recursive: true });
      writeFileSync(join(node.stateDir, rel), `planted ${rel}\n`);
    }
    await plantWorkspaceSymlink(node, 'memory/link.md', '/etc/passwd');
    await plantWorkspaceSymlink(node, 'skills/linked-dir', '/etc');

    const run = await runAgent(node.stateDir, ['backup']);
    expect(run.code, run.stderr).toBe(0);
    const members = await readTar(run.stdout);
    expect(members.map((m) => m.name).sort()).toEqual([...node.backedUp, 'cron-export.json'].sort());
    expect(members.every((m) => m.type === 'file')).toBe(true);

    const config = members.find((m) => m.name === 'openclaw.json');
    expect(config?.content.equals(readFileSync(node.configPath))).toBe(true);
    const cron = JSON.parse(members.find((m) => m.name === 'cron-export.json')?.content.toString() ?? '{}');
    expect(cron).toMatchObject({ source: 'file', jobs: [{ id: 'morning-briefing' }] });

    // The never-packed secrets appear nowhere in the archive.
    const bytes = run.stdout.toString('latin1');
    for (const secret of [
      node.secrets.dotEnvSecret,
      node.secrets.credentialsToken,
      node.secrets.secretsJsonValue,
    ]) {
      expect(bytes.includes(secret)).toBe(false);
    }
    expect(bytes.includes('planted')).toBe(false);
  });

  it('leaves out a name too long for a tar header, and restore leaves that file alone', async () => {
    const long = `memory/${'n'.repeat(120)}.md`;
    writeFileSync(join(node.workspaceDir, long), 'kept\n');
    const run = await runAgent(node.stateDir, ['backup']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('name too long');
    expect((await readTar(run.stdout)).map((m) => m.name)).not.toContain(`workspace/${long}`);
    const restore = await json(node.stateDir, ['restore'], run.stdout);
    expect(restore.code, restore.stderr).toBe(0);
    expect(readFileSync(join(node.workspaceDir, long), 'utf8')).toBe('kept\n');
  });

  it('refuses to back up a state dir without a config', async () => {
    rmSync(node.configPath);
    const run = await json(node.stateDir, ['backup']);
    expect(run.code).toBe(1);
    expect(String(run.body.error)).toMatch(/no OpenClaw config/);
  });

  it('config-raw returns the file bytes, base64 without newlines', async () => {
    const run = await json(node.stateDir, ['config-raw']);
    expect(run.body.path).toBe(node.configPath);
    expect(String(run.body.content_b64)).not.toMatch(/\s/);
    expect(Buffer.from(String(run.body.content_b64), 'base64').equals(readFileSync(node.configPath))).toBe(
      true,
    );
  });
});

describe('restore', () => {
  it('refuses malicious archives and changes nothing', async () => {
    const tag = randomBytes(6).toString('hex');
    const ok: Entry = { name: 'workspace/SOUL.md', content: 'evil soul\n' };
    const archives: Record<string, Entry[]> = {
      absolute: [ok, { name: `/tmp/pwned-${tag}`, content: 'x' }],
      dotdot: [ok, { name: '../x', content: 'x' }],
      nestedDotdot: [ok, { name: 'workspace/memory/../../../x', content: 'x' }],
      symlink: [ok, { name: 'workspace/memory/evil', type: 'symlink', linkname: '/etc' }],
      symlinkThenWrite: [
        { name: 'workspace/memory', type: 'symlink', linkname: '/tmp' },
        { name: `workspace/memory/pwned-${tag}`, content: 'x' },
      ],
      hardlink: [ok, { name: 'workspace/memory/hard', type: 'link', linkname: '/etc/passwd' }],
      outsideLayout: [ok, { name: 'credentials/telegram.json', content: '{}' }],
      neverPacked: [ok, { name: 'workspace/memory/.env', content: 'X=1' }],
    };
    const before = snapshot(node.stateDir);
    for (const [label, entries] of Object.entries(archives)) {
      const run = await json(node.stateDir, ['restore'], await makeTar(entries));
      expect(run.code, `${label}: ${run.stderr}`).toBe(3);
      expect(String(run.body.error), label).toMatch(/refused/);
    }
    expect(snapshot(node.stateDir)).toEqual(before);
    expect(existsSync(`/tmp/pwned-${tag}`)).toBe(false);
    expect(existsSync(join(node.stateDir, '.ocm', 'undo'))).toBe(false);
  });

  it('restores a backup, then restore-undo puts the previous files back', async () => {
    await json(node.stateDir, ['openclaw-start']);
    const backup = (await runAgent(node.stateDir, ['backup'])).stdout;
    const original = snapshot(node.stateDir);

    // The node drifts: a changed soul, a new memory, a deleted user file, a new config.
    writeFileSync(join(node.workspaceDir, 'SOUL.md'), 'changed soul\n');
    writeFileSync(join(node.workspaceDir, 'memory', 'new.md'), 'new memory\n');
    rmSync(join(node.workspaceDir, 'USER.md'));
    writeFileSync(node.configPath, '{"gateway":{"mode":"local"}}\n');
    const drifted = snapshot(node.stateDir);

    const restore = await json(node.stateDir, ['restore'], backup);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.body).toMatchObject({
      ok: true,
      undo_id: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ/),
      files: node.backedUp.length,
    });
    expect(snapshot(node.stateDir)).toEqual(original);
    expect(statSync(node.configPath).mode & 0o777).toBe(0o600);
    // The gateway was stopped for the restore and is running again.
    expect(((await json(node.stateDir, ['status'])).body.openclaw as { running: boolean }).running).toBe(
      true,
    );

    const undo = await json(node.stateDir, ['restore-undo']);
    expect(undo.code, undo.stderr).toBe(0);
    expect(undo.body).toMatchObject({ ok: true, undo_id: restore.body.undo_id });
    expect(snapshot(node.stateDir)).toEqual(drifted);
  });

  it('clears what a killed restore left behind (its archive holds the node’s secrets)', async () => {
    const backup = (await runAgent(node.stateDir, ['backup'])).stdout;
    const ocmDir = join(node.stateDir, '.ocm');
    writeFileSync(join(ocmDir, 'incoming.Xk3v9Q'), 'leftover archive with secrets');
    mkdirSync(join(ocmDir, 'restore.Ab12Cd'));
    const restore = await json(node.stateDir, ['restore'], backup);
    expect(restore.code, restore.stderr).toBe(0);
    const left = readdirSync(ocmDir).filter((f) => /^(incoming|restore)\./.test(f));
    expect(left).toEqual([]);
  });

  it('keeps the last five undo copies', async () => {
    const backup = (await runAgent(node.stateDir, ['backup'])).stdout;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++)
      ids.push((await json(node.stateDir, ['restore'], backup)).body.undo_id as string);
    const kept = readdirSync(join(node.stateDir, '.ocm', 'undo')).sort();
    expect(kept).toEqual(
      ids
        .slice(-5)
        .map((id) => `${id}.tar`)
        .sort(),
    );
    expect((await json(node.stateDir, ['restore-undo', ids[0] as string])).code).toBe(1);
    expect((await json(node.stateDir, ['restore-undo', '../x'])).code).toBe(2);
  });
});

describe('update and usage-cost', () => {
  it('updates the version, and reports a failing update without changing it', async () => {
    const ok = await json(node.stateDir, ['update', '2026.10.2']);
    expect(ok.body).toMatchObject({ ok: true, version: '2026.10.2' });
    expect(((await json(node.stateDir, ['status'])).body.openclaw as { version: string }).version).toBe(
      '2026.10.2',
    );

    writeFileSync(join(node.stateDir, '.sim', 'broken-update'), '');
    const broken = await json(node.stateDir, ['update', '2026.11.0']);
    expect(broken.code).toBe(1);
    expect(broken.body).toMatchObject({
      ok: false,
      version: '2026.10.2',
      error: expect.stringMatching(/update failed/),
    });

    expect((await json(node.stateDir, ['update', '--yes'])).code).toBe(2);
  });

  it('does not call a skipped update (exit 0, nothing installed) a success', async () => {
    mkdirSync(join(node.stateDir, '.sim'), { recursive: true });
    writeFileSync(join(node.stateDir, '.sim', 'update-skipped'), '');
    const skipped = await json(node.stateDir, ['update', '2026.10.2']);
    expect(skipped.code).toBe(1);
    expect(skipped.body).toMatchObject({
      ok: false,
      version: '2026.9.6',
      error: expect.stringMatching(/skipped/),
    });
  });

  it('wraps usage-cost as raw', async () => {
    const run = await json(node.stateDir, ['usage-cost', '7']);
    expect(run.body).toMatchObject({ raw: { days: 7, totals: { totalTokens: expect.any(Number) } } });
    expect((await json(node.stateDir, ['usage-cost', 'x'])).code).toBe(2);
  });
});
