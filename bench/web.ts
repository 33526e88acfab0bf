// `npm run bench -- web [--nodes 100] [--days 90] [--requests 400] [--connections 4]`
// The status page's overview under load, against a baseline measured in the same run: a static
// file from the same server. A data dir with 100 nodes × 90 days of daily scores (+ backups,
// events, costs) is served by `ocm serve`'s web app in a child process on 127.0.0.1; autocannon
// sends the requests with a valid session. Prints median and p95 latency, requests/s, the ratio
// to the baseline, and the server's RSS before and after (it must stay bounded).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { loadConfig } from '../mcp-server/config.ts';
import { openOcm } from '../mcp-server/ocm.ts';
import { seedFleet } from '../tests/fixtures/status-fleet.ts';
import { createWebApp } from '../web/app.ts';

interface AutocannonResult {
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
  then: Promise<AutocannonResult>['then'];
}
type Autocannon = (opts: Record<string, unknown>) => AutocannonInstance;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const here = dirname(fileURLToPath(import.meta.url));
const PASSWORD = 'bench-dashboard-password';

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive whole number`);
  return value;
}

/** The server process's resident set size, in MiB. */
function rssMiB(pid: number): number {
  const status = `/proc/${pid}/status`;
  if (existsSync(status)) {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(status, 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  }
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) / 1024;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

interface Measured {
  name: string;
  median: number;
  p95: number;
  rps: number;
  requests: number;
}

async function load(
  name: string,
  url: string,
  requests: number,
  connections: number,
  headers: Record<string, string>,
): Promise<Measured> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const started = performance.now();
  const instance = autocannon({ url, amount: requests, connections, headers, timeout: 30 });
  let lastResponseAt = started;
  instance.on('response', (_client, status, _bytes, ms) => {
    lastResponseAt = performance.now();
    latencies.push(ms);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  });
  const result = await instance;
  // From the first request to the last response: autocannon itself only notices the end on its
  // next one-second tick, which would cap a fast path at `amount` requests per second.
  const seconds = (lastResponseAt - started) / 1000;
  if (result.non2xx || result.errors || result.timeouts) {
    throw new Error(
      `${name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts (statuses ${JSON.stringify([...statuses])})`,
    );
  }
  latencies.sort((a, b) => a - b);
  return {
    name,
    median: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    rps: latencies.length / seconds,
    requests: latencies.length,
  };
}

/** Child mode: serve the web app over an existing data dir and print the port. */
async function serveDataDir(dir: string): Promise<void> {
  const ocm = await openOcm({ config: loadConfig({ OCM_DATA_DIR: dir }, dir) });
  const app = createWebApp(ocm, { password: process.env.OCM_BENCH_PASSWORD ?? PASSWORD });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  server.once('listening', () =>
    process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`),
  );
  const stop = () => server.close(() => void ocm.close().then(() => process.exit(0)));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function startServer(dir: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'run.ts'), 'web', '--serve', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, OCM_BENCH_PASSWORD: PASSWORD, OCM_LOG_LEVEL: 'warn' },
  });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.once('line', (l) => resolve(l));
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
  });
  const { port } = JSON.parse(line) as { port: number };
  return { child, base: `http://127.0.0.1:${port}` };
}

export async function main(args: string[]): Promise<void> {
  const serveAt = args.indexOf('--serve');
  if (serveAt !== -1) return serveDataDir(args[serveAt + 1] as string);

  const nodes = option(args, 'nodes', 100);
  const days = option(args, 'days', 90);
  const requests = Math.max(200, option(args, 'requests', 400));
  const connections = option(args, 'connections', 4);

  const dir = mkdtempSync(join(tmpdir(), 'ocm-bench-web-'));
  let child: ChildProcess | undefined;
  try {
    const t = performance.now();
    const ocm = await openOcm({ config: loadConfig({ OCM_DATA_DIR: dir }, dir) });
    seedFleet(ocm, { nodes, days, eventsPerDay: 2 });
    const counts = ocm.db
      .prepare(
        'SELECT (SELECT COUNT(*) FROM scores) AS scores, (SELECT COUNT(*) FROM backups) AS backups, (SELECT COUNT(*) FROM events) AS events',
      )
      .get() as { scores: number; backups: number; events: number };
    await ocm.close();
    process.stdout.write(
      `data dir: ${nodes} nodes, ${counts.scores} score runs, ${counts.backups} backups, ${counts.events} events (seeded in ${Math.round(performance.now() - t)} ms)\n`,
    );

    const server = await startServer(dir);
    child = server.child;
    const pid = child.pid as number;
    const rssStart = rssMiB(pid);

    const login = await fetch(`${server.base}/login`, {
      method: 'POST',
      body: new URLSearchParams({ password: PASSWORD }),
      redirect: 'manual',
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    if (login.status !== 303 || !cookie.startsWith('ocm_session='))
      throw new Error(`login failed: HTTP ${login.status}`);
    const headers = { cookie };
    const first = await fetch(`${server.base}/`, { headers });
    const page = await first.text();
    const cards = page.match(/class="card /g)?.length ?? 0;
    if (first.status !== 200 || cards !== nodes)
      throw new Error(`overview: HTTP ${first.status} with ${cards} node cards, expected ${nodes}`);
    process.stdout.write(`overview page: ${(page.length / 1024).toFixed(0)} KiB, ${cards} node cards\n`);

    // Warm both paths (JIT, SQLite page cache) before measuring.
    await load('warm-up static', `${server.base}/static/ocm.css`, 50, connections, headers);
    await load('warm-up overview', `${server.base}/`, 50, connections, headers);
    const rssWarm = rssMiB(pid);

    const baseline = await load(
      'static /static/ocm.css',
      `${server.base}/static/ocm.css`,
      requests,
      connections,
      headers,
    );
    // Several rounds of the overview: the RSS after each shows whether memory levels off.
    const rounds: Measured[] = [];
    const rss: number[] = [];
    for (let round = 1; round <= 3; round++) {
      rounds.push(await load(`overview / round ${round}`, `${server.base}/`, requests, connections, headers));
      rss.push(rssMiB(pid));
    }
    const overview = rounds[0] as Measured;

    const row = (m: Measured) =>
      `${m.name.padEnd(24)} ${String(m.requests).padStart(6)} ${m.median.toFixed(1).padStart(9)} ${m.p95.toFixed(1).padStart(9)} ${m.rps.toFixed(0).padStart(8)}`;
    process.stdout.write(
      `\n${'path'.padEnd(24)} ${'reqs'.padStart(6)} ${'p50 ms'.padStart(9)} ${'p95 ms'.padStart(9)} ${'req/s'.padStart(8)}\n`,
    );
    for (const m of [baseline, ...rounds]) process.stdout.write(`${row(m)}\n`);
    const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(1) : 'n/a');
    process.stdout.write(
      `\noverview vs static file (same server, same run): p50 ×${ratio(overview.median, baseline.median)}, p95 ×${ratio(overview.p95, baseline.p95)}, throughput ×${ratio(baseline.rps, overview.rps)} lower\n`,
    );
    const mib = (v: number) => `${v.toFixed(0)} MiB`;
    process.stdout.write(
      `server RSS: ${mib(rssStart)} at start, ${mib(rssWarm)} warm, after each round of ${requests} overviews: ${rss.map(mib).join(', ')}\n`,
    );
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
