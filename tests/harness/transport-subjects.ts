import { join } from 'node:path';
import type { OcmConfig } from '../../mcp-server/config.ts';
import { LocalTransport } from '../../mcp-server/nodes/local.ts';
import { SshTransport } from '../../mcp-server/nodes/ssh.ts';
import type { NodeTransport } from '../../mcp-server/nodes/transport.ts';
import { ensureKeyPair, type Sshd, startSshd, writeAuthorizedKeys } from './sshd.ts';

export const testSshSettings: OcmConfig['ssh'] = {
  connectTimeoutMs: 15_000,
  commandTimeoutMs: 30_000,
  keepaliveMs: 15_000,
  maxOutputBytes: 64 * 1024 * 1024,
};

export interface Subject {
  transport: NodeTransport;
  stop(): Promise<void>;
}

export interface SshSubject extends Subject {
  transport: SshTransport;
  sshd: Sshd;
  /** The client's private key, authorized on this sshd. */
  keyPath: string;
}

export { isAlive } from './processes.ts';

export function localSubject(nodeId = 'local-node'): Subject {
  const transport = new LocalTransport(nodeId, testSshSettings);
  return { transport, stop: () => transport.close() };
}

/** An sshd in `dir` and an SshTransport to it (host key pinned on first contact, in memory). */
export async function sshSubject(
  dir: string,
  options: { nodeId?: string; env?: Record<string, string> } = {},
): Promise<SshSubject> {
  const key = await ensureKeyPair(join(dir, 'client_key'));
  const authorizedKeysFile = join(dir, 'authorized_keys');
  writeAuthorizedKeys(authorizedKeysFile, [key.publicKey]);
  const sshd = await startSshd({ dir: join(dir, 'sshd'), authorizedKeysFile, env: options.env });
  const transport = new SshTransport(
    {
      nodeId: options.nodeId ?? 'ssh-node',
      host: '127.0.0.1',
      port: sshd.port,
      user: 'root',
      keyPath: key.privateKeyPath,
    },
    { settings: testSshSettings },
  );
  return {
    transport,
    sshd,
    keyPath: key.privateKeyPath,
    async stop() {
      await transport.close();
      await sshd.stop();
    },
  };
}

/** Poll until `check` holds or `ms` pass; returns whether it held (for "eventually gone" checks). */
export async function eventually(check: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}
