// Backup tars in memory only (a raw secret never touches OCM's disk). Reading trusts nothing the
// node sends: only regular files inside the backup layout get through. Writing is deterministic,
// so the same files always make the same bytes for `ocm-agent restore`.

import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { InvalidInput } from '../errors.ts';
import { matchSecretShapes } from './secret-shapes.ts';

export interface ReadTarOptions {
  /** Total bytes of file content accepted (default 64 MiB). */
  maxBytes?: number;
  /** Entries accepted, directories included (default 10 000). */
  maxEntries?: number;
}

export interface WriteTarOptions {
  /** mtime stamped on every entry (default the Unix epoch), so equal files give equal tars. */
  mtime?: Date;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_ENTRIES = 10_000;

/** Top-level workspace files `ocm-agent backup` packs; below them only memory/** and skills/**. */
const WORKSPACE_TOP_FILES = new Set([
  'AGENTS.md',
  'SOUL.md',
  'USER.md',
  'IDENTITY.md',
  'MEMORY.md',
  'TOOLS.md',
  'HEARTBEAT.md',
]);

/** Names the agent never packs at any depth (SPEC §5): credentials, env files, databases. */
function neverPacked(part: string): boolean {
  return (
    part === '.env' ||
    part === 'credentials' ||
    part === 'secrets.json' ||
    part.includes('.sqlite') ||
    part.startsWith('openclaw.json.bak') ||
    part === 'openclaw.json.last-good' ||
    part === 'gateway.systemd.env'
  );
}

/**
 * Why `name` may not be in a backup tar, or null if it may. The same layout as the agent's own
 * `in_layout` check, used for reading and writing alike, so OCM accepts only what `backup` can
 * produce and never builds a tar that `restore` would refuse.
 */
export function unsafeEntryReason(name: string, isDirectory = false): string | null {
  if (name === '') return 'empty name';
  if (name.includes('\0')) return 'NUL in name';
  if (name.includes('\\')) return 'backslash in name';
  if (name.startsWith('/')) return 'absolute path';
  const parts = (isDirectory ? name.replace(/\/$/, '') : name).split('/');
  if (parts.includes('..')) return '".." component';
  if (parts.some((p) => p === '' || p === '.')) return 'empty or "." component';
  // OpenClaw's workspace is a git repo: a planted .git/hooks/* would run on its next commit.
  if (parts.includes('.git')) return '.git component';
  if (parts.some(neverPacked)) return 'a never-packed name (credentials, .env, databases, config copies)';

  if (parts.length === 1 && !isDirectory && (name === 'openclaw.json' || name === 'cron-export.json'))
    return null;
  const [top, second] = parts;
  if (top !== 'workspace') return 'outside the backup layout';
  if (second === undefined) return isDirectory ? null : 'outside the backup layout';
  if (second === 'memory' || second === 'skills')
    return parts.length > 2 || isDirectory ? null : 'outside the backup layout';
  if (parts.length === 2 && !isDirectory && WORKSPACE_TOP_FILES.has(second)) return null;
  return 'outside the backup layout';
}

/**
 * An entry name fit for an error message: quoted (control characters visible) and with anything
 * secret-shaped masked, since a file may be named after a token and errors reach logs and results.
 */
function describeName(name: string): string {
  let masked = '';
  let from = 0;
  for (const m of matchSecretShapes(name)) {
    masked += `${name.slice(from, m.start)}<${m.kind}>`;
    from = m.end;
  }
  return JSON.stringify(masked + name.slice(from));
}

/** Regular files of a backup tar by name. Refuses the whole tar on the first unsafe entry. */
export async function readTar(buf: Buffer, opts: ReadTarOptions = {}): Promise<Map<string, Buffer>> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const refuse = (name: string, why: string) =>
    new InvalidInput(`backup tar refused: entry ${describeName(name)}: ${why}`, 'tar');

  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  Readable.from([buf]).pipe(extract);

  let entries = 0;
  let bytes = 0;
  try {
    for await (const entry of extract) {
      const { header } = entry;
      // Tolerate the `./` prefix `tar -C dir .` writes; everything else must be exact.
      const name = header.name === './' || header.name === '.' ? '' : header.name.replace(/^\.\//, '');
      const type = header.type ?? 'unknown-type';
      if (++entries > maxEntries) throw refuse(name, `more than ${maxEntries} entries`);

      if (type === 'directory') {
        const why = name === '' ? null : unsafeEntryReason(name, true);
        if (why) throw refuse(name, why);
        entry.resume();
        continue;
      }
      if (type !== 'file') {
        throw refuse(
          name,
          `${type === 'link' ? 'hardlink' : type} entries are not allowed (regular files only)`,
        );
      }
      const why = unsafeEntryReason(name);
      if (why) throw refuse(name, why);
      if (files.has(name)) throw refuse(name, 'duplicate entry');

      const size = header.size ?? 0;
      if (bytes + size > maxBytes) throw refuse(name, `backup larger than ${maxBytes} bytes`);
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const content = Buffer.concat(chunks);
      bytes += content.length;
      files.set(name, content);
    }
  } catch (err) {
    extract.destroy();
    if (err instanceof InvalidInput) throw err;
    throw new InvalidInput(`backup tar is unreadable: ${(err as Error).message}`, 'tar');
  }
  return files;
}

/** A ustar archive of `files`: names sorted, mtime fixed, uid/gid 0, mode 0644, no directories. */
export async function writeTar(files: Map<string, Buffer>, opts: WriteTarOptions = {}): Promise<Buffer> {
  const mtime = opts.mtime ?? new Date(0);
  const names = [...files.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const why = unsafeEntryReason(name);
    if (why) throw new InvalidInput(`cannot pack ${describeName(name)}: ${why}`, 'files');
  }

  const pack = tar.pack();
  const collected = (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  })();
  for (const name of names) {
    const content = files.get(name) as Buffer;
    await new Promise<void>((resolve, reject) => {
      pack.entry(
        {
          name,
          size: content.length,
          mode: 0o644,
          mtime,
          uid: 0,
          gid: 0,
          uname: '',
          gname: '',
          type: 'file',
        },
        content,
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }
  pack.finalize();
  return collected;
}
