// `npm run bench -- status [--sizes 20,50] [--reps 5]`
// Issue #3 acceptance 5: a status sweep of 20 and of 50 sim nodes through OCM, warm pool and cold,
// against parallel-ssh (Debian pssh) and a sequential OpenSSH loop running the same
// `ocm-agent status` on the same nodes, in the same run. Prints medians and ratios; targets: a warm
// sweep takes at most half of parallel-ssh's time, a cold one no longer than parallel-ssh. Exits 1
// when a target is missed (or 2 when a sweep did not see every node online).
//
// What each variant is:
//   ocm warm        one OCM instance swept again: its SSH connections are pooled and each node's
//                   agent version was checked once already, so a sweep is one exec per node.
//   ocm cold        a fresh openOcm() per sweep, timed from opening it: new connections, host key
//                   check against the pin, the agent version check, then status.
//   ocm cli         `ocm call cluster_status --json` as a child process, as a user runs it: the
//                   cold sweep plus starting Node and loading OCM (informational, no target).
//   parallel-ssh    `parallel-ssh -p <parallelism>` over a hosts file, one OpenSSH connection per
//                   node, every node's output collected and checked. Same parallelism as OCM's
//                   status.concurrency (32 by default).
//   ssh loop        `ssh node bash ~/.ocm/ocm-agent.sh status`, node after node.
// Variants alternate within each repetition so that load from elsewhere on the machine spreads
// over all of them rather than landing on one.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ocm } from '../mcp-server/ocm.ts';
import type { Fleet } from '../tests/harness/fleet.ts';
import {
  callTool,
  intListOption,
  intOption,
  openFleetOcm,
  type Ratio,
  REPO,
  ratio,
  runChecked,
  runProcess,
  Samples,
  sshClientOptions,
  table,
  timed,
  withFleet,
} from './_lib.ts';

/** What a baseline runs on each node: the agent OCM installed there, in the node's own home and state dir. */
const AGENT_STATUS = 'bash ~/.ocm/ocm-agent.sh status';

export const VARIANTS = {
  warm: 'ocm warm',
  cold: 'ocm cold',
  cli: 'ocm cli',
  pssh: 'parallel-ssh',
  loop: 'ssh loop',
} as const;

interface ClusterStatus {
  summary: { total: number; online: number };
  nodes: { id: string; status: string; error: string | null }[];
}

/** A sweep that did not see every node online measured something else: stop the benchmark. */
class BrokenSweep extends Error {
  override readonly name = 'BrokenSweep';
}

function expectAllOnline(variant: string, data: ClusterStatus, ids: readonly string[]): void {
  if (data.summary.total === ids.length && data.summary.online === ids.length) return;
  const bad = data.nodes.filter((n) => n.status !== 'online').map((n) => `${n.id}: ${n.status} (${n.error})`);
  throw new BrokenSweep(
    `${variant}: ${data.summary.online}/${ids.length} online; ${bad.slice(0, 5).join('; ')}`,
  );
}

/** One agent status reply: the gateway must be running, as OCM's "online" requires. */
function expectAgentStatus(variant: string, id: string, stdout: string): void {
  let reply: { agent_version?: unknown; openclaw?: { running?: unknown } };
  try {
    reply = JSON.parse(stdout);
  } catch {
    throw new BrokenSweep(
      `${variant}: ${id} printed no status JSON: ${JSON.stringify(stdout.slice(0, 200))}`,
    );
  }
  if (typeof reply.agent_version !== 'string' || reply.openclaw?.running !== true)
    throw new BrokenSweep(`${variant}: ${id} is not online: ${stdout.slice(0, 300)}`);
}

export interface StatusBench {
  fleet: Fleet;
  /** The warm instance: opened once, kept for every warm sweep. */
  warm: Ocm;
  parallelism: number;
  workDir: string;
}

/** Open the warm instance and sweep once, which installs the agent everywhere and pins host keys. */
export async function prepareStatusBench(fleet: Fleet, workDir: string): Promise<StatusBench> {
  const warm = await openFleetOcm(fleet);
  const ids = fleet.nodes.map((n) => n.id);
  expectAllOnline(
    'first sweep',
    await callTool<ClusterStatus>(warm, 'cluster_status', { targets: ids }),
    ids,
  );
  mkdirSync(workDir, { recursive: true });
  return { fleet, warm, parallelism: warm.config.status.concurrency, workDir };
}

export async function sweepWarm(bench: StatusBench, ids: readonly string[]): Promise<number> {
  const { ms, value } = await timed(() =>
    callTool<ClusterStatus>(bench.warm, 'cluster_status', { targets: ids }),
  );
  expectAllOnline(VARIANTS.warm, value, ids);
  return ms;
}

export async function sweepCold(bench: StatusBench, ids: readonly string[]): Promise<number> {
  let ocm: Ocm | undefined;
  try {
    const { ms, value } = await timed(async () => {
      ocm = await openFleetOcm(bench.fleet);
      return callTool<ClusterStatus>(ocm, 'cluster_status', { targets: ids });
    });
    expectAllOnline(VARIANTS.cold, value, ids);
    return ms;
  } finally {
    await ocm?.close();
  }
}

export async function sweepCli(bench: StatusBench, ids: readonly string[]): Promise<number> {
  const { ms, value } = await timed(() =>
    runChecked(
      process.execPath,
      [
        join(REPO, 'bin', 'ocm.js'),
        'call',
        'cluster_status',
        '--args',
        JSON.stringify({ targets: ids }),
        '--json',
      ],
      { env: { ...process.env, ...bench.fleet.env, OCM_LOG_LEVEL: 'warn' } },
    ),
  );
  // `--json` prints the tool's data as one JSON line.
  expectAllOnline(VARIANTS.cli, JSON.parse(value.stdout.toString('utf8')) as ClusterStatus, ids);
  return ms;
}

export async function sweepParallelSsh(bench: StatusBench, ids: readonly string[]): Promise<number> {
  const nodes = bench.fleet.nodes.filter((n) => ids.includes(n.id));
  const dir = join(bench.workDir, `pssh-${ids.length}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const hostsFile = join(dir, 'hosts');
  writeFileSync(hostsFile, `${nodes.map((n) => `root@127.0.0.1:${n.port}`).join('\n')}\n`);
  const outDir = join(dir, 'out');
  const ssh = sshClientOptions(bench.fleet);
  const { ms, value } = await timed(() =>
    runProcess('parallel-ssh', [
      '-h',
      hostsFile,
      '-p',
      String(bench.parallelism),
      '-t',
      '60',
      '-o',
      outDir,
      '-e',
      join(dir, 'err'),
      // Each OpenSSH option as its own argument: no string for pssh to split.
      ...ssh.flatMap((arg) => ['-X', arg]),
      AGENT_STATUS,
    ]),
  );
  if (value.code !== 0)
    throw new BrokenSweep(
      `${VARIANTS.pssh} exited ${value.code}: ${value.stdout.toString().trim().slice(-800)}`,
    );
  // pssh names each output file after the host line's host[:port].
  const files = readdirSync(outDir);
  for (const node of nodes) {
    const file = files.find((f) => f.endsWith(`:${node.port}`));
    if (!file) throw new BrokenSweep(`${VARIANTS.pssh}: no output for ${node.id} in ${outDir}`);
    expectAgentStatus(VARIANTS.pssh, node.id, readFileSync(join(outDir, file), 'utf8'));
  }
  return ms;
}

export async function sweepSshLoop(bench: StatusBench, ids: readonly string[]): Promise<number> {
  const { ms, value } = await timed(async () => {
    const outputs: [string, string][] = [];
    for (const id of ids) {
      const result = await runProcess('ssh', [...bench.fleet.sshArgs(id), AGENT_STATUS]);
      if (result.code !== 0)
        throw new BrokenSweep(`${VARIANTS.loop}: ${id} exited ${result.code}: ${result.stderr.trim()}`);
      outputs.push([id, result.stdout.toString('utf8')]);
    }
    return outputs;
  });
  for (const [id, stdout] of value) expectAgentStatus(VARIANTS.loop, id, stdout);
  return ms;
}

export interface StatusReport {
  text: string;
  ratios: Ratio[];
}

/** Measure every variant `reps` times on the first `size` nodes and report. */
export async function measureSize(
  bench: StatusBench,
  size: number,
  reps: number,
  variants: readonly (keyof typeof VARIANTS)[] = ['warm', 'cold', 'cli', 'pssh', 'loop'],
): Promise<StatusReport> {
  const ids = bench.fleet.nodes.slice(0, size).map((n) => n.id);
  if (ids.length < size) throw new Error(`the fleet has ${ids.length} nodes, fewer than ${size}`);
  const sweep = {
    warm: sweepWarm,
    cold: sweepCold,
    cli: sweepCli,
    pssh: sweepParallelSsh,
    loop: sweepSshLoop,
  };
  const samples = new Samples();
  for (let rep = 0; rep < reps; rep++) {
    for (const variant of variants) samples.add(VARIANTS[variant], await sweep[variant](bench, ids));
  }
  const ratios: Ratio[] = [];
  const has = (v: keyof typeof VARIANTS) => variants.includes(v);
  if (has('pssh')) {
    if (has('warm')) ratios.push(ratio(samples, VARIANTS.warm, VARIANTS.pssh, 0.5));
    if (has('cold')) ratios.push(ratio(samples, VARIANTS.cold, VARIANTS.pssh, 1));
    if (has('cli')) ratios.push(ratio(samples, VARIANTS.cli, VARIANTS.pssh));
    if (has('loop')) ratios.push(ratio(samples, VARIANTS.loop, VARIANTS.pssh));
  }
  const perNode = (variant: string) => `${(samples.stats(variant).median / size).toFixed(1)} ms/node`;
  const text = [
    table(
      `status sweep of ${size} sim nodes (ms; parallelism ${bench.parallelism} for OCM and parallel-ssh)`,
      samples,
      perNode,
    ),
    ...ratios.map((r) => `  ${r.line}`),
  ].join('\n');
  return { text, ratios };
}

export async function main(args: string[]): Promise<void> {
  const sizes = intListOption(args, 'sizes', [20, 50]);
  const reps = intOption(args, 'reps', 5);
  const nodes = Math.max(...sizes);
  const startedAt = performance.now();
  process.stdout.write(`starting ${nodes} sim nodes (one sshd each)…\n`);
  const missed = await withFleet({ nodes, kind: 'sim' }, async (fleet) => {
    process.stdout.write(`fleet up in ${((performance.now() - startedAt) / 1000).toFixed(1)} s\n`);
    const bench = await prepareStatusBench(fleet, join(fleet.dir, 'bench'));
    try {
      let missedAny = false;
      for (const size of sizes) {
        const report = await measureSize(bench, size, reps);
        process.stdout.write(`\n${report.text}\n`);
        missedAny ||= report.ratios.some((r) => !r.met);
      }
      return missedAny;
    } finally {
      await bench.warm.close();
    }
  }).catch((err: unknown) => {
    if (err instanceof BrokenSweep) {
      process.stderr.write(`benchmark broken: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  });
  process.stdout.write(`\ntotal ${((performance.now() - startedAt) / 1000).toFixed(0)} s\n`);
  if (missed) process.exitCode = 1;
}
