// ProfilerView: the profile's ops as a table sorted by the kernel (a header click writes
// `sort_by`; the rows are re-sorted here at once and replaced by the kernel's), a bar chart of
// the ops taking the most self CPU time, and the per-module breakdown. Traits:
// widgets/profiler_view.py's docstring.
import { DOMWidgetModel, NbgradView, modelDefaults } from './base';
import { el } from '../dom';
import { fmt } from '../logic/format';
import { Row, sortRows } from '../logic/table_sort';
import '../../style/profiler.css';

interface Column { key: string; field: string; label: string }

export class ProfilerViewModel extends DOMWidgetModel {
  defaults(): Record<string, unknown> {
    return { ...super.defaults(), ...modelDefaults('ProfilerView'), rows: [], sort_by: '',
             row_limit: 20, columns: [], modules: [], totals: {}, title: '' };
  }
}

function time(us: unknown): string {
  if (typeof us !== 'number') return '-';
  if (us >= 1e6) return `${fmt(us / 1e6, 3)} s`;
  if (us >= 1e3) return `${fmt(us / 1e3, 4)} ms`;
  return `${fmt(us, 4)} us`;
}

function flops(count: unknown): string {
  if (typeof count !== 'number' || count === 0) return '-';
  const units: [number, string][] = [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'K']];
  for (const [scale, unit] of units) {
    if (count >= scale) return `${(count / scale).toFixed(3)} ${unit}FLOPs`;
  }
  return `${count} FLOPs`;
}

function cell(field: string, value: unknown): string {
  if (field === 'flops') return flops(value);
  if (field.endsWith('_us')) return time(value);
  if (field.endsWith('_bytes')) return typeof value === 'number' ? `${fmt(value / 1024, 3)} kB` : '-';
  if (field.endsWith('_share')) return typeof value === 'number' ? `${value.toFixed(2)}%` : '-';
  return value === null || value === undefined ? '-' : String(value);
}

export class ProfilerView extends NbgradView {
  protected get kind(): string { return 'profiler'; }
  private pending: string | null = null;     // a clicked sort key the kernel has not echoed

  protected draw(rows?: Row[]): void {
    const columns = this.get<Column[]>('columns');
    const sortBy = this.pending ?? this.get<string>('sort_by');
    const sorted = columns.find(c => c.key === sortBy);
    // the kernel's rows come sorted by sort_by; until those for a newly clicked key arrive (the
    // click's own change event redraws first), the model's are sorted here: a stable sort
    // leaves the kernel's order, ties included, as it is
    rows = rows ?? this.get<Row[]>('rows');
    if (sorted) rows = sortRows(rows, sorted.field);
    if (this.pending === this.get<string>('sort_by')) this.pending = null;
    this.el.replaceChildren();
    this.el.appendChild(el('div', { class: 'nbgrad-title' }, this.get<string>('title')));
    // columns whose values are all zero (CUDA on the CPU, memory unrecorded) are left out;
    // '# of Calls' is the kernel's 'count' column
    const shown = columns.filter(c => c.key === sortBy || c.key === 'count' ||
      rows!.some(r => typeof r[c.field] === 'number' && r[c.field] !== 0));
    const table = el('table', { class: 'nbgrad-profiler-table' });
    const head = el('tr');
    head.appendChild(el('th', {}, 'Name'));
    for (const column of shown) {
      const th = el('th', { 'data-sort': column.key,
                            class: column.key === sortBy ? 'sorted' : '' }, column.label);
      th.addEventListener('click', () => this.sortBy(column.key, column.field));
      head.appendChild(th);
    }
    table.appendChild(el('thead')).appendChild(head);
    const body = table.appendChild(el('tbody'));
    for (const row of rows) {
      const tr = el('tr', { class: `nbgrad-profiler-row nbgrad-profiler-${row.kind}` });
      tr.appendChild(el('td', { 'data-field': 'name' }, String(row.name)));
      for (const column of shown) {
        tr.appendChild(el('td', { 'data-field': column.field }, cell(column.field, row[column.field])));
      }
      body.appendChild(tr);
    }
    this.el.appendChild(table);
    this.el.appendChild(this.bars(rows));
    this.el.appendChild(this.modules());
  }

  private sortBy(key: string, field: string): void {
    this.pending = key;
    this.draw(sortRows(this.get<Row[]>('rows'), field));    // at once; the kernel's rows follow
    this.set('sort_by', key);
  }

  private bars(rows: Row[]): HTMLElement {
    const top = sortRows(rows, 'self_cpu_share').slice(0, 8);
    const box = el('div', { class: 'nbgrad-profiler-bars' });
    box.appendChild(el('div', { class: 'nbgrad-subtitle' }, 'Top ops by self CPU time'));
    for (const row of top) {
      const share = Number(row.self_cpu_share) || 0;
      const line = box.appendChild(el('div', { class: 'nbgrad-profiler-bar-line' }));
      line.appendChild(el('span', { class: 'nbgrad-profiler-bar-name' }, String(row.name)));
      const bar = line.appendChild(el('span', { class: 'nbgrad-profiler-bar' }));
      bar.style.width = `${Math.max(share, 0.5) * 2}px`;
      line.appendChild(el('span', {}, `${share.toFixed(1)}%`));
    }
    return box;
  }

  private modules(): HTMLElement {
    const modules = this.get<Row[]>('modules');
    const box = el('div', { class: 'nbgrad-profiler-modules' });
    if (!modules.length) {
      box.appendChild(el('div', { class: 'nbgrad-note' },
                         'Per-module times: profile with with_modules=True (%%profile --modules).'));
      return box;
    }
    const table = box.appendChild(el('table'));
    const head = table.appendChild(el('tr'));
    for (const h of ['Module', 'Type', 'Calls', 'Forward CPU', 'Share', 'Backward']) {
      head.appendChild(el('th', {}, h));
    }
    for (const m of modules) {
      const tr = table.appendChild(el('tr', { class: 'nbgrad-profiler-module' }));
      for (const text of [m.path === '' ? '(model)' : String(m.path), String(m.type),
                          String(m.calls), time(m.cpu_total_us), cell('share', m.share),
                          time(m.backward_us)]) {
        tr.appendChild(el('td', {}, text));
      }
    }
    return box;
  }
}
