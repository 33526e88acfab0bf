// One node's folder in the backup repo's work tree (`nodes/<id>/`), which always mirrors HEAD.
// Deciding "did anything significant change?" reads only these files, so an unchanged sweep of
// the whole fleet spawns no git process at all; writing replaces the folder's contents exactly.

import type { Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidInput } from '../errors.ts';
import { stripVolatile } from './redact.ts';

/** The redacted config: compared through stripVolatile, so OpenClaw's own stamps don't count. */
export const CONFIG_FILE = 'config/openclaw.json';
/** OCM's description of the node (version, model, file list): written along, never a reason to commit. */
export const METADATA_FILE = 'metadata.json';

/** Refuses paths that could leave the node's folder or be read by git as its own files. */
export function checkNodeFiles(files: ReadonlyMap<string, Buffer>): void {
  const dirs = new Set<string>();
  for (const path of files.keys()) {
    const parts = path.split('/');
    const why =
      path === ''
        ? 'is empty'
        : path.includes('\0') || path.includes('\\')
          ? 'contains NUL or backslash'
          : path.startsWith('/')
            ? 'is absolute'
            : parts.some((p) => p === '' || p === '.' || p === '..')
              ? 'has an empty, "." or ".." component'
              : parts.some((p) => p.toLowerCase() === '.git')
                ? 'has a .git component'
                : null;
    if (why) throw new InvalidInput(`backup file ${JSON.stringify(path)} ${why}`, 'files');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  for (const path of files.keys()) {
    if (dirs.has(path))
      throw new InvalidInput(`backup file ${JSON.stringify(path)} is also a folder of other files`, 'files');
  }
}

interface OnDisk {
  /** Regular files, relative to the node folder. */
  files: Set<string>;
  /** Anything else (symlinks, sockets…): never written by us, always replaced. */
  strangers: Set<string>;
  /** Folders, deepest first. */
  dirs: string[];
}

async function scan(nodeDir: string): Promise<OnDisk> {
  const found: OnDisk = { files: new Set(), strangers: new Set(), dirs: [] };
  const walk = async (rel: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(rel === '' ? nodeDir : join(nodeDir, rel), { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const subdirs: string[] = [];
    for (const entry of entries) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) subdirs.push(path);
      else if (entry.isFile()) found.files.add(path);
      else found.strangers.add(path);
    }
    await Promise.all(subdirs.map(walk));
    found.dirs.push(...subdirs);
  };
  await walk('');
  found.dirs.sort((a, b) => b.split('/').length - a.split('/').length);
  return found;
}

async function readIfPresent(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') return null;
    throw err;
  }
}

function configDiffers(before: Buffer, after: Buffer): boolean {
  try {
    return stripVolatile(before.toString('utf8')) !== stripVolatile(after.toString('utf8'));
  } catch {
    // Not parseable on one side: only the bytes can tell.
    return true;
  }
}

/** Files read at a time per node: keeps the disk busy and a parallel sweep under macOS's 256-fd default. */
const READ_BATCH = 16;

/**
 * Would writing `files` change something that deserves a commit? Config through stripVolatile,
 * metadata.json not at all, everything else byte for byte, plus files added or removed.
 */
export async function hasSignificantChange(
  nodeDir: string,
  files: ReadonlyMap<string, Buffer>,
): Promise<boolean> {
  const disk = await scan(nodeDir);
  if (disk.strangers.size > 0) return true;
  for (const path of disk.files) if (path !== METADATA_FILE && !files.has(path)) return true;
  for (const path of files.keys()) if (path !== METADATA_FILE && !disk.files.has(path)) return true;

  const toCompare = [...files].filter(([path]) => path !== METADATA_FILE);
  for (let i = 0; i < toCompare.length; i += READ_BATCH) {
    const batch = toCompare.slice(i, i + READ_BATCH);
    const verdicts = await Promise.all(
      batch.map(async ([path, content]) => {
        const current = await readIfPresent(join(nodeDir, path));
        if (current === null) return true;
        if (current.equals(content)) return false;
        return path === CONFIG_FILE ? configDiffers(current, content) : true;
      }),
    );
    if (verdicts.includes(true)) return true;
  }
  return false;
}

/** Makes the node folder hold exactly `files`: stale files removed, changed ones rewritten. */
export async function replaceNodeTree(nodeDir: string, files: ReadonlyMap<string, Buffer>): Promise<void> {
  const disk = await scan(nodeDir);
  for (const path of [...disk.files, ...disk.strangers]) {
    if (!files.has(path) || disk.strangers.has(path))
      await rm(join(nodeDir, path), { force: true, recursive: true });
  }
  // Deepest first, so a folder emptied above is gone before a file of the same name is written.
  for (const dir of disk.dirs) {
    await rmdir(join(nodeDir, dir)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST' && err.code !== 'ENOENT') throw err;
    });
  }
  const entries = [...files];
  for (let i = 0; i < entries.length; i += READ_BATCH) {
    await Promise.all(
      entries.slice(i, i + READ_BATCH).map(async ([path, content]) => {
        const target = join(nodeDir, path);
        const current = disk.files.has(path) ? await readIfPresent(target) : null;
        if (current?.equals(content)) return;
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, content, { mode: 0o644 });
      }),
    );
  }
}
