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

/**
 * Why `name` may not be in a backup tar, or null if it may. Shared by reading and writing so OCM
 * never produces a tar that the agent's own check (same rules) would refuse.
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
  const [top] = parts;
  if (isDirectory) return top === 'workspace' ? null : 'outside the backup layout';
  if (name === 'openclaw.json' || name === 'cron-export.json') return null;
  if (top === 'workspace' && parts.length > 1) return null;
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
