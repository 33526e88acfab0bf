// What a secret looks like: well-known token shapes (found anywhere in any text) and secret-looking
// key names (in openclaw.json). Redaction and the final pre-commit scan both read from here, so a
// shape added once is both removed and checked for.

export interface SecretShape {
  /** Stable name shown to the operator instead of the secret ("telegram-bot-token"). */
  readonly kind: string;
  /**
   * Global regex. When it has a named group `secret`, only that group is the secret (the rest is
   * context such as `aws_secret_access_key =`); otherwise the whole match is.
   */
  readonly pattern: RegExp;
}

// Characters of base64url-ish tokens.
const T = 'A-Za-z0-9_\\-';

/**
 * Ordered most specific first: when matches overlap (an Anthropic key is also `sk-…`), the merged
 * span is named after the first. Distinctive prefixes (`sk-ant-`, `ghp_`, `AIza`, `AKIA`…) match anywhere, even glued to
 * the text before them; lengths err on the short side. A false positive costs a placeholder in a
 * backup, a false negative leaks a credential into git history forever.
 */
export const SECRET_SHAPES: readonly SecretShape[] = [
  {
    kind: 'private-key',
    // An unterminated block (a truncated paste) is still a private key: take everything after BEGIN.
    pattern:
      /-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|[\s\S]*$)/g,
  },
  { kind: 'anthropic-key', pattern: new RegExp(`sk-ant-[${T}]{20,}`, 'g') },
  // sk-…, sk-proj-…, sk-svcacct-… (OpenAI and OpenAI-compatible providers). `sk-` alone is common
  // inside words ("task-…"), so this one must start a word.
  { kind: 'openai-key', pattern: new RegExp(`(?<![A-Za-z0-9])sk-[${T}]{20,}`, 'g') },
  // `<bot id>:<35 chars>`; letters may precede it (`api.telegram.org/bot<token>/getMe`).
  { kind: 'telegram-bot-token', pattern: new RegExp(`(?<!\\d)\\d{6,}:[${T}]{35,}`, 'g') },
  { kind: 'github-token', pattern: /(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g },
  { kind: 'google-api-key', pattern: new RegExp(`AIza[${T}]{30,}`, 'g') },
  { kind: 'slack-token', pattern: /(?:xox[abeoprs]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})/g },
  { kind: 'aws-access-key-id', pattern: /(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}/g },
  {
    // A secret access key is 40 base64-ish characters and only recognisable by its label.
    kind: 'aws-secret-access-key',
    pattern: /aws[_-]?secret[_-]?(?:access[_-]?)?key["']?\s*[:=]\s*["']?(?<secret>[A-Za-z0-9/+=]{40,})/gi,
  },
  // `Authorization: Bearer …` pasted into notes, curl examples and the like.
  { kind: 'bearer-token', pattern: /\bBearer\s+(?<secret>[A-Za-z0-9._~+/-]{20,}=*)/g },
];

/**
 * A placeholder written by redaction; never itself secret-shaped. Global, so build a fresh RegExp
 * from its `source` rather than sharing its `lastIndex`.
 */
export const PLACEHOLDER_PATTERN = /\*\*\*REDACTED:[0-9a-f]{8}\*\*\*/g;

export interface ShapeMatch {
  kind: string;
  /** Offsets of the secret itself (the `secret` group when the shape has one). */
  start: number;
  end: number;
}

/**
 * Every secret-shaped span in `text`, in order. Overlapping matches are merged into one span (named
 * after the first shape in list order), so no shape can leave a piece of another's secret behind.
 */
export function matchSecretShapes(text: string): ShapeMatch[] {
  const spans: (ShapeMatch & { rank: number })[] = [];
  SECRET_SHAPES.forEach((shape, rank) => {
    const re = new RegExp(shape.pattern.source, `${shape.pattern.flags.replace('d', '')}d`);
    for (const m of text.matchAll(re)) {
      const span = m.indices?.groups?.secret ?? m.indices?.[0];
      if (span && span[1] > span[0]) spans.push({ kind: shape.kind, start: span[0], end: span[1], rank });
    }
  });
  spans.sort((a, b) => a.start - b.start || a.rank - b.rank);

  const merged: (ShapeMatch & { rank: number })[] = [];
  for (const span of spans) {
    const last = merged.at(-1);
    if (last && span.start < last.end) {
      last.end = Math.max(last.end, span.end);
      if (span.rank < last.rank) Object.assign(last, { kind: span.kind, rank: span.rank });
    } else {
      merged.push({ ...span });
    }
  }
  return merged.map(({ kind, start, end }) => ({ kind, start, end }));
}

// --- secret-looking key names -------------------------------------------------------------------

/** Words that on their own make a key secret: `botToken`, `gateway.auth.password`, `cookie`. */
const SECRET_WORDS = new Set([
  'token',
  'tokens',
  'secret',
  'secrets',
  'password',
  'passwords',
  'passwd',
  'pass',
  'pwd',
  'passphrase',
  'apikey',
  'apikeys',
  'authorization',
  'cookie',
  'cookies',
  'credential',
  'credentials',
  'privatekey',
  'accesskey',
  'secretkey',
  'bottoken',
  'apptoken',
  'webhooksecret',
  'clientsecret',
]);

/** `<first> key` pairs that name a secret: api key, private key, access key, signing key… */
const SECRET_KEY_QUALIFIERS = new Set([
  'api',
  'private',
  'access',
  'secret',
  'signing',
  'encryption',
  'master',
  'client',
]);

/**
 * A trailing word that says the value points at or describes a secret rather than being one:
 * `tokenFile` is a path, `passwordEnv` a variable name, `maxTokens` a number.
 */
const NOT_THE_SECRET_ITSELF = new Set([
  'file',
  'path',
  'dir',
  'env',
  'var',
  'name',
  'id',
  'ref',
  'source',
  'url',
  'uri',
  'mode',
  'type',
  'kind',
  'provider',
  'count',
  'limit',
  'max',
  'min',
  'length',
  'ttl',
  'at',
  'timestamp',
  'expiry',
  'expires',
  'enabled',
  'required',
  'hint',
  'label',
]);

/** Splits camelCase, PascalCase, snake_case, kebab-case and SCREAMING_CASE into lowercase words. */
export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());
}

/** Does a config key name a secret value (`apiKey`, `bot_token`, `X-Api-Key`, `OPENAI_API_KEY`)? */
export function isSecretKeyName(key: string): boolean {
  const words = keyWords(key);
  const last = words.at(-1);
  if (last === undefined || NOT_THE_SECRET_ITSELF.has(last)) return false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (SECRET_WORDS.has(word)) return true;
    if (word === 'key' && i > 0 && SECRET_KEY_QUALIFIERS.has(words[i - 1] as string)) return true;
  }
  return false;
}

/** Environment variable names OpenClaw passes to providers and skills: contain KEY, TOKEN… */
export function isSecretEnvName(name: string): boolean {
  return /KEY|TOKEN|SECRET|PASS|AUTH|CREDENTIAL|PRIVATE|COOKIE/i.test(name);
}
