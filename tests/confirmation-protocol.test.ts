// SPEC §3 / issue #2 acceptance 3: the confirmation protocol, walked through a real MCP client
// over stdio, with the security code read from the file channel the way a human would read it.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stdioClient } from './helpers/mcp-clients.ts';
import { childEnv, makeOcmHome, OCM_BIN, type OcmHome, REPO } from './helpers/ocm-env.ts';

type Result = {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
  content: { type: string; text?: string }[];
};

let home: OcmHome;
let client: Client;
const call = async (name: string, args: Record<string, unknown>) =>
  (await client.callTool({ name, arguments: args })) as Result;
const text = (r: Result) => r.content.map((c) => c.text ?? '').join('\n');
const auditRows = () => {
  const db = new Database(join(home.env.OCM_DATA_DIR as string, 'ocm.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT * FROM audit_log ORDER BY id').all() as {
      action: string;
      result: string;
      params: string;
      error_message: string | null;
    }[];
  } finally {
    db.close();
  }
};
const nodeIds = async () =>
  (((await call('list_nodes', {})).structuredContent?.nodes ?? []) as { id: string }[]).map((n) => n.id);

async function addNode(id: string) {
  const args = { id, host: '192.0.2.10', test: false };
  const first = await call('add_node', args);
  expect(first.structuredContent?.status).toBe('confirmation_required');
  const done = await call('add_node', { ...args, confirm_token: first.structuredContent?.confirm_token });
  expect(done.isError).toBeFalsy();
}

beforeAll(async () => {
  home = makeOcmHome();
  client = await stdioClient(home);
  await addNode('g3s-01');
  await addNode('g3s-02');
});
afterAll(async () => {
  await client?.close();
  home?.cleanup();
});

describe('high tier: remove_node', () => {
  it('without a token asks for confirmation, changes nothing, and sends the code only out of band', async () => {
    const before = auditRows().length;
    const codesBefore = home.codes().length;
    const r = await call('remove_node', { id: 'g3s-01' });
    expect(r.isError).toBeFalsy();
    const data = r.structuredContent as Record<string, string>;
    expect(data.status).toBe('confirmation_required');
    expect(data.tier).toBe('high');
    expect(data.plan).toContain('g3s-01');
    expect(Date.parse(String(data.expires_at))).toBeGreaterThan(Date.now());
    expect(await nodeIds()).toContain('g3s-01');

    const codes = home.codes();
    expect(codes.length).toBe(codesBefore + 1);
    const code = home.codeFor(String(data.confirm_token));
    expect(code).toMatch(/^\d{4}$/);
    expect(JSON.stringify(r)).not.toContain(`"${code}"`);
    const rows = auditRows().slice(before);
    expect(rows.map((row) => row.result)).toEqual(['confirmation_required', 'success']); // + the list_nodes read
    // The file channel is private to the operator.
    expect(readdirSync(home.dir)).toContain('codes.log');
    expect(
      execFileSync('stat', ['-c', '%a', home.env.OCM_CODE_FILE as string])
        .toString()
        .trim(),
    ).toBe('600');
  });

  it('denies a wrong code, burns the token after three, and executes once with the right code', async () => {
    const first = (await call('remove_node', { id: 'g3s-01' })).structuredContent as Record<string, string>;
    const token = first.confirm_token as string;
    const code = home.codeFor(token);
    const wrong = code === '0000' ? '1111' : '0000';

    for (let attempt = 1; attempt <= 3; attempt++) {
      const r = await call('remove_node', { id: 'g3s-01', confirm_token: token, security_code: wrong });
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(attempt < 3 ? /wrong security_code/ : /burned/);
    }
    // Burned: even the right code no longer works.
    const burned = await call('remove_node', { id: 'g3s-01', confirm_token: token, security_code: code });
    expect(burned.isError).toBe(true);
    expect(await nodeIds()).toContain('g3s-01');

    const fresh = (await call('remove_node', { id: 'g3s-01' })).structuredContent as Record<string, string>;
    const freshCode = home.codeFor(fresh.confirm_token as string);
    const noCode = await call('remove_node', { id: 'g3s-01', confirm_token: fresh.confirm_token });
    expect(noCode.isError).toBe(true);
    expect(text(noCode)).toMatch(/security_code required/);

    const ok = await call('remove_node', {
      id: 'g3s-01',
      confirm_token: fresh.confirm_token,
      security_code: freshCode,
    });
    expect(ok.isError).toBeFalsy();
    expect(ok.structuredContent).toMatchObject({ removed: 'g3s-01' });
    expect(await nodeIds()).not.toContain('g3s-01');

    const replay = await call('remove_node', {
      id: 'g3s-01',
      confirm_token: fresh.confirm_token,
      security_code: freshCode,
    });
    expect(replay.isError).toBe(true);
    expect(text(replay)).toMatch(/already used/);
  });

  it('refuses an old token for changed arguments', async () => {
    const first = (await call('remove_node', { id: 'g3s-02' })).structuredContent as Record<string, string>;
    await addNode('g3s-03');
    const r = await call('remove_node', {
      id: 'g3s-03',
      confirm_token: first.confirm_token,
      security_code: home.codeFor(first.confirm_token as string),
    });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/arguments differ/);
    expect(await nodeIds()).toEqual(expect.arrayContaining(['g3s-02', 'g3s-03']));
  });

  it('refuses a token presented by another caller', async () => {
    const first = (await call('remove_node', { id: 'g3s-02' })).structuredContent as Record<string, string>;
    const code = home.codeFor(first.confirm_token as string);
    let out = '';
    try {
      execFileSync(
        process.execPath,
        [
          OCM_BIN,
          'call',
          'remove_node',
          '--args',
          '{"id":"g3s-02"}',
          '--confirm-token',
          first.confirm_token as string,
          '--code',
          code,
          '--json',
        ],
        {
          env: childEnv(home),
          cwd: REPO,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
    } catch (err) {
      out = (err as { stdout: string }).stdout;
      expect((err as { status: number }).status).toBe(1);
    }
    expect(JSON.parse(out)).toMatchObject({ status: 'error', error: 'denied' });
    expect(out).toMatch(/another caller/);
    expect(await nodeIds()).toContain('g3s-02');
  });

  it('left one audit row per step, none containing a code', () => {
    const rows = auditRows();
    const codes = home.codes().map((c) => c.code);
    const removeRows = rows.filter((r) => r.action === 'remove_node');
    expect(removeRows.length).toBeGreaterThanOrEqual(12);
    expect(new Set(removeRows.map((r) => r.result))).toEqual(
      new Set(['confirmation_required', 'denied', 'success']),
    );
    for (const row of rows) {
      for (const code of codes) expect(row.params).not.toContain(`"${code}"`);
    }
    const dump = readFileSync(join(home.env.OCM_DATA_DIR as string, 'ocm.sqlite')).toString('latin1');
    for (const c of home.codes().slice(0, -1)) expect(dump).not.toContain(`"security_code":"${c.code}"`);
  });
});

describe('medium tier and dry runs', () => {
  it('dry_run returns the plan and creates nothing', async () => {
    const r = await call('add_node', { id: 'g3s-09', host: '192.0.2.9', dry_run: true });
    expect(r.structuredContent).toMatchObject({ status: 'dry_run' });
    expect(String(r.structuredContent?.plan)).toContain('g3s-09');
    expect(await nodeIds()).not.toContain('g3s-09');
  });

  it('cancel_confirmation withdraws a pending token', async () => {
    const first = (await call('update_node', { id: 'g3s-02', role: 'test' })).structuredContent as Record<
      string,
      string
    >;
    const pending = (await call('list_pending_confirmations', {})).structuredContent?.pending as {
      tool: string;
    }[];
    expect(pending.some((p) => p.tool === 'update_node')).toBe(true);
    expect(JSON.stringify(pending)).not.toContain(first.confirm_token as string);
    expect((await call('cancel_confirmation', { token: first.confirm_token })).structuredContent).toEqual({
      cancelled: true,
    });
    const r = await call('update_node', { id: 'g3s-02', role: 'test', confirm_token: first.confirm_token });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/already cancelled/);
  });
});
