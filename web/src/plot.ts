// Trend plots (uPlot) with their points as a table: one row per point, for screen readers and for
// anyone who wants the numbers (the plot itself is an image to assistive technology).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h, uniqueId } from './dom';

export interface SeriesDef {
  label: string;
  color: string;
}

export interface Point {
  time: string; // a FHIR dateTime
  values: (number | null)[]; // one per series
}

function seconds(dt: string): number {
  return Date.parse(dt.length === 10 ? `${dt}T00:00:00Z` : dt) / 1000;
}

// A figure with the plot and a collapsible table of the same points. `points` in any order.
export function trendPlot(title: string, unit: string, series: SeriesDef[], points: Point[]): HTMLElement {
  const sorted = [...points].sort((a, b) => seconds(a.time) - seconds(b.time));
  const captionId = uniqueId('plot');
  const figure = h('figure', {
    class: 'trend',
    'data-plot': title,
    'data-points': sorted.length,
    'aria-labelledby': captionId,
  });
  figure.appendChild(h('figcaption', { id: captionId }, `${title} (${unit})`));
  if (sorted.length === 0) {
    figure.appendChild(h('p', { class: 'empty' }, 'No readings.'));
    return figure;
  }
  const last = sorted[sorted.length - 1];
  const summary =
    `${title}: ${sorted.length} reading${sorted.length === 1 ? '' : 's'} from ${sorted[0].time.slice(0, 10)} ` +
    `to ${last.time.slice(0, 10)}; latest ${series.map((s, i) => `${s.label} ${last.values[i] ?? '-'}`).join(', ')} ${unit}`;
  const holder = h('div', { class: 'plot', role: 'img', 'aria-label': summary });
  figure.appendChild(holder);

  const data: uPlot.AlignedData = [
    sorted.map((p) => seconds(p.time)),
    ...series.map((_, i) => sorted.map((p) => p.values[i] ?? null)),
  ];
  const opts: uPlot.Options = {
    width: 480,
    height: 180,
    legend: { show: series.length > 1 },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true } },
    axes: [{ stroke: '#444' }, { stroke: '#444', size: 44 }],
    series: [
      {},
      ...series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 2,
        points: { show: true, size: 5, fill: s.color },
      })),
    ],
  };
  const chart = new uPlot(opts, data, holder);
  const resize = new ResizeObserver(() => {
    const w = Math.max(200, Math.floor(holder.clientWidth));
    if (w !== chart.width) chart.setSize({ width: w, height: 180 });
  });
  resize.observe(holder);

  const table = h(
    'table',
    { class: 'points' },
    h('caption', {}, `${title}: every reading`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Date'), ...series.map((s) => h('th', { scope: 'col' }, `${s.label} (${unit})`)))),
    h(
      'tbody',
      {},
      [...sorted].reverse().map((p) =>
        h('tr', {}, h('th', { scope: 'row' }, p.time.slice(0, 10)), ...p.values.map((v) => h('td', {}, v ?? '-'))),
      ),
    ),
  );
  figure.appendChild(h('details', { class: 'plot-table' }, h('summary', {}, `Show the ${sorted.length} readings as a table`), table));
  return figure;
}
