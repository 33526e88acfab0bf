// How OCM runs git on the backup repo: simple-git with argument arrays, settings that ambient
// user or system config cannot override, every non-zero exit an error, and for commands that
// reach the remote an environment with only the ssh command we chose and no terminal prompts.

import { execFile } from 'node:child_process';
import { type SimpleGit, type SimpleGitOptions, simpleGit } from 'simple-git';

/** Ambient user or system settings must not sign, colour, re-encode or detach anything. */
const GIT_CONFIG = [
  'core.quotepath=off',
  'core.autocrlf=false',
  'color.ui=false',
  'commit.gpgsign=false',
  'tag.gpgsign=false',
  'gc.autoDetach=false',
  'advice.detachedHead=false',
];

// Note for callers: simple-git waits an extra 50 ms after a command that printed nothing, so hot
// paths run `add --verbose` and `commit` without --quiet, and silent ref commands go through
// `gitQuick` below.

/** simple-git only fails a command that exits non-zero AND wrote to stderr; we want every failure. */
const failOnNonZeroExit: SimpleGitOptions['errors'] = (error, result) => {
  if (error) return error;
  if (result.exitCode === 0) return undefined;
  const stderr = Buffer.concat(result.stdErr).toString('utf8').trim();
  return new Error(stderr || `git exited with code ${result.exitCode}`);
};

/** git for local work in `dir`. `stdin`, when given, is fed to every command (cat-file --batch). */
export function localGit(dir: string, stdin?: string): SimpleGit {
  return simpleGit({
    baseDir: dir,
    maxConcurrentProcesses: 4,
    config: GIT_CONFIG,
    errors: failOnNonZeroExit,
    ...(stdin === undefined ? {} : { input: () => stdin }),
  });
}

/** Environment names simple-git guards (git reads them to run programs); never inherited. */
const GUARDED_ENV = new Set(['editor', 'pager', 'prefix', 'ssh_askpass', 'visual']);

function networkEnv(sshCommand: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    const key = name.toLowerCase();
    if (!key.startsWith('git_') && !GUARDED_ENV.has(key)) env[name] = value;
  }
  env.GIT_SSH_COMMAND = sshCommand ?? 'ssh -o BatchMode=yes';
  // An https remote without credentials must fail, not wait for a password on a terminal.
  env.GIT_TERMINAL_PROMPT = '0';
  return env;
}

/** git for push / ls-remote: our ssh command (a deploy key), no prompts, killed when silent too long. */
export function networkGit(dir: string, sshCommand: string | undefined, silentTimeoutMs: number): SimpleGit {
  return simpleGit({
    baseDir: dir,
    maxConcurrentProcesses: 2,
    config: GIT_CONFIG,
    errors: failOnNonZeroExit,
    allowEnvironment: ['GIT_SSH_COMMAND', 'GIT_TERMINAL_PROMPT'],
    unsafe: { allowUnsafeSshCommand: true },
    timeout: { block: silentTimeoutMs },
  }).env(networkEnv(sshCommand));
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * One local git command that prints little or nothing (update-ref, tag, for-each-ref), run
 * directly with the same settings: simple-git would wait 50 ms after each, and backups of many
 * nodes run these in their serialized commit step. Argument array only; stdout on success.
 */
export function gitQuick(dir: string, args: readonly string[]): Promise<string> {
  const configArgs = GIT_CONFIG.flatMap((setting) => ['-c', setting]);
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      [...configArgs, ...args],
      { cwd: dir, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(String(stderr).trim() || err.message));
        else resolve(String(stdout));
      },
    );
  });
}
