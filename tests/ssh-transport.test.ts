// What only the ssh transport has to get right: reaching (or clearly not reaching) a node, pinning
// its host key and refusing a changed one, and coming back after the node's sshd restarts.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NodeUnreachable } from '../mcp-server/errors.ts';
import { type NodeAddress, NodeConnections } from '../mcp-server/nodes/connections.ts';
import { hostKeyFingerprintOf, SshTransport } from '../mcp-server/nodes/ssh.ts';
import { ensureKeyPair, freePort, keyFingerprint } from './harness/sshd.ts';
import { eventually, type SshSubject, sshSubject, testSshSettings } from './harness/transport-subjects.ts';

const root = mkdtempSync(join(tmpdir(), 'ocm-ssh-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let dirCount = 0;
function freshDir(): string {
  const dir = join(root, `case-${++dirCount}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function startNode(): Promise<SshSubject> {
  const subject = await sshSubject(freshDir());
  cleanups.push(() => subject.stop());
  return subject;
}

function transportTo(
  port: number,
  keyPath: string,
  extra: Partial<ConstructorParameters<typeof SshTransport>[0]> = {},
) {
  const pins: string[] = [];
  const transport = new SshTransport(
    { nodeId: 'n1', host: '127.0.0.1', port, user: 'root', keyPath, ...extra },
    { settings: testSshSettings, onHostKeyPinned: (_node, fingerprint) => void pins.push(fingerprint) },
  );
  cleanups.push(() => transport.close());
  return { transport, pins };
}

describe('ssh transport: reaching the node', () => {
  it('says "connection refused" when nothing listens (without waiting for the connect timeout)', async () => {
    const { privateKeyPath } = await ensureKeyPair(join(freshDir(), 'key'));
    const { transport } = transportTo(await freePort(), privateKeyPath);
    const run = transport.exec(['true']);
    await expect(run).rejects.toThrow(NodeUnreachable);
    await expect(run).rejects.toThrow(/connection refused/);
    // During the backoff the next call fails at once with the same reason.
    await expect(transport.exec(['true'])).rejects.toThrow(/connection refused.*next connection attempt/);
  });

  it('gives up after the connect timeout when the port answers but never speaks SSH', async () => {
    const { privateKeyPath } = await ensureKeyPair(join(freshDir(), 'key'));
    let socketsClosed = 0;
    // Reads (and ignores) what the client sends, so it notices when the client hangs up.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.resume();
      socket.on('close', () => socketsClosed++);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    // Destroy what is left first: server.close() waits for open connections, and a failing
    // assertion below must not turn into a hung hook.
    cleanups.push(
      () =>
        new Promise((resolve) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => resolve());
        }),
    );
    const port = (silent.address() as AddressInfo).port;
    const transport = new SshTransport(
      { nodeId: 'n1', host: '127.0.0.1', port, user: 'root', keyPath: privateKeyPath },
      { settings: { ...testSshSettings, connectTimeoutMs: 500 } },
    );
    cleanups.push(() => transport.close());
    await expect(transport.exec(['true'])).rejects.toThrow(/no SSH answer from 127\.0\.0\.1:\d+ in time/);
    // The half-open connection is not left behind.
    expect(await eventually(() => socketsClosed === 1)).toBe(true);
  });

  it('names a missing key file', async () => {
    const node = await startNode();
    const { transport } = transportTo(node.sshd.port, join(root, 'no-such-key'));
    await expect(transport.exec(['true'])).rejects.toThrow(/cannot read SSH key .*no-such-key/);
  });

  it('says when the key is not accepted', async () => {
    const node = await startNode();
    const stranger = await ensureKeyPair(join(freshDir(), 'stranger'));
    const { transport } = transportTo(node.sshd.port, stranger.privateKeyPath);
    await expect(transport.exec(['true'])).rejects.toThrow(/was not accepted for root@127\.0\.0\.1/);
  });

  it('reconnects on the next call after sshd restarts, and reports a drop mid-command', async () => {
    const node = await startNode();
    const sshd = node.sshd;
    expect((await node.transport.exec(['echo', 'before'])).stdout.toString()).toBe('before\n');

    const dropped = expect(node.transport.exec(['sleep', '30'])).rejects.toThrow(/connection lost/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await sshd.restart();
    await dropped;

    expect((await node.transport.exec(['echo', 'after'])).stdout.toString()).toBe('after\n');
  });
});

describe('ssh transport: host key pinning', () => {
  it('pins the host key on first contact, once, as OpenSSH prints it', async () => {
    const node = await startNode();
    const { transport, pins } = transportTo(node.sshd.port, node.keyPath);
    await Promise.all(Array.from({ length: 5 }, () => transport.exec(['true'])));
    const expected = await keyFingerprint(node.sshd.hostKeyPath);
    expect(pins).toEqual([expected]);
    expect(transport.hostKeyFingerprint()).toBe(expected);
    expect(expected).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  it('refuses a changed host key, says how to re-pin, and accepts the new key after re-pinning', async () => {
    const node = await startNode();
    const sshd = node.sshd;
    const pinned: Record<string, string> = {};
    const connections = new NodeConnections({
      ssh: testSshSettings,
      onHostKeyPinned: (id, fingerprint) => {
        pinned[id] = fingerprint;
      },
    });
    cleanups.push(() => connections.closeAll());
    const address = (): NodeAddress => ({
      id: 'web-1',
      transport: 'ssh',
      host: '127.0.0.1',
      port: sshd.port,
      user: 'root',
      keyPath: node.keyPath,
      pinnedHostKey: pinned['web-1'] ?? null,
    });

    expect((await connections.get(address()).exec(['true'])).exitCode).toBe(0);
    const oldKey = pinned['web-1'];
    expect(oldKey).toBe(await keyFingerprint(sshd.hostKeyPath));

    await sshd.restart({ hostKeyPath: join(freshDir(), 'new_host_key') });
    const newKey = await keyFingerprint(sshd.hostKeyPath);
    expect(newKey).not.toBe(oldKey);

    const refused = connections.get(address()).exec(['true']);
    await expect(refused).rejects.toThrow(NodeUnreachable);
    await expect(refused).rejects.toThrow(
      `host key changed: expected ${oldKey}, got ${newKey}. If the node was reinstalled on purpose, re-pin it with update_node {"node_id": "web-1", "reset_host_key": true}`,
    );
    expect(pinned['web-1']).toBe(oldKey);

    // reset_host_key clears the stored pin; the pool then starts over and pins what answers now.
    delete pinned['web-1'];
    expect((await connections.get(address()).exec(['true'])).exitCode).toBe(0);
    expect(pinned['web-1']).toBe(newKey);
  });

  it('computes fingerprints the way ssh-keygen does', async () => {
    const node = await startNode();
    const { transport } = transportTo(node.sshd.port, node.keyPath);
    await transport.exec(['true']);
    const fromFile = await keyFingerprint(`${node.sshd.hostKeyPath}.pub`);
    expect(transport.hostKeyFingerprint()).toBe(fromFile);
    expect(hostKeyFingerprintOf(Buffer.from('abc'))).toBe(
      'SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0',
    );
  });
});

describe('NodeConnections', () => {
  it('keeps one transport per node and replaces it when the address changes', async () => {
    const connections = new NodeConnections({ ssh: testSshSettings });
    cleanups.push(() => connections.closeAll());
    const base: NodeAddress = { id: 'db-1', transport: 'ssh', host: '127.0.0.1', port: 2201, user: 'root' };
    const first = connections.get(base);
    expect(connections.get({ ...base })).toBe(first);
    expect(connections.get({ ...base, stateDir: '/srv/openclaw' })).toBe(first);
    const moved = connections.get({ ...base, port: 2202 });
    expect(moved).not.toBe(first);
    expect(connections.get({ ...base, id: 'db-2' })).not.toBe(moved);
    const local = connections.get({ ...base, transport: 'local' });
    expect(local.kind).toBe('local');
  });

  it('lets a replaced connection finish the command it is running', async () => {
    const node = await startNode();
    const connections = new NodeConnections({ ssh: testSshSettings });
    cleanups.push(() => connections.closeAll());
    const address: NodeAddress = {
      id: 'app-1',
      transport: 'ssh',
      host: '127.0.0.1',
      port: node.sshd.port,
      user: 'root',
      keyPath: node.keyPath,
    };
    const first = connections.get(address);
    const running = first.exec(['sh', '-c', 'sleep 1; echo finished']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = connections.get({ ...address, pinnedHostKey: 'SHA256:someone-else' });
    expect(second).not.toBe(first);
    expect((await running).stdout.toString()).toBe('finished\n');
    // The replaced transport closes once idle.
    await expect(first.exec(['true'])).rejects.toThrow(/transport closed/);
  });
});
