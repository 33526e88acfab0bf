// Backing up nodes: fetch the agent's tar, redact it in memory, commit it (one serialized commit
// step for any number of parallel fetches), record the backup, and push.

import { CommandFailed, NodeUnreachable } from '../errors.ts';
import { recordEvent } from '../events.ts';
import type { Operation } from '../journal.ts';
import { log } from '../log.ts';
import { fleetAccess } from '../nodes/status.ts';
import type { Ocm } from '../ocm.ts';
import { redactionKey } from './redaction-key.ts';
import { BackupRepo } from './repo.ts';
import { redactSnapshot } from './snapshot.ts';
import { readTar } from './tar.ts';

export type BackupType = 'auto' | 'manual' | 'pre-rollback' | 'pre-update';

const repos = new WeakMap<Ocm, Promise<BackupRepo>>();

/** The backup repo of this OCM instance, opened once; commits are serialized across processes. */
export function backupRepo(ocm: Ocm): Promise<BackupRepo> {
  let repo = repos.get(ocm);
  if (!repo) {
    repo = BackupRepo.open(ocm.config.backup.repoDir as string, {
      remote: ocm.config.backup.remote,
      gitSshCommand: ocm.config.backup.gitSshCommand,
      pushRetries: ocm.config.backup.pushRetries,
      withCommitLock: async (fn) => {
        const lock = await ocm.locks.acquire('backup-repo', `pid:${process.pid}`, 'commit', 120_000);
        try {
          return await fn();
        } finally {
          lock.release();
        }
      },
    });
    repos.set(ocm, repo);
  }
  return repo;
}

export interface BackupResult {
  id: string;
  changed: boolean;
  commit: string;
  tag: string | null;
  files: number;
  bytes: number;
  redactions: number;
  changed_files: string[];
}

/** Fetch and redact a node's files (in memory). */
export async function fetchSnapshot(ocm: Ocm, id: string) {
  const agent = await fleetAccess(ocm).agent(id);
  const tar = await agent.stream('backup', [], { timeoutMs: 300_000 });
  const raw = await readTar(tar);
  const row = ocm.nodes.row(id);
  const snapshot = redactSnapshot(raw, redactionKey(ocm.config), {
    node: id,
    openclaw_version: row?.openclaw_version ?? null,
    agent_version: row?.agent_version ?? null,
  });
  return { raw, snapshot };
}

/** Back up one node. The caller holds the node's lock. */
export async function backupNode(
  ocm: Ocm,
  id: string,
  type: BackupType,
  operation?: Operation,
  note?: string,
): Promise<BackupResult> {
  const at = Date.now();
  operation?.step(`fetching ${id}'s files`);
  let snapshot: Awaited<ReturnType<typeof fetchSnapshot>>['snapshot'];
  try {
    ({ snapshot } = await fetchSnapshot(ocm, id));
  } catch (err) {
    if (err instanceof NodeUnreachable || err instanceof CommandFailed) {
      recordEvent(ocm.db, {
        node: id,
        type: 'backup',
        severity: 'error',
        message: `backup of ${id} failed: ${err.message}`,
      });
      ocm.nodes.recordCheck(id, {
        ok: false,
        status: err instanceof NodeUnreachable ? 'offline' : 'error',
        detail: err.message,
      });
    }
    throw err;
  }
  const repo = await backupRepo(ocm);
  const row = ocm.nodes.row(id);
  operation?.step(`committing ${snapshot.files.size} files`);
  const commit = await repo.commitNode(id, snapshot.files, { type, at, score: row?.last_score ?? null });
  let tag: string | null = null;
  if (commit.changed || type !== 'auto') {
    if (type !== 'auto') tag = await repo.tagNode(id, type, at, commit.commit, note);
    if (commit.changed) await repo.snapshotBranch(id, at, commit.commit);
    ocm.db
      .prepare(
        `INSERT INTO backups (node_id, git_commit, git_tag, type, score, file_count, total_size, changed, note, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        commit.commit,
        tag,
        type,
        row?.last_score ?? null,
        commit.fileCount,
        commit.totalBytes,
        commit.changed ? 1 : 0,
        note ?? null,
        at,
      );
  }
  ocm.db.prepare('UPDATE nodes SET last_backup_at = ? WHERE id = ?').run(at, id);
  if (commit.changed) {
    recordEvent(ocm.db, {
      node: id,
      type: 'backup',
      message: `${id} backed up (${type}): ${commit.changedFiles.length} file(s) changed, commit ${commit.commit.slice(0, 8)}`,
      details: {
        commit: commit.commit,
        changed: commit.changedFiles.slice(0, 50),
        redactions: snapshot.redactions,
      },
    });
  }
  return {
    id,
    changed: commit.changed,
    commit: commit.commit,
    tag,
    files: commit.fileCount,
    bytes: commit.totalBytes,
    redactions: snapshot.redactions,
    changed_files: commit.changedFiles,
  };
}

/** Push the backup repo; a failed push keeps the local commit and raises an alert event. */
export async function pushBackups(ocm: Ocm): Promise<{ pushed: boolean; error: string | null }> {
  if (!ocm.config.backup.remote) return { pushed: false, error: null };
  const repo = await backupRepo(ocm);
  const result = await repo.push();
  if (!result.ok) {
    log.warn('backup push failed', { attempts: result.attempts, error: result.error });
    recordEvent(ocm.db, {
      type: 'alert',
      severity: 'error',
      message: `pushing backups to the remote failed after ${result.attempts} attempt(s): ${result.error}; the local commits are kept and will be pushed next time`,
    });
  }
  return { pushed: result.ok, error: result.ok ? null : (result.error ?? 'push failed') };
}
