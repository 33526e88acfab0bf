// OCM's configuration: one optional JSON file, OCM_* environment overrides, and secrets from the
// environment or *_FILE. Everything is validated with zod; with nothing configured OCM runs on
// embedded defaults with its data in ./data.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

export const TIERS = ['read', 'low', 'medium', 'high'] as const;
export const tierSchema = z.enum(TIERS);
export type Tier = z.infer<typeof tierSchema>;

const httpToken = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,40}$/, 'token name: a-z, 0-9, "_" and "-"'),
  token: z.string().min(16, 'tokens must be at least 16 characters').optional(),
  tokenFile: z.string().optional(),
  maxTier: tierSchema.default('high'),
});

export const configSchema = z.strictObject({
  dataDir: z.string().default('./data'),
  timezone: z.string().default('UTC'),
  readOnly: z.boolean().default(false),
  /** When set, only these tools exist (on list and call). Unknown names refuse to start. */
  allowTools: z.array(z.string()).optional(),
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(3001),
      /** Origins allowed to call /mcp from a browser; requests without Origin are allowed. */
      allowedOrigins: z.array(z.string()).default([]),
      tokens: z.array(httpToken).default([]),
    })
    .prefault({}),
  confirm: z
    .strictObject({
      ttlMs: z.number().int().min(10_000).max(3_600_000).default(300_000),
      maxCodeAttempts: z.number().int().min(1).max(10).default(3),
    })
    .prefault({}),
  codes: z
    .strictObject({
      /** Where 4-digit security codes go. `dashboard` is always on; add `log` and/or `file`. */
      channels: z.array(z.enum(['log', 'file', 'dashboard', 'telegram'])).default(['dashboard', 'log']),
      file: z.string().optional(),
    })
    .prefault({}),
  locks: z
    .strictObject({
      leaseMs: z.number().int().min(1000).default(300_000),
      waitTimeoutMs: z.number().int().min(0).default(60_000),
    })
    .prefault({}),
  ssh: z
    .strictObject({
      keyPath: z.string().optional(),
      connectTimeoutMs: z.number().int().min(100).default(10_000),
      commandTimeoutMs: z.number().int().min(100).default(60_000),
      keepaliveMs: z.number().int().min(1000).default(15_000),
      maxOutputBytes: z
        .number()
        .int()
        .min(1024)
        .default(64 * 1024 * 1024),
    })
    .prefault({}),
  status: z
    .strictObject({
      concurrency: z.number().int().min(1).max(256).default(32),
      nodeTimeoutMs: z.number().int().min(100).default(10_000),
    })
    .prefault({}),
  agent: z
    .strictObject({
      /** Where the agent lives on ssh nodes (relative paths are under the login user's home). */
      remotePath: z.string().default('.ocm/ocm-agent.sh'),
    })
    .prefault({}),
  backup: z
    .strictObject({
      repoDir: z.string().optional(),
      remote: z.string().optional(),
      gitSshCommand: z.string().optional(),
      pushRetries: z.number().int().min(0).max(10).default(3),
      concurrency: z.number().int().min(1).max(64).default(8),
      restoreWaitMs: z.number().int().min(0).default(30_000),
      /** After the wait, how long to keep health-checking before undoing a restore. */
      healthWaitMs: z.number().int().min(0).default(60_000),
      snapshotRetentionDays: z.number().int().min(1).default(30),
    })
    .prefault({}),
  web: z
    .strictObject({
      /** scrypt hash as produced by `ocm hash-password`; or set OCM_WEB_PASSWORD(_FILE). */
      passwordHash: z.string().optional(),
      metricsToken: z.string().optional(),
    })
    .prefault({}),
  automation: z.strictObject({ autoRollback: z.boolean().default(false) }).prefault({}),
});

export type OcmConfig = z.infer<typeof configSchema> & {
  /** Absolute data directory. */
  dataDir: string;
  /** Secrets read from env / *_FILE: never logged, never written. */
  secrets: { webPassword?: string; redactionKey?: string; telegramBotToken?: string };
  /** Where the config came from, for `ocm doctor`. */
  source: string | null;
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function describeIssues(error: z.ZodError, source: string, raw: unknown): string {
  return error.issues
    .map((issue) => {
      const key = issue.path.join('.') || '(root)';
      let value: unknown = raw;
      for (const part of issue.path)
        value = (value as Record<PropertyKey, unknown> | undefined)?.[part as string];
      const shown = value === undefined ? 'missing' : JSON.stringify(value)?.slice(0, 80);
      return `${source}: ${key} = ${shown}: ${issue.message}`;
    })
    .join('\n');
}

function readSecret(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const file = env[`${name}_FILE`];
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(
        `${name}_FILE = ${JSON.stringify(file)}: cannot read (${(err as Error).message})`,
      );
    }
  }
  return env[name] || undefined;
}

function intEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value))
    throw new ConfigError(`${name} = ${JSON.stringify(value)}: must be a whole number`);
  return Number(value);
}

/** Load and validate the configuration. Throws ConfigError with one line per problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): OcmConfig {
  const explicit = env.OCM_CONFIG;
  const path = explicit ? resolve(cwd, explicit) : resolve(cwd, 'ocm.config.json');
  let raw: Record<string, unknown> = {};
  let source: string | null = null;
  if (existsSync(path)) {
    source = path;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new ConfigError(`${path}: not valid JSON (${(err as Error).message})`);
    }
  } else if (explicit) {
    throw new ConfigError(`OCM_CONFIG = ${JSON.stringify(explicit)}: file not found`);
  }

  // biome-ignore lint/suspicious/noExplicitAny: raw JSON being merged before zod validates it
  const merged: Record<string, any> = structuredClone(raw);
  const sub = (key: string) => {
    merged[key] = { ...(merged[key] ?? {}) };
    return merged[key];
  };
  if (env.OCM_DATA_DIR) merged.dataDir = resolve(cwd, env.OCM_DATA_DIR);
  if (env.OCM_TIMEZONE) merged.timezone = env.OCM_TIMEZONE;
  if (env.OCM_READ_ONLY) merged.readOnly = env.OCM_READ_ONLY === '1' || env.OCM_READ_ONLY === 'true';
  if (env.OCM_ALLOW_TOOLS)
    merged.allowTools = env.OCM_ALLOW_TOOLS.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const port = intEnv(env, 'OCM_HTTP_PORT');
  if (port !== undefined) sub('http').port = port;
  if (env.OCM_HTTP_HOST) sub('http').host = env.OCM_HTTP_HOST;
  if (env.OCM_CODE_FILE) {
    const codes = sub('codes');
    codes.file = resolve(cwd, env.OCM_CODE_FILE);
    const channels: string[] = codes.channels ?? ['dashboard', 'log'];
    codes.channels = [...new Set([...channels.filter((c) => c !== 'log'), 'file'])];
  }
  if (env.OCM_SSH_KEY) sub('ssh').keyPath = resolve(cwd, env.OCM_SSH_KEY);
  if (env.OCM_BACKUP_REMOTE) sub('backup').remote = env.OCM_BACKUP_REMOTE;
  const httpToken = readSecret(env, 'OCM_HTTP_TOKEN');
  if (httpToken) {
    const http = sub('http');
    http.tokens = [
      ...(http.tokens ?? []),
      { name: 'env', token: httpToken, maxTier: env.OCM_HTTP_TOKEN_TIER ?? 'high' },
    ];
  }

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error, source ?? 'environment', merged));
  const config = parsed.data;

  const base = source ? resolve(source, '..') : cwd;
  for (const token of config.http.tokens) {
    if (!token.token && token.tokenFile) {
      try {
        token.token = readFileSync(resolve(base, token.tokenFile), 'utf8').trim();
      } catch (err) {
        throw new ConfigError(
          `http.tokens[${token.name}].tokenFile: cannot read (${(err as Error).message})`,
        );
      }
    }
    if (!token.token) throw new ConfigError(`http.tokens[${token.name}]: needs token or tokenFile`);
  }
  if (config.codes.channels.includes('file') && !config.codes.file) {
    throw new ConfigError('codes.file: required when codes.channels includes "file" (or set OCM_CODE_FILE)');
  }

  const dataDir = resolve(base, config.dataDir);
  return {
    ...config,
    dataDir,
    codes: { ...config.codes, file: config.codes.file ? resolve(base, config.codes.file) : undefined },
    ssh: { ...config.ssh, keyPath: config.ssh.keyPath ? resolve(base, config.ssh.keyPath) : undefined },
    backup: { ...config.backup, repoDir: resolve(dataDir, config.backup.repoDir ?? 'backups') },
    secrets: {
      webPassword: readSecret(env, 'OCM_WEB_PASSWORD'),
      redactionKey: readSecret(env, 'OCM_REDACTION_KEY'),
      telegramBotToken: readSecret(env, 'OCM_TELEGRAM_BOT_TOKEN'),
    },
    source,
  };
}
