// Real OpenSSH servers on 127.0.0.1 for tests: each one has its own config, host key, authorized
// keys and environment, so several "nodes" can share this machine. Nothing here is a stand-in: the
// transports under test talk to /usr/sbin/sshd exactly as they would to a remote host.
import { execFile, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';

export interface KeyPair {
  privateKeyPath: string;
  /** The `.pub` line: `ssh-ed25519 AAAA… comment`. */
  publicKey: string;
}

/** Create an ed25519 key pair without passphrase at `path` (and `path.pub`) unless it exists. */
export async function ensureKeyPair(path: string): Promise<KeyPair> {
  const privateKeyPath = resolve(path);
  if (!existsSync(privateKeyPath) || !existsSync(`${privateKeyPath}.pub`)) {
    mkdirSync(dirname(privateKeyPath), { recursive: true });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ocm-test', '-f', privateKeyPath]);
  }
  return { privateKeyPath, publicKey: readFileSync(`${privateKeyPath}.pub`, 'utf8').trim() };
}

/** Write an authorized_keys file holding exactly these public keys. */
export function writeAuthorizedKeys(file: string, publicKeys: readonly string[]): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${publicKeys.join('\n')}\n`, { mode: 0o600 });
}

/** The fingerprint OpenSSH prints for a key file (`SHA256:…`), for asserting what got pinned. */
export async function keyFingerprint(keyPath: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', keyPath]);
  const match = /SHA256:[A-Za-z0-9+/]+/.exec(stdout);
  if (!match) throw new Error(`ssh-keygen -l ${keyPath}: no SHA256 fingerprint in ${JSON.stringify(stdout)}`);
  return match[0];
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('could not read the port of a bound socket'));
      });
    });
  });
}

export interface SshdOptions {
  /** Working directory for this sshd: config, pid file, log, default host key. */
  dir: string;
  /** Fixed port; default a free one. Kept across restarts. */
  port?: number;
  authorizedKeysFile: string;
  /** Set in every session via `SetEnv` (e.g. OPENCLAW_STATE_DIR, PATH, HOME). */
  env?: Record<string, string>;
  /** Host key to serve; generated if the file does not exist. Default `<dir>/ssh_host_ed25519_key`. */
  hostKeyPath?: string;
  /** sshd's MaxStartups (concurrent unauthenticated connections). Default 1000. */
  maxStartups?: number;
}

export interface RestartOptions {
  /** Serve a different host key from now on (generated if missing): the "host key changed" fault. */
  hostKeyPath?: string;
  env?: Record<string, string>;
}

export interface Sshd {
  readonly port: number;
  /** The listener's pid (changes on restart). */
  readonly pid: number;
  readonly hostKeyPath: string;
  /** Where sshd's own log (`-e`) goes, for debugging a failing test. */
  readonly logPath: string;
  /**
   * Kill the listener AND its live sessions (like the machine going away), by pid. Open
   * client connections see a drop. Idempotent.
   */
  stop(): Promise<void>;
  /** stop(), then start again on the same port, optionally with a new host key or env. */
  restart(options?: RestartOptions): Promise<void>;
}

/** Start `/usr/sbin/sshd -D -e` on 127.0.0.1 and resolve once its port accepts connections. */
export async function startSshd(options: SshdOptions): Promise<Sshd> {
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  // sshd insists on its privilege-separation directory even when it never chroots into it.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  let hostKeyPath = resolve(options.hostKeyPath ?? join(dir, 'ssh_host_ed25519_key'));
  // Sessions get a home of their own unless told otherwise: the machine's real ~/.bashrc (pyenv
  // rehash and the like, run by bash for every ssh command) is slow and serialises parallel logins.
  const sessionHome = join(dir, 'home');
  mkdirSync(sessionHome, { recursive: true });
  let env = { HOME: sessionHome, ...(options.env ?? {}) };
  const logPath = join(dir, 'sshd.log');
  const configPath = join(dir, 'sshd_config');
  const extraOptions = (await sshdSupportsPerSourcePenalties()) ? ['PerSourcePenalties no'] : [];

  let port = options.port ?? 0;
  let child: ReturnType<typeof spawn> | null = null;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    await ensureHostKey(hostKeyPath);
    // A free port can be taken between our probe and sshd's bind: retry with a fresh one then.
    for (let attempt = 1; ; attempt++) {
      if (port === 0 || (options.port === undefined && attempt > 1)) port = await freePort();
      writeFileSync(
        configPath,
        renderConfig({
          port,
          hostKeyPath,
          pidFile: join(dir, 'sshd.pid'),
          authorizedKeysFile: resolve(options.authorizedKeysFile),
          env,
          maxStartups: options.maxStartups ?? 1000,
          extraOptions,
        }),
      );
      const logFd = openSync(logPath, 'a');
      const proc = spawn(SSHD, ['-D', '-e', '-f', configPath], { stdio: ['ignore', logFd, logFd] });
      closeSync(logFd);
      let exitCode: number | null | undefined;
      exited = new Promise((done) =>
        proc.once('exit', (code, signal) => {
          exitCode = code ?? (signal ? -1 : null);
          done();
        }),
      );
      child = proc;
      const up = await waitForPort(port, 10_000, () => exitCode !== undefined);
      if (up) return;
      const tail = readFileSync(logPath, 'utf8').slice(-2000);
      if (exitCode === undefined) {
        proc.kill('SIGKILL');
        await exited;
        throw new Error(`sshd on port ${port} did not accept connections within 10 s; log:\n${tail}`);
      }
      if (options.port === undefined && attempt < 3 && /Address already in use/.test(tail)) continue;
      throw new Error(`sshd exited (code ${exitCode}) before accepting on port ${port}; log:\n${tail}`);
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
    // Session processes called setsid(), so they are not in the listener's process group: walk
    // the tree by parent pid and end each one explicitly.
    const sessions = descendants(proc.pid);
    proc.kill('SIGKILL');
    for (const pid of sessions) killQuietly(pid);
    await exited;
    child = null;
  };

  await launch();
  const handle: Sshd = {
    get port() {
      return port;
    },
    get pid() {
      return child?.pid ?? -1;
    },
    get hostKeyPath() {
      return hostKeyPath;
    },
    logPath,
    stop,
    async restart(restartOptions?: RestartOptions) {
      await stop();
      if (restartOptions?.hostKeyPath) hostKeyPath = resolve(restartOptions.hostKeyPath);
      if (restartOptions?.env) env = { HOME: sessionHome, ...restartOptions.env };
      await launch();
    },
  };
  return handle;
}

interface ConfigValues {
  port: number;
  hostKeyPath: string;
  pidFile: string;
  authorizedKeysFile: string;
  env: Record<string, string>;
  maxStartups: number;
  extraOptions: string[];
}

function renderConfig(values: ConfigValues): string {
  const lines = [
    `Port ${values.port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${configPath(values.hostKeyPath)}`,
    `PidFile ${configPath(values.pidFile)}`,
    `AuthorizedKeysFile ${configPath(values.authorizedKeysFile)}`,
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UseDNS no',
    'PrintMotd no',
    'X11Forwarding no',
    `MaxStartups ${values.maxStartups}`,
    // OpenSSH's default; the ssh transport queues above 8 channels per connection because of it.
    'MaxSessions 10',
    'LogLevel INFO',
    'Subsystem sftp internal-sftp',
    ...values.extraOptions,
  ];
  const env = Object.entries(values.env);
  // Only the first SetEnv line counts in sshd_config, so all variables go on one line.
  if (env.length > 0) lines.push(`SetEnv ${env.map(([key, value]) => setEnvArg(key, value)).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

function configPath(path: string): string {
  if (/[\s"\\]/.test(path))
    throw new Error(`sshd test config: path ${JSON.stringify(path)} has spaces or quotes`);
  return path;
}

function setEnvArg(key: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
    throw new Error(`sshd SetEnv: bad variable name ${JSON.stringify(key)}`);
  if (/["\\\n\r]/.test(value))
    throw new Error(`sshd SetEnv ${key}: value must not contain quotes, backslashes or newlines`);
  return `"${key}=${value}"`;
}

async function ensureHostKey(path: string): Promise<void> {
  if (existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ocm-test-host', '-f', path]);
}

let penaltiesSupport: Promise<boolean> | undefined;
/** OpenSSH ≥ 9.8 penalises sources that fail often; tests fail on purpose, so turn that off there. */
function sshdSupportsPerSourcePenalties(): Promise<boolean> {
  penaltiesSupport ??= run(SSHD, ['-V']).then(
    (r) => versionAtLeast(r.stderr + r.stdout, 9, 8),
    // `sshd -V` exits non-zero on older versions while still printing the banner.
    (err: { stderr?: string }) => versionAtLeast(err.stderr ?? '', 9, 8),
  );
  return penaltiesSupport;
}

function versionAtLeast(banner: string, major: number, minor: number): boolean {
  const match = /OpenSSH_(\d+)\.(\d+)/.exec(banner);
  if (!match) return false;
  const [gotMajor, gotMinor] = [Number(match[1]), Number(match[2])];
  return gotMajor > major || (gotMajor === major && gotMinor >= minor);
}

/** Wait until 127.0.0.1:port accepts a connection; false after `timeoutMs` or once `gaveUp()`. */
export function waitForPort(
  port: number,
  timeoutMs: number,
  gaveUp: () => boolean = () => false,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((done) => {
    const attempt = () => {
      if (gaveUp()) return done(false);
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) done(false);
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** All live descendants of `root`, deepest last, from /proc (Linux only, like the harness). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // Field 4 is the parent pid; the command name (field 2) may contain spaces, so cut after ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
