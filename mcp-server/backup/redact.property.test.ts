// Property: whatever secrets are planted wherever redaction promises to look, none survives, the
// final scan finds nothing, and merging with the node's raw config gives the original back.

import fc from 'fast-check';
import JSON5 from 'json5';
import { describe, expect, it } from 'vitest';
import { highEntropy, plainName, secretPath, tokenShaped } from './fake-secrets.fixture.ts';
import { collectSecrets, restoreConfigSecrets, restoreTextSecrets } from './merge-secrets.ts';
import { findSecretShapes, redactConfig, redactText } from './redact.ts';

const hmacKey = fc.uint8Array({ minLength: 1, maxLength: 32 }).map((bytes) => Buffer.from(bytes));

/** Somewhere a token may sit inside ordinary text: prompts, notes, URLs. */
const textPath = fc.tuple(
  fc.array(plainName, { minLength: 1, maxLength: 4 }),
  fc.constantFrom('systemPrompt', 'notes', 'url'),
);

const separator = fc.constantFrom(' ', '\n', '"', "'", '`', '=', ':', '(', ')', '/', ',', '\t', '<', '>');

interface Planted {
  path: string[];
  value: string;
  secret: string;
}

const planting: fc.Arbitrary<Planted> = fc.oneof(
  fc
    .tuple(secretPath, fc.oneof(tokenShaped, highEntropy))
    .map(([path, secret]) => ({ path, value: secret, secret })),
  fc
    .tuple(
      textPath,
      tokenShaped,
      fc.string({ maxLength: 30 }),
      fc.string({ maxLength: 30 }),
      separator,
      separator,
    )
    .map(([[dir, name], secret, before, after, s1, s2]) => ({
      path: [...dir, name],
      value: `${before}${s1}${secret}${s2}${after}`,
      secret,
    })),
);

function setAt(root: Record<string, unknown>, path: string[], value: string): void {
  let node = root;
  for (const segment of path.slice(0, -1)) {
    const next = Object.hasOwn(node, segment) ? node[segment] : undefined;
    if (next === null || typeof next !== 'object') node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  node[path.at(-1) as string] = value;
}

function getAt(root: unknown, path: string[]): unknown {
  let node = root;
  for (const segment of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, segment)) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/** A leak is the secret itself, or the secret as it would appear inside a JSON string. */
function leaks(output: string, secret: string): boolean {
  return output.includes(secret) || output.includes(JSON.stringify(secret).slice(1, -1));
}

const base = () => ({
  meta: { lastTouchedVersion: '2026.9.6' },
  agents: { defaults: { model: 'anthropic/claude-opus', workspace: '~/.openclaw/workspace' } },
  gateway: { port: 18789, mode: 'local', auth: { mode: 'token' } },
});

describe('redaction, for any planted secrets', () => {
  it('leaves none of them in the redacted config, the final scan finds nothing, and merge restores them', () => {
    fc.assert(
      fc.property(
        fc.array(planting, { minLength: 1, maxLength: 8 }),
        hmacKey,
        fc.boolean(),
        (plants, key, asJson5) => {
          const config: Record<string, unknown> = base();
          for (const p of plants) setAt(config, p.path, p.value);
          // Later plantings may overwrite earlier ones; only what is really in the config counts.
          const present = plants.filter((p) => getAt(config, p.path) === p.value);
          const raw = asJson5 ? JSON5.stringify(config, null, 2) : JSON.stringify(config);

          const { text } = redactConfig(raw, key);
          for (const p of present) expect(leaks(text, p.secret), `${p.path.join('.')} leaked`).toBe(false);
          expect(findSecretShapes(text)).toEqual([]);
          expect(redactConfig(text, key).text).toBe(text);
          expect(JSON.parse(restoreConfigSecrets(text, raw, key))).toEqual(
            JSON.parse(JSON.stringify(config)),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('leaves no planted token in markdown, the final scan finds nothing, and known secrets restore it', () => {
    const markdown = fc.array(fc.oneof(fc.lorem({ maxCount: 8 }), fc.string({ maxLength: 40 })), {
      minLength: 1,
      maxLength: 10,
    });
    const plants = fc.array(fc.tuple(tokenShaped, fc.nat(), separator, separator), {
      minLength: 1,
      maxLength: 6,
    });
    fc.assert(
      fc.property(markdown, plants, hmacKey, (lines, tokens, key) => {
        let text = lines.join('\n');
        for (const [token, at, s1, s2] of tokens) {
          const i = at % (text.length + 1);
          text = `${text.slice(0, i)}${s1}${token}${s2}${text.slice(i)}`;
        }
        const out = redactText(text, key);
        for (const [token] of tokens) expect(leaks(out.text, token)).toBe(false);
        expect(findSecretShapes(out.text)).toEqual([]);
        expect(redactText(out.text, key)).toEqual({ text: out.text, count: 0 });
        expect(restoreTextSecrets(out.text, collectSecrets('{}', [text]), key, 'workspace/MEMORY.md')).toBe(
          text,
        );
      }),
      { numRuns: 300 },
    );
  });
});
