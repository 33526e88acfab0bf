import { spawnSync } from 'node:child_process';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../errors.ts';
import { fakeToken } from './fake-secrets.fixture.ts';
import { readTar, writeTar } from './tar.ts';

interface RawEntry {
  header: Partial<tar.Header> & { name: string };
  content?: Buffer;
}

/** Builds a tar with tar-stream directly, so it can hold anything a hostile node could send. */
async function rawTar(entries: RawEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const done = (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  })();
  for (const { header, content } of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      // Bodiless kinds (links, devices, fifos, directories) finish as soon as they are queued.
      if (content) pack.entry({ size: content.length, ...header }, content, cb);
      else pack.entry(header, cb);
    });
  }
  pack.finalize();
  return done;
}

const file = (name: string, text = 'x'): RawEntry => ({
  header: { name, type: 'file' },
  content: Buffer.from(text),
});
const ok = file('openclaw.json', '{}');

async function refusal(entries: RawEntry[], opts?: Parameters<typeof readTar>[1]): Promise<Error> {
  const err = await readTar(await rawTar(entries), opts).then(
    () => null,
    (e: unknown) => e as Error,
  );
  if (err === null) throw new Error('the tar was accepted');
  return err;
}

describe('readTar / writeTar', () => {
  const files = new Map<string, Buffer>([
    ['workspace/memory/2026-02-15.md', Buffer.from('# day\n')],
    ['openclaw.json', Buffer.from('{\n  "a": 1\n}\n')],
    ['cron-export.json', Buffer.from('{"jobs":[]}')],
    ['workspace/AGENTS.md', Buffer.from('agents')],
    [
      'workspace/skills/deep/nested/dir/that/is/long/enough/to/need/the/ustar/prefix/field/or/pax/SKILL.md',
      Buffer.from('s'),
    ],
    ['workspace/memory/empty.md', Buffer.alloc(0)],
    ['workspace/skills/tool/data.bin', Buffer.from([0, 255, 10, 13, 0])],
  ]);

  it('round-trips every file byte for byte', async () => {
    const back = await readTar(await writeTar(files));
    expect([...back.keys()].sort()).toEqual([...files.keys()].sort());
    for (const [name, content] of files) expect(back.get(name)?.equals(content)).toBe(true);
  });

  it('writes the same bytes for the same files, whatever their insertion order', async () => {
    const reversed = new Map([...files].reverse());
    expect((await writeTar(reversed)).equals(await writeTar(files))).toBe(true);
    const mtime = new Date('2026-02-15T08:00:00Z');
    expect((await writeTar(files, { mtime })).equals(await writeTar(reversed, { mtime }))).toBe(true);
    expect((await writeTar(files, { mtime })).equals(await writeTar(files))).toBe(false);
  });

  it('writes ustar entries: sorted names, mode 0644, uid/gid 0, fixed mtime, no directories', async () => {
    const mtime = new Date('2026-02-15T08:00:00Z');
    const buf = await writeTar(files, { mtime });
    expect(buf.subarray(257, 262).toString()).toBe('ustar');
    const headers: tar.Header[] = [];
    const extract = tar.extract();
    const reading = (async () => {
      for await (const entry of extract) {
        headers.push(entry.header);
        entry.resume();
      }
    })();
    extract.end(buf);
    await reading;
    expect(headers.map((h) => h.name)).toEqual([...files.keys()].sort());
    for (const h of headers) {
      expect(h).toMatchObject({ type: 'file', mode: 0o644, uid: 0, gid: 0 });
      expect(h.mtime?.getTime()).toBe(mtime.getTime());
    }
  });

  it('produces a tar the system tar (as the agent uses it) lists the same way', () => {
    return writeTar(files).then((buf) => {
      const listed = spawnSync('tar', ['-tf', '-'], { input: buf, encoding: 'utf8' });
      expect(listed.status).toBe(0);
      expect(listed.stdout.trim().split('\n')).toEqual([...files.keys()].sort());
    });
  });

  it('refuses to write a name the agent would refuse', async () => {
    for (const name of [
      '/etc/passwd',
      '../x',
      'workspace/../../x',
      'notes.md',
      'workspace/.git/config',
      'workspace/x.md',
    ]) {
      await expect(writeTar(new Map([[name, Buffer.from('x')]]))).rejects.toThrow(InvalidInput);
    }
  });
});

describe('readTar accepts', () => {
  it('directories (ignored), the ./ prefix of `tar -C dir .`, and a tar with no files', async () => {
    const buf = await rawTar([
      { header: { name: './', type: 'directory' } },
      { header: { name: './workspace', type: 'directory' } },
      { header: { name: 'workspace/memory/', type: 'directory' } },
      file('./openclaw.json', '{}'),
      file('workspace/memory/a.md', 'a'),
    ]);
    const read = await readTar(buf);
    expect([...read.keys()]).toEqual(['openclaw.json', 'workspace/memory/a.md']);
    expect((await readTar(await rawTar([]))).size).toBe(0);
  });
});

describe('readTar refuses', () => {
  it.each([
    ['an absolute path', '/etc/passwd'],
    ['an absolute path inside the layout', '/workspace/AGENTS.md'],
    ['a leading .. component', '../openclaw.json'],
    ['a .. component inside the workspace', 'workspace/memory/../../../etc/cron.d/x'],
    ['a trailing .. component', 'workspace/..'],
    ['a backslash', 'workspace\\..\\..\\x'],
    ['a file outside the layout', 'etc/passwd'],
    ['a never-packed file', '.env'],
    ['credentials', 'credentials/oauth.json'],
    ['a config backup copy', 'openclaw.json.bak.1'],
    ['the workspace as a plain file', 'workspace'],
    ['memory as a plain file', 'workspace/memory'],
    ['a workspace file backup never packs', 'workspace/notes.md'],
    ['an env file deep in memory', 'workspace/memory/.env'],
    ['credentials inside a skill', 'workspace/skills/gh/credentials/token.json'],
    ['a database', 'workspace/memory/index.sqlite-wal'],
    ['the agent’s own state', '.ocm/agent.conf'],
    ['a .git component (hooks would run on the node)', 'workspace/.git/hooks/post-commit'],
    ['an empty component', 'workspace//AGENTS.md'],
    ['a . component', 'workspace/./AGENTS.md'],
  ])('%s (%s)', async (_why, name) => {
    const err = await refusal([ok, file(name)]);
    expect(err).toBeInstanceOf(InvalidInput);
    expect(err.message).toContain(JSON.stringify(name));
  });

  it('a NUL in the name (smuggled through a pax header)', async () => {
    const name = 'workspace/a\0/../../etc/x';
    const err = await refusal([{ header: { name, type: 'file', pax: {} }, content: Buffer.from('x') }]);
    expect(err).toBeInstanceOf(InvalidInput);
    expect(err.message).toMatch(/NUL/);
  });

  it('a pax path override that escapes the layout', async () => {
    const err = await refusal([
      {
        header: { name: 'workspace/ok.md', type: 'file', pax: { path: '../../x' } },
        content: Buffer.from('x'),
      },
    ]);
    expect(err).toBeInstanceOf(InvalidInput);
    expect(err.message).toContain('"../../x"');
  });

  it.each([
    ['symlink', { name: 'workspace/MEMORY.md', type: 'symlink', linkname: '/etc/shadow' }],
    ['hardlink', { name: 'workspace/MEMORY.md', type: 'link', linkname: 'openclaw.json' }],
    ['character-device', { name: 'workspace/tty', type: 'character-device', devmajor: 5, devminor: 0 }],
    ['block-device', { name: 'workspace/sda', type: 'block-device', devmajor: 8, devminor: 0 }],
    ['fifo', { name: 'workspace/pipe', type: 'fifo' }],
    ['contiguous-file', { name: 'workspace/c.md', type: 'contiguous-file' }],
  ] as const)('a %s entry', async (type, header) => {
    const content = type === 'contiguous-file' ? Buffer.from('c') : undefined;
    const err = await refusal([ok, { header: { ...header }, content }]);
    expect(err).toBeInstanceOf(InvalidInput);
    expect(err.message).toContain(type);
    expect(err.message).toContain(header.name);
  });

  it('a directory outside the layout, or escaping it', async () => {
    for (const name of ['etc/', '../', 'workspace/../../']) {
      const err = await refusal([{ header: { name, type: 'directory' } }]);
      expect(err).toBeInstanceOf(InvalidInput);
    }
  });

  it('a duplicate name (a later entry would silently replace a checked one)', async () => {
    const err = await refusal([ok, file('workspace/SOUL.md'), file('./openclaw.json', '{"evil":1}')]);
    expect(err.message).toMatch(/"openclaw.json".*duplicate/);
  });

  it('more bytes or more entries than allowed', async () => {
    const big = await refusal([ok, file('workspace/memory/big.md', 'y'.repeat(2000))], { maxBytes: 1000 });
    expect(big.message).toMatch(/"workspace\/memory\/big.md".*larger than 1000 bytes/);
    const many = await refusal([ok, file('workspace/SOUL.md'), file('workspace/USER.md')], { maxEntries: 2 });
    expect(many.message).toMatch(/"workspace\/USER.md".*more than 2 entries/);
  });

  it('an unsafe entry named after a token, without repeating the token', async () => {
    const token = fakeToken('github-token', 'in-a-name');
    const err = await refusal([ok, file(`notes/${token}.md`)]);
    expect(err.message).toContain('"notes/<github-token>.md"');
    expect(err.message).not.toContain(token);
  });

  it('a truncated or garbage tar', async () => {
    const good = await writeTar(new Map([['openclaw.json', Buffer.from('{}'.repeat(600))]]));
    await expect(readTar(good.subarray(0, 700))).rejects.toThrow(InvalidInput);
    await expect(readTar(Buffer.from('this is not a tar archive at all'.repeat(40)))).rejects.toThrow(
      InvalidInput,
    );
  });
});
