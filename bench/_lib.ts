// Shared by the fleet benchmarks (status, backup): command-line options, timing statistics, the
// report's tables and ratio lines, a test fleet that is stopped whatever happens, OCM opened on
// that fleet, and child processes run from argument arrays.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Ocm } from '../mcp-server/ocm.ts';
import { type Fleet, type StartFleetOptions, startFleet } from '../tests/harness/fleet.ts';

// OCM's logger reads OCM_LOG_LEVEL once, when it is first imported: OCM is only ever imported
// dynamically below, after this line, so fifty "pinned host key" lines do not bury the results.
process.env.OCM_LOG_LEVEL ??= 'warn';

export const REPO = resolve(import.meta.dirname, '..');

// ---------------------------------------------------------------------------------------------
// Options

/** `--name N`: a positive whole number, or the fallback when absent. */
export function intOption(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive whole number`);
  return value;
}

/** `--name 20,50`: positive whole numbers, or the fallback when absent. */
export function intListOption(args: readonly string[], name: string, fallback: readonly number[]): number[] {
  const i = args.indexOf(`--${name}`);
  if (i === -1) return [...fallback];
  const values = String(args[i + 1] ?? '')
    .split(',')
    .map(Number);
  if (!values.length || values.some((v) => !Number.isInteger(v) || v <= 0))
    throw new Error(`--${name} must be positive whole numbers separated by commas, e.g. 20,50`);
  return values;
}

// ---------------------------------------------------------------------------------------------
// Timing

export interface Stats {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function stats(samples: readonly number[]): Stats {
  if (!samples.length) throw new Error('no samples to summarise');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median =
    sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number, runs: sorted.length };
}

/** Milliseconds `fn` took, and what it returned. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

/** Samples per variant, kept in the order the variants were first measured. */
export class Samples {
  private readonly byVariant = new Map<string, number[]>();

  add(variant: string, ms: number): void {
    const list = this.byVariant.get(variant) ?? [];
    list.push(ms);
    this.byVariant.set(variant, list);
  }

  stats(variant: string): Stats {
    const list = this.byVariant.get(variant);
    if (!list) throw new Error(`no samples for ${JSON.stringify(variant)}`);
    return stats(list);
  }

  variants(): string[] {
    return [...this.byVariant.keys()];
  }
}

// ---------------------------------------------------------------------------------------------
// Report lines

const ms = (value: number) => (value >= 100 ? String(Math.round(value)) : value.toFixed(1));

/** A table of variants: median, min and max in milliseconds, and how many runs. */
export function table(title: string, samples: Samples, note?: (variant: string) => string): string {
  const variants = samples.variants();
  const width = Math.max(28, ...variants.map((v) => v.length + 2));
  const lines = [
    title,
    `  ${'variant'.padEnd(width)}${'median'.padStart(9)}${'min'.padStart(9)}${'max'.padStart(9)}  runs`,
  ];
  for (const variant of variants) {
    const s = samples.stats(variant);
    const extra = note?.(variant);
    lines.push(
      `  ${variant.padEnd(width)}${ms(s.median).padStart(9)}${ms(s.min).padStart(9)}${ms(s.max).padStart(9)}  ${String(s.runs).padStart(4)}${extra ? `  ${extra}` : ''}`,
    );
  }
  return lines.join('\n');
}

export interface Ratio {
  line: string;
  /** False when a target was given and the ratio misses it. */
  met: boolean;
}

/** `ocm warm / parallel-ssh = 0.31 (target ≤ 0.5)`, from the two variants' medians. */
export function ratio(samples: Samples, numerator: string, denominator: string, target?: number): Ratio {
  const value = samples.stats(numerator).median / samples.stats(denominator).median;
  const shown = `${numerator} / ${denominator} = ${value.toFixed(2)}`;
  if (target === undefined) return { line: shown, met: true };
  const met = value <= target;
  return { line: `${shown} (target ≤ ${target}) ${met ? 'met' : 'MISSED'}`, met };
}

// ---------------------------------------------------------------------------------------------
// The fleet and OCM on it

/**
 * Start a fleet in a fresh temporary directory, run `work` on it, and stop it and delete the
 * directory afterwards, also when `work` throws or the operator presses Ctrl-C.
 */
export async function withFleet<T>(
  options: Omit<StartFleetOptions, 'dir'>,
  work: (fleet: Fleet) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'ocm-bench-'));
  let fleet: Fleet | undefined;
  let interrupted = false;
  // Stopping the fleet makes whatever `work` waits on fail promptly; the cleanup below then runs
  // once, and the process ends with 130 instead of reporting that failure.
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write('\ninterrupted: stopping the fleet…\n');
    void fleet?.stop().catch(() => undefined);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    fleet = await startFleet({ ...options, dir });
    if (interrupted) throw new Error('interrupted while the fleet started');
    return await work(fleet);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try {
      await fleet?.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      if (interrupted) process.exit(130);
    }
  }
}

/** A fresh OCM instance on the fleet's config and data dir (new connections, nothing cached). */
export async function openFleetOcm(fleet: Fleet, env: Record<string, string> = {}): Promise<Ocm> {
  const [{ openOcm }, { loadConfig }] = await Promise.all([
    import('../mcp-server/ocm.ts'),
    import('../mcp-server/config.ts'),
  ]);
  return openOcm({ config: loadConfig({ ...process.env, ...fleet.env, ...env }) });
}

const benchCaller = { kind: 'cli' as const, detail: 'cli:bench' };

/** Call a tool and return its data; anything but `ok` is a broken benchmark, so it throws. */
export async function callTool<T = Record<string, unknown>>(
  ocm: Ocm,
  tool: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  const outcome = await ocm.tools.call(tool, args, benchCaller);
  if (outcome.kind !== 'ok') throw new Error(`${tool}: ${JSON.stringify(outcome).slice(0, 1000)}`);
  return outcome.data as T;
}

/** OpenSSH client options for the fleet, as a careful script would pass them. */
export function sshClientOptions(fleet: Fleet): string[] {
  return [
    '-i',
    fleet.keyPath,
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${fleet.knownHostsFile}`,
    '-o',
    'ConnectTimeout=10',
  ];
}

// ---------------------------------------------------------------------------------------------
// Child processes

export interface ProcessResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Run a program from an argument vector (never a shell) and collect its output. */
export function runProcess(
  program: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ProcessResult> {
  return new Promise((done, fail) => {
    const child = spawn(program, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', fail);
    child.once('close', (code) =>
      done({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

/** Like runProcess, but a non-zero exit is an error naming the program and its stderr. */
export async function runChecked(
  program: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ProcessResult> {
  const result = await runProcess(program, args, options);
  if (result.code !== 0) {
    throw new Error(
      `${program} ${args.slice(0, 4).join(' ')}… exited ${result.code}: ${result.stderr.trim().slice(-800)}`,
    );
  }
  return result;
}

/** Run `work` for each item with at most `limit` at once (the baselines' own parallelism). */
export async function eachBounded<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
