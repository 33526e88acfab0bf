// The key behind `***REDACTED:xxxxxxxx***` placeholders. It must stay the same across backups, or
// every placeholder would show as changed: taken from OCM_REDACTION_KEY(_FILE), else generated once
// into the data dir (0600). It is OCM's own key, not a node secret; it never enters git.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OcmConfig } from '../config.ts';

export function redactionKey(config: OcmConfig): Buffer {
  if (config.secrets.redactionKey) return Buffer.from(config.secrets.redactionKey, 'utf8');
  const path = join(config.dataDir, 'redaction.key');
  if (!existsSync(path)) {
    try {
      writeFileSync(path, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  chmodSync(path, 0o600);
  return Buffer.from(readFileSync(path, 'utf8').trim(), 'utf8');
}
