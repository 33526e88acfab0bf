// AgentClient against a real sshd and the local host: the calling convention, reply parsing,
// errors that say what the agent said, and keeping the node's agent at OCM's version.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CommandFailed, NodeUnreachable } from '../mcp-server/errors.ts';
import { AgentClient, agentScriptVersion, bundledAgentPath } from '../mcp-server/nodes/agent-client.ts';
import { SshTransport } from '../mcp-server/nodes/ssh.ts';
import { freePort } from './harness/sshd.ts';
import { localSubject, type SshSubject, sshSubject, testSshSettings } from './harness/transport-subjects.ts';

const fixture = join(import.meta.dirname, 'fixtures', 'fake-ocm-agent.sh');
const root = mkdtempSync(join(tmpdir(), 'ocm-agent-client-'));
const home = join(root, 'home');
let node: SshSubject;

beforeAll(async () => {
  mkdirSync(home, { recursive: true });
  // The node's own HOME, so the relative agent path lands in this test's directory.
  node = await sshSubject(join(root, 'node'), { env: { HOME: home } });
});
afterAll(async () => {
  await node?.stop();
  rmSync(root, { recursive: true, force: true });
});

function sshAgent(stateDir: string | null = null, scriptPath = fixture): AgentClient {
  return new AgentClient(node.transport, { stateDir }, { remotePath: '.ocm/ocm-agent.sh', scriptPath });
}

function decodeArgs(b64: string): string[] {
  return b64 ? Buffer.from(b64, 'base64').toString('utf8').split('\0').slice(0, -1) : [];
}

describe('AgentClient.ensureAgent', () => {
  it('uploads the agent under the login home when missing, then leaves it alone', async () => {
    const agent = sshAgent();
    expect(await agent.ensureAgent()).toEqual({ installed: true, version: '0.0.1-fixture' });
    const installed = join(home, '.ocm', 'ocm-agent.sh');
    expect(readFileSync(installed).equals(readFileSync(fixture))).toBe(true);
    expect(statSync(installed).mode & 0o777).toBe(0o755);
    expect(await agent.ensureAgent()).toEqual({ installed: false, version: '0.0.1-fixture' });
  });

  it('replaces an agent of another version', async () => {
    const old = readFileSync(fixture, 'utf8').replace('0.0.1-fixture', '0.0.0-old');
    await node.transport.writeFile(join(home, '.ocm', 'ocm-agent.sh'), Buffer.from(old), 0o755);
    expect(await sshAgent().run('version')).toEqual({ agent_version: '0.0.0-old' });
    expect(await sshAgent().ensureAgent()).toEqual({ installed: true, version: '0.0.1-fixture' });
  });

  it('installs the real bundled agent and it answers `version`', async () => {
    const wanted = agentScriptVersion(readFileSync(bundledAgentPath(), 'utf8'));
    const agent = new AgentClient(
      node.transport,
      { stateDir: join(root, 'state') },
      { remotePath: '.ocm/real-agent.sh' },
    );
    expect(await agent.ensureAgent()).toEqual({ installed: true, version: wanted });
    expect(await agent.run('version', [], { schema: z.object({ agent_version: z.string() }) })).toEqual({
      agent_version: wanted,
    });
  });

  it('does not try to install on a node it cannot reach', async () => {
    const unreachable = new SshTransport(
      { nodeId: 'gone', host: '127.0.0.1', port: await freePort(), user: 'root', keyPath: node.keyPath },
      { settings: testSshSettings },
    );
    const agent = new AgentClient(unreachable, {}, { remotePath: '.ocm/ocm-agent.sh', scriptPath: fixture });
    await expect(agent.ensureAgent()).rejects.toThrow(NodeUnreachable);
    await unreachable.close();
  });

  it('runs the bundled script in place on a local node', async () => {
    const local = localSubject();
    const agent = new AgentClient(
      local.transport,
      {},
      { remotePath: '.ocm/ocm-agent.sh', scriptPath: fixture },
    );
    expect(agent.agentPath).toBe(fixture);
    expect(await agent.ensureAgent()).toEqual({ installed: false, version: '0.0.1-fixture' });
  });
});

describe('AgentClient.run and stream', () => {
  beforeAll(async () => {
    await sshAgent().ensureAgent();
  });

  it('passes --state-dir and the arguments byte-exact', async () => {
    const args = ["it's", '$(touch nope)', 'a b', '', 'line\nbreak'];
    const reply = await sshAgent('/srv/openclaw state').run<{
      state_dir: string;
      argc: number;
      args_b64: string;
    }>('echo-args', args);
    expect(reply.state_dir).toBe('/srv/openclaw state');
    expect(reply.argc).toBe(args.length);
    expect(decodeArgs(reply.args_b64)).toEqual(args);
  });

  it('validates the reply with a schema', async () => {
    const schema = z.object({ argc: z.number(), args_b64: z.string() });
    expect(await sshAgent().run('echo-args', ['x'], { schema })).toEqual({ argc: 1, args_b64: 'eAA=' });
    const wrong = sshAgent().run('echo-args', [], { schema: z.object({ agent_version: z.string() }) });
    await expect(wrong).rejects.toThrow(CommandFailed);
    await expect(wrong).rejects.toThrow(/unexpected reply from the agent: agent_version/);
  });

  it('feeds stdin to the verb', async () => {
    expect(await sshAgent().run('stdin-size', [], { stdin: Buffer.alloc(12345, 1) })).toEqual({
      bytes: 12345,
    });
  });

  it("turns a failing verb into CommandFailed with the agent's own message", async () => {
    const failing = sshAgent().run('fail');
    await expect(failing).rejects.toThrow(CommandFailed);
    await expect(failing).rejects.toMatchObject({ exitCode: 3, nodeId: 'ssh-node' });
    await expect(failing).rejects.toThrow(/ocm-agent fail failed \(exit 3\): the widget is missing/);
    await expect(sshAgent().run('crash')).rejects.toThrow(/exit 127.*oops: command not found/);
  });

  it('refuses output that is not one JSON object', async () => {
    await expect(sshAgent().run('garbage')).rejects.toThrow(
      /something other than one JSON object: "this is not JSON"/,
    );
    await expect(sshAgent().run('array')).rejects.toThrow(/something other than one JSON object/);
  });

  it('streams raw bytes for `backup`', async () => {
    expect(await sshAgent().stream('backup')).toEqual(Buffer.from('raw\0bytes\xff', 'latin1'));
    await expect(sshAgent().stream('fail')).rejects.toThrow(/the widget is missing/);
  });

  it('reads the version line of an agent script', () => {
    expect(agentScriptVersion('#!/bin/bash\nOCM_AGENT_VERSION="1.2.3"\n')).toBe('1.2.3');
    expect(() => agentScriptVersion('echo hi\n')).toThrow(/OCM_AGENT_VERSION/);
  });
});
