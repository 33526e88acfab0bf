// Issue #4 acceptance 2, end to end on a 2-node sim fleet over real SSH: whatever secrets are
// planted in a node's openclaw.json (secret-looking keys at any depth, the known OpenClaw paths,
// env vars) and whatever token-shaped strings sit in its workspace files, none of them reaches
// git (any object, reachable or not), OCM's data dir, the audit log, or a tool result. A rotated
// secret shows up as a changed placeholder, never as itself.
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupRepo } from '../mcp-server/backup/backup.ts';
import {
  fakeToken,
  highEntropy,
  plainName,
  secretPath,
  tokenShaped,
} from '../mcp-server/backup/fake-secrets.fixture.ts';
import { loadConfig } from '../mcp-server/config.ts';
import { type Ocm, openOcm } from '../mcp-server/ocm.ts';
import type { CallOutcome } from '../mcp-server/registry.ts';
import type { Caller } from '../mcp-server/tool.ts';
import { type Fleet, startFleet } from './harness/fleet.ts';

const operator: Caller = { kind: 'cli', detail: 'cli:backup-secrets-test' };
const NODES = ['g3s-01', 'g3s-02'] as const;
let fleet: Fleet;
let ocm: Ocm;
/** Every secret that ever sat on a node, with where it was put (for the failure message). */
const secrets = new Map<string, string>();
/** The JSON of every tool result, as a caller would have seen it. */
const toolResults: string[] = [];
const initialConfig = new Map<string, Record<string, unknown>>();

const stateOf = (id: string) => fleet.nodes.find((n) => n.id === id)?.stateDir as string;
const repoDir = () => ocm.config.backup.repoDir as string;
const git = (...args: string[]) => execFileSync('git', ['-C', repoDir(), ...args], { maxBuffer: 1 << 30 });

async function call(tool: string, args: Record<string, unknown>): Promise<CallOutcome> {
  const outcome = await ocm.tools.call(tool, args, operator);
  toolResults.push(JSON.stringify(outcome));
  return outcome;
}
async function ok(tool: string, args: Record<string, unknown>) {
  const outcome = await call(tool, args);
  if (outcome.kind !== 'ok') throw new Error(`${tool}: ${JSON.stringify(outcome)}`);
  return outcome.data as Record<string, any>;
}

// --- where secrets are planted ------------------------------------------------------------------

const someName = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/);

const separator = fc.constantFrom(' ', '\n', '"', "'", '`', '=', ':', '(', ')', '/', ',', '\t');
const prose = fc.lorem({ maxCount: 6 });

interface ConfigPlant {
  path: string[];
  value: string;
  secret: string;
}
const configPlant: fc.Arbitrary<ConfigPlant> = fc.oneof(
  fc
    .tuple(secretPath, fc.oneof(tokenShaped, highEntropy))
    .map(([path, secret]) => ({ path, value: secret, secret })),
  // A token inside ordinary text: a prompt, a note, a URL.
  fc
    .tuple(
      fc.array(plainName, { minLength: 1, maxLength: 3 }),
      fc.constantFrom('systemPrompt', 'notes', 'url'),
      tokenShaped,
      prose,
      prose,
      separator,
      separator,
    )
    .map(([dirs, name, secret, before, after, s1, s2]) => ({
      path: [...dirs, name],
      value: `${before}${s1}${secret}${s2}${after}`,
      secret,
    })),
);

interface FilePlant {
  file: string;
  text: string;
  tokens: string[];
}
const workspaceFile = fc.oneof(
  fc.constantFrom('SOUL.md', 'MEMORY.md', 'USER.md'),
  someName.map((n) => `memory/${n}.md`),
  someName.map((n) => `skills/${n}/SKILL.md`),
);
const filePlant: fc.Arbitrary<FilePlant> = fc
  .tuple(
    workspaceFile,
    fc.array(fc.tuple(prose, separator, tokenShaped, separator), { minLength: 1, maxLength: 4 }),
    prose,
  )
  .map(([file, parts, tail]) => ({
    file,
    text: `# ${file}\n\n${parts.map(([text, s1, token, s2]) => `${text}${s1}${token}${s2}`).join('\n')}\n${tail}\n`,
    tokens: parts.map(([, , token]) => token),
  }));

const extraCalls = fc.subarray(['backup_all', 'backup_diff', 'list_backups'] as const);

function setAt(root: Record<string, unknown>, path: string[], value: string): void {
  let node = root;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  node[path.at(-1) as string] = value;
}

// --- where secrets must never be ---------------------------------------------------------------

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isDirectory()) out.push(...filesUnder(path));
    else if (st.isFile()) out.push(path);
  }
  return out;
}

/** Everything OCM keeps or shows: git (every object, and the patch history), the data dir byte for byte, the audit log, tool results. */
function everywhere(): { where: string; bytes: Buffer }[] {
  return [
    { where: 'git log -p --all', bytes: git('log', '-p', '--all', '--no-color') },
    { where: 'git cat-file --batch-all-objects', bytes: git('cat-file', '--batch-all-objects', '--batch') },
    ...filesUnder(ocm.config.dataDir).map((path) => ({ where: path, bytes: readFileSync(path) })),
    {
      where: 'audit_log',
      bytes: Buffer.from(JSON.stringify(ocm.db.prepare('SELECT * FROM audit_log').all())),
    },
    { where: 'tool results', bytes: Buffer.from(toolResults.join('\n')) },
  ];
}

/** The secret as stored raw, inside a JSON string, and each long line of a multi-line one. */
function leakForms(secret: string): string[] {
  const forms = new Set([secret, JSON.stringify(secret).slice(1, -1)]);
  for (const line of secret.split('\n')) if (line.length >= 20) forms.add(line);
  return [...forms];
}

function expectNoLeak(which: Iterable<string>): void {
  const places = everywhere();
  for (const secret of which) {
    for (const form of leakForms(secret)) {
      for (const place of places) {
        if (place.bytes.includes(form)) {
          throw new Error(
            `the secret planted at ${secrets.get(secret)} (${secret.slice(0, 6)}…) leaked into ${place.where}`,
          );
        }
      }
    }
  }
}

/** The secrets a seeded sim node starts with, in its config and in the files never backed up. */
function seededSecrets(id: string): [string, string][] {
  const state = stateOf(id);
  const config = JSON.parse(readFileSync(join(state, 'openclaw.json'), 'utf8'));
  return [
    [config.env.vars.OPENAI_API_KEY, 'env.vars.OPENAI_API_KEY'],
    [config.gateway.auth.token, 'gateway.auth.token'],
    [config.channels.telegram.botToken, 'channels.telegram.botToken'],
    [config.models.providers.anthropic.apiKey, 'models.providers.anthropic.apiKey'],
    [readFileSync(join(state, '.env'), 'utf8').trim().split('=')[1] as string, '.env'],
    [
      JSON.parse(readFileSync(join(state, 'credentials', 'telegram.json'), 'utf8')).botToken,
      'credentials/telegram.json',
    ],
    [JSON.parse(readFileSync(join(state, 'secrets.json'), 'utf8')).webhookSecret, 'secrets.json'],
  ].map(([secret, where]) => [secret, `${id}:${where} (seeded)`]);
}

beforeAll(async () => {
  fleet = await startFleet({ dir: mkdtempSync(join(tmpdir(), 'ocm-backup-secrets-')), nodes: NODES.length });
  ocm = await openOcm({ config: loadConfig({ ...process.env, ...fleet.env, OCM_LOG_LEVEL: 'error' }) });
  await backupRepo(ocm);
  for (const id of NODES) {
    initialConfig.set(id, JSON.parse(readFileSync(join(stateOf(id), 'openclaw.json'), 'utf8')));
    for (const [secret, where] of seededSecrets(id)) secrets.set(secret, where);
  }
  await ok('backup_all', {});
}, 180_000);
afterAll(async () => {
  await ocm?.close();
  await fleet?.stop();
  if (fleet) rmSync(fleet.dir, { recursive: true, force: true });
});

describe('secrets never leave a node unredacted', () => {
  it('a rotated secret shows as a changed placeholder, and neither value appears', async () => {
    const id = 'g3s-01';
    const configPath = join(stateOf(id), 'openclaw.json');
    const before = fakeToken('telegram-bot-token', 'rotation-before');
    const after = fakeToken('telegram-bot-token', 'rotation-after');
    secrets.set(before, `${id}:channels.telegram.botToken (before rotation)`);
    secrets.set(after, `${id}:channels.telegram.botToken (after rotation)`);
    const config = structuredClone(initialConfig.get(id) as Record<string, any>);

    config.channels.telegram.botToken = before;
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    const first = await ok('backup_node', { id });
    config.channels.telegram.botToken = after;
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    const second = await ok('backup_node', { id });

    expect(second.changed).toBe(true);
    expect(second.changed_files).toEqual(['config/openclaw.json']);
    const diff = await ok('backup_diff', { id, from: first.commit, to: second.commit });
    expect(diff.files).toEqual([]);
    expect(diff.config_changes).toHaveLength(1);
    const [change] = diff.config_changes;
    expect(change).toMatchObject({ path: 'channels.telegram.botToken', change: 'changed' });
    expect(change.before).toMatch(/^\*\*\*REDACTED:[0-9a-f]{8}\*\*\*$/);
    expect(change.after).toMatch(/^\*\*\*REDACTED:[0-9a-f]{8}\*\*\*$/);
    expect(change.after).not.toBe(change.before);
    // In git, the commit changes exactly that one line, placeholder for placeholder.
    const patch = git('show', '--format=', '--unified=0', second.commit).toString('utf8');
    const changedLines = patch.split('\n').filter((l) => /^[-+][^-+]/.test(l));
    expect(changedLines).toEqual([
      `-      "botToken": "${change.before}",`,
      `+      "botToken": "${change.after}",`,
    ]);
    expectNoLeak([before, after]);
  });

  it('for any planted secrets: none in git, the data dir, the audit log or any tool result', async () => {
    const run = fc.asyncProperty(
      fc.constantFrom(...NODES),
      fc.array(configPlant, { minLength: 1, maxLength: 6 }),
      fc.array(filePlant, { maxLength: 3 }),
      extraCalls,
      async (id, configPlants, filePlants, extras) => {
        const state = stateOf(id);
        const config = structuredClone(initialConfig.get(id) as Record<string, unknown>);
        for (const plant of configPlants) setAt(config, plant.path, plant.value);
        const written = JSON.stringify(config, null, 2);
        writeFileSync(join(state, 'openclaw.json'), written);
        const planted: string[] = [];
        for (const plant of configPlants) {
          // A later plant may have replaced an earlier one; only what is in the file counts.
          if (!written.includes(JSON.stringify(plant.secret).slice(1, -1))) continue;
          secrets.set(plant.secret, `${id}:openclaw.json ${plant.path.join('.')}`);
          planted.push(plant.secret);
        }
        for (const plant of filePlants) {
          const path = join(state, 'workspace', plant.file);
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, plant.text);
          for (const token of plant.tokens) {
            secrets.set(token, `${id}:workspace/${plant.file}`);
            planted.push(token);
          }
        }

        const backup = await ok('backup_node', { id });
        expect(backup.redactions).toBeGreaterThan(0);
        for (const extra of extras) {
          if (extra === 'backup_all') expect((await ok('backup_all', {})).failed).toBe(0);
          else if (extra === 'backup_diff') await call('backup_diff', { id });
          else await ok('list_backups', { id, limit: 5 });
        }
        expectNoLeak(planted);
      },
    );
    // Each run backs a node up over SSH; stop at the first failure rather than shrink against a
    // node whose state the failed run already changed.
    await fc.assert(run, { numRuns: 25, endOnFailure: true });
    // Earlier secrets must not resurface through later calls (diffs, history listings) either.
    expectNoLeak(secrets.keys());
    expect(secrets.size).toBeGreaterThan(20);
  }, 170_000);
});
