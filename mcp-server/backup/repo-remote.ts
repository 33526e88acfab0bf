// The backup repo's remote (GitHub or any git URL). Its URL may hold a token, so it lives in
// memory only and every message is scrubbed. Pushes are retried with backoff and never throw:
// a failed push loses nothing, the local commit is the record, and the caller raises the alert.

import { setTimeout as sleep } from 'node:timers/promises';
import type { SimpleGit } from 'simple-git';
import { log } from '../log.ts';
import { displayRemoteUrl, scrubRemoteText } from './remote-url.ts';
import { errorText, networkGit } from './repo-git.ts';

export interface PushResult {
  ok: boolean;
  attempts: number;
  /** Last failure, credentials removed. */
  error?: string;
  /** True when no remote is configured (nothing to do, not a failure). */
  skipped?: boolean;
}

export interface RemoteOutcome {
  ok: boolean;
  error?: string;
}

export interface BackupRemoteOptions {
  gitSshCommand?: string;
  pushRetries?: number;
  pushBackoffMs?: number;
  networkTimeoutMs?: number;
}

/** What a backup push sends: every branch and tag OCM makes, nothing else. */
const PUSH_REFSPECS = [
  'refs/heads/main:refs/heads/main',
  // stable/<node> moves to whichever point last passed, which need not descend from the last one.
  '+refs/heads/stable/*:refs/heads/stable/*',
  'refs/heads/snapshots/*:refs/heads/snapshots/*',
  'refs/tags/*:refs/tags/*',
];

export class BackupRemote {
  private readonly git: SimpleGit;
  private pushes: Promise<unknown> = Promise.resolve();

  constructor(
    repoDir: string,
    private readonly url: string,
    private readonly opts: BackupRemoteOptions = {},
  ) {
    this.git = networkGit(repoDir, opts.gitSshCommand, opts.networkTimeoutMs ?? 120_000);
  }

  /** Pushes main, stable/*, snapshots/* and all tags. One push at a time per process. */
  push(): Promise<PushResult> {
    const run = this.pushes.then(() => this.pushWithRetries());
    this.pushes = run.catch(() => undefined);
    return run;
  }

  private async pushWithRetries(): Promise<PushResult> {
    const attempts = 1 + (this.opts.pushRetries ?? 3);
    const backoff = this.opts.pushBackoffMs ?? 2000;
    let error = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await this.git.raw(['push', '--porcelain', '--no-verify', this.url, ...PUSH_REFSPECS]);
        return { ok: true, attempts: attempt };
      } catch (err) {
        error = this.scrub(err);
        log.warn('backup repo: push failed', {
          attempt,
          of: attempts,
          remote: displayRemoteUrl(this.url),
          error,
        });
        if (attempt < attempts) await sleep(backoff * 2 ** (attempt - 1));
      }
    }
    return { ok: false, attempts, error };
  }

  /** Full ref names on the remote matching a glob such as `refs/heads/snapshots/*`. */
  async listRefs(pattern: string): Promise<string[]> {
    const listing = await this.git.raw(['ls-remote', '--refs', this.url, pattern]).catch((err: unknown) => {
      throw new Error(this.scrub(err));
    });
    return listing
      .split('\n')
      .map((line) => line.split('\t')[1] ?? '')
      .filter((ref) => ref !== '');
  }

  /** Deletes refs on the remote; one that is not there counts as deleted. */
  async deleteRefs(refs: string[]): Promise<RemoteOutcome> {
    if (refs.length === 0) return { ok: true };
    try {
      await this.git.raw(['push', '--porcelain', '--no-verify', this.url, '--delete', ...refs]);
      return { ok: true };
    } catch (err) {
      const error = this.scrub(err);
      if (/remote ref does not exist/i.test(error)) return { ok: true };
      log.warn('backup repo: could not delete on the remote', { refs, error });
      return { ok: false, error };
    }
  }

  scrub(err: unknown): string {
    return scrubRemoteText(errorText(err), this.url).slice(-2000);
  }
}
