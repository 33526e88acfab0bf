// The test fleet itself: real sshd nodes reached with the real ssh client, each answering from its
// own state dir through ocm-agent.sh; faults that really break (and mend) the SSH path; `down`
// that leaves no process behind. Driven through the CLI other tests and people use.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_PATH, type Fleet, isAlive, openFleet, startFleet } from './harness/fleet.ts';

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
const CLI = join(REPO, 'tests', 'harness', 'fleet-cli.ts');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], timeoutMs = 60_000): Promise<Result> {
  return new Promise((done) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === 'number'
          ? (err as { code: number }).code
          : -1
        : 0;
      done({ code, stdout, stderr });
    });
  });
}

const fleetCli = (args: readonly string[]) =>
  run(process.execPath, ['--import', 'tsx', CLI, ...args], 120_000);

/** Every pid the fleet recorded, plus the gateways as the agent last recorded them. */
function recordedPids(dir: string): number[] {
  const state = JSON.parse(readFileSync(join(dir, 'fleet.json'), 'utf8')) as {
    nodes: {
      sshdPid: number | null;
      gatewayPid: number | null;
      proxy: { pid: number } | null;
      stateDir: string;
    }[];
  };
  const pids: number[] = [];
  for (const node of state.nodes) {
    for (const pid of [node.sshdPid, node.gatewayPid, node.proxy?.pid]) if (pid) pids.push(pid);
    try {
      pids.push(Number(readFileSync(join(node.stateDir, '.ocm', 'gateway.pid'), 'utf8')));
    } catch {
      // never started
    }
  }
  return pids;
}

describe('test fleet over the CLI', () => {
  let dir: string;
  let fleet: Fleet;
  const seenPids = new Set<number>();
  const remember = () => {
    for (const pid of recordedPids(dir)) seenPids.add(pid);
  };
  const agentStatus = (id: string) => run('ssh', [...fleet.sshArgs(id), 'bash', AGENT_PATH, 'status']);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocm-fleet-test-'));
    const up = await fleetCli(['up', '--nodes', '3', '--no-register', '--dir', dir]);
    expect(up.code, up.stderr).toBe(0);
    fleet = openFleet(dir);
    remember();
  });

  afterAll(async () => {
    // Whatever happened above, leave nothing running.
    await openFleet(dir)
      .stop()
      .catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives every node its own state dir, the sim openclaw and a running gateway', async () => {
    expect(fleet.nodes.map((n) => n.id)).toEqual(['g3s-01', 'g3s-02', 'g3s-03']);
    expect(new Set(fleet.nodes.map((n) => n.port)).size).toBe(3);
    for (const node of fleet.nodes) {
      const result = await agentStatus(node.id);
      expect(result.code, result.stderr).toBe(0);
      const status = JSON.parse(result.stdout);
      expect(status.state_dir).toBe(node.stateDir);
      expect(status.openclaw).toMatchObject({ installed: true, version: '2026.9.6', running: true });
    }
    const env = fleet.env;
    expect(JSON.parse(readFileSync(env.OCM_CONFIG, 'utf8'))).toEqual({
      dataDir: env.OCM_DATA_DIR,
      ssh: { keyPath: fleet.keyPath },
      codes: { channels: ['dashboard', 'file'], file: env.OCM_CODE_FILE },
    });
    expect(readFileSync(join(dir, 'ocm.env'), 'utf8')).toContain(`export OCM_CONFIG='${env.OCM_CONFIG}'`);
  });

  it('offline stops one node’s sshd (its gateway keeps running); online brings it back with the same host key', async () => {
    expect((await fleetCli(['fault', 'offline', 'g3s-02', '--dir', dir])).code).toBe(0);
    const refused = await agentStatus('g3s-02');
    expect(refused.code).toBe(255);
    expect((await agentStatus('g3s-01')).code).toBe(0);
    const down = openFleet(dir)
      .status()
      .find((n) => n.id === 'g3s-02');
    expect(down).toMatchObject({ sshd: 'down', gateway: 'up' });

    expect((await fleetCli(['fault', 'online', 'g3s-02', '--dir', dir])).code).toBe(0);
    remember();
    // StrictHostKeyChecking=yes against the key recorded at `up`: same key, same port.
    const back = await agentStatus('g3s-02');
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout).openclaw.running).toBe(true);
  });

  it('slow puts a delaying proxy on the node’s port; fast removes it', async () => {
    expect((await fleetCli(['fault', 'slow', 'g3s-03', '--delay-ms', '50', '--dir', dir])).code).toBe(0);
    remember();
    expect(
      openFleet(dir)
        .status()
        .find((n) => n.id === 'g3s-03'),
    ).toMatchObject({ sshd: 'up', slowMs: 50 });
    const throughProxy = await agentStatus('g3s-03');
    expect(throughProxy.code, throughProxy.stderr).toBe(0);
    expect(JSON.parse(throughProxy.stdout).state_dir).toBe(fleet.nodes[2]?.stateDir);

    expect((await fleetCli(['fault', 'fast', 'g3s-03', '--dir', dir])).code).toBe(0);
    remember();
    expect(
      openFleet(dir)
        .status()
        .find((n) => n.id === 'g3s-03'),
    ).toMatchObject({ sshd: 'up', slowMs: null });
    expect((await agentStatus('g3s-03')).code).toBe(0);
  });

  it('rekey gives a node a new host key, which a pinned client refuses', async () => {
    expect((await fleetCli(['fault', 'rekey', 'g3s-01', '--dir', dir])).code).toBe(0);
    remember();
    const refused = await agentStatus('g3s-01');
    expect(refused.code).toBe(255);
    expect(refused.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/);
  });

  it('down stops every process the fleet started', async () => {
    remember();
    expect(seenPids.size).toBeGreaterThanOrEqual(6);
    expect([...seenPids].some(isAlive)).toBe(true);
    const down = await fleetCli(['down', '--dir', dir]);
    expect(down.code, down.stderr).toBe(0);
    expect([...seenPids].filter(isAlive)).toEqual([]);
  });
});

describe('programmatic fleet', () => {
  let fleet: Fleet | undefined;
  let dir: string;
  afterAll(async () => {
    await fleet?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers every node in OCM through the tool layer', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ocm-fleet-reg-'));
    fleet = await startFleet({ dir, nodes: 2, roleOf: (i) => (i === 0 ? 'test' : 'production') });
    const { loadConfig } = await import('../mcp-server/config.ts');
    const { openOcm } = await import('../mcp-server/ocm.ts');
    const ocm = await openOcm({ config: loadConfig({ ...process.env, ...fleet.env }) });
    try {
      const listed = await ocm.tools.call('list_nodes', {}, { kind: 'system', detail: 'fleet-test' });
      if (listed.kind !== 'ok') throw new Error(`list_nodes: ${JSON.stringify(listed)}`);
      const nodes = listed.data.nodes as Record<string, unknown>[];
      expect(nodes.map((n) => [n.id, n.port, n.role, n.openclaw_path])).toEqual(
        fleet.nodes.map((n, i) => [n.id, n.port, i === 0 ? 'test' : 'production', n.stateDir]),
      );
    } finally {
      await ocm.close();
    }
  });
});
