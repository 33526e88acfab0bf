// The backup remote's URL may carry a token (`https://x-access-token:ghp_…@github.com/…`). It is
// used in memory only: `origin` in .git/config gets the URL without credentials, and any git
// output that may quote the URL is scrubbed before it reaches a log line or a tool result.

import { InvalidInput } from '../errors.ts';

/** Refuses what git would read as an option or a remote-helper program (`ext::sh -c …`). */
export function checkRemoteUrl(url: string, field = 'backup.remote'): string {
  const problem =
    url.trim() === ''
      ? 'is empty'
      : url.length > 2048
        ? 'is longer than 2048 characters'
        : url.startsWith('-')
          ? 'starts with "-" (git would read it as an option)'
          : /[\s\p{Cc}]/u.test(url)
            ? 'contains whitespace or control characters'
            : /^[A-Za-z][A-Za-z0-9+.-]*::/.test(url)
              ? 'uses the "<helper>::<address>" form, which runs a program'
              : null;
  if (problem) {
    throw new InvalidInput(
      `${field} ${problem}; give a git URL (ssh://…, git@host:path, https://…) or the path of a bare repository`,
      field,
    );
  }
  return url;
}

const URL_WITH_USERINFO = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/@]*)@/;

/** The secret parts of the URL's user-info, raw and percent-decoded; nothing for scp-like URLs. */
function credentialsIn(url: string): string[] {
  const userinfo = URL_WITH_USERINFO.exec(url)?.[2];
  if (!userinfo) return [];
  const scheme = url.slice(0, url.indexOf(':')).toLowerCase();
  const colon = userinfo.indexOf(':');
  // Over http a token is often the user name itself; over ssh the user is just `git`.
  const secrets = /^(https?|ftps?)$/.test(scheme) ? [userinfo] : [];
  if (colon !== -1) secrets.push(userinfo.slice(colon + 1));
  if (/^(https?|ftps?)$/.test(scheme) && colon !== -1) secrets.push(userinfo.slice(0, colon));
  const all = new Set<string>();
  for (const s of secrets) {
    if (s.length < 3) continue;
    all.add(s);
    try {
      all.add(decodeURIComponent(s));
    } catch {
      // not valid percent-encoding: the raw form is all git can print
    }
  }
  return [...all].sort((a, b) => b.length - a.length);
}

/** The URL with its credentials removed, fit for .git/config and for messages. */
export function displayRemoteUrl(url: string): string {
  const m = URL_WITH_USERINFO.exec(url);
  if (!m) return url;
  const scheme = (m[1] as string).toLowerCase();
  const userinfo = m[2] as string;
  const user = userinfo.split(':')[0] as string;
  const keep = /^(https?|ftps?):\/\/$/.test(scheme) ? '' : `${user}@`;
  return `${m[1]}${keep}${url.slice(m[0].length)}`;
}

/** Removes the remote's credentials, and any `scheme://user:pass@` at all, from git's output. */
export function scrubRemoteText(text: string, url: string | undefined): string {
  let out = text;
  if (url) {
    out = out.split(url).join(displayRemoteUrl(url));
    for (const secret of credentialsIn(url)) out = out.split(secret).join('***');
  }
  return out.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/\s@]*:[^/\s@]*@/g, '$1***@');
}
