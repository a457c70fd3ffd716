// TrainingView: a progress bar and one line chart per metric (its val_ twin on the same axes),
// redrawn on every log. Traits: widgets/training_view.py's docstring.
import { DOMWidgetModel, NbgradView, modelDefaults } from './base';
import { el, fmt } from '../dom';
import { lineChart } from '../charts';

type Point = [number, number | null];

export class TrainingViewModel extends DOMWidgetModel {
  defaults(): Record<string, unknown> {
    return { ...super.defaults(), ...modelDefaults('TrainingView'), title: '', metrics: [],
             history: {}, latest: {}, progress: {}, status: 'running', message: '',
             nonfinite: {} };
  }
}

export class TrainingView extends NbgradView {
  protected get kind(): string { return 'training'; }

  protected draw(): void {
    const progress = this.get<Record<string, any>>('progress');
    const history = this.get<Record<string, Point[]>>('history');
    const status = this.get<string>('status');
    this.el.replaceChildren();
    const title = this.get<string>('title');
    if (title) this.el.appendChild(el('div', { class: 'nbgrad-title' }, title));
    const bar = el('div', { class: 'nbgrad-progress' });
    const total = progress.total as number | null;
    const done = (progress.done as number) || 0;
    const share = total ? Math.min(done / total, 1) : 0;
    const fill = el('div', { class: `nbgrad-progress-fill nbgrad-status-${status}` });
    fill.style.width = `${(share * 100).toFixed(1)}%`;
    bar.appendChild(fill);
    this.el.appendChild(bar);
    const latest = this.get<Record<string, number | string>>('latest');
    const parts = [total ? `${progress.unit || 'step'} ${fmt(done, 3)}/${total}` : '',
                   ...Object.entries(latest).map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : v}`),
                   status !== 'running' ? `(${status})` : ''];
    this.el.appendChild(el('div', { class: 'nbgrad-progress-text' },
                           parts.filter(Boolean).join('  ')));
    const message = this.get<string>('message');
    if (message) this.el.appendChild(el('div', { class: 'nbgrad-warning' }, message));
    const charts = el('div', { class: 'nbgrad-charts' });
    for (const metric of Object.keys(history)) {
      if (metric.startsWith('val_') && history[metric.slice(4)]) continue;
      const series: Record<string, Point[]> = { [metric]: history[metric] };
      if (history[`val_${metric}`]) series[`val_${metric}`] = history[`val_${metric}`];
      charts.appendChild(lineChart(series, { title: metric }));
    }
    this.el.appendChild(charts);
  }
}
