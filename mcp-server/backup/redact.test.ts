import JSON5 from 'json5';
import { describe, expect, it } from 'vitest';
import { OperationFailed } from '../errors.ts';
import { FAKE_KINDS, fakeOpaqueSecret, fakeToken } from './fake-secrets.fixture.ts';
import { findSecretShapes, placeholderFor, redactConfig, redactText, stripVolatile } from './redact.ts';
import { isSecretKeyName } from './secret-shapes.ts';

const key = Buffer.from('backup-repo-hmac-key-for-tests');
/** `${NAME}`: an environment reference as OpenClaw writes it. */
const ref = (name: string): string => `\${${name}}`;
const PLACEHOLDER = /^\*\*\*REDACTED:[0-9a-f]{8}\*\*\*$/;

/** Redacts `config` (an object, written as JSON5) and returns the redacted object. */
function redacted(config: unknown): Record<string, any> {
  return JSON.parse(redactConfig(JSON5.stringify(config), key).text);
}

describe('placeholderFor', () => {
  it('is a keyed hash: stable for one secret, different for another secret or another key', () => {
    const secret = fakeOpaqueSecret('a');
    expect(placeholderFor(secret, key)).toMatch(PLACEHOLDER);
    expect(placeholderFor(secret, key)).toBe(placeholderFor(secret, key));
    expect(placeholderFor(fakeOpaqueSecret('b'), key)).not.toBe(placeholderFor(secret, key));
    expect(placeholderFor(secret, Buffer.from('other key'))).not.toBe(placeholderFor(secret, key));
    expect(placeholderFor(secret, key)).not.toContain(secret.slice(0, 8));
  });
});

describe('secret-looking key names', () => {
  it.each([
    'token',
    'apiKey',
    'api_key',
    'api-key',
    'APIKEY',
    'botToken',
    'bot_token',
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
    'OPENAI_API_KEY',
    'signingSecret',
    'authToken',
  ])('%s names a secret', (name) => expect(isSecretKeyName(name)).toBe(true));

  it.each([
    'tokenFile',
    'passwordEnv',
    'tokenizer',
    'sessionKey',
    'key',
    'model',
    'accessKeyId',
    'bypass',
    'mode',
  ])('%s does not', (name) => expect(isSecretKeyName(name)).toBe(false));
});

describe('redactConfig', () => {
  it('redacts string values under secret-looking keys at any depth, and only those', () => {
    const secret = fakeOpaqueSecret('deep');
    const out = redacted({
      plugins: { entries: { weather: { config: { nested: { clientSecret: secret, region: 'eu' } } } } },
      agents: { defaults: { model: 'anthropic/claude-sonnet' } },
    });
    expect(out.plugins.entries.weather.config.nested.clientSecret).toBe(placeholderFor(secret, key));
    expect(out.plugins.entries.weather.config.nested.region).toBe('eu');
    expect(out.agents.defaults.model).toBe('anthropic/claude-sonnet');
  });

  it('redacts the known OpenClaw secret paths of SPEC §5', () => {
    const s = (seed: string) => fakeOpaqueSecret(seed);
    const config = {
      channels: {
        telegram: { botToken: s('tg'), dmPolicy: 'pairing' },
        slack: { botToken: s('sb'), appToken: s('sa'), signingSecret: s('ss') },
      },
      gateway: {
        port: 18789,
        auth: { mode: 'token', token: s('gt'), password: s('gp') },
        remote: { url: 'wss://gw.example:18789', token: s('rt'), password: s('rp') },
      },
      models: {
        providers: {
          openai: {
            baseUrl: 'https://api.openai.com/v1',
            apiKey: s('oa'),
            headers: { 'X-Org-Route': s('h1') },
          },
        },
      },
      env: {
        GROQ_API_KEY: s('e1'),
        LANG: 'en_US.UTF-8',
        vars: { MY_SERVICE_TOKEN: s('e2'), DB_PASSWORD: s('e3'), TZ: 'Europe/Paris' },
      },
      skills: { entries: { search: { apiKey: s('sk'), env: { ANY_NAME: s('se') }, enabled: true } } },
      mcp: {
        servers: {
          gh: { url: 'https://mcp.example', headers: { 'X-Custom': s('mh') }, env: { WHATEVER: s('me') } },
        },
      },
      messages: { tts: { elevenlabs: { apiKey: s('tts'), voiceId: 'abc' } } },
      talk: { apiKey: s('talk') },
      cron: { webhookToken: s('cron'), enabled: true },
    };
    const { text, redactedPaths } = redactConfig(JSON5.stringify(config), key);
    const out = JSON.parse(text);

    expect(redactedPaths).toEqual(
      expect.arrayContaining([
        'channels.telegram.botToken',
        'channels.slack.appToken',
        'gateway.auth.token',
        'gateway.auth.password',
        'gateway.remote.token',
        'models.providers.openai.apiKey',
        'models.providers.openai.headers["X-Org-Route"]',
        'env.GROQ_API_KEY',
        'env.vars.MY_SERVICE_TOKEN',
        'env.vars.DB_PASSWORD',
        'skills.entries.search.apiKey',
        'skills.entries.search.env.ANY_NAME',
        'mcp.servers.gh.headers["X-Custom"]',
        'mcp.servers.gh.env.WHATEVER',
        'messages.tts.elevenlabs.apiKey',
        'talk.apiKey',
        'cron.webhookToken',
      ]),
    );
    expect(redactedPaths).toHaveLength(20);
    for (const seed of [
      'tg',
      'sb',
      'sa',
      'ss',
      'gt',
      'gp',
      'rt',
      'rp',
      'oa',
      'h1',
      'e1',
      'e2',
      'e3',
      'sk',
      'se',
      'mh',
      'me',
    ]) {
      expect(text).not.toContain(s(seed));
    }
    // Configuration around the secrets is untouched.
    expect(out.env.LANG).toBe('en_US.UTF-8');
    expect(out.env.vars.TZ).toBe('Europe/Paris');
    expect(out.gateway.remote.url).toBe('wss://gw.example:18789');
    expect(out.gateway.auth.mode).toBe('token');
    expect(out.channels.telegram.dmPolicy).toBe('pairing');
    expect(out.messages.tts.elevenlabs.voiceId).toBe('abc');
  });

  it.each(FAKE_KINDS)('finds a %s inside any other string value and replaces just the token', (kind) => {
    const token = fakeToken(kind, 'inline');
    const out = redacted({ agents: { defaults: { systemPrompt: `Use this: ${token} (do not share)` } } });
    expect(out.agents.defaults.systemPrompt).toBe(`Use this: ${placeholderFor(token, key)} (do not share)`);
  });

  it('keeps environment references, which name a secret but are not one', () => {
    const config = {
      models: {
        providers: {
          openai: { apiKey: ref('OPENAI_API_KEY'), headers: { Authorization: `Bearer ${ref('OR_TOKEN')}` } },
        },
      },
      channels: { telegram: { botToken: ref('TELEGRAM_BOT_TOKEN') } },
      env: { vars: { GH_TOKEN: ref('GITHUB_TOKEN') } },
    };
    const { text, redactedPaths } = redactConfig(JSON5.stringify(config), key);
    expect(JSON.parse(text)).toEqual(config);
    expect(redactedPaths).toEqual([]);
  });

  it('still redacts a literal secret that merely sits next to an environment reference', () => {
    const secret = fakeOpaqueSecret('mixed');
    const out = redacted({ gateway: { auth: { token: `${secret}\${SUFFIX}` } } });
    expect(out.gateway.auth.token).toBe(placeholderFor(`${secret}\${SUFFIX}`, key));
  });

  it('keeps non-string values, SecretRef objects, file paths and empty strings as they are', () => {
    const config = {
      channels: { telegram: { tokenFile: '/run/secrets/tg', botToken: '' } },
      models: {
        providers: { openai: { apiKey: { source: 'env', provider: 'default', id: 'OPENAI_API_KEY' } } },
      },
      agents: { defaults: { maxTokens: 4096, password: 1234, token: true } },
    };
    expect(redacted(config)).toEqual(config);
  });

  it('redacts every string of an array under a secret key', () => {
    const [a, b] = [fakeOpaqueSecret('a1'), fakeOpaqueSecret('a2')];
    const out = redacted({ hooks: { tokens: [ref('X')], allowedTokens: [a, b], paths: [a] } });
    expect(out.hooks.tokens).toEqual([ref('X')]);
    expect(out.hooks.allowedTokens).toEqual([placeholderFor(a, key), placeholderFor(b, key)]);
    expect(out.hooks.paths).toEqual([a]);
  });

  it('redacts a key that is itself a token', () => {
    const token = fakeToken('telegram-bot-token', 'as-key');
    const { text, redactedPaths } = redactConfig(
      JSON.stringify({ channels: { telegram: { accounts: { [token]: { name: 'x' } } } } }),
      key,
    );
    expect(text).not.toContain(token);
    expect(redactedPaths).toEqual([`channels.telegram.accounts["${placeholderFor(token, key)}"]`]);
  });

  it('is idempotent: redacting redacted output changes nothing', () => {
    const config = {
      channels: { telegram: { botToken: fakeToken('telegram-bot-token') } },
      notes: `key ${fakeToken('anthropic-key')} here`,
      gateway: { auth: { token: fakeOpaqueSecret() } },
    };
    const once = redactConfig(JSON5.stringify(config), key);
    const twice = redactConfig(once.text, key);
    expect(twice.text).toBe(once.text);
    expect(twice.redactedPaths).toEqual([]);
  });

  it('shows a rotated secret as a changed placeholder, and an unchanged one as unchanged', () => {
    const before = redacted({
      gateway: { auth: { token: fakeOpaqueSecret('v1') } },
      talk: { apiKey: fakeOpaqueSecret('t') },
    });
    const after = redacted({
      gateway: { auth: { token: fakeOpaqueSecret('v2') } },
      talk: { apiKey: fakeOpaqueSecret('t') },
    });
    expect(after.gateway.auth.token).not.toBe(before.gateway.auth.token);
    expect(after.talk.apiKey).toBe(before.talk.apiKey);
  });

  it('writes stable pretty JSON: 2-space indent, trailing newline, key order kept, JSON5 or JSON alike', () => {
    const json5 = `{
      // OpenClaw accepts comments and unquoted keys
      zeta: 1, alpha: { b: 'x', a: [1, 2,], },
      gateway: { auth: { token: '${fakeOpaqueSecret('o')}' } },
    }`;
    const asJson = JSON.stringify(JSON5.parse(json5));
    const out = redactConfig(json5, key).text;
    expect(out).toBe(redactConfig(asJson, key).text);
    expect(out).toBe(redactConfig(json5, key).text);
    expect(out.endsWith('}\n')).toBe(true);
    expect(out.split('\n')[1]).toBe('  "zeta": 1,');
    expect(Object.keys(JSON.parse(out))).toEqual(['zeta', 'alpha', 'gateway']);
  });

  it('keeps a __proto__ key as plain data', () => {
    const out = redactConfig('{"__proto__": {"token": "abcdefgh12345"}, "a": 1}', key).text;
    const parsed = JSON5.parse(out);
    expect(Object.keys(parsed)).toEqual(['__proto__', 'a']);
    expect(out).not.toContain('abcdefgh12345');
  });

  it('reports an unparseable config by position only, never quoting its text', () => {
    const secret = fakeOpaqueSecret('broken');
    const broken = `{ gateway: { auth: { token: ${secret} } } }`;
    expect(() => redactConfig(broken, key)).toThrow(OperationFailed);
    expect(() => redactConfig(broken, key)).toThrow(/line 1, column \d+/);
    try {
      redactConfig(broken, key);
    } catch (err) {
      expect((err as Error).message).not.toContain(secret.slice(0, 4));
    }
  });
});

describe('redactText', () => {
  it.each(FAKE_KINDS)('replaces a %s in markdown and counts it', (kind) => {
    const token = fakeToken(kind, 'md');
    const text = `# Notes\n\nThe key is \`${token}\`.\nAgain: ${token}\n`;
    const out = redactText(text, key);
    expect(out.count).toBe(2);
    expect(out.text).not.toContain(token);
    expect(out.text).toBe(
      `# Notes\n\nThe key is \`${placeholderFor(token, key)}\`.\nAgain: ${placeholderFor(token, key)}\n`,
    );
  });

  it('replaces only the secret part of labelled AWS secret keys and bearer headers', () => {
    const aws = `${fakeOpaqueSecret('aws').replace(/[^A-Za-z0-9]/g, 'x')}abcdefghijkl`.slice(0, 40);
    const bearer = fakeOpaqueSecret('bearer').replace(/[^A-Za-z0-9]/g, 'y');
    const text = `aws_secret_access_key = ${aws}\ncurl -H "Authorization: Bearer ${bearer}" …`;
    const out = redactText(text, key);
    expect(out.text).toBe(
      `aws_secret_access_key = ${placeholderFor(aws, key)}\ncurl -H "Authorization: Bearer ${placeholderFor(bearer, key)}" …`,
    );
  });

  it('redacts a telegram token inside a Bot API URL, and a private key block even without its END line', () => {
    const tg = fakeToken('telegram-bot-token', 'url');
    const url = `https://api.telegram.org/bot${tg}/getMe`;
    expect(redactText(url, key).text).toBe(`https://api.telegram.org/bot${placeholderFor(tg, key)}/getMe`);
    const truncated = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ';
    expect(redactText(`before\n${truncated}`, key).text).toBe(`before\n${placeholderFor(truncated, key)}`);
  });

  it('leaves ordinary prose, environment references and placeholders alone', () => {
    const text = `Ask the task-scheduler-for-the-weekly-report. Use \${OPENAI_API_KEY}. ${placeholderFor('x', key)}\n`;
    expect(redactText(text, key)).toEqual({ text, count: 0 });
  });
});

describe('findSecretShapes', () => {
  it('reports kind and line of every survivor, never the secret', () => {
    const tg = fakeToken('telegram-bot-token');
    const gh = fakeToken('github-token');
    const findings = findSecretShapes(`line one\ntoken ${tg}\n\n  "x": "${gh}"\n`);
    expect(findings).toEqual([
      { kind: 'telegram-bot-token', line: 2 },
      { kind: 'github-token', line: 4 },
    ]);
    expect(JSON.stringify(findings)).not.toContain(tg.slice(12));
  });

  it('finds nothing in redacted output', () => {
    const text = FAKE_KINDS.map((k) => fakeToken(k, 'scan')).join('\n');
    expect(findSecretShapes(text)).toHaveLength(FAKE_KINDS.length);
    expect(findSecretShapes(redactText(text, key).text)).toEqual([]);
  });
});

describe('stripVolatile', () => {
  it('drops touch stamps and wizard run records so only real changes count', () => {
    const base = { gateway: { port: 18789 }, agents: { defaults: { model: 'a/b' } } };
    const a = { meta: { lastTouchedVersion: '2026.9.5', lastTouchedAt: '2026-01-01T00:00:00Z' }, ...base };
    const b = {
      ...base,
      meta: { lastTouchedVersion: '2026.9.6', lastTouchedAt: '2026-02-01T00:00:00Z', migratedTimestamp: 5 },
      wizard: { lastRunAt: '2026-02-01', lastRunVersion: '2026.9.6', lastRunCommand: 'onboard' },
    };
    expect(stripVolatile(JSON.stringify(a))).toBe(stripVolatile(JSON.stringify(b)));
  });

  it('keeps real changes significant, including outside meta', () => {
    const a = { meta: { lastTouchedAt: '1' }, agents: { defaults: { model: 'a/b', updatedAt: 1 } } };
    const b = { meta: { lastTouchedAt: '2' }, agents: { defaults: { model: 'a/b', updatedAt: 2 } } };
    const c = { meta: { lastTouchedAt: '2' }, agents: { defaults: { model: 'a/c', updatedAt: 1 } } };
    expect(stripVolatile(JSON.stringify(a))).not.toBe(stripVolatile(JSON.stringify(b)));
    expect(stripVolatile(JSON.stringify(a))).not.toBe(stripVolatile(JSON.stringify(c)));
  });

  it('ignores key order', () => {
    expect(stripVolatile('{"a":1,"b":{"d":2,"c":3}}')).toBe(stripVolatile('{b: {c: 3, d: 2}, a: 1}'));
  });
});
