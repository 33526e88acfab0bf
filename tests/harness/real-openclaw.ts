// The real `openclaw` package on test nodes: install it once into a cache (with the Node 24 it
// needs, since OCM itself runs on Node 20), give each node a state dir that starts a gateway with no
// prompts and talks to the harness's model stand-in, and run that gateway as a child process.
// Measured behaviour behind every choice here is in REAL-OPENCLAW.md beside this file.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { STANDIN_MODEL_ID } from './model-standin.ts';

const run = promisify(execFile);

/** The OpenClaw version real test nodes run (SPEC §12 facts are checked against it). */
export const OPENCLAW_VERSION = '2026.9.6';
/** OpenClaw 2026.9 needs Node ≥ 24.16; the npm package `node-<os>-<arch>@24` ships it as a plain binary. */
const NODE_MAJOR = 24;
const NODE_MIN_MINOR = 16;

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const INSTALL_TIMEOUT_MS = 15 * 60_000;
const LOCK_WAIT_MS = 20 * 60_000;

export interface RealOpenClawInstall {
  /** The Node 24 binary that runs OpenClaw. */
  nodeBin: string;
  /** `<cache>/openclaw/node_modules/openclaw/openclaw.mjs`. */
  openclawMjs: string;
  /** `2026.9.6`, as parsed from `openclaw --version`. */
  version: string;
  /** The whole `openclaw --version` line, e.g. `OpenClaw 2026.9.6 (eb377ac)`. */
  versionRaw: string;
}

export function defaultCacheDir(): string {
  return process.env.OCM_REAL_OPENCLAW_CACHE ?? join(REPO_ROOT, '.cache', 'real-openclaw');
}

/**
 * Installs Node 24 and openclaw@OPENCLAW_VERSION under the cache dir unless they are already there,
 * then checks `openclaw --version`. Safe to call from several test files at once (a lock dir
 * serialises installers); a warm cache costs well under a second.
 */
export async function ensureRealOpenClaw(opts: { cacheDir?: string } = {}): Promise<RealOpenClawInstall> {
  const cacheDir = resolve(opts.cacheDir ?? defaultCacheDir());
  const nodePackage = `node-${process.platform}-${process.arch}`;
  const nodeBin = join(cacheDir, 'node', 'node_modules', nodePackage, 'bin', 'node');
  const openclawDir = join(cacheDir, 'openclaw', 'node_modules', 'openclaw');
  const openclawMjs = join(openclawDir, 'openclaw.mjs');

  // Written only after `--version` answered, so an interrupted npm install is redone, not trusted.
  const installedMarker = join(cacheDir, 'openclaw', `.verified-${OPENCLAW_VERSION}`);

  await mkdir(cacheDir, { recursive: true });
  const versionRaw = await withInstallLock(join(cacheDir, 'install.lock'), async () => {
    if (!(await hasUsableNode(nodeBin))) {
      await npmInstall(join(cacheDir, 'node'), [`${nodePackage}@${NODE_MAJOR}`]);
      if (!(await hasUsableNode(nodeBin))) {
        throw new Error(
          `${nodeBin}: not a Node ≥ ${NODE_MAJOR}.${NODE_MIN_MINOR} after installing ${nodePackage}@${NODE_MAJOR}`,
        );
      }
    }
    if (!existsSync(installedMarker) || installedPackageVersion(openclawDir) !== OPENCLAW_VERSION) {
      // --ignore-scripts: its postinstall would run under this npm's Node 20 and gain nothing.
      await npmInstall(join(cacheDir, 'openclaw'), ['--ignore-scripts', `openclaw@${OPENCLAW_VERSION}`]);
    }
    // The first run after install also prints a one-time "fs-safe native support" note on stderr.
    const { stdout } = await run(nodeBin, [openclawMjs, '--version'], { timeout: 60_000 });
    const printed = stdout.trim();
    const match = /^OpenClaw (\S+) \(/.exec(printed);
    if (!match || match[1] !== OPENCLAW_VERSION) {
      rmSync(installedMarker, { force: true });
      throw new Error(
        `openclaw --version printed ${JSON.stringify(printed)}, expected OpenClaw ${OPENCLAW_VERSION} (…)`,
      );
    }
    writeFileSync(installedMarker, `${printed}\n`);
    return printed;
  });
  return { nodeBin, openclawMjs, version: OPENCLAW_VERSION, versionRaw };
}

async function hasUsableNode(nodeBin: string): Promise<boolean> {
  if (!existsSync(nodeBin)) return false;
  try {
    const { stdout } = await run(nodeBin, ['--version'], { timeout: 30_000 });
    const [major = 0, minor = 0] = stdout.trim().replace(/^v/, '').split('.').map(Number);
    return major > NODE_MAJOR || (major === NODE_MAJOR && minor >= NODE_MIN_MINOR);
  } catch {
    return false;
  }
}

function installedPackageVersion(packageDir: string): string | null {
  try {
    const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : null;
  } catch {
    return null;
  }
}

async function npmInstall(prefix: string, args: readonly string[]): Promise<void> {
  await mkdir(prefix, { recursive: true });
  const argv = ['install', '--no-audit', '--no-fund', '--prefix', prefix, ...args];
  try {
    await run('npm', argv, { timeout: INSTALL_TIMEOUT_MS, maxBuffer: 32 * 1024 * 1024 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`npm ${argv.join(' ')} failed: ${stderr.trim().slice(-1500) || String(err)}`);
  }
}

/**
 * A directory as the lock (mkdir is atomic), holding the owner's pid so a crashed installer's lock
 * is taken over instead of waited on forever.
 */
async function withInstallLock<T>(lockDir: string, body: () => Promise<T>): Promise<T> {
  const ownerFile = join(lockDir, 'pid');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(ownerFile, String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number.parseInt(readTextOr(ownerFile, ''), 10);
      // No pid yet means the owner is between mkdir and write: give it a moment, not a takeover.
      if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`${lockDir}: still held by pid ${owner} after ${LOCK_WAIT_MS / 1000}s`);
      await sleep(500);
    }
  }
  try {
    return await body();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/** A `/bin/sh` script named `openclaw` in binDir that runs this install (so PATH can find it). */
export function writeOpenclawWrapper(
  binDir: string,
  install: Pick<RealOpenClawInstall, 'nodeBin' | 'openclawMjs'>,
): string {
  mkdirSync(binDir, { recursive: true });
  const path = join(binDir, 'openclaw');
  const script = `#!/bin/sh\n# Real openclaw ${OPENCLAW_VERSION} under Node ${NODE_MAJOR}, written by tests/harness/real-openclaw.ts.\nexec ${shQuote(install.nodeBin)} ${shQuote(install.openclawMjs)} "$@"\n`;
  writeFileSync(path, script, { mode: 0o755 });
  chmodSync(path, 0o755);
  return path;
}

export interface RealNodeStateOptions {
  stateDir: string;
  /** This node's own gateway port (several real gateways share the machine). */
  gatewayPort: number;
  /** The model stand-in's base URL (`…/v1`). */
  modelBaseUrl: string;
  /** Shown in the workspace files, so backups of different nodes differ. */
  nodeName: string;
  /** The wrapper from writeOpenclawWrapper; written to agent.conf as OPENCLAW_BIN and GATEWAY_START. */
  openclawBin?: string;
  /** Default: a random 48-hex-char token. */
  gatewayToken?: string;
}

export interface RealNodeState {
  stateDir: string;
  configPath: string;
  workspaceDir: string;
  agentConfPath: string;
  gatewayPort: number;
  /** The secrets this config holds, so tests can check they never leave the node unredacted. */
  gatewayToken: string;
  modelApiKey: string;
  /** `mock/standin-1`. */
  modelRef: string;
  /** Where the gateway writes its log (`logging.file`). */
  logFile: string;
}

/** The workspace files OCM backs up, as a fresh node of this harness has them. */
function workspaceFiles(nodeName: string): Record<string, string> {
  return {
    'AGENTS.md': `# AGENTS.md\n\nYou are the assistant on test node ${nodeName}. Answer briefly.\n`,
    'SOUL.md': '# SOUL.md\n\nCalm, precise, helpful.\n',
    'USER.md': '# USER.md\n\nThe operator of an OCM test fleet.\n',
    'IDENTITY.md': `# IDENTITY.md\n\nName: ${nodeName}\n`,
    'MEMORY.md': `# MEMORY.md\n\n- ${nodeName} was prepared by the OCM test harness.\n`,
    'memory/2026-01-01.md': `# 2026-01-01\n\n- First day of ${nodeName}.\n`,
  };
}

/**
 * Writes a state dir a real gateway starts from without prompts: openclaw.json (gateway mode local
 * on its own port, token auth, custom provider `mock` = the stand-in as the default model), the
 * workspace files, and `<state>/.ocm/agent.conf` for ocm-agent.sh. Overwrites those files.
 */
export async function prepareRealNodeState(opts: RealNodeStateOptions): Promise<RealNodeState> {
  const stateDir = resolve(opts.stateDir);
  const workspaceDir = join(stateDir, 'workspace');
  const configPath = join(stateDir, 'openclaw.json');
  const agentConfPath = join(stateDir, '.ocm', 'agent.conf');
  const logFile = join(stateDir, 'logs', 'openclaw.log');
  const gatewayToken = opts.gatewayToken ?? randomBytes(24).toString('hex');
  const modelApiKey = `standin-key-${randomBytes(8).toString('hex')}`;
  const modelRef = `mock/${STANDIN_MODEL_ID}`;

  const config = {
    gateway: {
      mode: 'local',
      port: opts.gatewayPort,
      bind: 'loopback',
      auth: { mode: 'token', token: gatewayToken },
    },
    models: {
      providers: {
        mock: {
          baseUrl: opts.modelBaseUrl,
          apiKey: modelApiKey,
          api: 'openai-completions',
          models: [
            {
              id: STANDIN_MODEL_ID,
              name: 'OCM test stand-in',
              reasoning: false,
              input: ['text'],
              // Per million tokens; non-zero so usage-cost and scoring see real cost numbers.
              cost: { input: 1, output: 2, cacheRead: 0, cacheWrite: 0 },
              contextWindow: 128000,
              maxTokens: 4096,
            },
          ],
        },
      },
    },
    agents: {
      defaults: {
        model: { primary: modelRef },
        workspace: workspaceDir,
        // No unprompted heartbeat turns: the stand-in should see only the requests a test makes.
        heartbeat: { every: '0m' },
      },
    },
    // Default is /tmp/openclaw/openclaw-<date>.log, shared by every gateway on the machine.
    logging: { file: logFile },
  };

  await mkdir(join(workspaceDir, 'memory'), { recursive: true });
  await mkdir(dirname(agentConfPath), { recursive: true });
  await mkdir(dirname(logFile), { recursive: true });
  // OpenClaw itself writes its config as 2-space JSON with mode 600.
  await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  for (const [rel, content] of Object.entries(workspaceFiles(opts.nodeName))) {
    await mkdir(dirname(join(workspaceDir, rel)), { recursive: true });
    await writeFile(join(workspaceDir, rel), content);
  }
  const bin = opts.openclawBin ?? 'openclaw';
  const agentConf = [
    '# Written by tests/harness/real-openclaw.ts. KEY=VALUE, parsed by ocm-agent.sh, never sourced.',
    `GATEWAY_START=${bin} gateway run`,
    ...(opts.openclawBin ? [`OPENCLAW_BIN=${opts.openclawBin}`] : []),
    '',
  ].join('\n');
  await writeFile(agentConfPath, agentConf);

  return {
    stateDir,
    configPath,
    workspaceDir,
    agentConfPath,
    gatewayPort: opts.gatewayPort,
    gatewayToken,
    modelApiKey,
    modelRef,
    logFile,
  };
}

/**
 * The environment for an openclaw process of this node. OpenClaw switches to a test mode (with no
 * CLI output at all) when it sees VITEST, VITEST_POOL_ID, VITEST_WORKER_ID or NODE_ENV=test, which
 * every child of a vitest worker inherits; those, and OpenClaw's own test knobs, are removed.
 */
export function openclawEnv(stateDir: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) {
    if (/^(VITEST|JEST_WORKER_ID$|OPENCLAW_TEST)/.test(key)) continue;
    if (key === 'NODE_ENV' && value === 'test') continue;
    env[key] = value;
  }
  env.OPENCLAW_STATE_DIR = stateDir;
  return env;
}

export interface OpenclawResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one `openclaw …` CLI command against a node's state dir; never throws on a non-zero exit. */
export function runOpenclaw(
  install: Pick<RealOpenClawInstall, 'nodeBin' | 'openclawMjs'>,
  stateDir: string,
  args: readonly string[],
  opts: { timeoutMs?: number } = {},
): Promise<OpenclawResult> {
  return new Promise((resolveResult) => {
    execFile(
      install.nodeBin,
      [install.openclawMjs, ...args],
      {
        env: openclawEnv(stateDir),
        timeout: opts.timeoutMs ?? 120_000,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : null
          : 0;
        resolveResult({ code, stdout, stderr });
      },
    );
  });
}

export interface RealGateway {
  pid: number;
  port: number;
  /** Where the child's stdout and stderr go (`<state>/logs/gateway-run.out`). */
  outputFile: string;
  /** SIGTERM to the gateway's process group, SIGKILL after 20 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts `openclaw gateway run` in the foreground as a child (own process group, so stop() also
 * ends its workers) and resolves once `/readyz` answers 200. A bare 200 proves nothing: the Control
 * UI answers 200 on any unknown path.
 */
export async function startRealGateway(
  install: Pick<RealOpenClawInstall, 'nodeBin' | 'openclawMjs'>,
  node: Pick<RealNodeState, 'stateDir' | 'gatewayPort'>,
  opts: { readyTimeoutMs?: number } = {},
): Promise<RealGateway> {
  const outputFile = join(node.stateDir, 'logs', 'gateway-run.out');
  await mkdir(dirname(outputFile), { recursive: true });
  const output = createWriteStream(outputFile, { flags: 'a' });
  await new Promise<void>((ok) => output.once('open', () => ok()));
  const child = spawn(install.nodeBin, [install.openclawMjs, 'gateway', 'run'], {
    env: openclawEnv(node.stateDir),
    stdio: ['ignore', output, output],
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('openclaw gateway run: spawn gave no pid');
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitPromise = new Promise<void>((ok) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      ok();
    });
  });

  const stop = async (): Promise<void> => {
    if (!exited) {
      signalGroup(pid, 'SIGTERM');
      const killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), 20_000);
      await exitPromise;
      clearTimeout(killTimer);
    }
    // The workers share the group; make sure none outlives the gateway.
    signalGroup(pid, 'SIGKILL');
    output.end();
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 120_000);
  while (Date.now() < deadline) {
    if (exited) {
      const tail = (await readFile(outputFile, 'utf8').catch(() => '')).slice(-2000);
      output.end();
      throw new Error(
        `openclaw gateway run exited (${JSON.stringify(exited)}) before it was ready:\n${tail}`,
      );
    }
    if (await isReady(node.gatewayPort)) return { pid, port: node.gatewayPort, outputFile, stop };
    await sleep(500);
  }
  await stop();
  throw new Error(
    `openclaw gateway on port ${node.gatewayPort} not ready within ${opts.readyTimeoutMs ?? 120_000} ms; output in ${outputFile}`,
  );
}

/** True when the gateway on this port says it is ready (`GET /readyz` → 200). */
export async function isReady(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Removes a node's state dir (e.g. in afterAll); the gateway must be stopped first. */
export async function removeRealNodeState(stateDir: string): Promise<void> {
  await rm(stateDir, { recursive: true, force: true });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readTextOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** The one quoting function: single quotes, with embedded ones closed-escaped-reopened. */
function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((ok) => setTimeout(ok, ms));
}
