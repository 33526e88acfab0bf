// How numbers and times read on the page: times in the configured timezone, ages as "3 min ago",
// missing values as an en dash rather than a misleading zero.
const timeFormatters = new Map<string, Intl.DateTimeFormat>();

/** `2026-02-14 08:05` in the operator's timezone. */
export function formatTime(tz: string, ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  let f = timeFormatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    timeFormatters.set(tz, f);
  }
  return f.format(ms).replace(',', '');
}

/** `02-14` for chart axes. */
export function formatDay(tz: string, ms: number): string {
  return formatTime(tz, ms).slice(5, 10);
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

export function formatAge(ms: number | null | undefined, now: number): string {
  if (ms === null || ms === undefined) return 'never';
  const seconds = (now - ms) / 1000;
  return seconds < 30 ? 'just now' : `${formatDuration(seconds)} ago`;
}

export function formatPct(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : `${Math.round(value)}%`;
}

export function formatUsd(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return `$${value.toFixed(2)}`;
}

export function formatBytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = value;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : value.toLocaleString('en-US');
}

/** Parse an ISO time from the node store back into epoch ms. */
export function isoMs(iso: string | null): number | null {
  return iso === null ? null : Date.parse(iso);
}

/** A git ref or commit shortened for a table cell. */
export function shortRef(ref: string | null): string {
  if (!ref) return '–';
  return /^[0-9a-f]{40}$/.test(ref) ? ref.slice(0, 8) : ref;
}
