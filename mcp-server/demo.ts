// `npm run demo`: OCM on its embedded defaults with a small simulated fleet on the `local`
// transport — status page, MCP over HTTP and stdio, backups — on a fresh machine after `npm ci`.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedState } from '../tests/harness/seed-state.ts';
import { loadConfig } from './config.ts';
import { type Ocm, openOcm } from './ocm.ts';
import { startServer } from './serve.ts';
import type { Caller } from './tool.ts';

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SIM_OPENCLAW = join(REPO, 'tests/harness/sim/openclaw');
const NODES = ['g3s-01', 'g3s-02', 'g3s-03', 'g3s-04', 'mini-01'];
const demo: Caller = { kind: 'system', detail: 'system:demo' };

/** Call a tool as the demo, confirming medium-tier calls itself (it is the operator here). */
async function call(ocm: Ocm, tool: string, args: Record<string, unknown>) {
  let outcome = await ocm.tools.call(tool, args, demo);
  if (outcome.kind === 'confirmation_required')
    outcome = await ocm.tools.call(tool, { ...args, confirm_token: outcome.data.confirm_token }, demo);
  if (outcome.kind === 'error') throw new Error(`${tool}: ${outcome.message}`);
  return outcome.data as Record<string, unknown>;
}

async function main() {
  const dataDir = resolve(process.env.OCM_DATA_DIR ?? join(REPO, 'data', 'demo'));
  const token = process.env.OCM_HTTP_TOKEN ?? `demo-${randomBytes(12).toString('hex')}`;
  const password = process.env.OCM_WEB_PASSWORD ?? randomBytes(6).toString('base64url');
  const config = loadConfig({
    ...process.env,
    OCM_DATA_DIR: dataDir,
    OCM_HTTP_TOKEN: token,
    OCM_WEB_PASSWORD: password,
    OCM_HTTP_PORT: process.env.OCM_HTTP_PORT ?? '3001',
  });
  const ocm = await openOcm({ config });
  // Listen first: a busy port should stop the demo before it starts any simulated gateway.
  const server = await startServer(ocm).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EADDRINUSE'
      ? new Error(`port ${config.http.port} is in use: run with OCM_HTTP_PORT=<another port> npm run demo`)
      : err;
  });

  process.stderr.write(
    `Preparing a simulated fleet of ${NODES.length} OpenClaw nodes in ${join(dataDir, 'fleet')} …\n`,
  );
  for (const [i, id] of NODES.entries()) {
    const stateDir = join(dataDir, 'fleet', id, 'state');
    if (!existsSync(join(stateDir, 'openclaw.json'))) {
      await seedState({
        stateDir,
        nodeName: id,
        simVersion: i === 3 ? '2026.8.2' : undefined,
        agentConf: { gatewayStart: `${SIM_OPENCLAW} gateway run`, openclawBin: SIM_OPENCLAW },
      });
    }
    if (!ocm.nodes.row(id)) {
      await call(ocm, 'add_node', {
        id,
        name: id === 'mini-01' ? 'Mac mini #1' : `G3S #${i + 1}`,
        transport: 'local',
        openclaw_path: stateDir,
        role: i === 0 ? 'test' : 'production',
        test: false,
      });
    }
  }
  for (const id of NODES) {
    const agent = await (await import('./nodes/status.ts')).fleetAccess(ocm).agent(id);
    await agent.run('openclaw-start', [], { timeoutMs: 30_000 });
  }
  const status = await call(ocm, 'cluster_status', {});
  const summary = status.summary as Record<string, number>;
  process.stderr.write(`Fleet: ${summary.online}/${summary.total} online\n`);
  const backups = await call(ocm, 'backup_all', {});
  process.stderr.write(
    `Backups: ${backups.committed} committed, ${backups.unchanged} unchanged, ${backups.failed} failed (repo: ${config.backup.repoDir})\n`,
  );

  const desktop = {
    mcpServers: { ocm: { command: 'npx', args: ['ocm', 'mcp'], cwd: REPO, env: { OCM_DATA_DIR: dataDir } } },
  };
  process.stdout.write(
    [
      '',
      `OCM demo is running.`,
      `  Status page : ${server.url}/   (password: ${password})`,
      `  MCP (HTTP)  : ${server.url}/mcp   (Authorization: Bearer ${token})`,
      `  CLI         : OCM_DATA_DIR=${dataDir} npx ocm call cluster_status --json`,
      '',
      'Claude Desktop (claude_desktop_config.json):',
      JSON.stringify(desktop, null, 2),
      '',
      'Press Ctrl-C to stop (the simulated gateways stop with it).',
      '',
    ].join('\n'),
  );

  const stop = async () => {
    process.stderr.write('stopping the simulated gateways …\n');
    const { fleetAccess } = await import('./nodes/status.ts');
    await Promise.allSettled(
      NODES.map(async (id) =>
        (await fleetAccess(ocm).agent(id)).run('openclaw-stop', [], { timeoutMs: 15_000 }),
      ),
    );
    await server.close();
    await ocm.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
