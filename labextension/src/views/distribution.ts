// DistributionView: a slider per scalar parameter (moving one writes `values`, debounced; the
// kernel rebuilds the distribution, resamples and sends the new histogram), the samples'
// histogram against the density or pmf, and the moments. Traits: widgets/distribution_view.py.
import { DOMWidgetModel, NbgradView, modelDefaults } from './base';
import { el, svgEl } from '../dom';
import { fmt } from '../logic/format';
import { densities } from '../logic/histogram';
import '../../style/distribution.css';

interface Parameter { name: string; kind: string; value: number | string; min: number | null;
                      max: number | null; step: number | null }
interface Histogram { edges?: number[]; counts: number[]; support?: number[] }

export class DistributionViewModel extends DOMWidgetModel {
  defaults(): Record<string, unknown> {
    return { ...super.defaults(), ...modelDefaults('DistributionView'), family: '',
             description: '', parameters: [], values: {}, histogram: {}, density: [], stats: {},
             n: 2000, seed: 0, discrete: false, marginal: null, notes: [], error: '' };
  }
}

export class DistributionView extends NbgradView {
  protected get kind(): string { return 'distribution'; }
  private timer: number | undefined;
  private sliders: HTMLElement | null = null;

  protected draw(): void {
    // the sliders are kept while one is being dragged (rebuilding them would drop the drag)
    const keep = this.sliders && this.sliders.contains(document.activeElement);
    const sliders = keep ? this.sliders! : this.buildSliders();
    this.el.replaceChildren();
    this.el.appendChild(el('div', { class: 'nbgrad-title' }, this.get<string>('description')));
    this.el.appendChild(sliders);
    const error = this.get<string>('error');
    if (error) this.el.appendChild(el('div', { class: 'nbgrad-warning' }, error));
    this.el.appendChild(this.plot());
    this.el.appendChild(this.statsTable());
    for (const note of this.get<string[]>('notes')) {
      this.el.appendChild(el('div', { class: 'nbgrad-note' }, note));
    }
  }

  private buildSliders(): HTMLElement {
    const box = el('div', { class: 'nbgrad-distribution-sliders' });
    for (const p of this.get<Parameter[]>('parameters')) {
      const line = box.appendChild(el('label', { class: 'nbgrad-distribution-parameter' }));
      line.appendChild(el('span', { class: 'nbgrad-distribution-name' }, p.name));
      if (p.kind === 'fixed') {
        line.appendChild(el('span', {}, String(p.value)));
        continue;
      }
      const slider = line.appendChild(el('input', {
        type: 'range', class: 'nbgrad-slider', 'data-name': p.name, min: String(p.min),
        max: String(p.max), step: String(p.step), value: String(p.value) })) as HTMLInputElement;
      const readout = line.appendChild(el('span', { class: 'nbgrad-distribution-value' },
                                          fmt(Number(p.value))));
      slider.addEventListener('input', () => {
        readout.textContent = fmt(Number(slider.value));
        window.clearTimeout(this.timer);
        this.timer = window.setTimeout(
          () => this.set('values', { ...this.get<Record<string, number>>('values'),
                                     [p.name]: Number(slider.value) }), 150);
      });
    }
    this.sliders = box;
    return box;
  }

  private plot(): SVGElement {
    const h = this.get<Histogram>('histogram');
    const density = this.get<[number, number][]>('density');
    const width = 420, height = 200, left = 48, bottom = 20, top = 8, right = 8;
    const svg = svgEl('svg', { width, height, class: 'nbgrad-distribution-plot' });
    if (!h.counts || !h.counts.length) return svg;
    // discrete: a bar per support value k, on [k - 0.5, k + 0.5): heights are probabilities
    const edges = h.edges ?? [...h.support!.map(k => k - 0.5), h.support![h.support!.length - 1] + 0.5];
    const heights = densities(edges, h.counts);
    const yTop = Math.max(...heights, ...density.map(p => p[1])) * 1.05 || 1;
    const x0 = edges[0], x1 = edges[edges.length - 1];
    const sx = (x: number) => left + (x - x0) / ((x1 - x0) || 1) * (width - left - right);
    const sy = (y: number) => height - bottom - y / yTop * (height - top - bottom);
    heights.forEach((y, i) => {
      svg.appendChild(svgEl('rect', { class: 'nbgrad-hist-bar', x: sx(edges[i]).toFixed(1),
        y: sy(y).toFixed(1), width: Math.max(sx(edges[i + 1]) - sx(edges[i]) - 0.5, 0.5).toFixed(1),
        height: (sy(0) - sy(y)).toFixed(1) }));
    });
    if (this.get<boolean>('discrete')) {
      for (const [k, p] of density) {
        svg.appendChild(svgEl('circle', { class: 'nbgrad-density', cx: sx(k), cy: sy(p), r: 3 }));
      }
    } else if (density.length) {
      svg.appendChild(svgEl('polyline', { class: 'nbgrad-density', fill: 'none',
        points: density.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ') }));
    }
    svg.appendChild(svgEl('line', { x1: left, y1: sy(0), x2: width - right, y2: sy(0), class: 'nbgrad-axis' }));
    svg.appendChild(svgEl('text', { x: left, y: height - 4 }, fmt(x0, 3)));
    svg.appendChild(svgEl('text', { x: width - right, y: height - 4, 'text-anchor': 'end' }, fmt(x1, 3)));
    svg.appendChild(svgEl('text', { x: left - 4, y: top + 8, 'text-anchor': 'end' }, fmt(yTop, 3)));
    return svg;
  }

  private statsTable(): HTMLElement {
    const stats = this.get<Record<string, number | null>>('stats');
    const table = el('table', { class: 'nbgrad-distribution-stats' });
    const head = table.appendChild(el('tr'));
    for (const h of ['', 'exact', `sample (n=${this.get<number>('n')}, seed ${this.get<number>('seed')})`]) {
      head.appendChild(el('th', {}, h));
    }
    for (const [name, sample] of [['mean', 'sample_mean'], ['variance', 'sample_var'],
                                  ['stddev', null], ['entropy', null]] as [string, string | null][]) {
      const row = table.appendChild(el('tr'));
      row.appendChild(el('td', {}, name));
      row.appendChild(el('td', {}, fmt(stats[name])));
      row.appendChild(el('td', {}, sample ? fmt(stats[sample]) : ''));
    }
    return table;
  }
}
