// `npm run bench -- backup [--nodes 20] [--files 200] [--file-bytes 10000] [--reps 3] [--unchanged 10]`
// Issue #4 acceptance 5: backup sweeps of 20 sim nodes with realistic workspaces (~200 files,
// ~2 MB a node) through OCM's backup_all, against a hand-rolled baseline in the same run:
// `ssh node tar … | tar x` into a repo, then `git add -A && git commit`. Three sweeps:
//   first          into an empty repo (a fresh repo for every repetition, both sides);
//   unchanged      nothing changed on any node;
//   one file       one file changed on EVERY node (a line appended to one memory note each), so
//                  both sides commit 20 one-file changes.
// OCM runs warm, as `ocm serve`'s scheduler would: its pool was connected (and each agent checked)
// by an untimed cluster_status before the first timed sweep. The baseline opens a new OpenSSH
// connection per node per sweep, as a script does, with the same parallelism as OCM's
// backup.concurrency (8 by default). The baseline stores what it fetched as is: no redaction, one
// commit for the whole fleet, no per-node history, so it is a speed reference, not an alternative.
// Prints medians and ratios, and the repo size growth over the unchanged sweeps, which must be zero
// for OCM: the benchmark exits 1 when it is not (2 when a sweep did something other than expected).
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ocm } from '../mcp-server/ocm.ts';
import type { Fleet } from '../tests/harness/fleet.ts';
import {
  callTool,
  eachBounded,
  intOption,
  openFleetOcm,
  ratio,
  runChecked,
  runProcess,
  Samples,
  table,
  timed,
  withFleet,
} from './_lib.ts';

/**
 * What the hand-rolled script runs on each node: the state dir (its sshd session has
 * OPENCLAW_STATE_DIR) minus git internals, the same files the agent packs for OCM.
 */
const REMOTE_TAR =
  'cd "$OPENCLAW_STATE_DIR" && tar -cf - --exclude=.git openclaw.json cron/jobs.json workspace';
/** The note every node gets one line appended to for the one-file sweep. */
const CHANGED_NOTE = join('workspace', 'memory', 'notes', 'note-0001.md');

export const VARIANTS = { ocm: 'ocm backup_all', baseline: 'ssh|tar + git' } as const;
export const SWEEPS = ['first', 'unchanged', 'one file'] as const;
type Sweep = (typeof SWEEPS)[number];

interface BackupAll {
  results: { id: string; ok: boolean; changed?: boolean; changed_files?: string[]; error?: string }[];
  committed: number;
  unchanged: number;
  failed: number;
}

/** A sweep that did something other than expected measured something else: stop the benchmark. */
export class BrokenSweep extends Error {
  override readonly name = 'BrokenSweep';
}

export interface BackupBench {
  fleet: Fleet;
  workDir: string;
  /** OCM's instance for the current repo (replaced by each first sweep). */
  ocm: Ocm | null;
  /** The baseline's current repo (replaced by each first sweep). */
  baselineRepo: string;
  concurrency: number;
}

export async function prepareBackupBench(fleet: Fleet, workDir: string): Promise<BackupBench> {
  mkdirSync(workDir, { recursive: true });
  const probe = await openFleetOcm(fleet);
  const concurrency = probe.config.backup.concurrency;
  await probe.close();
  return { fleet, workDir, ocm: null, baselineRepo: '', concurrency };
}

export async function closeBackupBench(bench: BackupBench): Promise<void> {
  await bench.ocm?.close();
  bench.ocm = null;
}

// ---------------------------------------------------------------------------------------------
// OCM

function expectOcm(sweep: Sweep, data: BackupAll, nodes: number): void {
  const failed = data.results.filter((r) => !r.ok).map((r) => `${r.id}: ${r.error}`);
  if (failed.length)
    throw new BrokenSweep(`ocm ${sweep} sweep: ${failed.length} failed: ${failed.slice(0, 3).join('; ')}`);
  const wanted = sweep === 'unchanged' ? 0 : nodes;
  if (data.committed !== wanted)
    throw new BrokenSweep(`ocm ${sweep} sweep: ${data.committed} node(s) committed, expected ${wanted}`);
  if (sweep === 'one file') {
    const other = data.results.find((r) => r.changed_files?.length !== 1);
    if (other)
      throw new BrokenSweep(`ocm one-file sweep: ${other.id} changed ${JSON.stringify(other.changed_files)}`);
  }
}

/** A fresh OCM instance with a new, empty backup repo; connected and agent-checked, untimed. */
async function freshOcm(bench: BackupBench, rep: number): Promise<Ocm> {
  const config = JSON.parse(readFileSync(bench.fleet.env.OCM_CONFIG, 'utf8')) as Record<string, unknown>;
  const configPath = join(bench.workDir, `ocm-config-${rep}.json`);
  const repoDir = join(bench.workDir, `ocm-repo-${rep}`);
  writeFileSync(configPath, `${JSON.stringify({ ...config, backup: { repoDir } }, null, 2)}\n`);
  const ocm = await openFleetOcm(bench.fleet, { OCM_CONFIG: configPath });
  const status = await callTool<{ summary: { online: number } }>(ocm, 'cluster_status', {});
  if (status.summary.online !== bench.fleet.nodes.length)
    throw new BrokenSweep(
      `only ${status.summary.online}/${bench.fleet.nodes.length} nodes online before the sweep`,
    );
  return ocm;
}

export async function ocmFirstSweep(bench: BackupBench, rep: number): Promise<number> {
  await closeBackupBench(bench);
  bench.ocm = await freshOcm(bench, rep);
  return ocmSweep(bench, 'first');
}

export async function ocmSweep(bench: BackupBench, sweep: Sweep): Promise<number> {
  const ocm = bench.ocm;
  if (!ocm) throw new Error('no OCM instance: run a first sweep before the others');
  const { ms, value } = await timed(() => callTool<BackupAll>(ocm, 'backup_all', {}));
  expectOcm(sweep, value, bench.fleet.nodes.length);
  return ms;
}

export function ocmRepo(bench: BackupBench): string {
  if (!bench.ocm) throw new Error('no OCM instance yet');
  return bench.ocm.config.backup.repoDir as string;
}

// ---------------------------------------------------------------------------------------------
// The hand-rolled baseline

const git = (repo: string, ...args: string[]) => runChecked('git', ['-C', repo, ...args]);

/** `ssh node '<tar>' | tar -x -C <dir>`, without a local shell: OpenSSH's stdout is tar's stdin. */
function fetchInto(fleet: Fleet, id: string, dir: string): Promise<void> {
  return new Promise((done, fail) => {
    const ssh = spawn('ssh', [...fleet.sshArgs(id), REMOTE_TAR], { stdio: ['ignore', 'pipe', 'pipe'] });
    const tar = spawn('tar', ['-x', '-C', dir], { stdio: [ssh.stdout, 'ignore', 'pipe'] });
    // tar holds its own copy of the pipe now; ours would only compete for the bytes (and an
    // unread stream never ends, so 'close' would never come).
    ssh.stdout.destroy();
    let errors = '';
    const collect = (chunk: Buffer) => {
      errors += chunk.toString();
    };
    ssh.stderr.on('data', collect);
    tar.stderr.on('data', collect);
    const sshExit = new Promise<number | null>((exited) => ssh.once('exit', (code) => exited(code)));
    const tarClose = new Promise<number | null>((exited) => tar.once('close', (code) => exited(code)));
    ssh.once('error', fail);
    tar.once('error', fail);
    void Promise.all([sshExit, tarClose]).then(([sshCode, tarCode]) =>
      sshCode === 0 && tarCode === 0
        ? done()
        : fail(
            new BrokenSweep(
              `baseline: ${id}: ssh exited ${sshCode}, tar exited ${tarCode}: ${errors.trim().slice(-500)}`,
            ),
          ),
    );
  });
}

async function commitCount(repo: string): Promise<number> {
  const result = await runProcess('git', ['-C', repo, 'rev-list', '--count', 'HEAD']);
  return result.code === 0 ? Number(result.stdout.toString().trim()) : 0;
}

/** One run of the script: mirror every node (in parallel), then one `git add -A && git commit`. */
async function baselineRun(bench: BackupBench): Promise<void> {
  const repo = bench.baselineRepo;
  await eachBounded(bench.fleet.nodes, bench.concurrency, async (node) => {
    // A mirror, not an overlay: files deleted on the node disappear here too.
    const dir = join(repo, 'nodes', node.id);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await fetchInto(bench.fleet, node.id, dir);
  });
  await git(repo, 'add', '-A');
  // `git diff --cached --quiet` exits 1 when something is staged: commit only then.
  const staged = await runProcess('git', ['-C', repo, 'diff', '--cached', '--quiet']);
  if (staged.code === 1) await git(repo, 'commit', '-q', '-m', `backup ${new Date().toISOString()}`);
  else if (staged.code !== 0) throw new Error(`git diff --cached exited ${staged.code}: ${staged.stderr}`);
}

async function expectBaseline(bench: BackupBench, sweep: Sweep, commitsBefore: number): Promise<void> {
  const repo = bench.baselineRepo;
  const commits = await commitCount(repo);
  const wanted = sweep === 'unchanged' ? commitsBefore : commitsBefore + 1;
  if (commits !== wanted)
    throw new BrokenSweep(`baseline ${sweep} sweep: ${commits} commits, expected ${wanted}`);
  if (sweep === 'one file') {
    const changed = (await git(repo, 'diff-tree', '--no-commit-id', '--name-only', '-r', 'HEAD')).stdout
      .toString()
      .trim()
      .split('\n');
    if (changed.length !== bench.fleet.nodes.length)
      throw new BrokenSweep(
        `baseline one-file sweep: ${changed.length} files changed, expected ${bench.fleet.nodes.length}`,
      );
  }
}

export async function baselineFirstSweep(bench: BackupBench, rep: number): Promise<number> {
  bench.baselineRepo = join(bench.workDir, `baseline-repo-${rep}`);
  rmSync(bench.baselineRepo, { recursive: true, force: true });
  const { ms } = await timed(async () => {
    mkdirSync(bench.baselineRepo, { recursive: true });
    await git(bench.baselineRepo, 'init', '-q', '--initial-branch=main');
    await git(bench.baselineRepo, 'config', 'user.name', 'backup script');
    await git(bench.baselineRepo, 'config', 'user.email', 'backup@localhost');
    await baselineRun(bench);
  });
  await expectBaseline(bench, 'first', 0);
  return ms;
}

export async function baselineSweep(bench: BackupBench, sweep: Sweep): Promise<number> {
  const before = await commitCount(bench.baselineRepo);
  const { ms } = await timed(() => baselineRun(bench));
  await expectBaseline(bench, sweep, before);
  return ms;
}

// ---------------------------------------------------------------------------------------------
// Changing the nodes and measuring the repos

/** Append a line to one memory note on every node (directly in its state dir, as the assistant would). */
export function changeOneFilePerNode(fleet: Fleet, rep: number): void {
  for (const node of fleet.nodes) {
    appendFileSync(join(node.stateDir, CHANGED_NOTE), `- bench change ${rep} on ${node.id}\n`);
  }
}

export interface RepoSize {
  /** Bytes of every file under .git. */
  bytes: number;
  commits: number;
  refs: number;
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

export async function repoSize(repo: string): Promise<RepoSize> {
  const refs = (await git(repo, 'for-each-ref', '--format=%(refname)')).stdout
    .toString()
    .trim()
    .split('\n')
    .filter(Boolean);
  return { bytes: await treeBytes(join(repo, '.git')), commits: await commitCount(repo), refs: refs.length };
}

function growth(before: RepoSize, after: RepoSize): RepoSize {
  return {
    bytes: after.bytes - before.bytes,
    commits: after.commits - before.commits,
    refs: after.refs - before.refs,
  };
}

const isZero = (g: RepoSize) => g.bytes === 0 && g.commits === 0 && g.refs === 0;
const showGrowth = (g: RepoSize) => `${g.bytes} B, ${g.commits} commits, ${g.refs} refs`;

// ---------------------------------------------------------------------------------------------
// The benchmark

export interface BackupReport {
  text: string;
  /** OCM's repo grew over the unchanged sweeps (it must not). */
  ocmGrew: boolean;
}

export async function measureBackup(
  bench: BackupBench,
  options: { reps: number; unchangedSweeps: number },
): Promise<BackupReport> {
  const bySweep = new Map<Sweep, Samples>(SWEEPS.map((s) => [s, new Samples()]));
  const add = (sweep: Sweep, variant: string, ms: number) => bySweep.get(sweep)?.add(variant, ms);

  // Variants alternate within each repetition so load from elsewhere spreads over both.
  for (let rep = 0; rep < options.reps; rep++) {
    add('first', VARIANTS.ocm, await ocmFirstSweep(bench, rep));
    add('first', VARIANTS.baseline, await baselineFirstSweep(bench, rep));
  }

  const ocmBefore = await repoSize(ocmRepo(bench));
  const baselineBefore = await repoSize(bench.baselineRepo);
  for (let i = 0; i < options.unchangedSweeps; i++) {
    add('unchanged', VARIANTS.ocm, await ocmSweep(bench, 'unchanged'));
    add('unchanged', VARIANTS.baseline, await baselineSweep(bench, 'unchanged'));
  }
  const ocmGrowth = growth(ocmBefore, await repoSize(ocmRepo(bench)));
  const baselineGrowth = growth(baselineBefore, await repoSize(bench.baselineRepo));

  for (let rep = 0; rep < options.reps; rep++) {
    changeOneFilePerNode(bench.fleet, rep);
    add('one file', VARIANTS.ocm, await ocmSweep(bench, 'one file'));
    add('one file', VARIANTS.baseline, await baselineSweep(bench, 'one file'));
  }

  const nodes = bench.fleet.nodes.length;
  const lines: string[] = [];
  for (const sweep of SWEEPS) {
    const samples = bySweep.get(sweep) as Samples;
    lines.push(
      table(
        `backup sweep "${sweep}" of ${nodes} sim nodes (ms; parallelism ${bench.concurrency} on both sides)`,
        samples,
      ),
      `  ${ratio(samples, VARIANTS.ocm, VARIANTS.baseline).line}`,
      '',
    );
  }
  const ocmGrew = !isZero(ocmGrowth);
  lines.push(
    `repo growth over ${options.unchangedSweeps} unchanged sweeps:`,
    `  ${VARIANTS.ocm}: ${showGrowth(ocmGrowth)} (must be zero) ${ocmGrew ? 'FAILED' : 'ok'}`,
    `  ${VARIANTS.baseline}: ${showGrowth(baselineGrowth)}`,
    `repo size now: ${VARIANTS.ocm} ${(await repoSize(ocmRepo(bench))).bytes} B of .git; ${VARIANTS.baseline} ${(await repoSize(bench.baselineRepo)).bytes} B`,
  );
  return { text: lines.join('\n'), ocmGrew };
}

export async function main(args: string[]): Promise<void> {
  const nodes = intOption(args, 'nodes', 20);
  const files = intOption(args, 'files', 200);
  const fileBytes = intOption(args, 'file-bytes', 10_000);
  const reps = intOption(args, 'reps', 3);
  const unchangedSweeps = intOption(args, 'unchanged', 10);
  const startedAt = performance.now();
  process.stdout.write(`starting ${nodes} sim nodes with ${files} extra files of ${fileBytes} B each…\n`);
  const report = await withFleet({ nodes, kind: 'sim', files, fileBytes }, async (fleet) => {
    process.stdout.write(`fleet up in ${((performance.now() - startedAt) / 1000).toFixed(1)} s\n`);
    const bench = await prepareBackupBench(fleet, join(fleet.dir, 'bench'));
    try {
      return await measureBackup(bench, { reps, unchangedSweeps });
    } finally {
      await closeBackupBench(bench);
    }
  }).catch((err: unknown) => {
    if (err instanceof BrokenSweep) {
      process.stderr.write(`benchmark broken: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  });
  process.stdout.write(
    `\n${report.text}\n\ntotal ${((performance.now() - startedAt) / 1000).toFixed(0)} s\n`,
  );
  if (report.ocmGrew) process.exitCode = 1;
}
