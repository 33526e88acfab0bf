// Issue #2 acceptance 4: locks are shared through SQLite by separate OCM processes, and a process
// killed while holding a lock or running an operation leaves both recoverable on the next start.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../mcp-server/config.ts';
import { type Ocm, openOcm } from '../mcp-server/ocm.ts';
import { childEnv, makeOcmHome, type OcmHome, REPO } from './helpers/ocm-env.ts';

let home: OcmHome;
const open = () => openOcm({ config: loadConfig(home.env) });

function holdLockInChild(scope: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'tests/fixtures/hold-lock.ts'), scope],
    {
      env: childEnv(home),
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('held') && resolve(child));
    child.once('exit', (code) => reject(new Error(`holder exited early (${code})`)));
  });
}

beforeEach(() => {
  home = makeOcmHome();
});
afterEach(() => home.cleanup());

describe('locks across processes', () => {
  it('a second process cannot take a node lock another process holds', async () => {
    const child = await holdLockInChild('node:g3s-01');
    const ocm = await open();
    try {
      await expect(ocm.locks.acquire('node:g3s-01', 'cli:me', 'backup_node', 300)).rejects.toThrow(
        /g3s-01 is busy: restore_node by cli:holder/,
      );
      const other = await ocm.locks.acquire('node:g3s-02', 'cli:me', 'backup_node', 300);
      other.release();
    } finally {
      child.kill('SIGKILL');
      await ocm.close();
    }
  });

  it('a killed holder leaves the lock and its operation recoverable on the next start', async () => {
    const child = await holdLockInChild('node:g3s-01');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    const ocm = await open();
    try {
      const held = await ocm.locks.acquire('node:g3s-01', 'cli:me', 'backup_node', 1000);
      held.release();
      const op = ocm.db.prepare("SELECT status, steps FROM operations WHERE tool = 'restore_node'").get() as {
        status: string;
        steps: string;
      };
      expect(op.status).toBe('interrupted');
      expect(JSON.parse(op.steps)[0].step).toBe('stopped gateway');
      const event = ocm.db.prepare("SELECT message, severity FROM events WHERE type = 'operation'").get() as {
        message: string;
        severity: string;
      };
      expect(event.message).toMatch(/restore_node on g3s-01 was interrupted/);
      expect(event.severity).toBe('error');
    } finally {
      await ocm.close();
    }
  });
});

describe('locks in one process', () => {
  let ocm: Ocm;
  beforeEach(async () => {
    ocm = await open();
  });
  afterEach(async () => ocm.close());

  it('grants waiters in FIFO order', async () => {
    const first = await ocm.locks.acquire('cluster', 'cli:a', 'backup_all');
    const order: string[] = [];
    const second = ocm.locks.acquire('cluster', 'cli:b', 'restart_all').then((l) => {
      order.push('b');
      return l;
    });
    await new Promise((r) => setTimeout(r, 50));
    const third = ocm.locks.acquire('cluster', 'cli:c', 'backup_all').then((l) => {
      order.push('c');
      return l;
    });
    await new Promise((r) => setTimeout(r, 50));
    first.release();
    (await second).release();
    (await third).release();
    expect(order).toEqual(['b', 'c']);
  });

  it('shows who holds a node as busy', async () => {
    ocm.nodes.insert({ id: 'g3s-01', host: '192.0.2.1' });
    const lock = await ocm.locks.acquire('node:g3s-01', 'cron:backup-all', 'backup_node');
    expect(ocm.nodes.get('g3s-01')?.busy).toMatchObject({ operation: 'backup_node', by: 'cron:backup-all' });
    lock.release();
    expect(ocm.nodes.get('g3s-01')?.busy).toBeNull();
  });
});
