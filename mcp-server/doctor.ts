// `ocm doctor`: check what OCM needs and say what to fix, one line per check.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, type OcmConfig } from './config.ts';
import { openDb } from './db/index.ts';

interface Check {
  name: string;
  ok: boolean | 'warn';
  detail: string;
  fix?: string;
}

function sshKeyCheck(config: OcmConfig): Check {
  const path = config.ssh.keyPath ?? join(homedir(), '.ssh', 'id_ed25519');
  if (!existsSync(path)) {
    return {
      name: 'ssh key',
      ok: 'warn',
      detail: `${path} not found`,
      fix: `ssh-keygen -t ed25519 -f ${path} -N '' (or set ssh.keyPath / OCM_SSH_KEY); only needed for ssh nodes`,
    };
  }
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077)
    return {
      name: 'ssh key',
      ok: false,
      detail: `${path} is readable by others (mode ${mode.toString(8)})`,
      fix: `chmod 600 ${path}`,
    };
  return { name: 'ssh key', ok: true, detail: path };
}

/** First line a program prints about its version (some, like ssh -V, print it on stderr). */
function toolVersion(bin: string, args: string[]): string | null {
  const run = spawnSync(bin, args, { encoding: 'utf8' });
  if (run.error || run.status !== 0) return null;
  return `${run.stdout}${run.stderr}`.trim().split('\n')[0] || bin;
}

export async function runDoctor(): Promise<number> {
  const checks: Check[] = [];
  let config: OcmConfig | undefined;
  try {
    config = loadConfig();
    checks.push({ name: 'config', ok: true, detail: config.source ?? 'no config file: embedded defaults' });
  } catch (err) {
    checks.push({
      name: 'config',
      ok: false,
      detail: (err as Error).message,
      fix: err instanceof ConfigError ? 'correct the key named above' : undefined,
    });
  }
  if (config) {
    try {
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      accessSync(config.dataDir, constants.W_OK);
      const db = openDb(config.dataDir);
      const nodes = (db.prepare('SELECT COUNT(*) AS n FROM nodes').get() as { n: number }).n;
      db.close();
      checks.push({ name: 'data dir', ok: true, detail: `${config.dataDir} (SQLite ok, ${nodes} nodes)` });
      if (!nodes)
        checks.push({
          name: 'nodes',
          ok: 'warn',
          detail: 'no nodes registered',
          fix: 'ocm node add <id> --host <host>',
        });
    } catch (err) {
      checks.push({
        name: 'data dir',
        ok: false,
        detail: `${config.dataDir}: ${(err as Error).message}`,
        fix: 'make it writable or set OCM_DATA_DIR',
      });
    }
    checks.push(sshKeyCheck(config));
    checks.push(
      config.http.tokens.length
        ? {
            name: 'http tokens',
            ok: true,
            detail: config.http.tokens.map((t) => `${t.name} (≤ ${t.maxTier})`).join(', '),
          }
        : {
            name: 'http tokens',
            ok: 'warn',
            detail: 'none: /mcp over HTTP will refuse every request',
            fix: 'set OCM_HTTP_TOKEN or http.tokens',
          },
    );
    checks.push(
      config.web.passwordHash || config.secrets.webPassword
        ? {
            name: 'status page login',
            ok: true,
            detail: config.web.passwordHash ? 'password hash in config' : 'OCM_WEB_PASSWORD',
          }
        : {
            name: 'status page login',
            ok: 'warn',
            detail: 'no password: only bearer tokens can open the page',
            fix: 'ocm hash-password, then web.passwordHash',
          },
    );
  }
  const git = toolVersion('git', ['--version']);
  checks.push(
    git
      ? { name: 'git', ok: true, detail: git }
      : { name: 'git', ok: false, detail: 'git not found', fix: 'install git (backups are git commits)' },
  );
  const ssh = toolVersion('ssh', ['-V']);
  checks.push(
    ssh
      ? { name: 'ssh client', ok: true, detail: ssh }
      : {
          name: 'ssh client',
          ok: 'warn',
          detail: 'ssh not found',
          fix: 'install openssh-client (needed only for ssh-keygen)',
        },
  );
  const agent = new URL('../agent/ocm-agent.sh', import.meta.url);
  checks.push(
    existsSync(agent)
      ? { name: 'agent', ok: true, detail: agent.pathname }
      : { name: 'agent', ok: false, detail: 'agent/ocm-agent.sh missing', fix: 'reinstall OCM' },
  );

  for (const check of checks) {
    const mark = check.ok === true ? '✓' : check.ok === 'warn' ? '!' : '✗';
    process.stdout.write(
      `${mark} ${check.name.padEnd(18)} ${check.detail}${check.fix ? `\n  ${' '.repeat(18)} fix: ${check.fix}` : ''}\n`,
    );
  }
  return checks.some((c) => c.ok === false) ? 1 : 0;
}
