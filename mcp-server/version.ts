// OCM's own version, from package.json (one source of truth).
import { readFileSync } from 'node:fs';

export const OCM_VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;
