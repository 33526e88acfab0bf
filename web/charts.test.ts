import { describe, expect, it } from 'vitest';
import { escapeXml, radarChart, sparkline, trendChart, usageBar } from './charts.ts';

/** The i-th point of a line, failing the test if it is missing. */
function xy(line: [number, number][] | undefined, i: number): [number, number] {
  const p = line?.[i];
  if (!p) throw new Error(`no point ${i}`);
  return p;
}

const points = (svg: string, tag: 'polyline' | 'polygon', cls?: string) => {
  const re = new RegExp(`<${tag}${cls ? ` class="${cls}"` : '[^>]*'} points="([^"]+)"`, 'g');
  return [...svg.matchAll(re)].map((m) =>
    (m[1] as string).split(' ').map((p) => p.split(',').map(Number) as [number, number]),
  );
};

describe('sparkline', () => {
  it('draws one point per value, higher scores higher up, the last one marked', () => {
    const svg = sparkline([50, 100, 0], { width: 100, height: 24 });
    const [line] = points(svg, 'polyline');
    expect(line).toHaveLength(3);
    const [a, b, c] = [xy(line, 0), xy(line, 1), xy(line, 2)];
    expect(b[1]).toBeLessThan(a[1]); // 100 above 50
    expect(c[1]).toBeGreaterThan(a[1]); // 0 below 50
    expect(a[0]).toBeLessThan(b[0]);
    expect(svg).toContain(`cx="${c[0]}"`);
    expect(svg).toContain('aria-label="last 3 scores: 50, 100, 0"');
  });

  it('says so when there are no scores, and clamps values outside the range', () => {
    expect(sparkline([])).toContain('no scores yet');
    expect(sparkline([])).not.toContain('polyline');
    const [line] = points(sparkline([150, -20], { height: 24 }), 'polyline');
    expect((line as [number, number][])[0]?.[1]).toBe(2); // top padding
    expect((line as [number, number][])[1]?.[1]).toBe(22); // bottom padding
  });
});

describe('trendChart', () => {
  const day = 86_400_000;
  const t0 = Date.UTC(2026, 1, 1);

  it('draws a line per series with its label, threshold lines, and y grid labels', () => {
    const svg = trendChart(
      [
        {
          label: 'g3s-01',
          points: [
            { at: t0, value: 90 },
            { at: t0 + day, value: 95 },
          ],
        },
        {
          label: 'g3s-04',
          points: [
            { at: t0, value: 72 },
            { at: t0 + day, value: 45 },
          ],
        },
      ],
      { thresholds: [{ value: 50, label: 'rollback < 50' }] },
    );
    expect(points(svg, 'polyline')).toHaveLength(2);
    expect(svg).toContain('>g3s-01</text>');
    expect(svg).toContain('>g3s-04</text>');
    expect(svg).toContain('class="threshold"');
    expect(svg).toContain('rollback &lt; 50');
    for (const v of ['0', '25', '50', '75', '100']) expect(svg).toContain(`>${v}</text>`);
    // The falling node ends lower on the chart than the rising one.
    const [rising, falling] = points(svg, 'polyline') as [number, number][][];
    expect(xy(falling, 1)[1]).toBeGreaterThan(xy(rising, 1)[1]);
  });

  it('sorts points by time and handles a single point', () => {
    const svg = trendChart([
      {
        label: 'a',
        points: [
          { at: t0 + day, value: 10 },
          { at: t0, value: 20 },
        ],
      },
    ]);
    const [line] = points(svg, 'polyline') as [number, number][][];
    expect(xy(line, 0)[0]).toBeLessThan(xy(line, 1)[0]);
    const one = trendChart([{ label: 'b', points: [{ at: t0, value: 80 }] }]);
    expect(one).toContain('<circle');
  });

  it('renders an honest empty state and escapes labels', () => {
    expect(trendChart([])).toContain('no scores recorded yet');
    const svg = trendChart([{ label: '<script>x</script>', points: [{ at: t0, value: 1 }] }], {
      title: 'a"b',
    });
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;');
    expect(svg).toContain('aria-label="a&quot;b"');
  });
});

describe('radarChart', () => {
  const dims = (values: (number | null)[]) =>
    ['memory', 'logic', 'tool use', 'reply quality', 'persona'].map((label, i) => ({
      label,
      value: values[i] ?? null,
      max: 20,
    }));

  it('puts a full score on the outer ring and an empty one at the centre', () => {
    const svg = radarChart(dims([20, 20, 20, 20, 0]), { size: 260 });
    const rings = points(svg, 'polygon', 'ring');
    const outer = rings[rings.length - 1] as [number, number][];
    const [shape] = points(svg, 'polygon', 'shape') as [number, number][][];
    for (let i = 0; i < 4; i++) expect(shape?.[i]).toEqual(outer[i]);
    expect(shape?.[4]).toEqual([190, 136]); // the centre
  });

  it('labels every dimension with its value, and says so when there is no score', () => {
    const svg = radarChart(dims([18, 15, 20, 12, 17]));
    for (const label of ['memory', 'logic', 'tool use', 'reply quality', 'persona'])
      expect(svg).toContain(`>${label}</text>`);
    expect(svg).toContain('>18/20</text>');
    expect(svg).toContain('>12/20</text>');
    expect(radarChart(dims([]))).toContain('no score yet');
  });
});

describe('usageBar and escapeXml', () => {
  it('draws the fill proportional to the value and colours by level', () => {
    expect(usageBar(42, 'CPU 42%')).toContain('class="bar-fill lvl-ok" width="42"');
    expect(usageBar(95, 'x')).toContain('lvl-crit');
    expect(usageBar(null, 'x')).toContain('lvl-none" width="0"');
    expect(usageBar(250, 'x')).toContain('width="100" height="6" rx="3"/></svg>');
  });

  it('escapes the five XML specials', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
