// GradientView: for each parameter, a bar of its gradient norm (log scale, coloured by its
// flag), its numbers, a small histogram of the gradient's values and a sparkline of its norm over
// the steps; redrawn at every step. Traits: widgets/gradient_view.py's docstring.
import { DOMWidgetModel, NbgradView, modelDefaults } from './base';
import { el, svgEl } from '../dom';
import { fmt } from '../logic/format';
import '../../style/gradient.css';

interface Parameter {
  name: string; shape: number[]; grad_norm: number | null; ratio: number | null;
  mean: number | null; std: number | null; flag: string; nan_count: number; inf_count: number;
  histogram: { edges: number[]; counts: number[] };
}

export class GradientViewModel extends DOMWidgetModel {
  defaults(): Record<string, unknown> {
    return { ...super.defaults(), ...modelDefaults('GradientView'), parameters: [], step: 0,
             history: {}, thresholds: {} };
  }
}

const FLOOR = 1e-8;   // the log scale's left end: smaller norms (and zero) draw no bar

export class GradientView extends NbgradView {
  protected get kind(): string { return 'gradient'; }

  protected draw(): void {
    const parameters = this.get<Parameter[]>('parameters');
    const history = this.get<Record<string, (number | null)[]>>('history');
    const flagged = parameters.filter(p => p.flag && p.flag !== 'frozen');
    this.el.replaceChildren();
    this.el.appendChild(el('div', { class: 'nbgrad-title' },
                           `Gradients after step ${this.get<number>('step')}`));
    this.el.appendChild(el('div', { class: flagged.length ? 'nbgrad-warning' : 'nbgrad-note' },
      flagged.length ? `${flagged.length} flagged: ` +
                       flagged.map(p => `${p.name} ${p.flag}`).join(', ')
                     : 'no parameter flagged'));
    const norms = parameters.map(p => p.grad_norm ?? 0).filter(n => n > FLOOR);
    const top = Math.log10(Math.max(...norms, FLOOR * 10));
    const table = el('table', { class: 'nbgrad-gradient-table' });
    const head = table.appendChild(el('tr'));
    for (const h of ['Parameter', 'Shape', '|grad| (log scale)', '|grad|', '|grad|/|param|',
                     'mean', 'std', 'values', 'history']) head.appendChild(el('th', {}, h));
    for (const p of parameters) {
      const row = table.appendChild(el('tr', { class: `nbgrad-gradient-row${p.flag ? ' nbgrad-flag-' + p.flag.replace(/[^a-z]/g, '') : ''}` }));
      row.appendChild(el('td', {}, p.name));
      row.appendChild(el('td', {}, `[${p.shape.join(', ')}]`));
      const barCell = row.appendChild(el('td'));
      const bar = barCell.appendChild(el('div', { class: 'nbgrad-gradient-bar', 'data-name': p.name }));
      const norm = p.grad_norm ?? 0;
      const share = norm > FLOOR ? (Math.log10(norm) - Math.log10(FLOOR)) / (top - Math.log10(FLOOR)) : 0;
      bar.style.width = `${Math.max(0, share) * 120}px`;
      row.appendChild(el('td', {}, p.flag === 'nan/inf' ? `nan ${p.nan_count} inf ${p.inf_count}` : fmt(p.grad_norm)));
      row.appendChild(el('td', {}, fmt(p.ratio)));
      row.appendChild(el('td', {}, fmt(p.mean)));
      row.appendChild(el('td', {}, fmt(p.std)));
      row.appendChild(el('td')).appendChild(histogram(p.histogram));
      row.appendChild(el('td')).appendChild(sparkline(history[p.name] ?? []));
    }
    // (a wide table scrolls sideways in the output rather than being cut off)
    this.el.appendChild(el('div', { class: 'nbgrad-gradient-scroll' })).appendChild(table);
  }
}

/** The gradient's values: bars of counts (the kernel binned them). */
function histogram(h: { edges: number[]; counts: number[] }): SVGElement {
  const width = 64, height = 24;
  const svg = svgEl('svg', { width, height, class: 'nbgrad-gradient-histogram' });
  const top = Math.max(...h.counts, 1);
  const w = width / Math.max(h.counts.length, 1);
  h.counts.forEach((c, i) => {
    const barHeight = (c / top) * height;
    svg.appendChild(svgEl('rect', { x: i * w, y: height - barHeight, width: Math.max(w - 0.5, 0.5),
                                    height: barHeight }));
  });
  return svg;
}

/** The norm over the recorded steps, on a log scale; gaps where it was not finite. */
function sparkline(values: (number | null)[]): SVGElement {
  const width = 64, height = 24;
  const svg = svgEl('svg', { width, height, class: 'nbgrad-gradient-sparkline' });
  const logs = values.map(v => (v !== null && v > 0 ? Math.log10(v) : null));
  const finite = logs.filter((v): v is number => v !== null);
  if (finite.length < 2) return svg;
  const lo = Math.min(...finite), hi = Math.max(...finite);
  const points = logs.map((v, i) => v === null ? null :
    `${(i / (logs.length - 1) * width).toFixed(1)},${(height - 2 - (v - lo) / ((hi - lo) || 1) * (height - 4)).toFixed(1)}`);
  svg.appendChild(svgEl('polyline', { points: points.filter(Boolean).join(' '), fill: 'none' }));
  return svg;
}
