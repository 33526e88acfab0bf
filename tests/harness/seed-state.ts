// A realistic OpenClaw state dir for a sim node: the config with secrets where OpenClaw keeps
// them, the workspace files OCM backs up, and the files it must never back up. Tests assert on
// what leaves the node, so every secret written here is returned to them.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

export interface SeedOptions {
  stateDir: string;
  /** Shown in the workspace files so nodes differ. Default: the state dir's parent's name. */
  nodeName?: string;
  /** Extra workspace files under workspace/memory/notes/ (benchmarks: ~200). */
  files?: number;
  /** Bytes per extra file (benchmarks: ~10 000, for ~2 MB a node). */
  fileBytes?: number;
  /** Written to <state>/.sim/version for the sim (omit for its default). */
  simVersion?: string;
  /** <state>/.ocm/agent.conf lines; omit to write no agent.conf. */
  agentConf?: { gatewayStart: string; openclawBin?: string };
  /** openclaw.json meta.lastTouchedVersion. Default 2026.9.6. */
  lastTouchedVersion?: string;
}

/** The raw secret values in this node's state, for "never leaves the node" assertions. */
export interface SeededSecrets {
  telegramBotToken: string;
  gatewayToken: string;
  anthropicApiKey: string;
  openaiApiKey: string;
  /** In .env / credentials/ / secrets.json only: never in a backup even redacted. */
  dotEnvSecret: string;
  credentialsToken: string;
  secretsJsonValue: string;
}

export interface SeededState {
  stateDir: string;
  configPath: string;
  workspaceDir: string;
  secrets: SeededSecrets;
  /** Member names a backup of this state must contain (besides cron-export.json). */
  backedUp: string[];
  /** Paths relative to the state dir that must never appear in a backup. */
  neverBackedUp: string[];
}

const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomToken(length: number, alphabet = `${alnum}_-`): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

function makeSecrets(): SeededSecrets {
  return {
    // Shapes as issued: Telegram <bot id>:AA…, Anthropic sk-ant-api03-…, OpenAI sk-proj-….
    telegramBotToken: `${100000000 + randomBytes(3).readUIntBE(0, 3)}:AA${randomToken(33)}`,
    gatewayToken: randomBytes(24).toString('hex'),
    anthropicApiKey: `sk-ant-api03-${randomToken(93)}AA`,
    openaiApiKey: `sk-proj-${randomToken(48, alnum)}`,
    dotEnvSecret: `sk-ant-api03-${randomToken(93)}AA`,
    credentialsToken: `${100000000 + randomBytes(3).readUIntBE(0, 3)}:AA${randomToken(33)}`,
    secretsJsonValue: randomBytes(20).toString('hex'),
  };
}

function configFor(
  nodeName: string,
  secrets: SeededSecrets,
  lastTouchedVersion: string,
  workspaceDir: string,
) {
  return {
    meta: { lastTouchedVersion, lastTouchedAt: new Date().toISOString() },
    env: { vars: { OPENAI_API_KEY: secrets.openaiApiKey, TZ: 'Europe/Berlin' } },
    gateway: {
      mode: 'local',
      port: 18789,
      bind: 'loopback',
      auth: { mode: 'token', token: secrets.gatewayToken },
    },
    channels: {
      telegram: {
        enabled: true,
        botToken: secrets.telegramBotToken,
        dmPolicy: 'pairing',
        allowFrom: ['tg:424242'],
      },
    },
    models: {
      providers: {
        anthropic: { apiKey: secrets.anthropicApiKey },
        // A reference, not a secret: resolved from the environment at run time.
        // biome-ignore lint/suspicious/noTemplateCurlyInString: OpenClaw's own ${VAR} syntax, on purpose
        openai: { apiKey: '${OPENAI_API_KEY}' },
      },
    },
    agents: {
      defaults: {
        model: { primary: 'anthropic/claude-sonnet-4-5' },
        workspace: workspaceDir,
        heartbeat: { every: '30m' },
      },
      list: [{ id: 'main', identity: { name: nodeName } }],
    },
    tools: { profile: 'coding' },
  };
}

function workspaceFiles(nodeName: string): Record<string, string> {
  return {
    'AGENTS.md': `# AGENTS.md\n\nYou are the assistant on ${nodeName}. Read SOUL.md and USER.md at the start of every session.\n`,
    'SOUL.md': '# SOUL.md\n\nCalm, precise, kind. Say so when you do not know.\n',
    'USER.md': '# USER.md\n\n- Name: Sam\n- Timezone: Europe/Berlin\n- Prefers short answers.\n',
    'IDENTITY.md': `# IDENTITY.md\n\n- **Name:** ${nodeName}\n- **Emoji:** 🦞\n`,
    'MEMORY.md': `# MEMORY.md\n\n- ${nodeName} runs the household calendar.\n- Sam likes tea, not coffee.\n`,
    'memory/2026-11-20.md': '# 2026-11-20\n\n- Helped plan the week. Reminder set for the dentist.\n',
    'skills/weather/SKILL.md':
      '---\nname: weather\ndescription: Look up the weather for a city.\nmetadata: {"openclaw": {"requires": {"bins": ["curl"]}}}\n---\n\n# Weather\n\nUse `curl wttr.in/<city>?format=3`.\n',
  };
}

const cronJobs = {
  version: 1,
  jobs: [
    {
      id: 'morning-briefing',
      name: 'Morning briefing',
      enabled: true,
      schedule: { kind: 'cron', expr: '0 8 * * *', tz: 'Europe/Berlin' },
      sessionTarget: 'isolated',
      payload: { kind: 'agentTurn', message: 'Give Sam a short morning briefing.' },
    },
  ],
};

/** Filler text that differs per node and file, so backups and diffs are realistic. */
function filler(seed: string, bytes: number): string {
  const words = [
    'tea',
    'calendar',
    'reminder',
    'garden',
    'invoice',
    'train',
    'meeting',
    'recipe',
    'call',
    'notes',
  ];
  let out = `# ${seed}\n\n`;
  let i = 0;
  while (out.length < bytes) {
    const word = words[(seed.length * 7 + i * 13) % words.length] as string;
    out += `- ${seed} ${word} ${i}\n`;
    i++;
  }
  return out.slice(0, bytes);
}

async function put(path: string, content: string, mode?: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content, mode === undefined ? undefined : { mode });
  if (mode !== undefined) await chmod(path, mode);
}

/** Write the state dir (overwriting the files it names) and return what is in it. */
export async function seedState(options: SeedOptions): Promise<SeededState> {
  const stateDir = resolve(options.stateDir);
  const nodeName = options.nodeName ?? stateDir.split('/').slice(-2, -1)[0] ?? 'node';
  const workspaceDir = join(stateDir, 'workspace');
  const configPath = join(stateDir, 'openclaw.json');
  const secrets = makeSecrets();
  const backedUp = ['openclaw.json'];

  await put(
    configPath,
    `${JSON.stringify(configFor(nodeName, secrets, options.lastTouchedVersion ?? '2026.9.6', workspaceDir), null, 2)}\n`,
    0o600,
  );
  for (const [rel, content] of Object.entries(workspaceFiles(nodeName))) {
    await put(join(workspaceDir, rel), content);
    backedUp.push(`workspace/${rel}`);
  }
  for (let i = 1; i <= (options.files ?? 0); i++) {
    const rel = `memory/notes/note-${String(i).padStart(4, '0')}.md`;
    await put(join(workspaceDir, rel), filler(`${nodeName} note ${i}`, options.fileBytes ?? 1000));
    backedUp.push(`workspace/${rel}`);
  }
  // OpenClaw makes the workspace a git repo; its .git is never backed up.
  await put(join(workspaceDir, '.git', 'HEAD'), 'ref: refs/heads/master\n');
  await put(join(workspaceDir, '.git', 'config'), '[core]\n\trepositoryformatversion = 0\n\tbare = false\n');
  await put(join(stateDir, 'cron', 'jobs.json'), `${JSON.stringify(cronJobs, null, 2)}\n`);

  const neverBackedUp = [
    '.env',
    'credentials/telegram.json',
    'secrets.json',
    'state/openclaw.sqlite',
    'openclaw.json.bak',
    'workspace/.git/HEAD',
  ];
  await put(join(stateDir, '.env'), `ANTHROPIC_API_KEY=${secrets.dotEnvSecret}\n`, 0o600);
  await put(
    join(stateDir, 'credentials', 'telegram.json'),
    `${JSON.stringify({ botToken: secrets.credentialsToken })}\n`,
    0o600,
  );
  await put(
    join(stateDir, 'secrets.json'),
    `${JSON.stringify({ webhookSecret: secrets.secretsJsonValue })}\n`,
    0o600,
  );
  await put(join(stateDir, 'state', 'openclaw.sqlite'), 'SQLite format 3\u0000 (stand-in bytes)\n');
  await put(
    join(stateDir, 'openclaw.json.bak'),
    `${JSON.stringify({ gateway: { auth: { token: secrets.gatewayToken } } })}\n`,
    0o600,
  );

  if (options.simVersion) await put(join(stateDir, '.sim', 'version'), `${options.simVersion}\n`);
  if (options.agentConf) {
    const lines = [
      '# ocm-agent settings for this node: KEY=VALUE, parsed, never sourced.',
      `GATEWAY_START=${options.agentConf.gatewayStart}`,
      ...(options.agentConf.openclawBin ? [`OPENCLAW_BIN=${options.agentConf.openclawBin}`] : []),
      '',
    ];
    await put(join(stateDir, '.ocm', 'agent.conf'), lines.join('\n'));
    await chmod(join(stateDir, '.ocm'), 0o700);
  }
  return { stateDir, configPath, workspaceDir, secrets, backedUp, neverBackedUp };
}

/** Plant a symlink in the workspace (must never be followed or packed). */
export async function plantWorkspaceSymlink(state: SeededState, rel: string, target: string): Promise<void> {
  await mkdir(dirname(join(state.workspaceDir, rel)), { recursive: true });
  await symlink(target, join(state.workspaceDir, rel));
}
