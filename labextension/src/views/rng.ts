// RNGView: every generator's seed and state fingerprint, the snapshots (each with a restore
// button), and the draw-restore-draw demonstration; the buttons send the custom messages that
// widgets/rng_view.py handles ({action: 'refresh' | 'snapshot' | 'restore' | 'demonstrate'}).
import { DOMWidgetModel, NbgradView, modelDefaults } from './base';
import { el } from '../dom';
import { fmt } from '../logic/format';
import '../../style/rng.css';

interface Generator { name: string; kind: string; initial_seed: string; fingerprint: string;
                      offset: number | null; state_bytes: number }
interface Snapshot { label: string; fingerprints: Record<string, string> }
interface Demo { n: number; before: number[]; after_restore: number[]; equal: boolean }

export class RNGViewModel extends DOMWidgetModel {
  defaults(): Record<string, unknown> {
    return { ...super.defaults(), ...modelDefaults('RNGView'), generators: [], snapshots: [],
             demo: {}, error: '' };
  }
}

export class RNGView extends NbgradView {
  protected get kind(): string { return 'rng'; }

  protected draw(): void {
    const generators = this.get<Generator[]>('generators');
    const snapshots = this.get<Snapshot[]>('snapshots');
    const demo = this.get<Demo | Record<string, never>>('demo');
    const current = Object.fromEntries(generators.map(g => [g.name, g.fingerprint]));
    this.el.replaceChildren();
    this.el.appendChild(el('div', { class: 'nbgrad-title' }, 'Random generators'));
    const toolbar = this.el.appendChild(el('div', { class: 'nbgrad-rng-toolbar' }));
    for (const [cls, text, action] of [['nbgrad-rng-refresh', 'Refresh', 'refresh'],
                                        ['nbgrad-rng-snapshot', 'Snapshot', 'snapshot'],
                                        ['nbgrad-rng-demonstrate', 'Draw, restore, draw', 'demonstrate']]) {
      const button = toolbar.appendChild(el('button', { class: `jupyter-button ${cls}` }, text));
      button.addEventListener('click', () => this.request({ action }));
    }
    const error = this.get<string>('error');
    if (error) this.el.appendChild(el('div', { class: 'nbgrad-warning' }, error));
    const table = this.el.appendChild(el('table', { class: 'nbgrad-rng-table' }));
    const head = table.appendChild(el('tr'));
    for (const h of ['Generator', 'Kind', 'Initial seed', 'Offset', 'State', 'Bytes']) {
      head.appendChild(el('th', {}, h));
    }
    for (const g of generators) {
      const row = table.appendChild(el('tr', { class: 'nbgrad-rng-row' }));
      for (const text of [g.name, g.kind, g.initial_seed, fmt(g.offset), g.fingerprint,
                          String(g.state_bytes)]) row.appendChild(el('td', {}, text));
    }
    if (snapshots.length) {
      this.el.appendChild(el('div', { class: 'nbgrad-subtitle' }, 'Snapshots'));
      const list = this.el.appendChild(el('table', { class: 'nbgrad-rng-snapshots' }));
      snapshots.forEach((s, index) => {
        const same = Object.entries(s.fingerprints).every(([name, f]) => current[name] === f);
        const row = list.appendChild(el('tr', { class: `nbgrad-rng-snapshot-row${same ? ' current' : ''}` }));
        row.appendChild(el('td', {}, `#${index}`));
        row.appendChild(el('td', {}, s.label));
        row.appendChild(el('td', {}, Object.entries(s.fingerprints).map(([n, f]) => `${n} ${f}`).join('  ')));
        row.appendChild(el('td', {}, same ? 'current state' : ''));
        const restore = row.appendChild(el('td')).appendChild(
          el('button', { class: 'jupyter-button nbgrad-rng-restore' }, 'Restore'));
        restore.addEventListener('click', () => this.request({ action: 'restore', index }));
      });
    }
    if ('before' in demo && demo.before) {
      const box = this.el.appendChild(el('div', { class: 'nbgrad-rng-demo' }));
      box.appendChild(el('div', {}, `drawn:          ${demo.before.map(x => fmt(x)).join(' ')}`));
      box.appendChild(el('div', {}, `after restore:  ${demo.after_restore.map(x => fmt(x)).join(' ')}`));
      box.appendChild(el('div', { class: demo.equal ? 'nbgrad-good' : 'nbgrad-warning' },
                         demo.equal ? 'the same numbers' : 'different numbers'));
    }
  }
}
