// SVG charts shared by the views.
import { svgEl } from './dom';
import { fmt } from './dom';

export const PALETTE = ['#4c72b0', '#dd8452', '#55a868', '#c44e52', '#8172b3', '#937860'];

export interface ChartOptions { title?: string; width?: number; height?: number }

/** One polyline per series ([x, y|null] points; nulls are gaps), with min/max axis labels. */
export function lineChart(series: Record<string, [number, number | null][]>,
                          options: ChartOptions = {}): SVGElement {
  const width = options.width ?? 360, height = options.height ?? 180;
  const left = 56, right = 8, top = 20, bottom = 20;
  const points = Object.values(series).flat().filter(p => p[1] !== null) as [number, number][];
  const xs = points.map(p => p[0]), ys = points.map(p => p[1]);
  const x0 = Math.min(...xs, 0), x1 = Math.max(...xs, 1);
  const y0 = Math.min(...ys), y1 = Math.max(...ys);
  const sx = (x: number) => left + (x - x0) / ((x1 - x0) || 1) * (width - left - right);
  const sy = (y: number) => height - bottom - (y - y0) / ((y1 - y0) || 1) * (height - top - bottom);
  const svg = svgEl('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'nbgrad-chart' });
  if (options.title) svg.appendChild(svgEl('text', { x: left, y: 12, class: 'nbgrad-chart-title' }, options.title));
  svg.appendChild(svgEl('line', { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, class: 'nbgrad-axis' }));
  svg.appendChild(svgEl('line', { x1: left, y1: top, x2: left, y2: height - bottom, class: 'nbgrad-axis' }));
  if (points.length) {
    svg.appendChild(svgEl('text', { x: left - 4, y: top + 8, 'text-anchor': 'end' }, fmt(y1, 3)));
    svg.appendChild(svgEl('text', { x: left - 4, y: height - bottom, 'text-anchor': 'end' }, fmt(y0, 3)));
  }
  Object.entries(series).forEach(([name, pts], i) => {
    const color = PALETTE[i % PALETTE.length];
    const segments: string[][] = [[]];
    for (const [x, y] of pts) {
      if (y === null) { segments.push([]); continue; }
      segments[segments.length - 1].push(`${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
    }
    for (const seg of segments.filter(s => s.length)) {
      svg.appendChild(svgEl('polyline', { points: seg.join(' '), fill: 'none', stroke: color,
                                          'stroke-width': 1.5, 'data-series': name }));
    }
    svg.appendChild(svgEl('rect', { x: width - 110, y: 4 + 14 * i, width: 10, height: 10, fill: color }));
    svg.appendChild(svgEl('text', { x: width - 96, y: 13 + 14 * i }, name));
  });
  return svg;
}
