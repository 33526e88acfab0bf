import { describe, expect, it } from 'vitest';
import { checkRemoteUrl, displayRemoteUrl, scrubRemoteText } from './remote-url.ts';

describe('backup remote URLs', () => {
  it('accepts git URLs and bare repo paths', () => {
    for (const url of [
      'git@github.com:org/ocm-backups.git',
      'ssh://git@host:2222/x.git',
      'https://github.com/o/r.git',
      '/srv/backups.git',
      'file:///srv/b.git',
    ]) {
      expect(checkRemoteUrl(url)).toBe(url);
    }
  });

  it('refuses options, helper programs, whitespace and control characters', () => {
    for (const url of ['--upload-pack=sh', '-x', 'ext::sh -c id', 'fd::3', 'a b', 'x\ny', '']) {
      expect(() => checkRemoteUrl(url), JSON.stringify(url)).toThrow(/backup\.remote/);
    }
  });

  it('keeps credentials out of .git/config and messages', () => {
    expect(displayRemoteUrl('https://x-access-token:ghp_abc123secret@github.com/o/r.git')).toBe(
      'https://github.com/o/r.git',
    );
    expect(displayRemoteUrl('https://ghp_tokenAsUser@github.com/o/r.git')).toBe('https://github.com/o/r.git');
    expect(displayRemoteUrl('ssh://git:pw1234@host/x.git')).toBe('ssh://git@host/x.git');
    expect(displayRemoteUrl('git@github.com:o/r.git')).toBe('git@github.com:o/r.git');
  });

  it('scrubs the token from git output, however git quotes the URL', () => {
    const url = 'https://x-access-token:ghp_abc%2F123secret@github.com/o/r.git';
    const text = [
      `fatal: unable to access '${url}': Could not resolve host`,
      "fatal: Authentication failed for 'https://x-access-token:ghp_abc/123secret@github.com/o/r.git/'",
      'remote: token ghp_abc/123secret is revoked',
      'elsewhere https://someone:hunter22@example.com/x',
    ].join('\n');
    const scrubbed = scrubRemoteText(text, url);
    expect(scrubbed).not.toMatch(/ghp_abc|123secret|hunter22/);
    expect(scrubbed).toContain('https://github.com/o/r.git');
  });
});
