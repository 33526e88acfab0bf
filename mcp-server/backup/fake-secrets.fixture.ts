// Test-only: fake credentials of every well-known shape, generated rather than pasted so that no
// token-shaped literal sits in the source (secret scanners, and our own final scan, stay quiet).

import fc from 'fast-check';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const B64URL = `${ALNUM}-_`;
const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const DIGITS = '0123456789';
const B64 = `${ALNUM}+/`;

/** Deterministic characters from `seed`, so each call site gets its own stable fake. */
function chars(alphabet: string, length: number, seed: string): string {
  let h = 2166136261;
  for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  let out = '';
  for (let i = 0; i < length; i++) {
    h = Math.imul(h ^ (h >>> 15), 2246822507) ^ Math.imul(h ^ (h >>> 13), 3266489909) ^ i;
    out += alphabet[(h >>> 0) % alphabet.length];
  }
  return out;
}

function pemBody(seed: string): string {
  return [0, 1, 2].map((i) => chars(B64, 64, `${seed}${i}`)).join('\n');
}

const BUILDERS = {
  'anthropic-key': (s: string) => `sk-ant-api03-${chars(B64URL, 93, s)}AA`,
  'openai-key': (s: string) => `sk-proj-${chars(B64URL, 48, s)}`,
  'telegram-bot-token': (s: string) =>
    `${chars('123456789', 1, s)}${chars(DIGITS, 8, s)}:AA${chars(B64URL, 33, s)}`,
  'github-token': (s: string) => `ghp_${chars(ALNUM, 36, s)}`,
  'google-api-key': (s: string) => `AIza${chars(B64URL, 35, s)}`,
  'slack-token': (s: string) => `xoxb-${chars(DIGITS, 12, s)}-${chars(DIGITS, 13, s)}-${chars(ALNUM, 24, s)}`,
  'aws-access-key-id': (s: string) => `AKIA${chars(UPPER_DIGITS, 16, s)}`,
  'private-key': (s: string) =>
    `-----BEGIN RSA PRIVATE KEY-----\n${pemBody(s)}\n-----END RSA PRIVATE KEY-----`,
} as const;

export type FakeKind = keyof typeof BUILDERS;
export const FAKE_KINDS = Object.keys(BUILDERS) as FakeKind[];

/** A fake credential of the given shape; the same seed gives the same value. */
export function fakeToken(kind: FakeKind, seed = 'default'): string {
  return BUILDERS[kind](`${kind}:${seed}`);
}

/** A fake non-shaped secret (a password, an opaque API key): high entropy, no known prefix. */
export function fakeOpaqueSecret(seed = 'default'): string {
  return `${chars(ALNUM, 20, `opaque:${seed}`)}!${chars(ALNUM, 8, `opaque2:${seed}`)}`;
}

function stringOf(alphabet: string, minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });
}

/** Random token-shaped strings of every known kind, real lengths included. */
export const tokenShaped: fc.Arbitrary<string> = fc.oneof(
  stringOf(B64URL, 20, 100).map((s) => `sk-ant-api03-${s}`),
  fc
    .tuple(fc.constantFrom('sk-', 'sk-proj-', 'sk-svcacct-'), stringOf(B64URL, 20, 120))
    .map(([prefix, s]) => prefix + s),
  fc
    .tuple(stringOf(DIGITS, 7, 9), fc.constantFrom(...'123456789'), stringOf(B64URL, 35, 35))
    .map(([id, first, s]) => `${first}${id}:${s}`),
  fc
    .tuple(fc.constantFrom('ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'), stringOf(ALNUM, 36, 36))
    .map(([prefix, s]) => prefix + s),
  stringOf(`${ALNUM}_`, 82, 82).map((s) => `github_pat_${s}`),
  stringOf(B64URL, 35, 35).map((s) => `AIza${s}`),
  fc
    .tuple(
      fc.constantFrom('xoxb-', 'xoxp-', 'xoxa-', 'xoxr-', 'xoxs-', 'xapp-1-'),
      stringOf(`${ALNUM}-`, 10, 60),
    )
    .map(([prefix, s]) => prefix + s),
  fc.tuple(fc.constantFrom('AKIA', 'ASIA'), stringOf(UPPER_DIGITS, 16, 16)).map(([p, s]) => p + s),
  fc
    .tuple(
      fc.constantFrom('RSA ', 'EC ', 'OPENSSH ', ''),
      fc.array(stringOf(B64, 1, 64), { minLength: 1, maxLength: 5 }),
    )
    .map(
      ([type, lines]) =>
        `-----BEGIN ${type}PRIVATE KEY-----\n${lines.join('\n')}\n-----END ${type}PRIVATE KEY-----`,
    ),
);

/**
 * Random secrets with no recognisable shape (passwords, opaque keys). Long enough, and mixed
 * enough, that finding one in the output can only mean it leaked.
 */
export const highEntropy: fc.Arbitrary<string> = fc
  .tuple(stringOf(`${ALNUM}!#%&*+,.;<>?@^_|~`, 16, 64), fc.constantFrom(...DIGITS), fc.constantFrom(...ALNUM))
  .map(([body, digit, letter]) => `${letter}${body}${digit}`)
  .filter((s) => !/^\$\{/.test(s) && new Set(s).size >= 6);

// --- where redaction promises to look (SPEC §5), for property tests that plant secrets -----------

/** Plain key names that never look secret, for the folders around a planted secret. */
export const plainName = fc.constantFrom(
  'agents',
  'defaults',
  'list',
  'main',
  'plugins',
  'entries',
  'weather',
  'config',
  'ui',
  'x1',
);

const secretKeyName = fc.constantFrom(
  'token',
  'apiKey',
  'api_key',
  'botToken',
  'appToken',
  'webhookSecret',
  'password',
  'passwd',
  'authorization',
  'Authorization',
  'privateKey',
  'private_key',
  'cookie',
  'clientSecret',
  'accessKey',
  'secretAccessKey',
  'X-Api-Key',
  'signing-secret',
  'SMTP_PASSWORD',
);

const envName = fc
  .tuple(
    fc.constantFrom('OPENAI', 'MY', 'GH', 'DB', ''),
    fc.constantFrom('API_KEY', 'TOKEN', 'SECRET', 'PASSWORD', 'key'),
  )
  .map(([a, b]) => (a ? `${a}_${b}` : b));
const anyName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,15}$/);
const id = fc.constantFrom('openai', 'anthropic', 'gh', 'search', 'telegram', 'slack', 'default');

/** Where redaction promises to look, SPEC §5: secret-looking keys anywhere and the known paths. */
export const secretPath: fc.Arbitrary<string[]> = fc.oneof(
  fc.tuple(fc.array(plainName, { maxLength: 4 }), secretKeyName).map(([dir, name]) => [...dir, name]),
  id.map((c) => ['channels', c, 'botToken']),
  fc.constantFrom('token', 'password').map((k) => ['gateway', 'auth', k]),
  fc.constantFrom('token', 'password').map((k) => ['gateway', 'remote', k]),
  id.map((p) => ['models', 'providers', p, 'apiKey']),
  fc.tuple(id, anyName).map(([p, h]) => ['models', 'providers', p, 'headers', h]),
  envName.map((n) => ['env', 'vars', n]),
  envName.map((n) => ['env', n]),
  fc.tuple(id, anyName).map(([s, n]) => ['skills', 'entries', s, 'env', n]),
  id.map((s) => ['skills', 'entries', s, 'apiKey']),
  fc
    .tuple(id, anyName, fc.constantFrom('headers', 'env'))
    .map(([s, n, where]) => ['mcp', 'servers', s, where, n]),
  fc.constant<string[]>(['talk', 'apiKey']),
  fc.constant<string[]>(['cron', 'webhookToken']),
);
