// Takes secrets out of what a node sends before anything reaches OCM's disk or git: openclaw.json
// by key name, known OpenClaw secret paths and token shapes; any other text by token shapes.
// Each secret becomes a keyed-hash placeholder, so a rotated secret shows up as a change in git
// without the value ever being written.

import { createHmac } from 'node:crypto';
import JSON5 from 'json5';
import { OperationFailed } from '../errors.ts';
import { isSecretEnvName, isSecretKeyName, matchSecretShapes, PLACEHOLDER_PATTERN } from './secret-shapes.ts';

/** One step into openclaw.json: an object key or an array index. */
export type ConfigPath = readonly (string | number)[];

/** `***REDACTED:<first 8 hex of HMAC-SHA256(key, secret)>***`; the key keeps guesses offline-proof. */
export function placeholderFor(secret: string, key: Buffer): string {
  const digest = createHmac('sha256', key).update(secret, 'utf8').digest('hex');
  return `***REDACTED:${digest.slice(0, 8)}***`;
}

export function isPlaceholder(value: string): boolean {
  return new RegExp(`^${PLACEHOLDER_PATTERN.source}$`).test(value);
}

export function containsPlaceholder(value: string): boolean {
  return new RegExp(PLACEHOLDER_PATTERN.source).test(value);
}

const ENV_REFERENCE = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/g;

/**
 * `${OPENAI_API_KEY}` names a secret that lives elsewhere; it is configuration, not a secret.
 * A thin wrapper such as `Bearer ${TOKEN}` counts too: once the references are removed, no run
 * of token characters long enough to be a credential may remain.
 */
export function isEnvReference(value: string): boolean {
  if (!new RegExp(ENV_REFERENCE.source).test(value)) return false;
  const literal = value.replace(ENV_REFERENCE, ' ');
  return !/[A-Za-z0-9+/=_-]{8,}/.test(literal);
}

/** `models.providers.openai.headers["X-Api-Key"]`, `mcp.servers.gh.args[2]`. */
export function formatConfigPath(path: ConfigPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * Parses openclaw.json (JSON5). The error names only the position: the parser's own message
 * quotes the offending character, which may belong to a secret.
 */
export function parseConfig(rawText: string, what = 'openclaw.json'): unknown {
  try {
    return JSON5.parse(rawText);
  } catch (err) {
    const e = err as { lineNumber?: number; columnNumber?: number };
    const where = e.lineNumber === undefined ? '' : ` at line ${e.lineNumber}, column ${e.columnNumber}`;
    throw new OperationFailed(`${what} is not valid JSON5${where}`);
  }
}

/** Stable pretty JSON, as OpenClaw itself writes the file: 2-space indent, trailing newline. */
export function formatConfig(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

// --- which config values are secrets ----------------------------------------------------------

/**
 * SPEC §5's known OpenClaw secret paths (`*` = any one key). Most of these are also caught by
 * their key name; listing them keeps the spec's promise even where a name would not, e.g. every
 * provider or MCP header value and every skill or MCP server env value, whatever it is called.
 */
const KNOWN_SECRET_PATHS: readonly (readonly string[])[] = [
  ['channels', '*', 'botToken'],
  ['channels', '*', 'accounts', '*', 'botToken'],
  ['gateway', 'auth', 'token'],
  ['gateway', 'auth', 'password'],
  ['gateway', 'remote', 'token'],
  ['gateway', 'remote', 'password'],
  ['models', 'providers', '*', 'apiKey'],
  ['models', 'providers', '*', 'headers', '*'],
  ['skills', 'entries', '*', 'apiKey'],
  ['skills', 'entries', '*', 'env', '*'],
  ['mcp', 'servers', '*', 'headers', '*'],
  ['mcp', 'servers', '*', 'env', '*'],
  ['messages', 'tts', '*', 'apiKey'],
  ['tts', 'providers', '*', 'apiKey'],
  ['talk', 'apiKey'],
  ['talk', 'providers', '*', 'apiKey'],
  ['cron', 'webhookToken'],
  ['hooks', 'token'],
];

function matchesPattern(path: ConfigPath, pattern: readonly string[]): boolean {
  return path.length === pattern.length && pattern.every((p, i) => p === '*' || p === path[i]);
}

/** Is the string at `path` a secret as a whole (as opposed to text that may contain one)? */
export function isSecretPath(path: ConfigPath): boolean {
  // Strings directly inside an array take the array's key: `tokens: ["…", "…"]`.
  let named = path.length - 1;
  while (named >= 0 && typeof path[named] === 'number') named--;
  const name = path[named];
  if (typeof name === 'string' && isSecretKeyName(name)) return true;

  if (KNOWN_SECRET_PATHS.some((pattern) => matchesPattern(path, pattern))) return true;

  // `env.<NAME>` and `env.vars.<NAME>`: plain variables OpenClaw exports to the assistant.
  const [first, second, third] = path;
  if (first === 'env' && path.length === 2 && typeof second === 'string') return isSecretEnvName(second);
  if (first === 'env' && second === 'vars' && path.length === 3 && typeof third === 'string') {
    return isSecretEnvName(third);
  }
  return false;
}

// --- redaction ---------------------------------------------------------------------------------

export interface RedactedText {
  text: string;
  /** How many secrets were replaced. */
  count: number;
}

/** Replaces every well-known token shape in any text (workspace markdown, skills, cron export). */
export function redactText(text: string, key: Buffer): RedactedText {
  const matches = matchSecretShapes(text);
  if (matches.length === 0) return { text, count: 0 };
  let out = '';
  let from = 0;
  for (const m of matches) {
    out += text.slice(from, m.start) + placeholderFor(text.slice(m.start, m.end), key);
    from = m.end;
  }
  return { text: out + text.slice(from), count: matches.length };
}

export interface RedactedConfig {
  /** Pretty JSON with every secret replaced; key order preserved. */
  text: string;
  /** Where secrets were found (formatted config paths, never values). */
  redactedPaths: string[];
}

/** Redacts openclaw.json (JSON5 in, pretty JSON out). Idempotent: redacting the output is a no-op. */
export function redactConfig(rawText: string, key: Buffer): RedactedConfig {
  const redactedPaths: string[] = [];

  const redactString = (value: string, path: ConfigPath): string => {
    if (isSecretPath(path) && value.trim() !== '' && !isPlaceholder(value) && !isEnvReference(value)) {
      redactedPaths.push(formatConfigPath(path));
      return placeholderFor(value, key);
    }
    const shaped = redactText(value, key);
    if (shaped.count > 0) redactedPaths.push(formatConfigPath(path));
    return shaped.text;
  };

  const walk = (value: unknown, path: ConfigPath): unknown => {
    if (typeof value === 'string') return redactString(value, path);
    if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, i]));
    if (value !== null && typeof value === 'object') {
      // Object.fromEntries defines own properties, so even a `__proto__` key stays plain data.
      return Object.fromEntries(
        Object.entries(value).map(([name, child]) => {
          // A key that is itself a token (an account keyed by its bot token) is redacted like text.
          const redactedName = redactText(name, key);
          const childPath = [...path, redactedName.text];
          if (redactedName.count > 0) redactedPaths.push(formatConfigPath(childPath));
          return [redactedName.text, walk(child, childPath)];
        }),
      );
    }
    return value;
  };

  const redacted = walk(parseConfig(rawText), []);
  return { text: formatConfig(redacted), redactedPaths };
}

// --- the final scan ----------------------------------------------------------------------------

export interface SecretFinding {
  kind: string;
  /** 1-based line of the finding; the secret itself is never returned. */
  line: number;
}

/** Last line of defence before a commit: anything secret-shaped that survived redaction. */
export function findSecretShapes(text: string): SecretFinding[] {
  return matchSecretShapes(text).map((m) => ({ kind: m.kind, line: lineAt(text, m.start) }));
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

// --- significance ------------------------------------------------------------------------------

/** Fields OpenClaw rewrites on every touch or wizard run without the configuration changing. */
const VOLATILE_IN_META = /(?:At|Timestamp)$|^lastTouchedVersion$/;
const VOLATILE_IN_WIZARD = /(?:At|Timestamp)$|^lastRun/;

/**
 * The config minus volatile fields, keys sorted, for deciding whether a backup is worth a commit.
 * Sorting makes a mere reordering (OpenClaw rewriting JSON5 as JSON) insignificant too. Never stored.
 */
export function stripVolatile(configJsonText: string): string {
  const config = parseConfig(configJsonText);
  const strip = (value: unknown, volatile: RegExp | null): unknown => {
    if (Array.isArray(value)) return value.map((item) => strip(item, volatile));
    if (value === null || typeof value !== 'object') return value;
    const kept = Object.entries(value)
      .filter(([name]) => volatile === null || !volatile.test(name))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(kept.map(([name, child]) => [name, strip(child, volatile)]));
  };
  if (config === null || typeof config !== 'object' || Array.isArray(config)) return formatConfig(config);
  const top = Object.entries(config)
    .map(([name, child]): [string, unknown] => {
      if (name === 'meta') return [name, strip(child, VOLATILE_IN_META)];
      if (name === 'wizard') return [name, strip(child, VOLATILE_IN_WIZARD)];
      return [name, strip(child, null)];
    })
    // A `meta` or `wizard` holding nothing but stamps appears on the first touch: not a change.
    .filter(([name, child]) => !((name === 'meta' || name === 'wizard') && isEmptyObject(child)));
  return formatConfig(strip(Object.fromEntries(top), null));
}

function isEmptyObject(value: unknown): boolean {
  return (
    value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0
  );
}
