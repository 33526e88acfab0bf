// The `ocm` command. Every command is a thin caller of the tool layer (caller `cli`); none of them
// ever prints a security code.

import { userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError } from './config.ts';
import { runDoctor } from './doctor.ts';
import { log } from './log.ts';
import { type Ocm, openOcm } from './ocm.ts';
import type { CallOutcome } from './registry.ts';
import type { Caller } from './tool.ts';
import { OCM_VERSION } from './version.ts';

const USAGE = `ocm ${OCM_VERSION} — OpenClaw Cluster Manager

  ocm serve                         status page + MCP over Streamable HTTP (/mcp)
  ocm mcp                           MCP over stdio (for Claude Desktop and other MCP clients)
  ocm tools [--json]                every tool with its tier and input schema
  ocm call <tool> --args '<json>' [--confirm-token T] [--code C] [--json]
  ocm node list | add <id> [--host H --port P --user U --transport ssh|local --role R --key K --state-dir D] | remove <id>
  ocm doctor                        check config, data dir, git, ssh and say what to fix
  ocm hash-password                 read a password on stdin, print its scrypt hash for web.passwordHash

Environment: OCM_CONFIG, OCM_DATA_DIR, OCM_CODE_FILE, OCM_HTTP_PORT, OCM_HTTP_TOKEN(_FILE), OCM_WEB_PASSWORD(_FILE)`;

class UsageError extends Error {}

const cliCaller = (): Caller => ({ kind: 'cli', detail: `cli:${userInfo().username}` });

async function withOcm<T>(fn: (ocm: Ocm) => Promise<T>): Promise<T> {
  const ocm = await openOcm();
  try {
    return await fn(ocm);
  } finally {
    await ocm.close();
  }
}

function printOutcome(outcome: CallOutcome, json: boolean): number {
  if (outcome.kind === 'error') {
    const body = {
      status: 'error',
      error: outcome.error,
      message: outcome.message,
      ...(outcome.field ? { field: outcome.field } : {}),
    };
    if (json) process.stdout.write(`${JSON.stringify(body)}\n`);
    else process.stderr.write(`error (${outcome.error}): ${outcome.message}\n`);
    return outcome.error === 'unknown_tool' ? 2 : 1;
  }
  if (json) process.stdout.write(`${JSON.stringify(outcome.data)}\n`);
  else if (outcome.kind === 'confirmation_required') {
    const d = outcome.data;
    process.stdout.write(
      `Confirmation required (${d.tier} tier): ${d.plan}\n` +
        `Repeat with --confirm-token ${d.confirm_token}${d.tier === 'high' ? ' --code <4-digit code>' : ''} before ${d.expires_at}\n` +
        (d.code_sent_to ? `The security code was sent to: ${d.code_sent_to.join(', ')}\n` : ''),
    );
  } else process.stdout.write(`${JSON.stringify(outcome.data, null, 2)}\n`);
  return 0;
}

function progressPrinter(json: boolean) {
  return (progress: number, total: number | undefined, message: string | undefined) => {
    if (!json || process.stderr.isTTY)
      process.stderr.write(
        `  … ${total ? `${progress}/${total}` : progress}${message ? ` ${message}` : ''}\n`,
      );
  };
}

async function commandCall(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      args: { type: 'string', default: '{}' },
      'confirm-token': { type: 'string' },
      code: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const [tool] = positionals;
  if (!tool || positionals.length > 1)
    throw new UsageError("usage: ocm call <tool> --args '<json>' [--confirm-token T] [--code C] [--json]");
  let args: unknown;
  try {
    args = JSON.parse(values.args);
  } catch (err) {
    throw new UsageError(`--args is not valid JSON: ${(err as Error).message}`);
  }
  if (!args || typeof args !== 'object' || Array.isArray(args))
    throw new UsageError('--args must be a JSON object, e.g. --args \'{"id":"g3s-01"}\'');
  const full = {
    ...(args as object),
    ...(values['confirm-token'] ? { confirm_token: values['confirm-token'] } : {}),
    ...(values.code ? { security_code: values.code } : {}),
  };
  return withOcm(async (ocm) =>
    printOutcome(
      await ocm.tools.call(tool, full, cliCaller(), { onProgress: progressPrinter(values.json) }),
      values.json,
    ),
  );
}

async function commandTools(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } } });
  return withOcm(async (ocm) => {
    const tools = ocm.tools.list(cliCaller());
    if (values.json) {
      const out = tools.map((def) => ({
        name: def.name,
        title: def.title,
        tier: def.tier,
        description: def.description,
        input: z.toJSONSchema(ocm.tools.inputSchemaOf(def), { io: 'input' }),
      }));
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    } else {
      for (const def of tools) {
        const shape = Object.keys(ocm.tools.inputSchemaOf(def).shape).join(', ');
        process.stdout.write(
          `${def.name.padEnd(28)} ${def.tier.padEnd(7)} ${def.title}\n${' '.repeat(37)}args: ${shape || '(none)'}\n`,
        );
      }
    }
    return 0;
  });
}

/** Ask the person at the terminal. Confirmation by prompt only works with a human on a TTY. */
async function ask(question: string): Promise<string> {
  if (!process.stdin.isTTY)
    throw new UsageError(
      'this needs confirmation from a person at a terminal; use `ocm call … --confirm-token` instead',
    );
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** Call a tool, walking a person through confirmation (and the security code) at the terminal. */
async function callInteractively(ocm: Ocm, tool: string, args: Record<string, unknown>): Promise<number> {
  const first = await ocm.tools.call(tool, args, cliCaller(), { onProgress: progressPrinter(false) });
  if (first.kind !== 'confirmation_required') return printOutcome(first, false);
  const { plan, tier, confirm_token, code_sent_to } = first.data;
  process.stderr.write(`${plan}\n`);
  if ((await ask('Proceed? [y/N] ')).toLowerCase() !== 'y') {
    ocm.confirmations.cancel(confirm_token, cliCaller().detail);
    process.stderr.write('cancelled\n');
    return 1;
  }
  const code =
    tier === 'high' ? await ask(`Security code (sent to ${code_sent_to?.join(', ')}): `) : undefined;
  const confirmed = { ...args, confirm_token, ...(code === undefined ? {} : { security_code: code }) };
  return printOutcome(
    await ocm.tools.call(tool, confirmed, cliCaller(), { onProgress: progressPrinter(false) }),
    false,
  );
}

async function commandNode(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      user: { type: 'string' },
      transport: { type: 'string' },
      role: { type: 'string' },
      key: { type: 'string' },
      'state-dir': { type: 'string' },
      name: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  return withOcm(async (ocm) => {
    if (sub === 'list') {
      const outcome = await ocm.tools.call('list_nodes', {}, cliCaller());
      if (outcome.kind !== 'ok' || values.json) return printOutcome(outcome, values.json);
      const nodes = (
        outcome.data as {
          nodes: {
            id: string;
            status: string;
            host: string;
            port: number;
            transport: string;
            role: string;
            openclaw_version: string | null;
          }[];
        }
      ).nodes;
      if (!nodes.length)
        process.stdout.write('no nodes registered — add one with `ocm node add <id> --host <host>`\n');
      for (const n of nodes) {
        process.stdout.write(
          `${n.id.padEnd(16)} ${n.status.padEnd(8)} ${n.transport.padEnd(5)} ${`${n.host}:${n.port}`.padEnd(24)} ${n.role.padEnd(10)} ${n.openclaw_version ?? '-'}\n`,
        );
      }
      return 0;
    }
    const [id] = positionals;
    if (!id) throw new UsageError(`usage: ocm node ${sub ?? '<list|add|remove>'} <id>`);
    if (sub === 'add') {
      const args: Record<string, unknown> = {
        id,
        host: values.host,
        user: values.user,
        transport: values.transport,
        role: values.role,
        key_path: values.key,
        openclaw_path: values['state-dir'],
        name: values.name,
      };
      if (values.port !== undefined) args.port = Number(values.port);
      return callInteractively(
        ocm,
        'add_node',
        Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined)),
      );
    }
    if (sub === 'remove') return callInteractively(ocm, 'remove_node', { id });
    throw new UsageError('usage: ocm node list | add <id> … | remove <id>');
  });
}

async function commandHashPassword(): Promise<number> {
  const { hashPassword } = await import('../web/auth.ts');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (password.length < 8) throw new UsageError('password must be at least 8 characters');
  process.stdout.write(`${await hashPassword(password)}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'call':
      return commandCall(rest);
    case 'tools':
      return commandTools(rest);
    case 'node':
      return commandNode(rest);
    case 'doctor':
      return runDoctor();
    case 'hash-password':
      return commandHashPassword();
    case 'mcp': {
      const { runStdio } = await import('./stdio.ts');
      return runStdio();
    }
    case 'serve': {
      const { runServe } = await import('./serve-command.ts');
      return runServe();
    }
    case '--version':
    case 'version':
      process.stdout.write(`${OCM_VERSION}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command ? 0 : 2;
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (!['mcp', 'serve'].includes(process.argv[2] ?? '')) process.exit(code);
  },
  (err) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error:\n${err.message}\n`);
      process.exit(2);
    }
    log.error('ocm failed', { error: err instanceof Error ? err.stack : String(err) });
    process.exit(1);
  },
);
