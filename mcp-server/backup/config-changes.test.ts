import { describe, expect, it } from 'vitest';
import { configChanges } from './config-changes.ts';

describe('configChanges', () => {
  it('reports each changed, added and removed key by its JSON path', () => {
    const before = {
      agents: { defaults: { model: { primary: 'anthropic/claude-sonnet-4-5' }, workspace: '~/w' } },
      channels: { telegram: { botToken: '***REDACTED:0a1b2c3d***', allowFrom: ['1', '2'] } },
      'odd key': 1,
    };
    const after = {
      agents: { defaults: { model: { primary: 'openai/gpt-5' } } },
      channels: { telegram: { botToken: '***REDACTED:99999999***', allowFrom: ['1', '2', '3'] } },
      'odd key': 1,
      tools: { web: true },
    };
    expect(configChanges(before, after)).toEqual([
      {
        path: 'agents.defaults.model.primary',
        change: 'changed',
        before: 'anthropic/claude-sonnet-4-5',
        after: 'openai/gpt-5',
      },
      { path: 'agents.defaults.workspace', change: 'removed', before: '~/w' },
      {
        path: 'channels.telegram.botToken',
        change: 'changed',
        before: '***REDACTED:0a1b2c3d***',
        after: '***REDACTED:99999999***',
      },
      { path: 'channels.telegram.allowFrom[2]', change: 'added', after: '3' },
      { path: 'tools', change: 'added', after: { web: true } },
    ]);
  });

  it('reports nothing for equal documents, whatever their key order', () => {
    expect(
      configChanges({ a: { b: [1, { c: null }] }, d: 'x' }, { d: 'x', a: { b: [1, { c: null }] } }),
    ).toEqual([]);
  });

  it('reports a change of kind as one change', () => {
    expect(configChanges({ a: 'text' }, { a: { now: 'object' } })).toEqual([
      { path: 'a', change: 'changed', before: 'text', after: { now: 'object' } },
    ]);
  });
});
