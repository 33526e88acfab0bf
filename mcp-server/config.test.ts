import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'ocm-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const withFile = (content: unknown) => {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

describe('loadConfig', () => {
  it('runs on embedded defaults with nothing configured', () => {
    const config = loadConfig({}, dir);
    expect(config.dataDir).toBe(join(dir, 'data'));
    expect(config.http.host).toBe('127.0.0.1');
    expect(config.codes.channels).toEqual(['dashboard', 'log']);
    expect(config.source).toBeNull();
  });

  it('names the key, the value and what is allowed', () => {
    const path = withFile({ http: { port: 'eighty' }, confirm: { ttlMs: 5 } });
    expect(() => loadConfig({ OCM_CONFIG: path }, dir)).toThrow(ConfigError);
    try {
      loadConfig({ OCM_CONFIG: path }, dir);
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toMatch(/http\.port = "eighty": .*number/);
      expect(message).toMatch(/confirm\.ttlMs = 5: .*10000/);
    }
  });

  it('rejects unknown keys by name', () => {
    expect(() => loadConfig({ OCM_CONFIG: withFile({ dataDri: './x' }) }, dir)).toThrow(/dataDri/);
  });

  it('applies OCM_* overrides and reads secrets from *_FILE', () => {
    const tokenFile = withFile('s3cret-token-0123456789\n');
    const config = loadConfig(
      {
        OCM_DATA_DIR: 'elsewhere',
        OCM_HTTP_PORT: '4100',
        OCM_CODE_FILE: 'codes.log',
        OCM_HTTP_TOKEN_FILE: tokenFile,
      },
      dir,
    );
    expect(config.dataDir).toBe(join(dir, 'elsewhere'));
    expect(config.http.port).toBe(4100);
    expect(config.codes.channels).toContain('file');
    expect(config.codes.file).toBe(join(dir, 'codes.log'));
    expect(config.http.tokens[0]).toMatchObject({
      name: 'env',
      token: 's3cret-token-0123456789',
      maxTier: 'high',
    });
  });

  it('says which environment variable is wrong', () => {
    expect(() => loadConfig({ OCM_HTTP_PORT: '80a' }, dir)).toThrow(
      /OCM_HTTP_PORT = "80a": must be a whole number/,
    );
    expect(() => loadConfig({ OCM_CONFIG: join(dir, 'missing.json') }, dir)).toThrow(/file not found/);
  });
});
