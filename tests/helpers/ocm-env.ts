// A throwaway OCM home for a test: its own data dir, code file and config, removed afterwards.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const OCM_BIN = join(REPO, 'bin', 'ocm.js');

export interface OcmHome {
  dir: string;
  env: Record<string, string>;
  /** Every security code delivered through the file channel, oldest first. */
  codes(): { tool: string; target: string | null; token: string; code: string }[];
  /** The code delivered for a confirm token. */
  codeFor(confirmToken: string): string;
  cleanup(): void;
}

export function makeOcmHome(config: Record<string, unknown> = {}): OcmHome {
  const dir = mkdtempSync(join(tmpdir(), 'ocm-test-'));
  const codeFile = join(dir, 'codes.log');
  writeFileSync(
    join(dir, 'ocm.config.json'),
    JSON.stringify({ dataDir: join(dir, 'data'), ...config }, null, 2),
  );
  const env = {
    OCM_CONFIG: join(dir, 'ocm.config.json'),
    OCM_DATA_DIR: join(dir, 'data'),
    OCM_CODE_FILE: codeFile,
    OCM_LOG_LEVEL: 'warn',
  };
  const codes = () =>
    existsSync(codeFile)
      ? readFileSync(codeFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line))
      : [];
  return {
    dir,
    env,
    codes,
    codeFor(token) {
      const hit = codes().find((c) => token.startsWith(c.token));
      if (!hit) throw new Error(`no code was delivered for token ${token.slice(0, 12)}`);
      return hit.code;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** process.env plus the home's variables, for child processes. */
export function childEnv(home: OcmHome, extra: Record<string, string> = {}): Record<string, string> {
  return { ...(process.env as Record<string, string>), ...home.env, ...extra };
}
