import JSON5 from 'json5';
import { describe, expect, it } from 'vitest';
import { OperationFailed } from '../errors.ts';
import { fakeOpaqueSecret, fakeToken } from './fake-secrets.fixture.ts';
import { collectSecrets, restoreConfigSecrets, restoreTextSecrets } from './merge-secrets.ts';
import { placeholderFor, redactConfig, redactText } from './redact.ts';

const key = Buffer.from('backup-repo-hmac-key-for-tests');
/** `${NAME}`: an environment reference as OpenClaw writes it. */
const ref = (name: string): string => `\${${name}}`;

function nodeConfig(overrides: { botToken?: string; gatewayToken?: string; openaiKey?: string } = {}) {
  return {
    meta: { lastTouchedVersion: '2026.9.6' },
    channels: {
      telegram: {
        botToken: overrides.botToken ?? fakeToken('telegram-bot-token', 'tg'),
        dmPolicy: 'pairing',
      },
    },
    gateway: {
      port: 18789,
      auth: { mode: 'token', token: overrides.gatewayToken ?? fakeOpaqueSecret('gw') },
    },
    models: {
      providers: {
        openai: {
          apiKey: overrides.openaiKey ?? fakeToken('openai-key', 'oa'),
          headers: { 'X-Team': fakeOpaqueSecret('team') },
        },
        local: { apiKey: ref('LOCAL_KEY'), baseUrl: 'http://127.0.0.1:11434' },
      },
    },
    env: { vars: { GROQ_API_KEY: fakeOpaqueSecret('groq'), TZ: 'UTC' } },
    agents: {
      defaults: {
        model: 'openai/gpt-5',
        systemPrompt: `Post status with https://api.telegram.org/bot${fakeToken('telegram-bot-token', 'tg')}/sendMessage`,
      },
    },
    tools: { list: ['a', { name: 'b', authToken: fakeOpaqueSecret('tool') }] },
  };
}

describe('restoreConfigSecrets', () => {
  it('round-trips: redact, then merge with the same raw config, gives back the original', () => {
    const raw = JSON5.stringify(nodeConfig(), null, 2);
    const redacted = redactConfig(raw, key).text;
    expect(redacted).not.toContain(fakeOpaqueSecret('gw'));
    const restored = restoreConfigSecrets(redacted, raw, key);
    expect(JSON.parse(restored)).toEqual(nodeConfig());
    expect(restored.endsWith('}\n')).toBe(true);
  });

  it('keeps a secret rotated since the backup: the node’s current value wins', () => {
    const old = nodeConfig({
      gatewayToken: fakeOpaqueSecret('gw-old'),
      botToken: fakeToken('telegram-bot-token', 'old'),
    });
    const redactedOld = redactConfig(JSON.stringify(old), key).text;
    const current = nodeConfig({
      gatewayToken: fakeOpaqueSecret('gw-new'),
      botToken: fakeToken('telegram-bot-token', 'new'),
    });
    const restored = JSON.parse(restoreConfigSecrets(redactedOld, JSON.stringify(current), key));
    expect(restored.gateway.auth.token).toBe(fakeOpaqueSecret('gw-new'));
    expect(restored.channels.telegram.botToken).toBe(fakeToken('telegram-bot-token', 'new'));
  });

  it('restores the backed-up non-secret settings, not the current ones', () => {
    const backedUp = { ...nodeConfig(), agents: { defaults: { model: 'openai/gpt-4' } } };
    const redactedOld = redactConfig(JSON.stringify(backedUp), key).text;
    const restored = JSON.parse(restoreConfigSecrets(redactedOld, JSON.stringify(nodeConfig()), key));
    expect(restored.agents.defaults.model).toBe('openai/gpt-4');
  });

  it('finds a secret that moved to another path by its keyed hash', () => {
    const secret = fakeToken('anthropic-key', 'moved');
    const backedUp = { models: { providers: { anthropic: { apiKey: secret } } } };
    const current = { models: { providers: { claude: { apiKey: secret } } } };
    const restored = JSON.parse(
      restoreConfigSecrets(redactConfig(JSON.stringify(backedUp), key).text, JSON.stringify(current), key),
    );
    expect(restored.models.providers.anthropic.apiKey).toBe(secret);
  });

  it('puts a token found inside a longer string back, from the current string or by hash', () => {
    const tg = fakeToken('telegram-bot-token', 'inline');
    const backedUp = { agents: { defaults: { systemPrompt: `old prompt, bot ${tg}` } } };
    const redacted = redactConfig(JSON.stringify(backedUp), key).text;
    // The prompt text changed on the node since: the old text comes back with the secret by hash.
    const current = { agents: { defaults: { systemPrompt: `new prompt, bot ${tg}` } } };
    expect(JSON.parse(restoreConfigSecrets(redacted, JSON.stringify(current), key))).toEqual(backedUp);
  });

  it('refuses when the node no longer has a secret, naming every path and no secret', () => {
    const backedUp = nodeConfig();
    const redacted = redactConfig(JSON.stringify(backedUp), key).text;
    const current: any = nodeConfig({ gatewayToken: fakeOpaqueSecret('gw-new') });
    delete current.gateway.auth.token;
    delete current.env.vars.GROQ_API_KEY;
    const act = () => restoreConfigSecrets(redacted, JSON.stringify(current), key);
    expect(act).toThrow(OperationFailed);
    let message = '';
    try {
      act();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('gateway.auth.token');
    expect(message).toContain('env.vars.GROQ_API_KEY');
    expect(message).not.toContain('channels.telegram.botToken');
    for (const secret of [fakeOpaqueSecret('gw'), fakeOpaqueSecret('gw-new'), fakeOpaqueSecret('groq')]) {
      expect(message).not.toContain(secret);
    }
    expect(message).not.toMatch(/REDACTED/);
  });

  it('still restores from a node whose current config no longer parses', () => {
    const raw = JSON.stringify(nodeConfig(), null, 2);
    const redacted = redactConfig(raw, key).text;
    const broken = `${raw.slice(0, -3)} ,,, <<garbage`;
    expect(JSON.parse(restoreConfigSecrets(redacted, broken, key))).toEqual(nodeConfig());
  });

  it('never writes a placeholder: a placeholder in the current config does not count as a value', () => {
    const redacted = redactConfig(
      JSON.stringify({ gateway: { auth: { token: fakeOpaqueSecret('x') } } }),
      key,
    ).text;
    expect(() => restoreConfigSecrets(redacted, redacted, key)).toThrow(/gateway\.auth\.token/);
  });

  it('refuses a backed-up config that does not parse, without quoting it', () => {
    expect(() => restoreConfigSecrets('{ nope: ', '{}', key)).toThrow(
      /backed-up openclaw.json is not valid JSON5/,
    );
  });
});

describe('restoreTextSecrets', () => {
  it('puts back each secret of the matching keyed hash', () => {
    const [gh, tg] = [fakeToken('github-token', 'md'), fakeToken('telegram-bot-token', 'md')];
    const original = `# Tools\n\nGitHub: ${gh}\nTelegram: ${tg}\nGitHub again: ${gh}\n`;
    const redacted = redactText(original, key).text;
    expect(restoreTextSecrets(redacted, [tg, 'unrelated', gh], key, 'workspace/TOOLS.md')).toBe(original);
  });

  it('returns text without placeholders unchanged', () => {
    expect(restoreTextSecrets('plain\n', [], key)).toBe('plain\n');
  });

  it('refuses a placeholder whose secret is unknown, naming the file and not the secret', () => {
    const gone = fakeToken('slack-token', 'gone');
    const redacted = redactText(`slack ${gone}`, key).text;
    const act = () =>
      restoreTextSecrets(redacted, [fakeToken('slack-token', 'other')], key, 'workspace/MEMORY.md');
    expect(act).toThrow(OperationFailed);
    expect(act).toThrow(/workspace\/MEMORY\.md/);
    expect(act).toThrow(new RegExp(placeholderFor(gone, key).replace(/\*/g, '\\*')));
  });
});

describe('collectSecrets', () => {
  it('gathers config strings and token-shaped spans of config and files', () => {
    const inMemory = fakeToken('google-api-key', 'memory');
    const inPrompt = fakeToken('telegram-bot-token', 'tg');
    const secrets = collectSecrets(JSON.stringify(nodeConfig()), [`remember ${inMemory} please`]);
    expect(secrets).toContain(fakeOpaqueSecret('gw'));
    expect(secrets).toContain(inPrompt);
    expect(secrets).toContain(inMemory);
    expect(secrets).not.toContain(`remember ${inMemory} please`);
  });

  it('collects quoted strings from a config that does not parse', () => {
    const secrets = collectSecrets(`{ gateway: { auth: { token: "${fakeOpaqueSecret('q')}" } ,,, `, []);
    expect(secrets).toContain(fakeOpaqueSecret('q'));
  });
});
