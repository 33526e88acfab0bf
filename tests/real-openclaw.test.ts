// The real openclaw package on a test node: installed from npm into the cache, its gateway run in
// the foreground against the model stand-in, and `openclaw agent --json` answered end to end.
// One gateway (~1.1 GB) for the whole file, always stopped in afterAll.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastUserText, type ModelStandIn, startModelStandIn } from './harness/model-standin.ts';
import {
  ensureRealOpenClaw,
  isReady,
  OPENCLAW_VERSION,
  openclawEnv,
  prepareRealNodeState,
  type RealGateway,
  type RealNodeState,
  type RealOpenClawInstall,
  runOpenclaw,
  startRealGateway,
  writeOpenclawWrapper,
} from './harness/real-openclaw.ts';
import { freePort } from './harness/sshd.ts';

describe('model stand-in (OpenAI-compatible)', () => {
  let standIn: ModelStandIn;
  beforeAll(async () => {
    standIn = await startModelStandIn();
  });
  afterAll(async () => {
    await standIn?.close();
  });

  const ask = (body: object) =>
    fetch(`${standIn.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('answers arithmetic correctly with usage, without streaming', async () => {
    const before = standIn.requests;
    const res = await ask({ model: 'standin-1', messages: [{ role: 'user', content: 'What is 17 * 23?' }] });
    const body = (await res.json()) as {
      choices: { message: { content: string } }[];
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    };
    expect(res.status).toBe(200);
    expect(body.choices[0]?.message.content).toBe('The answer is 391.');
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    expect(standIn.requests).toBe(before + 1);
  });

  it('streams SSE chunks that add up to the reply, then usage and [DONE]', async () => {
    const res = await ask({ stream: true, messages: [{ role: 'user', content: 'Say hello to the fleet' }] });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = (await res.text())
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => e.slice('data: '.length));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events
      .slice(0, -1)
      .map((e) => JSON.parse(e) as { choices: { delta?: { content?: string } }[]; usage?: object });
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text).toBe('Stand-in model here; you said: Say hello to the fleet');
    expect(chunks.at(-1)?.usage).toMatchObject({
      prompt_tokens: expect.any(Number),
      completion_tokens: expect.any(Number),
    });
  });

  it('lists its model and finds the question inside OpenClaw’s message envelope', async () => {
    const models = (await (await fetch(`${standIn.baseUrl}/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toEqual(['standin-1']);
    const envelope = [
      { role: 'system', content: 'You are an assistant.' },
      {
        role: 'user',
        content: '[Wed 2026-11-25 08:56 UTC] What is 6*7?\n\nRuntime: agent=main | os=Linux 6.1 (x64)',
      },
      {
        role: 'user',
        content: [
          {
            type: 'text',
            text: '<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>\nnone\n<<<END_OPENCLAW_INTERNAL_CONTEXT>>>',
          },
        ],
      },
    ];
    expect(lastUserText(envelope)).toBe('What is 6*7?');
  });
});

describe(`real openclaw ${OPENCLAW_VERSION} node`, () => {
  let install: RealOpenClawInstall;
  let standIn: ModelStandIn;
  let scratch: string;
  let node: RealNodeState;
  let gateway: RealGateway | undefined;
  let configAsWritten: string;

  beforeAll(async () => {
    install = await ensureRealOpenClaw();
    standIn = await startModelStandIn();
    scratch = await mkdtemp(join(tmpdir(), 'ocm-real-openclaw-'));
    const openclawBin = writeOpenclawWrapper(join(scratch, 'bin'), install);
    node = await prepareRealNodeState({
      stateDir: join(scratch, 'state'),
      gatewayPort: await freePort(),
      modelBaseUrl: standIn.baseUrl,
      nodeName: 'real-1',
      openclawBin,
    });
    configAsWritten = await readFile(node.configPath, 'utf8');
    gateway = await startRealGateway(install, node);
  }, 30 * 60_000);

  afterAll(async () => {
    await gateway?.stop();
    await standIn?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }, 60_000);

  it('reports the pinned version through the PATH wrapper', async () => {
    const { execFile } = await import('node:child_process');
    const stdout = await new Promise<string>((ok, fail) =>
      execFile(join(scratch, 'bin', 'openclaw'), ['--version'], (err, out) => (err ? fail(err) : ok(out))),
    );
    expect(stdout.trim()).toMatch(
      new RegExp(`^OpenClaw ${OPENCLAW_VERSION.replace(/\./g, '\\.')} \\([0-9a-f]+\\)$`),
    );
  });

  it('answers `openclaw agent --json` with the stand-in’s text, usage and cost', async () => {
    const before = standIn.requests;
    const res = await runOpenclaw(
      install,
      node.stateDir,
      [
        'agent',
        '--agent',
        'main',
        '--session-key',
        'ocm-eval-t1',
        '--message',
        'What is 17 * 23?',
        '--json',
        '--timeout',
        '60',
      ],
      { timeoutMs: 120_000 },
    );
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as {
      status: string;
      result: {
        payloads: { text: string }[];
        meta: {
          agentMeta: {
            provider: string;
            model: string;
            usage: { input: number; output: number; cost: { total: number } };
          };
        };
      };
    };
    expect(out.status).toBe('ok');
    expect(out.result.payloads[0]?.text).toBe('The answer is 391.');
    expect(out.result.meta.agentMeta).toMatchObject({ provider: 'mock', model: 'standin-1' });
    expect(out.result.meta.agentMeta.usage.input).toBeGreaterThan(0);
    expect(out.result.meta.agentMeta.usage.cost.total).toBeGreaterThan(0);
    // The gateway really called the stand-in, with the question we asked.
    expect(standIn.requests).toBeGreaterThan(before);
    expect(standIn.received.slice(before).map((r) => lastUserText(r.messages))).toContain('What is 17 * 23?');

    // The session is stored as agent:main:<key>; the bare key is not found.
    const bare = await runOpenclaw(install, node.stateDir, [
      'sessions',
      'delete',
      'ocm-eval-t1',
      '--yes',
      '--json',
    ]);
    expect(bare.code).not.toBe(0);
    const full = await runOpenclaw(install, node.stateDir, [
      'sessions',
      'delete',
      'agent:main:ocm-eval-t1',
      '--yes',
      '--json',
    ]);
    expect(full.code, full.stderr).toBe(0);
    expect(JSON.parse(full.stdout)).toMatchObject({ ok: true, results: [{ status: 'deleted' }] });
  }, 180_000);

  it('is healthy, lists its cron jobs with the heartbeat disabled, and keeps its config file as written', async () => {
    const health = await runOpenclaw(install, node.stateDir, ['health', '--json', '--timeout', '10000']);
    expect(health.code, health.stderr).toBe(0);
    expect(JSON.parse(health.stdout)).toMatchObject({ ok: true, defaultAgentId: 'main' });

    const cron = await runOpenclaw(install, node.stateDir, ['cron', 'list', '--all', '--json']);
    expect(cron.code, cron.stderr).toBe(0);
    const jobs = (JSON.parse(cron.stdout) as { jobs: { name: string; enabled: boolean }[] }).jobs;
    expect(jobs.find((j) => j.name === 'heartbeat-main')?.enabled).toBe(false);

    expect(await readFile(node.configPath, 'utf8')).toBe(configAsWritten);
    expect((await stat(node.logFile)).size).toBeGreaterThan(0);
  }, 120_000);
});

const AGENT = resolve(fileURLToPath(new URL('..', import.meta.url)), 'agent', 'ocm-agent.sh');

/** Runs the agent as an SSH login on this node would: clean env, the wrapper first on PATH. */
function runAgent(
  node: RealNodeState,
  binDir: string,
  args: readonly string[],
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((done, fail) => {
    const env = { ...openclawEnv(node.stateDir), PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}` };
    const child = spawn('bash', [AGENT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}

async function tarEntryNames(archive: Buffer): Promise<string[]> {
  const names: string[] = [];
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    names.push(header.name);
    stream.on('end', next);
    stream.resume();
  });
  await new Promise<void>((ok, fail) => {
    extract.on('finish', ok);
    extract.on('error', fail);
    extract.end(archive);
  });
  return names;
}

/** Live (non-zombie) processes in a process group, from /proc (these tests run on Linux). */
async function liveGroupMembers(pgid: number): Promise<number[]> {
  const members: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after the ")" that closes the command name: state, ppid, pgrp, …
    const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(group) === pgid && state !== 'Z' && state !== 'X') members.push(Number(entry));
  }
  return members;
}

describe.skipIf(!existsSync(AGENT))('ocm-agent.sh on a real openclaw node', () => {
  let standIn: ModelStandIn;
  let scratch: string;
  let binDir: string;
  let node: RealNodeState;

  beforeAll(async () => {
    const install = await ensureRealOpenClaw();
    standIn = await startModelStandIn();
    scratch = await mkdtemp(join(tmpdir(), 'ocm-real-agent-'));
    binDir = join(scratch, 'bin');
    node = await prepareRealNodeState({
      stateDir: join(scratch, 'state'),
      gatewayPort: await freePort(),
      modelBaseUrl: standIn.baseUrl,
      nodeName: 'real-agent',
      openclawBin: writeOpenclawWrapper(binDir, install),
    });
    const started = await runAgent(node, binDir, ['openclaw-start']);
    expect(started.code, started.stderr).toBe(0);
    const deadline = Date.now() + 120_000;
    while (!(await isReady(node.gatewayPort))) {
      if (Date.now() > deadline)
        throw new Error(`gateway not ready; see ${join(node.stateDir, '.ocm', 'gateway.log')}`);
      await new Promise((ok) => setTimeout(ok, 500));
    }
  }, 30 * 60_000);

  afterAll(async () => {
    if (node) {
      // The agent removes its pid file on stop; the pid is also the gateway's process group id.
      const pgid = Number(
        (await readFile(join(node.stateDir, '.ocm', 'gateway.pid'), 'utf8').catch(() => '')).trim(),
      );
      await runAgent(node, binDir, ['openclaw-stop']);
      // The agent's stop can return before openclaw-gateway has exited (REAL-OPENCLAW.md): wait
      // for the whole group, then make sure nothing outlives the test.
      const deadline = Date.now() + 30_000;
      while (pgid > 0 && (await liveGroupMembers(pgid)).length > 0 && Date.now() < deadline) {
        await new Promise((ok) => setTimeout(ok, 250));
      }
      if (pgid > 0) for (const pid of await liveGroupMembers(pgid)) process.kill(pid, 'SIGKILL');
    }
    await standIn?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }, 60_000);

  it('status and health see the real gateway it started', async () => {
    const status = await runAgent(node, binDir, ['status']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout.toString())).toMatchObject({
      state_dir: node.stateDir,
      openclaw: { installed: true, version: OPENCLAW_VERSION, running: true, pid: expect.any(Number) },
    });
    const health = await runAgent(node, binDir, ['health']);
    expect(health.code, health.stderr).toBe(0);
    const body = JSON.parse(health.stdout.toString()) as {
      ok: boolean;
      checks: { name: string; ok: boolean }[];
    };
    expect(body.checks.filter((c) => !c.ok)).toEqual([]);
    expect(body.ok).toBe(true);
  }, 120_000);

  it('ask returns the stand-in’s answer with usage', async () => {
    const before = standIn.requests;
    const res = await runAgent(node, binDir, ['ask', 'ocm-eval-agent-1', 'What is 12 * 12?', '60']);
    expect(res.code, res.stderr).toBe(0);
    const body = JSON.parse(res.stdout.toString()) as {
      text: string;
      usage: { input: number; total: number };
    };
    expect(body.text).toBe('The answer is 144.');
    expect(body.usage.input).toBeGreaterThan(0);
    expect(standIn.requests).toBeGreaterThan(before);
  }, 180_000);

  it('backup holds the config, the workspace files and the cron export, and no node secrets besides the config', async () => {
    const res = await runAgent(node, binDir, ['backup']);
    expect(res.code, res.stderr).toBe(0);
    const names = await tarEntryNames(res.stdout);
    expect(names).toEqual(
      expect.arrayContaining([
        'openclaw.json',
        'cron-export.json',
        'workspace/AGENTS.md',
        'workspace/MEMORY.md',
        'workspace/memory/2026-01-01.md',
      ]),
    );
    // Files the real gateway created that must never be packed.
    expect(names.filter((n) => /sqlite|fingerprint\.key|^\.ocm|logs\/|cache\//.test(n))).toEqual([]);
  }, 120_000);
});
