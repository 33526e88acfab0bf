// openclaw.json between two backup points as key-level changes (`agents.defaults.model.primary`
// changed from … to …), which says more to an operator than a text diff of pretty JSON.
// Values are shown as stored: secrets in git are already placeholders.

import { type ConfigPath, formatConfigPath } from './redact.ts';

export interface ConfigChange {
  path: string;
  change: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameValue(a[k], b[k]))
    );
  }
  return false;
}

/**
 * Walks both documents together: objects key by key, arrays index by index, anything else (or a
 * change of kind, say a string that became an object) as one change at that path.
 */
export function configChanges(before: unknown, after: unknown): ConfigChange[] {
  const changes: ConfigChange[] = [];
  const walk = (a: unknown, b: unknown, path: ConfigPath): void => {
    if (isPlainObject(a) && isPlainObject(b)) {
      for (const key of Object.keys(a)) {
        if (!Object.hasOwn(b, key))
          changes.push({ path: formatConfigPath([...path, key]), change: 'removed', before: a[key] });
        else walk(a[key], b[key], [...path, key]);
      }
      for (const key of Object.keys(b)) {
        if (!Object.hasOwn(a, key))
          changes.push({ path: formatConfigPath([...path, key]), change: 'added', after: b[key] });
      }
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      const common = Math.min(a.length, b.length);
      for (let i = 0; i < common; i++) walk(a[i], b[i], [...path, i]);
      for (let i = common; i < a.length; i++)
        changes.push({ path: formatConfigPath([...path, i]), change: 'removed', before: a[i] });
      for (let i = common; i < b.length; i++)
        changes.push({ path: formatConfigPath([...path, i]), change: 'added', after: b[i] });
      return;
    }
    if (!sameValue(a, b))
      changes.push({ path: formatConfigPath(path), change: 'changed', before: a, after: b });
  };
  walk(before, after, []);
  return changes;
}
