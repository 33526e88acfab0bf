// The git backup repository (SPEC §5): one commit per significant change of a node's files, tags
// and branches for the points an operator restores to, and a push to the remote that never loses
// a backup when it fails: the local commit is the record.
//
// Every write happens in one serial queue per process, inside the caller's cross-process lock,
// so git never meets its own index.lock. The work tree always mirrors HEAD, which lets an
// unchanged sweep decide "nothing to do" from the files on disk without starting git.

import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SimpleGit } from 'simple-git';
import { InvalidInput, OperationFailed } from '../errors.ts';
import { NODE_ID_PATTERN } from '../ids.ts';
import { log } from '../log.ts';
import { type ConfigChange, configChanges } from './config-changes.ts';
import { CONFIG_FILE, checkNodeFiles, hasSignificantChange, replaceNodeTree } from './node-tree.ts';
import { findSecretShapes, parseConfig } from './redact.ts';
import {
  deployTagName,
  fullRef,
  nodeTagName,
  parseRefNames,
  REF_SHAPES_HELP,
  type RefName,
  snapshotBranchName,
  stableBranchName,
  TAG_TYPES,
  type TagType,
  VERSION_PATTERN,
} from './ref-names.ts';
import { checkRemoteUrl, displayRemoteUrl } from './remote-url.ts';
import { errorText, gitQuick, localGit } from './repo-git.ts';
import { BackupRemote, type PushResult, type RemoteOutcome } from './repo-remote.ts';

export type { ConfigChange } from './config-changes.ts';
export type { TagType } from './ref-names.ts';
export type { PushResult, RemoteOutcome } from './repo-remote.ts';

export const BACKUP_TYPES = ['auto', 'manual', 'pre-rollback', 'pre-update'] as const;
export type BackupType = (typeof BACKUP_TYPES)[number];

export interface BackupRepoOptions {
  /** Any git URL or a bare repo's path; credentials in it are used in memory only. */
  remote?: string;
  /** GIT_SSH_COMMAND for ssh remotes (e.g. a deploy key); default `ssh -o BatchMode=yes`. */
  gitSshCommand?: string;
  /** Retries after a failed push (default 3). */
  pushRetries?: number;
  /** First wait between push attempts, doubled each time (default 2000 ms). */
  pushBackoffMs?: number;
  /** A network git command is killed after this long without output (default 120 s). */
  networkTimeoutMs?: number;
  /** Serialises writes across OCM processes (the caller's lease lock); in-process they queue anyway. */
  withCommitLock?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export interface BackupInfo {
  type: BackupType;
  /** When the backup was taken (epoch ms); becomes the commit's author date. */
  at: number;
  score?: number | null;
}

export interface CommitResult {
  changed: boolean;
  /** The new commit, or HEAD when nothing significant changed. */
  commit: string;
  /** Node-relative paths that the commit added, changed or removed. */
  changedFiles: string[];
  fileCount: number;
  totalBytes: number;
}

export interface HistoryEntry {
  commit: string;
  /** Author date: when the backup was taken. */
  at: number;
  message: string;
  tags: string[];
}

export interface NodeTag {
  name: string;
  type: TagType;
  /** The instant in the tag's name. */
  at: number;
  commit: string;
  note: string;
}

export interface FileDiff {
  path: string;
  status: 'added' | 'removed' | 'modified';
  diff: string;
}

export interface BackupDiff {
  config_changes: ConfigChange[];
  files: FileDiff[];
}

export interface SnapshotCleanup {
  deleted: string[];
  /** Old snapshot branches removed from the remote (null: no remote configured). */
  remote: (RemoteOutcome & { deleted: string[] }) | null;
}

export interface DeletedRef {
  name: string;
  kind: 'tag' | 'snapshot';
  /** null: no remote configured. */
  remote: RemoteOutcome | null;
}

const CHANGELOG = '.ocm/changelog.md';
const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_FILE_DIFF_CHARS = 200_000;

/**
 * What a node sends decides its files' names and contents, never how git stores them: a planted
 * `.gitattributes` cannot turn on filters, EOL conversion or text conversion for diffs.
 */
const INFO_ATTRIBUTES = '* -text !eol !filter !ident !working-tree-encoding !diff !merge\n';

const README = `# OCM backups

Written by OCM, the OpenClaw Cluster Manager. Do not edit by hand.

- \`nodes/<node>/\`: \`config/openclaw.json\` (secrets replaced by \`***REDACTED:…***\`),
  \`workspace/\`, \`cron-export.json\`, \`metadata.json\`
- \`.ocm/changelog.md\`: one line per backup commit
- tags \`<node>/<stable|manual|rollback|pre-rollback|pre-update>/<YYYY-MM-DDTHH-MM-SSZ>\`
- branches \`stable/<node>\` (latest stable point), \`snapshots/<node>/<timestamp>\`
`;

const CHANGELOG_HEADER = '# Backup changelog\n\nOne line per backup commit, oldest first.\n\n';

function checkNode(nodeId: string, field = 'node'): string {
  if (typeof nodeId !== 'string' || !NODE_ID_PATTERN.test(nodeId)) {
    throw new InvalidInput(
      `${field} ${JSON.stringify(nodeId)} is not a node id (1-63 chars of a-z, 0-9 and "-", starting with a letter or digit)`,
      field,
    );
  }
  return nodeId;
}

function checkInstant(at: number, field: string): number {
  if (typeof at !== 'number' || !Number.isFinite(at) || at < 0 || at > 253402300799999) {
    throw new InvalidInput(`${field} must be a UTC time in epoch milliseconds`, field);
  }
  return at;
}

function checkNote(note: string | undefined): string | undefined {
  if (note === undefined) return undefined;
  if (typeof note !== 'string' || note.length > 2000)
    throw new InvalidInput('note must be text of at most 2000 characters', 'note');
  return note.replace(/(?![\n\t])\p{Cc}/gu, ' ');
}

/** `2026-02-15T08:00`: minutes, UTC, as the seed's commit messages show it. */
function minuteUtc(at: number): string {
  return new Date(at).toISOString().slice(0, 16);
}

/** `[g3s-01] auto backup 2026-02-15T08:00 | score:92` (no score: `| score:-`). */
export function backupCommitMessage(nodeId: string, info: BackupInfo): string {
  const score = info.score === null || info.score === undefined ? '-' : String(info.score);
  return `[${nodeId}] ${info.type} backup ${minuteUtc(info.at)} | score:${score}`;
}

function changelogLine(nodeId: string, info: BackupInfo, changedFiles: string[]): string {
  const score = info.score === null || info.score === undefined ? '-' : String(info.score);
  const shown = changedFiles.slice(0, 5).join(', ') + (changedFiles.length > 5 ? ', …' : '');
  const count = `${changedFiles.length} file${changedFiles.length === 1 ? '' : 's'}`;
  return `- ${minuteUtc(info.at)}Z [${nodeId}] ${info.type} backup | score:${score} | ${count}: ${shown}\n`;
}

/**
 * The last line of defence (SPEC §5): whatever the pipeline redacted, nothing secret-shaped is
 * written to this disk or into history. Runs only when a commit is coming, so sweeps stay fast.
 */
function refuseSecretShapes(node: string, files: ReadonlyMap<string, Buffer>): void {
  const found: string[] = [];
  for (const [path, content] of files) {
    for (const finding of findSecretShapes(content.toString('utf8')))
      found.push(`${path} line ${finding.line} (${finding.kind})`);
  }
  if (found.length > 0) {
    throw new OperationFailed(
      `refusing to back up ${node}: secret-shaped text survived redaction in ${found.slice(0, 5).join(', ')}${found.length > 5 ? ', …' : ''}; nothing was written`,
    );
  }
}

function byNewest(a: { at: number; seq: number }, b: { at: number; seq: number }): number {
  return b.at - a.at || b.seq - a.seq;
}

export class BackupRepo {
  private readonly git: SimpleGit;
  private readonly remote: BackupRemote | undefined;
  private writes: Promise<unknown> = Promise.resolve();
  /** Nodes whose folder might not mirror HEAD (a failed write we could not undo): ask git. */
  private readonly unsure = new Set<string>();

  private constructor(
    readonly dir: string,
    private readonly opts: BackupRepoOptions,
  ) {
    this.git = localGit(dir);
    this.remote = opts.remote === undefined ? undefined : new BackupRemote(dir, opts.remote, opts);
  }

  /** Opens the repo at `dir`, creating it (branch main, README, changelog) if it does not exist. */
  static async open(dir: string, opts: BackupRepoOptions = {}): Promise<BackupRepo> {
    if (opts.remote !== undefined) checkRemoteUrl(opts.remote);
    if (opts.pushRetries !== undefined && !(Number.isInteger(opts.pushRetries) && opts.pushRetries >= 0)) {
      throw new InvalidInput('backup.pushRetries must be a whole number ≥ 0', 'backup.pushRetries');
    }
    const root = resolve(dir);
    await mkdir(root, { recursive: true });
    const repo = new BackupRepo(root, opts);
    await repo.serial(() => repo.prepare());
    return repo;
  }

  /** Runs `fn` after every earlier write of this process, inside the cross-process lock. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const locked = this.opts.withCommitLock ?? ((f: () => Promise<T>) => f());
    const run = this.writes.then(() => locked(fn));
    this.writes = run.catch(() => undefined);
    return run;
  }

  private async prepare(): Promise<void> {
    const fresh = !existsSync(join(this.dir, '.git'));
    if (fresh) {
      const present = await readdir(this.dir);
      if (present.length > 0) {
        throw new OperationFailed(
          `backup repo ${this.dir} is not empty and not a git repository; point backup.repoDir at a new folder or an existing OCM backup repo`,
        );
      }
      await this.git.raw(['init', '--quiet', '--initial-branch=main']);
    }
    for (const [key, value] of [
      ['user.name', 'OCM'],
      ['user.email', 'ocm@localhost'],
    ] as const) {
      await this.git.raw(['config', key, value]);
    }
    await mkdir(join(this.dir, '.git', 'info'), { recursive: true });
    await writeFile(join(this.dir, '.git', 'info', 'attributes'), INFO_ATTRIBUTES);

    // A first open that died before its first commit left an unborn main: finish it now.
    if (fresh || !(await this.commitOf('HEAD'))) {
      await this.git.raw(['symbolic-ref', 'HEAD', 'refs/heads/main']);
      await writeFile(join(this.dir, 'README.md'), README);
      await mkdir(join(this.dir, '.ocm'), { recursive: true });
      await writeFile(join(this.dir, CHANGELOG), CHANGELOG_HEADER);
      await this.git.raw(['add', '--force', '--', 'README.md', CHANGELOG]);
      await this.git.raw(['commit', '--quiet', '--no-verify', '-m', 'OCM backup repository']);
    } else {
      await this.removeStaleIndexLock();
      const dirty = await this.git.raw(['status', '--porcelain', '-z', '--untracked-files=all']);
      if (dirty !== '') {
        // Only an interrupted write of ours leaves the tree dirty; that backup is retaken next sweep.
        log.warn('backup repo: discarding uncommitted changes left by an interrupted write', {
          repo: this.dir,
        });
        await this.discardUncommitted();
      }
    }
    if (this.opts.remote !== undefined) await this.configureOrigin(this.opts.remote);
  }

  /** A crashed git leaves index.lock behind; we hold the commit lock, so an old one is stale. */
  private async removeStaleIndexLock(): Promise<void> {
    const lockFile = join(this.dir, '.git', 'index.lock');
    const info = await stat(lockFile).catch(() => null);
    if (info && Date.now() - info.mtimeMs > 60_000) {
      log.warn('backup repo: removing a stale index.lock', {
        repo: this.dir,
        age_s: Math.round((Date.now() - info.mtimeMs) / 1000),
      });
      await rm(lockFile, { force: true });
    }
  }

  private async discardUncommitted(): Promise<void> {
    await this.git.raw(['reset', '--quiet', '--hard', 'HEAD']);
    await this.git.raw(['clean', '-f', '-d', '-q']);
  }

  /** `origin` names the remote for operators; it never holds credentials (pushes use the URL in memory). */
  private async configureOrigin(url: string): Promise<void> {
    const shown = displayRemoteUrl(url);
    const remotes = (await this.git.raw(['remote'])).split('\n');
    await this.git.raw(
      remotes.includes('origin')
        ? ['remote', 'set-url', 'origin', shown]
        : ['remote', 'add', 'origin', shown],
    );
  }

  // --- reading refs and files -------------------------------------------------------------------

  /** HEAD's commit, read from .git directly: no git process on the fast path. */
  async headCommit(): Promise<string> {
    const gitDir = join(this.dir, '.git');
    const head = (await readFile(join(gitDir, 'HEAD'), 'utf8')).trim();
    if (!head.startsWith('ref: ')) return head;
    const ref = head.slice('ref: '.length);
    try {
      return (await readFile(join(gitDir, ref), 'utf8')).trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const packed = await readFile(join(gitDir, 'packed-refs'), 'utf8').catch(() => '');
    for (const line of packed.split('\n')) {
      const [sha, name] = line.split(' ');
      if (name === ref && sha) return sha;
    }
    throw new OperationFailed(`backup repo ${this.dir}: HEAD (${ref}) points at no commit`);
  }

  /**
   * The commit a backup point names. Only the shapes of backup points reach git (see
   * ref-names.ts); anything else is refused with InvalidInput naming `field`.
   */
  async resolveRef(ref: string, field = 'ref'): Promise<string> {
    const readings = this.parseRef(ref, field);
    for (const reading of readings) {
      const sha = await this.commitOf(fullRef(reading));
      if (sha) return sha;
    }
    throw new InvalidInput(`${field} ${ref}: no such tag, branch or commit in the backup repo`, field);
  }

  private parseRef(ref: string, field: string): RefName[] {
    const name = typeof ref === 'string' && /^[0-9A-Fa-f]{7,40}$/.test(ref) ? ref.toLowerCase() : ref;
    const readings = typeof name === 'string' ? parseRefNames(name) : [];
    if (readings.length === 0) {
      const shown = JSON.stringify(typeof ref === 'string' ? ref.slice(0, 100) : ref);
      throw new InvalidInput(`${field} ${shown} is not a backup point; use ${REF_SHAPES_HELP}`, field);
    }
    return readings;
  }

  private async commitOf(ref: string): Promise<string | null> {
    try {
      return (await this.git.raw(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).trim() || null;
    } catch {
      return null;
    }
  }

  private async refExists(ref: string): Promise<boolean> {
    const out = await gitQuick(this.dir, ['for-each-ref', '--format=%(refname)', ref]);
    return out.split('\n').includes(ref);
  }

  /** Objects by `<sha>` or `<commit>:<path>`, in one `git cat-file --batch`; null where missing. */
  private async catObjects(specs: string[]): Promise<(Buffer | null)[]> {
    if (specs.length === 0) return [];
    const input = `${specs.join('\n')}\n`;
    const out = await localGit(this.dir, input).binaryCatFile(['--batch']);
    const found: (Buffer | null)[] = [];
    let pos = 0;
    for (let i = 0; i < specs.length; i++) {
      const eol = out.indexOf(0x0a, pos);
      if (eol === -1) throw new OperationFailed('backup repo: git cat-file ended early');
      const header = out.toString('utf8', pos, eol).split(' ');
      pos = eol + 1;
      if (header.length !== 3) {
        found.push(null); // "<spec> missing" or "ambiguous"
        continue;
      }
      const size = Number(header[2]);
      found.push(header[1] === 'blob' ? out.subarray(pos, pos + size) : null);
      pos += size + 1;
    }
    return found;
  }

  /** The files of `nodes/<id>/` at a backup point, by node-relative path. */
  async readNodeFiles(nodeId: string, ref: string): Promise<Map<string, Buffer>> {
    const node = checkNode(nodeId);
    const commit = await this.resolveRef(ref);
    const prefix = `nodes/${node}/`;
    const listing = await this.git.raw(['ls-tree', '-r', '-z', '--full-tree', commit, '--', `nodes/${node}`]);
    const blobs: { path: string; object: string }[] = [];
    for (const entry of listing.split('\0')) {
      const tab = entry.indexOf('\t');
      if (tab === -1) continue;
      const [mode, type, object] = entry.slice(0, tab).split(' ');
      const path = entry.slice(tab + 1);
      // Regular files only: OCM never commits symlinks, and a restore must not create one.
      const regular = type === 'blob' && (mode === '100644' || mode === '100755');
      if (regular && object && path.startsWith(prefix))
        blobs.push({ path: path.slice(prefix.length), object });
    }
    if (blobs.length === 0) throw new OperationFailed(`${ref} holds no backup of ${node}`);
    const contents = await this.catObjects(blobs.map((b) => b.object));
    const files = new Map<string, Buffer>();
    blobs.forEach((blob, i) => {
      const content = contents[i];
      if (!content)
        throw new OperationFailed(`backup repo: object for ${prefix}${blob.path} at ${ref} is missing`);
      files.set(blob.path, content);
    });
    return files;
  }

  // --- committing --------------------------------------------------------------------------------

  /**
   * Makes `nodes/<id>/` hold exactly `files` and commits, but only if something significant
   * changed (see node-tree.ts). An unchanged node costs a read of its files and nothing else.
   */
  async commitNode(
    nodeId: string,
    files: ReadonlyMap<string, Buffer>,
    info: BackupInfo,
  ): Promise<CommitResult> {
    const node = checkNode(nodeId);
    checkNodeFiles(files);
    // An empty set would delete the node's whole backup: that is a broken tar, not a backup.
    if (files.size === 0) throw new InvalidInput(`no files to back up for ${node}`, 'files');
    if (!BACKUP_TYPES.includes(info.type)) {
      throw new InvalidInput(`backup type must be one of ${BACKUP_TYPES.join(', ')}`, 'type');
    }
    checkInstant(info.at, 'at');
    if (info.score !== undefined && info.score !== null && !Number.isFinite(info.score)) {
      throw new InvalidInput('score must be a number or null', 'score');
    }
    const fileCount = files.size;
    let totalBytes = 0;
    for (const content of files.values()) totalBytes += content.length;
    const unchanged = async (): Promise<CommitResult> => ({
      changed: false,
      commit: await this.headCommit(),
      changedFiles: [],
      fileCount,
      totalBytes,
    });

    const nodeDir = join(this.dir, 'nodes', node);
    if (!this.unsure.has(node) && !(await hasSignificantChange(nodeDir, files))) return unchanged();
    refuseSecretShapes(node, files);

    return this.serial(async () => {
      try {
        await replaceNodeTree(nodeDir, files);
        await this.git.raw(['add', '--all', '--force', '--verbose', '--', `nodes/${node}`]);
        const staged = await this.git.raw([
          'diff',
          '--cached',
          '--name-only',
          '-z',
          '--no-renames',
          '--',
          `nodes/${node}`,
        ]);
        const prefix = `nodes/${node}/`;
        const changedFiles = staged
          .split('\0')
          .filter((p) => p.startsWith(prefix))
          .map((p) => p.slice(prefix.length))
          .sort();
        if (changedFiles.length === 0) {
          this.unsure.delete(node);
          return unchanged();
        }
        await appendFile(join(this.dir, CHANGELOG), changelogLine(node, info, changedFiles));
        await this.git.raw(['add', '--force', '--verbose', '--', CHANGELOG]);
        await this.git.raw([
          'commit',
          '--no-verify',
          `--date=${new Date(info.at).toISOString()}`,
          '-m',
          backupCommitMessage(node, info),
        ]);
        this.unsure.delete(node);
        return { changed: true, commit: await this.headCommit(), changedFiles, fileCount, totalBytes };
      } catch (err) {
        await this.undoFailedWrite(node);
        throw new OperationFailed(`backup of ${node} could not be committed: ${errorText(err)}`);
      }
    });
  }

  private async undoFailedWrite(node: string): Promise<void> {
    try {
      await this.discardUncommitted();
      this.unsure.delete(node);
    } catch (err) {
      this.unsure.add(node);
      log.error('backup repo: could not undo a failed write', { node, error: errorText(err) });
    }
  }

  /**
   * Commits OCM's own files: `.ocm/scores.json` and `ocm-master/…` (SPEC §9). When any path is
   * under `ocm-master/`, that folder is replaced exactly, like a node's.
   */
  async commitOwnFiles(
    files: ReadonlyMap<string, Buffer>,
    message: string,
  ): Promise<{ changed: boolean; commit: string }> {
    if (files.size === 0) throw new InvalidInput('no files to commit', 'files');
    const master = new Map<string, Buffer>();
    const single = new Map<string, Buffer>();
    for (const [path, content] of files) {
      if (path === '.ocm/scores.json') single.set(path, content);
      else if (path.startsWith('ocm-master/')) master.set(path.slice('ocm-master/'.length), content);
      else
        throw new InvalidInput(
          `${JSON.stringify(path)} is not one of OCM's own files (.ocm/scores.json, ocm-master/…)`,
          'files',
        );
    }
    checkNodeFiles(master);
    if (typeof message !== 'string' || message.trim() === '' || message.length > 500) {
      throw new InvalidInput('message must be 1-500 characters', 'message');
    }
    return this.serial(async () => {
      try {
        const paths: string[] = [];
        if (master.size > 0) {
          await replaceNodeTree(join(this.dir, 'ocm-master'), master);
          paths.push('ocm-master');
        }
        for (const [path, content] of single) {
          await writeFile(join(this.dir, path), content);
          paths.push(path);
        }
        await this.git.raw(['add', '--all', '--force', '--verbose', '--', ...paths]);
        const staged = await this.git.raw(['diff', '--cached', '--name-only', '-z', '--', ...paths]);
        if (staged === '') return { changed: false, commit: await this.headCommit() };
        await this.git.raw(['commit', '--no-verify', '-m', message]);
        return { changed: true, commit: await this.headCommit() };
      } catch (err) {
        await this.discardUncommitted().catch(() => undefined);
        throw new OperationFailed(`OCM's own files could not be committed: ${errorText(err)}`);
      }
    });
  }

  // --- tags and branches -------------------------------------------------------------------------

  /** Creates `name`, or `name-2`, `name-3`… if taken; returns the name used. */
  private async createUnique(
    build: (seq: number) => string,
    refPrefix: string,
    create: (name: string) => Promise<void>,
  ): Promise<string> {
    for (let seq = 1; seq <= 99; seq++) {
      const name = build(seq);
      if (await this.refExists(`${refPrefix}${name}`)) continue;
      await create(name);
      return name;
    }
    throw new OperationFailed(`too many backup points named ${build(1)} in one second`);
  }

  /**
   * Annotated tag `{node}/{type}/{YYYY-MM-DDTHH-MM-SSZ}` on `commit`. A stable tag also moves
   * branch `stable/<node>` there.
   */
  async tagNode(nodeId: string, type: TagType, at: number, commit: string, note?: string): Promise<string> {
    const node = checkNode(nodeId);
    if (!TAG_TYPES.includes(type))
      throw new InvalidInput(`tag type must be one of ${TAG_TYPES.join(', ')}`, 'type');
    checkInstant(at, 'at');
    const text = checkNote(note);
    const sha = await this.resolveRef(commit, 'commit');
    return this.serial(async () => {
      const name = await this.createUnique(
        (seq) => nodeTagName(node, type, at, seq),
        'refs/tags/',
        async (tag) => {
          const message = text?.trim() ? text : `${node} ${type} point ${new Date(at).toISOString()}`;
          await gitQuick(this.dir, ['tag', '--annotate', '--message', message, tag, sha]);
        },
      );
      if (type === 'stable') {
        await this.git.raw([
          'update-ref',
          '-m',
          `stable point ${name}`,
          `refs/heads/${stableBranchName(node)}`,
          sha,
        ]);
      }
      return name;
    });
  }

  /** Annotated tag `all/deploy/v<version>` for a cluster-wide rollout; one per version. */
  async tagDeploy(version: string, commit: string, note?: string): Promise<string> {
    if (typeof version !== 'string' || !VERSION_PATTERN.test(version)) {
      throw new InvalidInput('version must look like 2026.9.6 or 2026.9.6-beta.1', 'version');
    }
    const text = checkNote(note);
    const sha = await this.resolveRef(commit, 'commit');
    const name = deployTagName(version);
    return this.serial(async () => {
      const existing = await this.commitOf(`refs/tags/${name}`);
      if (existing === sha) return name;
      if (existing)
        throw new OperationFailed(`${name} already marks another commit (${existing.slice(0, 12)})`);
      await this.git.raw([
        'tag',
        '--annotate',
        '--message',
        text?.trim() ? text : `deploy v${version}`,
        name,
        sha,
      ]);
      return name;
    });
  }

  /** Branch `snapshots/<node>/<timestamp>` on `commit`; returns its name. */
  async snapshotBranch(nodeId: string, at: number, commit: string): Promise<string> {
    const node = checkNode(nodeId);
    checkInstant(at, 'at');
    const sha = await this.resolveRef(commit, 'commit');
    return this.serial(() =>
      this.createUnique(
        (seq) => snapshotBranchName(node, at, seq),
        'refs/heads/',
        // The empty old value makes git refuse if another process created it meanwhile.
        (name) => gitQuick(this.dir, ['update-ref', `refs/heads/${name}`, sha, '']).then(() => undefined),
      ),
    );
  }

  /** The node's tags, newest first. */
  async listNodeTags(nodeId: string): Promise<NodeTag[]> {
    const node = checkNode(nodeId);
    const out = await this.git.raw([
      'for-each-ref',
      '--format=%(refname:strip=2)%1f%(objectname)%1f%(*objectname)%1f%(contents:subject)%1e',
      `refs/tags/${node}`,
    ]);
    const tags: (NodeTag & { seq: number })[] = [];
    for (const record of out.split('\x1e')) {
      const [name, object, peeled, subject] = record.replace(/^\n/, '').split('\x1f');
      if (!name || !object) continue;
      const reading = parseRefNames(name).find((r) => r.kind === 'node-tag');
      if (reading?.kind !== 'node-tag' || reading.node !== node) continue;
      tags.push({
        name,
        type: reading.type,
        at: reading.at,
        seq: reading.seq,
        commit: peeled || object,
        note: subject ?? '',
      });
    }
    return tags.sort(byNewest).map(({ seq: _seq, ...tag }) => tag);
  }

  async latestTag(nodeId: string, type: TagType): Promise<NodeTag | null> {
    if (!TAG_TYPES.includes(type))
      throw new InvalidInput(`tag type must be one of ${TAG_TYPES.join(', ')}`, 'type');
    return (await this.listNodeTags(nodeId)).find((t) => t.type === type) ?? null;
  }

  /** Commits that touched `nodes/<id>/`, newest first, with the node's tags on each. */
  async listNodeHistory(nodeId: string, limit = 50): Promise<HistoryEntry[]> {
    const node = checkNode(nodeId);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw new InvalidInput('limit must be a whole number from 1 to 10000', 'limit');
    }
    const out = await this.git.raw([
      'log',
      `--max-count=${limit}`,
      '--format=%H%x1f%at%x1f%s%x1e',
      'HEAD',
      '--',
      `nodes/${node}`,
    ]);
    const tagsByCommit = new Map<string, string[]>();
    for (const tag of await this.listNodeTags(node)) {
      tagsByCommit.set(tag.commit, [...(tagsByCommit.get(tag.commit) ?? []), tag.name]);
    }
    const history: HistoryEntry[] = [];
    for (const record of out.split('\x1e')) {
      const [commit, seconds, message] = record.replace(/^\n/, '').split('\x1f');
      if (!commit || !seconds) continue;
      history.push({
        commit,
        at: Number(seconds) * 1000,
        message: message ?? '',
        tags: tagsByCommit.get(commit) ?? [],
      });
    }
    return history;
  }

  // --- diff --------------------------------------------------------------------------------------

  /** Per-node changes between two backup points: config key by key, other files as unified diffs. */
  async diff(nodeId: string, from: string, to: string): Promise<BackupDiff> {
    const node = checkNode(nodeId);
    const fromSha = await this.resolveRef(from, 'from');
    const toSha = await this.resolveRef(to, 'to');
    const prefix = `nodes/${node}/`;
    const listing = await this.git.raw([
      'diff',
      '--name-status',
      '-z',
      '--no-renames',
      fromSha,
      toSha,
      '--',
      `nodes/${node}`,
    ]);
    const parts = listing.split('\0');
    const changed: { path: string; status: FileDiff['status'] }[] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const code = parts[i] as string;
      const path = parts[i + 1] as string;
      if (!path.startsWith(prefix)) continue;
      const status = code.startsWith('A') ? 'added' : code.startsWith('D') ? 'removed' : 'modified';
      changed.push({ path: path.slice(prefix.length), status });
    }

    const result: BackupDiff = { config_changes: [], files: [] };
    for (const file of changed) {
      if (file.path === CONFIG_FILE) {
        const keyLevel = await this.configDiff(fromSha, toSha, `${prefix}${CONFIG_FILE}`);
        if (keyLevel) {
          result.config_changes = keyLevel;
          continue;
        }
      }
      const text = await this.git.raw([
        'diff',
        '--no-color',
        '--no-ext-diff',
        '--no-textconv',
        '--no-renames',
        fromSha,
        toSha,
        '--',
        `:(literal)${prefix}${file.path}`,
      ]);
      const diff =
        text.length > MAX_FILE_DIFF_CHARS
          ? `${text.slice(0, MAX_FILE_DIFF_CHARS)}\n… (diff truncated)\n`
          : text;
      result.files.push({ path: file.path, status: file.status, diff });
    }
    return result;
  }

  /** Key-level changes, or null when a side is not parseable (then it is shown as a text diff). */
  private async configDiff(fromSha: string, toSha: string, path: string): Promise<ConfigChange[] | null> {
    const [before, after] = await this.catObjects([`${fromSha}:${path}`, `${toSha}:${path}`]);
    try {
      const parse = (content: Buffer | null | undefined) =>
        content ? parseConfig(content.toString('utf8')) : {};
      return configChanges(parse(before), parse(after));
    } catch {
      return null;
    }
  }

  // --- deleting ----------------------------------------------------------------------------------

  /**
   * Deletes a node tag, a deploy tag or a snapshot branch, here and on the remote. `main` and
   * `stable/<node>` are never deleted (a stable *tag* may be).
   */
  async deleteRef(name: string): Promise<DeletedRef> {
    const deletable = this.parseRef(name, 'name').filter(
      (r) => r.kind === 'node-tag' || r.kind === 'deploy-tag' || r.kind === 'snapshot-branch',
    );
    if (deletable.length === 0) {
      throw new InvalidInput(
        `${name} cannot be deleted: main, stable/<node> branches and commits are kept; delete a tag or a snapshot branch`,
        'name',
      );
    }
    const deleted = await this.serial(async () => {
      for (const reading of deletable) {
        const ref = fullRef(reading);
        if (!(await this.refExists(ref))) continue;
        await this.git.raw(['update-ref', '-d', ref]);
        return { ref, kind: reading.kind === 'snapshot-branch' ? ('snapshot' as const) : ('tag' as const) };
      }
      throw new InvalidInput(`no tag or snapshot branch named ${name} in the backup repo`, 'name');
    });
    const remote = this.remote === undefined ? null : await this.remote.deleteRefs([deleted.ref]);
    return { name, kind: deleted.kind, remote };
  }

  /** Deletes snapshot branches whose timestamp is more than `olderThanDays` before `now`. */
  async cleanupSnapshots(olderThanDays: number, now: number): Promise<SnapshotCleanup> {
    if (typeof olderThanDays !== 'number' || !Number.isFinite(olderThanDays) || olderThanDays < 0) {
      throw new InvalidInput('olderThanDays must be a number ≥ 0', 'olderThanDays');
    }
    checkInstant(now, 'now');
    const cutoff = now - olderThanDays * DAY_MS;
    const isOld = (name: string) =>
      parseRefNames(name).some((r) => r.kind === 'snapshot-branch' && r.at < cutoff);

    const deleted = await this.serial(async () => {
      const out = await this.git.raw(['for-each-ref', '--format=%(refname:strip=2)', 'refs/heads/snapshots']);
      const old = out.split('\n').filter((name) => name !== '' && isOld(name));
      for (const name of old) await this.git.raw(['update-ref', '-d', `refs/heads/${name}`]);
      return old;
    });
    if (this.remote === undefined) return { deleted, remote: null };

    // Ask the remote itself, so a deletion that failed there last time is retried now.
    let remoteOld: string[];
    try {
      remoteOld = (await this.remote.listRefs('refs/heads/snapshots/*')).filter(
        (ref) => ref.startsWith('refs/heads/') && isOld(ref.slice('refs/heads/'.length)),
      );
    } catch (err) {
      return { deleted, remote: { ok: false, error: errorText(err), deleted: [] } };
    }
    const outcome = await this.remote.deleteRefs(remoteOld);
    const remoteDeleted = outcome.ok ? remoteOld.map((ref) => ref.slice('refs/heads/'.length)) : [];
    return { deleted, remote: { ...outcome, deleted: remoteDeleted } };
  }

  // --- pushing -----------------------------------------------------------------------------------

  /** Pushes main, stable/*, snapshots/* and all tags; retried with backoff; never throws. */
  async push(): Promise<PushResult> {
    if (this.remote === undefined) return { ok: true, attempts: 0, skipped: true };
    return this.remote.push();
  }
}
