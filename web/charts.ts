// Charts as server-rendered SVG strings: readable without JavaScript, styled by ocm.css classes
// (no inline styles, so the page's CSP holds). Pure functions; every text label is escaped here.

export interface Point {
  /** UTC epoch milliseconds */
  at: number;
  value: number;
}

export interface Series {
  label: string;
  points: Point[];
  /** Drawn heavier, e.g. the fleet average among single nodes. */
  main?: boolean;
}

export interface RadarAxis {
  label: string;
  value: number | null;
  max: number;
}

export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (ch) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[ch]};`,
  );
}

const r1 = (n: number) => Math.round(n * 10) / 10;
const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));

/** A tiny line of the last scores for a node card. */
export function sparkline(
  values: number[],
  opts: { width?: number; height?: number; min?: number; max?: number; label?: string } = {},
): string {
  const { width = 96, height = 24, min = 0, max = 100 } = opts;
  const label = escapeXml(
    opts.label ?? (values.length ? `last ${values.length} scores: ${values.join(', ')}` : 'no scores yet'),
  );
  const open = `<svg class="spark" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${label}">`;
  if (values.length === 0)
    return `${open}<line class="spark-none" x1="0" y1="${height - 1}" x2="${width}" y2="${height - 1}"/></svg>`;
  const pad = 2;
  const y = (v: number) => r1(pad + (1 - (clamp(v, min, max) - min) / (max - min || 1)) * (height - 2 * pad));
  const x = (i: number) =>
    values.length === 1 ? width / 2 : r1(pad + (i / (values.length - 1)) * (width - 2 * pad));
  const points = values.map((v, i) => `${x(i)},${y(v)}`).join(' ');
  const last = values.length - 1;
  return `${open}<polyline class="spark-line" points="${points}"/><circle class="spark-dot" cx="${x(last)}" cy="${y(values[last] as number)}" r="2"/></svg>`;
}

export interface TrendOptions {
  width?: number;
  height?: number;
  yMin?: number;
  yMax?: number;
  /** Horizontal reference lines, e.g. the stable (90) and rollback (50) thresholds. */
  thresholds?: { value: number; label: string }[];
  /** How to print a time on the x axis (the page passes its timezone-aware formatter). */
  formatTime?: (ms: number) => string;
  title?: string;
}

/** Score over time, one line per series, with labelled y grid and threshold lines. */
export function trendChart(series: Series[], opts: TrendOptions = {}): string {
  const { width = 560, height = 280, yMin = 0, yMax = 100, thresholds = [] } = opts;
  const formatTime = opts.formatTime ?? ((ms: number) => new Date(ms).toISOString().slice(5, 10));
  const title = escapeXml(opts.title ?? 'score trend');
  const m = { top: 12, right: 76, bottom: 24, left: 32 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const all = series.flatMap((s) => s.points);
  const open = `<svg class="chart trend" viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}"><title>${title}</title>`;
  if (all.length === 0) {
    return `${open}<text class="chart-empty" x="${width / 2}" y="${height / 2}" text-anchor="middle">no scores recorded yet</text></svg>`;
  }
  let t0 = Math.min(...all.map((p) => p.at));
  let t1 = Math.max(...all.map((p) => p.at));
  if (t0 === t1) {
    t0 -= 12 * 3600_000;
    t1 += 12 * 3600_000;
  }
  const x = (t: number) => r1(m.left + ((t - t0) / (t1 - t0)) * plotW);
  const y = (v: number) => r1(m.top + (1 - (clamp(v, yMin, yMax) - yMin) / (yMax - yMin || 1)) * plotH);

  const parts: string[] = [open];
  const range = yMax - yMin;
  const step = range <= 30 ? 5 : range <= 60 ? 10 : range / 4;
  for (let v = yMin; v <= yMax + 1e-9; v += step) {
    parts.push(
      `<line class="grid" x1="${m.left}" y1="${y(v)}" x2="${m.left + plotW}" y2="${y(v)}"/>`,
      `<text class="axis" x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end">${r1(v)}</text>`,
    );
  }
  const ticks = 4;
  for (let i = 0; i <= ticks; i++) {
    const t = t0 + ((t1 - t0) * i) / ticks;
    const anchor = i === 0 ? 'start' : i === ticks ? 'end' : 'middle';
    parts.push(
      `<text class="axis" x="${x(t)}" y="${height - 6}" text-anchor="${anchor}">${escapeXml(formatTime(t))}</text>`,
    );
  }
  for (const th of thresholds) {
    parts.push(
      `<line class="threshold" x1="${m.left}" y1="${y(th.value)}" x2="${m.left + plotW}" y2="${y(th.value)}"/>`,
      `<text class="threshold-label" x="${m.left + plotW - 4}" y="${y(th.value) - 4}" text-anchor="end">${escapeXml(th.label)}</text>`,
    );
  }
  // Series end labels would collide when lines end close together: nudge them apart.
  const ends: { y: number; i: number }[] = [];
  series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a.at - b.at);
    if (!pts.length) return;
    const cls = `series s${i % 8}${s.main ? ' main' : ''}`;
    const polyline = pts.map((p) => `${x(p.at)},${y(p.value)}`).join(' ');
    parts.push(`<g class="${cls}"><title>${escapeXml(s.label)}</title>`);
    if (pts.length === 1)
      parts.push(`<circle cx="${x((pts[0] as Point).at)}" cy="${y((pts[0] as Point).value)}" r="3"/>`);
    else parts.push(`<polyline points="${polyline}"/>`);
    parts.push('</g>');
    ends.push({ y: y((pts[pts.length - 1] as Point).value), i });
  });
  ends.sort((a, b) => a.y - b.y);
  for (let k = 1; k < ends.length; k++) {
    const prev = ends[k - 1] as { y: number };
    const cur = ends[k] as { y: number };
    if (cur.y - prev.y < 11) cur.y = prev.y + 11;
  }
  for (const end of ends) {
    const s = series[end.i] as Series;
    parts.push(
      `<text class="series-label s${end.i % 8}" x="${m.left + plotW + 6}" y="${r1(end.y + 4)}">${escapeXml(s.label)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Where a score axis should start so the lines use the height: just below the lowest point, but
 * never above 40, so the rollback line (50) stays in view.
 */
export function scoreAxisMin(series: Series[]): number {
  const values = series.flatMap((s) => s.points.map((p) => p.value));
  if (!values.length) return 0;
  return Math.max(0, Math.min(40, Math.floor(Math.min(...values) / 10) * 10 - 10));
}

/** Five (or any ≥3) dimensions of one score run as a radar; missing values sit at the centre. */
export function radarChart(axes: RadarAxis[], opts: { size?: number; title?: string } = {}): string {
  const size = opts.size ?? 260;
  // Side labels ("reply quality") run outwards from the chart: leave them room left and right.
  const width = size + 120;
  const title = escapeXml(opts.title ?? 'score by dimension');
  const open = `<svg class="chart radar" viewBox="0 0 ${width} ${size}" role="img" aria-label="${title}"><title>${title}</title>`;
  if (axes.length < 3 || axes.every((a) => a.value === null)) {
    return `${open}<text class="chart-empty" x="${width / 2}" y="${size / 2}" text-anchor="middle">no score yet</text></svg>`;
  }
  const cx = width / 2;
  const c = size / 2 + 6;
  const radius = size / 2 - 40;
  const angle = (i: number) => -Math.PI / 2 + (2 * Math.PI * i) / axes.length;
  const at = (i: number, frac: number) => ({
    x: r1(cx + Math.cos(angle(i)) * radius * frac),
    y: r1(c + Math.sin(angle(i)) * radius * frac),
  });
  const parts: string[] = [open];
  for (const ring of [0.25, 0.5, 0.75, 1]) {
    const pts = axes
      .map((_, i) => at(i, ring))
      .map((p) => `${p.x},${p.y}`)
      .join(' ');
    parts.push(`<polygon class="ring" points="${pts}"/>`);
  }
  axes.forEach((a, i) => {
    const end = at(i, 1);
    const label = at(i, 1.18);
    const anchor = Math.abs(label.x - cx) < 4 ? 'middle' : label.x > cx ? 'start' : 'end';
    // A label straight above the chart sits above its spoke, value included.
    const dy = anchor === 'middle' && label.y < c ? -10 : 0;
    const value = a.value === null ? '–' : `${a.value}/${a.max}`;
    parts.push(
      `<line class="spoke" x1="${cx}" y1="${c}" x2="${end.x}" y2="${end.y}"/>`,
      `<text class="radar-label" x="${label.x}" y="${r1(label.y + dy)}" text-anchor="${anchor}">${escapeXml(a.label)}</text>`,
      `<text class="radar-value" x="${label.x}" y="${r1(label.y + dy + 13)}" text-anchor="${anchor}">${escapeXml(value)}</text>`,
    );
  });
  const shape = axes
    .map((a, i) => at(i, a.value === null ? 0 : clamp(a.value / (a.max || 1), 0, 1)))
    .map((p) => `${p.x},${p.y}`)
    .join(' ');
  parts.push(`<polygon class="shape" points="${shape}"/>`);
  axes.forEach((a, i) => {
    if (a.value === null) return;
    const p = at(i, clamp(a.value / (a.max || 1), 0, 1));
    parts.push(`<circle class="shape-dot" cx="${p.x}" cy="${p.y}" r="3"/>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** A thin usage bar (CPU, RAM, disk) drawn with SVG attributes, since the CSP forbids inline styles. */
export function usageBar(pct: number | null | undefined, label: string): string {
  const value = pct === null || pct === undefined ? null : clamp(pct, 0, 100);
  const level = value === null ? 'none' : value >= 90 ? 'crit' : value >= 75 ? 'warn' : 'ok';
  const width = value === null ? 0 : r1(value);
  return `<svg class="bar" viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-label="${escapeXml(label)}"><rect class="bar-bg" width="100" height="6" rx="3"/><rect class="bar-fill lvl-${level}" width="${width}" height="6" rx="3"/></svg>`;
}
