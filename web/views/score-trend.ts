// The score trend as the pages show it: policy thresholds drawn in, and two renderings of the same
// SVG, one shaped for a desktop column and one for a phone, switched by the stylesheet, so the
// axis text stays readable at 390 px without any script.
import { type Series, scoreAxisMin, trendChart } from '../charts.ts';
import { formatDay } from './format.ts';
import { type Html, html, trustedSvg } from './html.ts';

export function scoreTrend(series: Series[], title: string, tz: string): Html {
  const common = {
    yMin: scoreAxisMin(series),
    title,
    formatTime: (ms: number) => formatDay(tz, ms),
    thresholds: [
      { value: 90, label: 'stable ≥ 90' },
      { value: 50, label: 'rollback < 50' },
    ],
  };
  const wide = trendChart(series, { ...common, width: 560, height: 280 });
  const narrow = trendChart(series, { ...common, width: 340, height: 240 });
  return html`<div class="chart-box"><div class="chart-wide">${trustedSvg(wide)}</div><div class="chart-narrow">${trustedSvg(narrow)}</div></div>`;
}
