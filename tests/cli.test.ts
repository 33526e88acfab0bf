// The `ocm` command as the README shows it: exit codes, JSON output, the interactive confirmation a
// person gives at a terminal (through `script`, which provides a real TTY), doctor and tools.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnv, makeOcmHome, OCM_BIN, REPO } from './helpers/ocm-env.ts';

const home = makeOcmHome();
afterAll(() => home.cleanup());
const execFileAsync = promisify(execFile);

async function ocm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [OCM_BIN, ...args], {
      cwd: REPO,
      env: childEnv(home),
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('ocm call', () => {
  it('prints the structured result as one JSON object and exits 0', async () => {
    const r = await ocm('call', 'list_nodes', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ count: 0, nodes: [] });
  });

  it('exits 0 with confirmation_required, 1 on a tool error, 2 on a usage error', async () => {
    const pending = await ocm('call', 'add_node', '--args', '{"id":"g3s-07","host":"192.0.2.7"}', '--json');
    expect(pending.code).toBe(0);
    expect(JSON.parse(pending.stdout)).toMatchObject({ status: 'confirmation_required', tier: 'medium' });
    expect(JSON.parse(pending.stdout).confirm_token).toMatch(/^ocm_/);

    const invalid = await ocm('call', 'get_node', '--args', '{"id":"../x"}', '--json');
    expect(invalid.code).toBe(1);
    expect(JSON.parse(invalid.stdout)).toMatchObject({
      status: 'error',
      error: 'invalid_input',
      field: 'id',
    });

    expect((await ocm('call', 'list_nodes', '--args', '{not json')).code).toBe(2);
    expect((await ocm('call', 'no_such_tool', '--json')).code).toBe(2);
    expect((await ocm('frobnicate')).code).toBe(2);
  });

  it('never prints a security code', async () => {
    await ocm('call', 'add_node', '--args', '{"id":"g3s-08","host":"192.0.2.8","test":false}', '--json').then(
      async (r) =>
        ocm(
          'call',
          'add_node',
          '--args',
          '{"id":"g3s-08","host":"192.0.2.8","test":false}',
          '--confirm-token',
          JSON.parse(r.stdout).confirm_token,
          '--json',
        ),
    );
    const r = await ocm('call', 'remove_node', '--args', '{"id":"g3s-08"}');
    expect(r.code).toBe(0);
    const code = home.codes().at(-1)?.code as string;
    expect(code).toMatch(/^\d{4}$/);
    expect(r.stdout + r.stderr).not.toContain(code);
    expect(r.stdout).toMatch(/--confirm-token ocm_\S+ --code <4-digit code>/);
  });
});

describe('ocm node add', () => {
  it('asks the person at the terminal to confirm, then registers the node', () => {
    const run = spawnSync(
      'script',
      ['-qec', `${process.execPath} ${OCM_BIN} node add g3s-01 --host 192.0.2.4 --user ocm`, '/dev/null'],
      {
        cwd: REPO,
        env: childEnv(home),
        input: 'y\n',
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(run.stdout).toContain('register node g3s-01 at ocm@192.0.2.4:22');
    expect(run.stdout).toContain('Proceed? [y/N]');
    expect(run.status).toBe(0);
  });

  it('refuses to confirm without a terminal', async () => {
    const r = await ocm('node', 'add', 'g3s-02', '--host', '192.0.2.5');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/person at a terminal/);
  });

  it('lists what is registered', async () => {
    const r = await ocm('node', 'list');
    expect(r.stdout).toMatch(/^g3s-01\s+\w+\s+ssh\s+192\.0\.2\.4:22/m);
  });
});

describe('ocm doctor, tools, hash-password', () => {
  it('doctor says what is configured and what to fix', async () => {
    const r = await ocm('doctor');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✓ config/);
    expect(r.stdout).toMatch(/✓ data dir\s+\S+ \(SQLite ok, \d+ nodes\)/);
    expect(r.stdout).toMatch(/http tokens\s+none.*\n\s+fix: set OCM_HTTP_TOKEN/);
  });

  it('doctor fails on a broken config and names the key', async () => {
    const broken = makeOcmHome({ http: { port: 'eighty' } });
    const r = spawnSync(process.execPath, [OCM_BIN, 'doctor'], {
      cwd: REPO,
      env: childEnv(broken),
      encoding: 'utf8',
    });
    broken.cleanup();
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/✗ config\s+.*http\.port = "eighty"/);
  });

  it('tools lists every tool with its tier', async () => {
    const r = await ocm('tools');
    expect(r.stdout).toMatch(/^remove_node\s+high\s+/m);
    expect(r.stdout).toMatch(/^list_nodes\s+read\s+/m);
    const json = JSON.parse((await ocm('tools', '--json')).stdout) as { name: string; tier: string }[];
    expect(json.find((t) => t.name === 'restore_node')?.tier).toBe('high');
  });

  it('hash-password turns a password on stdin into a scrypt hash', () => {
    const r = spawnSync(process.execPath, [OCM_BIN, 'hash-password'], {
      cwd: REPO,
      env: childEnv(home),
      input: 'correct horse battery\n',
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^scrypt\$/);
    expect(r.stdout).not.toContain('correct horse');
  });
});
