// The test fleet: N OpenClaw "nodes" on this machine, each a real OpenSSH sshd on 127.0.0.1 with
// its own state dir, HOME and PATH (the sim `openclaw`, or the real one), its gateway started by
// the real ocm-agent.sh. Every process it starts is recorded in D/fleet.json, so another process
// (`npm run fleet -- fault|down`) can fault or stop the fleet by PID alone.
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { isAlive } from './processes.ts';
import { seedState } from './seed-state.ts';
import { descendants, ensureKeyPair, freePort, startSshd, waitForPort, writeAuthorizedKeys } from './sshd.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const AGENT_PATH = join(REPO, 'agent', 'ocm-agent.sh');
export const SIM_BIN_DIR = join(REPO, 'tests', 'harness', 'sim');
const SLOW_PROXY = join(REPO, 'tests', 'harness', 'slow-proxy.ts');
const FLEET_CLI = join(REPO, 'tests', 'harness', 'fleet-cli.ts');
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** How many nodes are set up at once: each costs an ssh-keygen, an sshd and a gateway start. */
const START_CONCURRENCY = 8;

export type NodeKind = 'sim' | 'real';
export type FaultKind = 'offline' | 'online' | 'slow' | 'fast' | 'rekey';
export const FAULT_KINDS: readonly FaultKind[] = ['offline', 'online', 'slow', 'fast', 'rekey'];

const pid = z.number().int().positive();
const nodeRecord = z.object({
  id: z.string(),
  kind: z.enum(['sim', 'real']),
  /** The port clients use (sshd's own, or the slow proxy's in front of it). */
  port: z.number().int(),
  stateDir: z.string(),
  home: z.string(),
  sshdDir: z.string(),
  /** Where sshd itself listens: `port`, except while a slow proxy sits in front. */
  sshdPort: z.number().int(),
  sshdPid: pid.nullable(),
  hostKeyPath: z.string(),
  env: z.record(z.string(), z.string()),
  gatewayPid: pid.nullable(),
  /** Real nodes only: the OpenClaw gateway's own port. */
  gatewayPort: z.number().int().nullable(),
  proxy: z.object({ pid, delayMs: z.number().int() }).nullable(),
});
export type NodeRecord = z.infer<typeof nodeRecord>;

const fleetFile = z.object({
  version: z.literal(1),
  dir: z.string(),
  createdAt: z.string(),
  keyPath: z.string(),
  authorizedKeysFile: z.string(),
  knownHostsFile: z.string(),
  modelStandIn: z.object({ pid, baseUrl: z.string() }).nullable(),
  nodes: z.array(nodeRecord),
});
type FleetFile = z.infer<typeof fleetFile>;

export interface FleetNode {
  id: string;
  /** The SSH port OCM registers (stays the same through every fault). */
  port: number;
  stateDir: string;
  kind: NodeKind;
  /** The node's HOME as its SSH sessions see it. */
  home: string;
  /** Real nodes: the OpenClaw gateway's own port (GET /readyz there); null for sim nodes. */
  gatewayPort: number | null;
}

export interface FleetEnv {
  OCM_CONFIG: string;
  OCM_DATA_DIR: string;
  OCM_CODE_FILE: string;
}

export interface NodeStatus {
  id: string;
  kind: NodeKind;
  port: number;
  sshd: 'up' | 'down';
  gateway: 'up' | 'down';
  slowMs: number | null;
}

export interface FaultOptions {
  /** `slow`: latency added each way (default 300 ms). */
  delayMs?: number;
}

export interface Fleet {
  readonly dir: string;
  readonly nodes: FleetNode[];
  readonly env: FleetEnv;
  /** The client key authorised on every node. */
  readonly keyPath: string;
  /** known_hosts with every node's host key as of `up` (a rekeyed node no longer matches). */
  readonly knownHostsFile: string;
  /** `ssh …` argv for a node (strict host key checking against knownHostsFile). */
  sshArgs(id: string): string[];
  fault(kind: FaultKind, id: string, options?: FaultOptions): Promise<void>;
  status(): NodeStatus[];
  /** Stop every process of the fleet (by PID); the directory stays. */
  stop(): Promise<void>;
}

export interface StartFleetOptions {
  dir: string;
  nodes: number;
  /** Kind of every node (default sim); `real` overrides it for the first K nodes. */
  kind?: NodeKind;
  real?: number;
  /** Register every node in OCM's data dir through the tool layer (default true). */
  register?: boolean;
  /** Bigger sim workspaces for benchmarks: extra files and bytes per file. */
  files?: number;
  fileBytes?: number;
  /** Role per node index (0-based); default production. */
  roleOf?: (index: number) => 'production' | 'test' | 'standby';
}

export { isAlive };

export function nodeIdFor(index: number): string {
  return `g3s-${String(index + 1).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Processes

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch {
    // already gone
  }
}

async function waitUntilDead(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter(isAlive);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(50);
    left = left.filter(isAlive);
  }
  return left;
}

/** TERM a process group (gateways lead their own), then KILL whatever is left. */
async function stopGroups(leaders: readonly number[], graceMs: number): Promise<void> {
  const live = leaders.filter(isAlive);
  for (const leader of live) {
    signal(-leader, 'SIGTERM');
    signal(leader, 'SIGTERM');
  }
  const stubborn = await waitUntilDead(live, graceMs);
  for (const leader of stubborn) {
    signal(-leader, 'SIGKILL');
    signal(leader, 'SIGKILL');
  }
  await waitUntilDead(stubborn, 5000);
  // Workers of a group whose leader exited on TERM.
  for (const leader of live) signal(-leader, 'SIGKILL');
}

/** Kill an sshd and its live sessions (they called setsid, so not by group), like sshd.ts does. */
async function killSshd(sshdPid: number | null): Promise<void> {
  if (!isAlive(sshdPid)) return;
  const sessions = descendants(sshdPid as number);
  signal(sshdPid as number, 'SIGKILL');
  for (const session of sessions) signal(session, 'SIGKILL');
  const left = await waitUntilDead([sshdPid as number, ...sessions], 5000);
  if (left.length) throw new Error(`sshd ${sshdPid}: processes ${left.join(', ')} did not exit`);
}

/** A TypeScript entry point as its own detached process (own session: no terminal signal reaches it). */
function spawnDetachedTs(script: string, args: readonly string[], logFile: string): number {
  mkdirSync(dirname(logFile), { recursive: true });
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${script}`);
  return child.pid;
}

/** Run ocm-agent.sh on this machine with a node's session environment, as an SSH login would. */
function runAgentLocally(
  env: Record<string, string>,
  args: readonly string[],
): Promise<Record<string, unknown>> {
  return new Promise((done, fail) => {
    const child = spawn('bash', [AGENT_PATH, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => {
      try {
        const body = JSON.parse(out) as Record<string, unknown>;
        if (code === 0) done(body);
        else
          fail(new Error(`ocm-agent ${args.join(' ')} exited ${code}: ${String(body.error ?? err.trim())}`));
      } catch {
        fail(new Error(`ocm-agent ${args.join(' ')} exited ${code} without JSON: ${err.trim().slice(-500)}`));
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The fleet file

function fleetPath(dir: string): string {
  return join(dir, 'fleet.json');
}

function saveFleetFile(state: FleetFile): void {
  const path = fleetPath(state.dir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

function loadFleetFile(dir: string): FleetFile {
  const path = fleetPath(dir);
  if (!existsSync(path))
    throw new Error(`${path}: no fleet here (run \`npm run fleet -- up --dir ${dir}\` first)`);
  return fleetFile.parse(JSON.parse(readFileSync(path, 'utf8')));
}

function everyPid(state: FleetFile): number[] {
  const pids: number[] = [];
  for (const node of state.nodes) {
    if (node.sshdPid) pids.push(node.sshdPid);
    if (node.gatewayPid) pids.push(node.gatewayPid);
    if (node.proxy) pids.push(node.proxy.pid);
  }
  if (state.modelStandIn) pids.push(state.modelStandIn.pid);
  return pids;
}

/** The gateway's pid as the agent last recorded it (OCM restarts gateways during tests). */
function currentGatewayPid(node: NodeRecord): number | null {
  try {
    const recorded = Number.parseInt(readFileSync(join(node.stateDir, '.ocm', 'gateway.pid'), 'utf8'), 10);
    return Number.isInteger(recorded) && recorded > 0 ? recorded : null;
  } catch {
    return null;
  }
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------
// The fleet handle: the same for a fleet started here and one opened from fleet.json

class FleetHandle implements Fleet {
  constructor(private state: FleetFile) {}

  get dir() {
    return this.state.dir;
  }
  get keyPath() {
    return this.state.keyPath;
  }
  get knownHostsFile() {
    return this.state.knownHostsFile;
  }
  get nodes(): FleetNode[] {
    return this.state.nodes.map(({ id, port, stateDir, kind, home, gatewayPort }) => ({
      id,
      port,
      stateDir,
      kind,
      home,
      gatewayPort,
    }));
  }
  get env(): FleetEnv {
    return fleetEnv(this.state.dir);
  }

  sshArgs(id: string): string[] {
    const node = this.node(id);
    return [
      '-i',
      this.state.keyPath,
      '-p',
      String(node.port),
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `UserKnownHostsFile=${this.state.knownHostsFile}`,
      '-o',
      'ConnectTimeout=10',
      'root@127.0.0.1',
    ];
  }

  status(): NodeStatus[] {
    return this.state.nodes.map((node) => ({
      id: node.id,
      kind: node.kind,
      port: node.port,
      sshd: isAlive(node.sshdPid) ? 'up' : 'down',
      gateway: isAlive(currentGatewayPid(node) ?? node.gatewayPid) ? 'up' : 'down',
      slowMs: node.proxy && isAlive(node.proxy.pid) ? node.proxy.delayMs : null,
    }));
  }

  async fault(kind: FaultKind, id: string, options: FaultOptions = {}): Promise<void> {
    const node = this.node(id);
    switch (kind) {
      case 'offline':
        await killSshd(node.sshdPid);
        node.sshdPid = null;
        break;
      case 'online':
        if (!isAlive(node.sshdPid)) await this.startNodeSshd(node, node.sshdPort);
        break;
      case 'slow': {
        const delayMs = options.delayMs ?? 300;
        if (node.proxy && isAlive(node.proxy.pid)) {
          if (node.proxy.delayMs === delayMs) break;
          await stopGroups([node.proxy.pid], 3000);
          node.proxy = null;
        } else {
          // sshd moves to a fresh port; the proxy takes over the node's port.
          await killSshd(node.sshdPid);
          node.sshdPid = null;
          await this.startNodeSshd(node, await freePort());
        }
        const proxyPid = spawnDetachedTs(
          SLOW_PROXY,
          ['--listen', String(node.port), '--target', String(node.sshdPort), '--delay-ms', String(delayMs)],
          join(node.sshdDir, 'slow-proxy.log'),
        );
        node.proxy = { pid: proxyPid, delayMs };
        this.save();
        if (!(await waitForPort(node.port, 15_000))) {
          throw new Error(
            `${id}: the slow proxy did not listen on ${node.port}; see ${join(node.sshdDir, 'slow-proxy.log')}`,
          );
        }
        break;
      }
      case 'fast':
        if (node.proxy) {
          await stopGroups([node.proxy.pid], 3000);
          node.proxy = null;
        }
        if (node.sshdPort !== node.port || !isAlive(node.sshdPid)) {
          await killSshd(node.sshdPid);
          node.sshdPid = null;
          await this.startNodeSshd(node, node.port);
        }
        break;
      case 'rekey': {
        let n = 1;
        while (existsSync(`${join(node.sshdDir, 'ssh_host_ed25519_key')}.rekey-${n}`)) n++;
        node.hostKeyPath = `${join(node.sshdDir, 'ssh_host_ed25519_key')}.rekey-${n}`;
        await killSshd(node.sshdPid);
        node.sshdPid = null;
        await this.startNodeSshd(node, node.sshdPort);
        break;
      }
      default:
        throw new Error(`unknown fault ${JSON.stringify(kind)}: one of ${FAULT_KINDS.join(', ')}`);
    }
    this.save();
  }

  async stop(): Promise<void> {
    const gateways = new Set<number>();
    for (const node of this.state.nodes) {
      for (const candidate of [node.gatewayPid, currentGatewayPid(node)])
        if (candidate) gateways.add(candidate);
    }
    // A real gateway shuts down cleanly in ~2 s on TERM; give it more before KILL.
    await stopGroups([...gateways], 20_000);
    await stopGroups(
      this.state.nodes.flatMap((n) => (n.proxy ? [n.proxy.pid] : [])),
      3000,
    );
    for (const node of this.state.nodes) await killSshd(node.sshdPid);
    if (this.state.modelStandIn) await stopGroups([this.state.modelStandIn.pid], 5000);
    const left = everyPid(this.state).filter(isAlive);
    if (left.length) throw new Error(`fleet ${this.state.dir}: processes ${left.join(', ')} are still alive`);
  }

  private node(id: string): NodeRecord {
    const node = this.state.nodes.find((n) => n.id === id);
    if (!node)
      throw new Error(
        `no node ${JSON.stringify(id)} in ${this.state.dir} (nodes: ${this.state.nodes.map((n) => n.id).join(', ')})`,
      );
    return node;
  }

  private async startNodeSshd(node: NodeRecord, port: number): Promise<void> {
    const sshd = await startSshd({
      dir: node.sshdDir,
      port,
      authorizedKeysFile: this.state.authorizedKeysFile,
      env: node.env,
      hostKeyPath: node.hostKeyPath,
    });
    node.sshdPid = sshd.pid;
    node.sshdPort = sshd.port;
    this.save();
  }

  save(): void {
    saveFleetFile(this.state);
  }
}

export function fleetEnv(dir: string): FleetEnv {
  return {
    OCM_CONFIG: join(dir, 'ocm.config.json'),
    OCM_DATA_DIR: join(dir, 'data'),
    OCM_CODE_FILE: join(dir, 'codes.log'),
  };
}

/** Attach to a fleet some other process started (the CLI's fault/status/down). */
export function openFleet(dir: string): Fleet {
  return new FleetHandle(loadFleetFile(resolve(dir)));
}

// ---------------------------------------------------------------------------------------------
// Starting a fleet

interface RealSupport {
  install: import('./real-openclaw.ts').RealOpenClawInstall;
  realOpenclaw: typeof import('./real-openclaw.ts');
  modelBaseUrl: string;
}

async function startModelStandInProcess(dir: string): Promise<{ pid: number; baseUrl: string }> {
  const infoFile = join(dir, 'model-standin.json');
  if (existsSync(infoFile)) renameSync(infoFile, `${infoFile}.old`);
  const standInPid = spawnDetachedTs(
    FLEET_CLI,
    ['__model-standin', infoFile],
    join(dir, 'logs', 'model-standin.log'),
  );
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (existsSync(infoFile)) {
      const info = z.object({ pid, baseUrl: z.string() }).parse(JSON.parse(readFileSync(infoFile, 'utf8')));
      return info;
    }
    if (!isAlive(standInPid)) break;
    await sleep(100);
  }
  signal(standInPid, 'SIGKILL');
  throw new Error(`the model stand-in did not start; see ${join(dir, 'logs', 'model-standin.log')}`);
}

async function prepareNode(
  state: FleetFile,
  index: number,
  kind: NodeKind,
  options: StartFleetOptions,
  real: RealSupport | null,
): Promise<NodeRecord> {
  const id = nodeIdFor(index);
  const nodeDir = join(state.dir, 'nodes', id);
  const stateDir = join(nodeDir, 'state');
  const home = join(nodeDir, 'home');
  const sshdDir = join(nodeDir, 'sshd');
  mkdirSync(home, { recursive: true });
  let binDir = SIM_BIN_DIR;
  let gatewayPort: number | null = null;

  if (kind === 'real') {
    if (!real) throw new Error('internal: real node without the real OpenClaw install');
    binDir = join(nodeDir, 'bin');
    const wrapper = real.realOpenclaw.writeOpenclawWrapper(binDir, real.install);
    gatewayPort = await freePort();
    const prepared = await real.realOpenclaw.prepareRealNodeState({
      stateDir,
      gatewayPort,
      modelBaseUrl: real.modelBaseUrl,
      nodeName: id,
      openclawBin: wrapper,
    });
    // The node's own Node 24: the agent reads cron jobs from SQLite with it while the gateway is down.
    appendFileSync(prepared.agentConfPath, `NODE_BIN=${real.install.nodeBin}\n`);
  } else {
    await seedState({
      stateDir,
      nodeName: id,
      files: options.files,
      fileBytes: options.fileBytes,
      agentConf: { gatewayStart: `${join(SIM_BIN_DIR, 'openclaw')} gateway run` },
    });
  }

  // What an SSH login to this node sees: its own HOME, state dir, and openclaw first on PATH.
  const env = { HOME: home, OPENCLAW_STATE_DIR: stateDir, PATH: `${binDir}:${SYSTEM_PATH}` };
  const hostKeyPath = join(sshdDir, 'ssh_host_ed25519_key');
  const sshd = await startSshd({
    dir: sshdDir,
    authorizedKeysFile: state.authorizedKeysFile,
    env,
    hostKeyPath,
  });
  const record: NodeRecord = {
    id,
    kind,
    port: sshd.port,
    stateDir,
    home,
    sshdDir,
    sshdPort: sshd.port,
    sshdPid: sshd.pid,
    hostKeyPath,
    env,
    gatewayPid: null,
    gatewayPort,
    proxy: null,
  };
  state.nodes.push(record);

  const started = await runAgentLocally({ ...env, LANG: 'C.UTF-8' }, ['openclaw-start']);
  record.gatewayPid = typeof started.pid === 'number' ? started.pid : null;
  if (kind === 'real' && real && gatewayPort) {
    const deadline = Date.now() + 180_000;
    while (!(await real.realOpenclaw.isReady(gatewayPort))) {
      if (!isAlive(record.gatewayPid)) {
        throw new Error(
          `${id}: the real gateway exited while starting; see ${join(stateDir, '.ocm', 'gateway.log')}`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(`${id}: the real gateway on port ${gatewayPort} was not ready within 180 s`);
      await sleep(500);
    }
  }
  return record;
}

function writeOcmFiles(state: FleetFile): void {
  const env = fleetEnv(state.dir);
  const config = {
    dataDir: env.OCM_DATA_DIR,
    ssh: { keyPath: state.keyPath },
    codes: { channels: ['dashboard', 'file'], file: env.OCM_CODE_FILE },
  };
  writeFileSync(env.OCM_CONFIG, `${JSON.stringify(config, null, 2)}\n`);
  const lines = Object.entries(env).map(([key, value]) => `export ${key}=${shellQuote(value)}`);
  writeFileSync(join(state.dir, 'ocm.env'), `${lines.join('\n')}\n`);
}

function writeKnownHosts(state: FleetFile): void {
  const lines = state.nodes.map((node) => {
    const [type, key] = readFileSync(`${node.hostKeyPath}.pub`, 'utf8').trim().split(/\s+/);
    return `[127.0.0.1]:${node.port} ${type} ${key}`;
  });
  writeFileSync(state.knownHostsFile, `${lines.join('\n')}\n`);
}

/** Register every node through OCM's own tool layer (add_node is medium tier: plan, then confirm). */
async function registerNodes(state: FleetFile, roleOf: StartFleetOptions['roleOf']): Promise<void> {
  const { loadConfig } = await import('../../mcp-server/config.ts');
  const { openOcm } = await import('../../mcp-server/ocm.ts');
  const ocm = await openOcm({ config: loadConfig({ ...process.env, ...fleetEnv(state.dir) }) });
  const caller = { kind: 'system' as const, detail: 'test-fleet' };
  try {
    for (const [index, node] of state.nodes.entries()) {
      const args = {
        id: node.id,
        name: `${node.kind} node ${node.id}`,
        host: '127.0.0.1',
        port: node.port,
        user: 'root',
        transport: 'ssh',
        role: roleOf?.(index) ?? 'production',
        openclaw_path: node.stateDir,
      };
      const first = await ocm.tools.call('add_node', args, caller);
      if (first.kind !== 'confirmation_required') {
        throw new Error(`add_node ${node.id}: expected confirmation_required, got ${JSON.stringify(first)}`);
      }
      const second = await ocm.tools.call(
        'add_node',
        { ...args, confirm_token: first.data.confirm_token },
        caller,
      );
      if (second.kind !== 'ok') throw new Error(`add_node ${node.id}: ${JSON.stringify(second)}`);
    }
  } finally {
    await ocm.close();
  }
}

async function inBatches<T>(
  items: readonly T[],
  size: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  if (errors.length) throw errors[0];
}

/** Start a fleet in `dir` (which may already hold an old, stopped one). */
export async function startFleet(options: StartFleetOptions): Promise<Fleet> {
  const dir = resolve(options.dir);
  if (!Number.isInteger(options.nodes) || options.nodes < 1)
    throw new Error(`nodes: a whole number ≥ 1, got ${options.nodes}`);
  const realCount = Math.min(options.nodes, options.kind === 'real' ? options.nodes : (options.real ?? 0));
  mkdirSync(dir, { recursive: true });
  if (existsSync(fleetPath(dir))) {
    const old = loadFleetFile(dir);
    const live = everyPid(old).filter(isAlive);
    if (live.length)
      throw new Error(`${dir}: a fleet is still running there (pids ${live.join(', ')}); run down first`);
  }

  const keyPath = join(dir, 'ssh', 'id_ed25519');
  const key = await ensureKeyPair(keyPath);
  const authorizedKeysFile = join(dir, 'ssh', 'authorized_keys');
  writeAuthorizedKeys(authorizedKeysFile, [key.publicKey]);
  const state: FleetFile = {
    version: 1,
    dir,
    createdAt: new Date().toISOString(),
    keyPath,
    authorizedKeysFile,
    knownHostsFile: join(dir, 'ssh', 'known_hosts'),
    modelStandIn: null,
    nodes: [],
  };
  const handle = new FleetHandle(state);
  handle.save();

  try {
    let real: RealSupport | null = null;
    if (realCount > 0) {
      const realOpenclaw = await import('./real-openclaw.ts');
      const install = await realOpenclaw.ensureRealOpenClaw();
      state.modelStandIn = await startModelStandInProcess(dir);
      handle.save();
      real = { install, realOpenclaw, modelBaseUrl: state.modelStandIn.baseUrl };
    }
    const indexes = Array.from({ length: options.nodes }, (_, i) => i);
    // Real gateways are heavy (~1 GB, ~10 s each): start them one by one, before the sims.
    for (const index of indexes.slice(0, realCount)) {
      await prepareNode(state, index, 'real', options, real);
      handle.save();
    }
    await inBatches(indexes.slice(realCount), START_CONCURRENCY, async (index) => {
      await prepareNode(state, index, 'sim', options, null);
      handle.save();
    });
    state.nodes.sort((a, b) => a.id.localeCompare(b.id));
    writeKnownHosts(state);
    writeOcmFiles(state);
    handle.save();
    if (options.register ?? true) {
      await registerNodes(state, options.roleOf).catch((err: unknown) => {
        throw new Error(
          `the fleet started, but registering its nodes in OCM failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      });
    }
  } catch (err) {
    handle.save();
    await handle.stop().catch(() => undefined);
    throw err;
  }
  return handle;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
