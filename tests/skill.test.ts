// The OCM Bot's skill must stay true to the tool layer: valid OpenClaw skill front matter, and every
// tool it names exists with the tier it claims.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allTools } from '../mcp-server/tools/index.ts';
import { REPO } from './helpers/ocm-env.ts';

const skill = readFileSync(join(REPO, 'skill', 'SKILL.md'), 'utf8');
const tiers = new Map(allTools.map((t) => [t.name, t.tier]));

describe('skill/SKILL.md', () => {
  it('has OpenClaw skill front matter', () => {
    const front = /^---\n([\s\S]*?)\n---\n/.exec(skill)?.[1] ?? '';
    expect(front).toMatch(/^name: [a-z][a-z0-9-]*$/m);
    expect(front).toMatch(/^description: .{20,}$/m);
    const metadata = /^metadata: (.*)$/m.exec(front)?.[1];
    expect(() => JSON.parse(metadata ?? '')).not.toThrow();
  });

  it('names only tools that exist', () => {
    const named = [...skill.matchAll(/`([a-z]+_[a-z_]+)`/g)]
      .map((m) => m[1] as string)
      .filter((n) => !['confirm_token', 'security_code', 'dry_run'].includes(n));
    expect(named.length).toBeGreaterThan(10);
    for (const name of named) expect(tiers.has(name), name).toBe(true);
  });

  it('puts each tool under the tier the server enforces', () => {
    for (const tier of ['medium', 'high'] as const) {
      const line = new RegExp(`\\*\\*${tier}\\*\\* \\(e\\.g\\. ([^)]*)\\)`).exec(skill)?.[1] ?? '';
      const names = [...line.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
      expect(names.length).toBeGreaterThan(2);
      for (const name of names) expect(tiers.get(name as string), name).toBe(tier);
    }
  });
});
