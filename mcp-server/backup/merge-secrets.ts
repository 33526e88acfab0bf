// Restore writes the node's CURRENT secrets back into the files taken from git: a placeholder at a
// config path takes the value the node has there now (a secret rotated since the backup stays
// rotated); otherwise any current secret whose keyed hash matches. A secret the node no longer has
// is an error naming where it was, never a placeholder written into a live config.

import { OperationFailed } from '../errors.ts';
import {
  type ConfigPath,
  containsPlaceholder,
  formatConfig,
  formatConfigPath,
  isPlaceholder,
  parseConfig,
  placeholderFor,
} from './redact.ts';
import { matchSecretShapes, PLACEHOLDER_PATTERN } from './secret-shapes.ts';

/**
 * Everything on the node that may be a secret: every string (and key) in its current config, and
 * every token-shaped span in the config and in the given raw files. Over-collecting is harmless:
 * a candidate is only used when its keyed hash matches a placeholder.
 */
export function collectSecrets(rawConfigText: string, rawTexts: string[]): string[] {
  const found = new Set<string>();
  const addShapes = (text: string) => {
    for (const m of matchSecretShapes(text)) found.add(text.slice(m.start, m.end));
  };
  const addString = (value: string) => {
    if (value.trim() === '' || containsPlaceholder(value)) return;
    found.add(value);
    addShapes(value);
  };

  const config = tryParse(rawConfigText);
  if (config.ok) {
    visitStrings(config.value, addString);
  } else {
    // A node whose config is broken is exactly the node one restores; its secrets are still there.
    for (const literal of quotedLiterals(rawConfigText)) addString(literal);
  }
  addShapes(rawConfigText);
  for (const text of rawTexts) addShapes(text);
  return [...found];
}

/**
 * The backed-up config (from git, redacted) with the node's current secrets put back, as pretty
 * JSON. Throws OperationFailed naming every path whose secret the node no longer has.
 */
export function restoreConfigSecrets(redactedText: string, currentRawText: string, key: Buffer): string {
  const target = parseConfig(redactedText, 'the backed-up openclaw.json');
  const current = tryParse(currentRawText);
  const byPlaceholder = indexByPlaceholder(collectSecrets(currentRawText, []), key);
  const missing: string[] = [];

  const fromHashes = (text: string): string | undefined => {
    let unresolved = false;
    const out = text.replace(new RegExp(PLACEHOLDER_PATTERN.source, 'g'), (placeholder) => {
      const secret = byPlaceholder.get(placeholder);
      if (secret === undefined) unresolved = true;
      return secret ?? placeholder;
    });
    return unresolved ? undefined : out;
  };

  const restoreString = (value: string, path: ConfigPath, currentValue: unknown): string => {
    if (!containsPlaceholder(value)) return value;
    // The node's value at the same place wins when it fits: the whole value for a whole-value
    // secret, or the same text around the secret for one found inside a longer string.
    if (typeof currentValue === 'string' && !containsPlaceholder(currentValue)) {
      if (isPlaceholder(value) || sameTextAroundPlaceholders(value, currentValue)) return currentValue;
    }
    const restored = fromHashes(value);
    if (restored === undefined) {
      missing.push(formatConfigPath(path));
      return value;
    }
    return restored;
  };

  const walk = (value: unknown, path: ConfigPath, currentValue: unknown): unknown => {
    if (typeof value === 'string') return restoreString(value, path, currentValue);
    if (Array.isArray(value)) {
      const currentItems = Array.isArray(currentValue) ? currentValue : [];
      return value.map((item, i) => walk(item, [...path, i], currentItems[i]));
    }
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([name, child]) => {
          let restoredName = name;
          if (containsPlaceholder(name)) {
            const resolved = fromHashes(name);
            if (resolved === undefined) missing.push(formatConfigPath([...path, name]));
            else restoredName = resolved;
          }
          const currentChild = isPlainObject(currentValue) ? ownValue(currentValue, restoredName) : undefined;
          return [restoredName, walk(child, [...path, name], currentChild)];
        }),
      );
    }
    return value;
  };

  const restored = walk(target, [], current.ok ? current.value : undefined);
  if (missing.length > 0) {
    throw new OperationFailed(
      `cannot restore openclaw.json: the node no longer has the secret(s) at ${missing.join(', ')}; ` +
        'set them on the node (or pick a backup that matches its current secrets) and retry',
    );
  }
  const text = formatConfig(restored);
  // Belt and braces: a placeholder in a live config would silently break the assistant.
  if (containsPlaceholder(text))
    throw new OperationFailed('restored openclaw.json still contains a placeholder');
  return text;
}

/**
 * A backed-up text file (workspace markdown, skills) with its placeholders replaced by the known
 * secret of the same keyed hash. `file` names the file in the error when one is unknown.
 */
export function restoreTextSecrets(
  text: string,
  knownSecrets: string[],
  key: Buffer,
  file = 'a text file',
): string {
  if (!containsPlaceholder(text)) return text;
  const byPlaceholder = indexByPlaceholder(knownSecrets, key);
  const unknown = new Set<string>();
  const out = text.replace(new RegExp(PLACEHOLDER_PATTERN.source, 'g'), (placeholder) => {
    const secret = byPlaceholder.get(placeholder);
    if (secret === undefined) unknown.add(placeholder);
    return secret ?? placeholder;
  });
  if (unknown.size > 0) {
    throw new OperationFailed(
      `cannot restore ${file}: the node no longer has ${unknown.size} secret(s) it mentions (${[...unknown].join(', ')}); ` +
        'put them back on the node or edit the file in the backup, then retry',
    );
  }
  return out;
}

// --- helpers -----------------------------------------------------------------------------------

function indexByPlaceholder(secrets: string[], key: Buffer): Map<string, string> {
  const index = new Map<string, string>();
  for (const secret of secrets) {
    const placeholder = placeholderFor(secret, key);
    if (!index.has(placeholder)) index.set(placeholder, secret);
  }
  return index;
}

/** Does `current` read as `withPlaceholders` with each placeholder standing for some text? */
function sameTextAroundPlaceholders(withPlaceholders: string, current: string): boolean {
  const literals = withPlaceholders.split(new RegExp(PLACEHOLDER_PATTERN.source));
  const escaped = literals.map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('[\\s\\S]+?')}$`).test(current);
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: parseConfig(text) };
  } catch {
    return { ok: false };
  }
}

function visitStrings(value: unknown, visit: (s: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) for (const item of value) visitStrings(item, visit);
  else if (isPlainObject(value)) {
    for (const [name, child] of Object.entries(value)) {
      visit(name);
      visitStrings(child, visit);
    }
  }
}

/** Best-effort string literals of unparseable JSON5: double- or single-quoted, escapes decoded. */
function quotedLiterals(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'/g)) {
    const body = m[1] ?? m[2] ?? '';
    try {
      out.push(JSON.parse(`"${body.replace(/\\'/g, "'").replace(/(?<!\\)"/g, '\\"')}"`) as string);
    } catch {
      out.push(body);
    }
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function ownValue(obj: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(obj, name) ? obj[name] : undefined;
}
