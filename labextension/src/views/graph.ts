// GraphView: the computation graph as a layered DAG (dagre, src/logic/graph_layout.ts) in an SVG
// that pans (drag) and zooms (wheel). Click a node for every field the kernel sent about it;
// clicking a parameter (or a collapsed module holding parameters, or another leaf) highlights
// every path from it to the outputs. A toolbar writes `collapse_depth`; a collapsed module
// expands on double-click or its '+' (appended to `expanded`); the kernel then sends a new
// `graph` and the view redraws. Traits: widgets/graph_view.py's docstring.
import { DOMWidgetModel, NbgradView, modelDefaults } from './base';
import { el, fmt, svgEl } from '../dom';
import { Layout, edgePath, layoutGraph } from '../logic/graph_layout';
import { pathsToOutputs } from '../logic/graph_paths';
import '../../style/graph.css';

interface GradStats {
  norm: number | null; mean: number | null; std: number | null; min: number | null;
  max: number | null; numel: number; nan_count: number; inf_count: number;
}
interface GraphNode {
  id: string; kind: 'op' | 'leaf' | 'output' | 'module'; label: string; op?: string;
  shape: number[] | null; dtype: string | null; device: string | null; is_leaf: boolean;
  is_parameter: boolean; module: string | null; num_outputs?: number; has_grad?: boolean;
  grad_norm?: number | null; op_count?: number; parameters?: string[]; output?: string | null;
  grad?: GradStats; [field: string]: unknown;
}
interface GraphEdge { source: string; target: string; output_nr?: number; input_nr?: number; count?: number }
interface GraphData { nodes?: GraphNode[]; edges?: GraphEdge[]; modules?: Record<string, { type: string; output: string | null }> }

// the static fallback's box (widgets/graph_view.py: BOX_WIDTH, BOX_HEIGHT, LINE, 25 characters)
const BOX_W = 172, BOX_H = 72, LINE = 13, MAX_CHARS = 25;
// graphs this big are laid out in a Web Worker (dagre takes about 0.1 s per 100 nodes)
const WORKER_NODES = 150;
const MIN_SCALE = 0.05, MAX_SCALE = 4;

export class GraphViewModel extends DOMWidgetModel {
  defaults(): Record<string, unknown> {
    return { ...super.defaults(), ...modelDefaults('GraphView'),
             graph: { nodes: [], edges: [], modules: {} }, collapse_depth: null, expanded: [] };
  }
}

export class GraphView extends NbgradView {
  private layout: Layout | null = null;
  private layoutKey = '';
  /** pan and zoom; null until fitted (refitted whenever the graph's structure changes) */
  private transform: { x: number; y: number; k: number } | null = null;
  private selected: string | null = null;
  private viewport: SVGGElement | null = null;
  private canvas: HTMLDivElement | null = null;
  private svg: SVGSVGElement | null = null;
  private details: HTMLDivElement | null = null;
  private dragged = false;
  /** the layout worker: undefined until a big graph needs it, null where none can start */
  private worker: Worker | null | undefined = undefined;
  private pendingKey = '';

  protected get kind(): string { return 'graph'; }

  private graph(): Required<GraphData> {
    const g = this.get<GraphData>('graph') || {};
    return { nodes: g.nodes || [], edges: g.edges || [], modules: g.modules || {} };
  }

  protected draw(): void {
    const graph = this.graph();
    // lay out again only when the boxes or edges changed, not when gradients arrived
    const key = JSON.stringify([graph.nodes.map(n => n.id), graph.edges.map(e => [e.source, e.target])]);
    if (key !== this.layoutKey || !this.layout) {
      const boxes = graph.nodes.map(n => ({ id: n.id, width: BOX_W, height: BOX_H }));
      if (graph.nodes.length >= WORKER_NODES && this.layoutInWorker(key, boxes, graph.edges)) {
        this.el.replaceChildren(this.toolbar(graph), el('div', { class: 'nbgrad-graph-pending' },
                                `Laying out ${graph.nodes.length} nodes...`));
        return;                     // drawn when the worker answers
      }
      this.layout = layoutGraph(boxes, graph.edges);
      this.layoutKey = key;
      this.transform = null;
    }
    if (this.selected !== null && !graph.nodes.some(n => n.id === this.selected)) this.selected = null;
    this.el.replaceChildren(this.toolbar(graph));
    if (!graph.nodes.length) {
      this.el.appendChild(el('div', { class: 'nbgrad-graph-empty' }, 'No graph to draw.'));
      return;
    }
    const body = el('div', { class: 'nbgrad-graph-body' });
    body.append(this.drawing(graph, this.layout), this.details = el('div', { class: 'nbgrad-graph-details' }));
    this.el.appendChild(body);
    this.select(this.selected);
    this.applyTransform();
  }

  /** Ask the layout worker for this layout (once per key); false when there is no worker. */
  private layoutInWorker(key: string, boxes: unknown[], edges: unknown[]): boolean {
    if (this.worker === undefined) {
      try {
        this.worker = new Worker(new URL('../workers/layout.js', import.meta.url));
        this.worker.onmessage = (event: MessageEvent) => {
          if (event.data.key !== this.pendingKey) return;        // an older graph's layout
          this.layout = event.data.layout;
          this.layoutKey = event.data.key;
          this.transform = null;
          this.draw();
        };
        this.worker.onerror = () => {        // no worker after all: lay out here
          this.worker?.terminate();
          this.worker = null;
          this.pendingKey = '';
          this.draw();
        };
      } catch {
        this.worker = null;
      }
    }
    if (this.worker === null) return false;
    if (this.pendingKey !== key) {
      this.pendingKey = key;
      this.worker.postMessage({ key, boxes, edges });
    }
    return true;
  }

  remove(): void {
    this.worker?.terminate();
    super.remove();
  }

  // -- toolbar: summary, depth selector, expanded modules, fit -----------------------------------
  private toolbar(graph: Required<GraphData>): HTMLElement {
    const bar = el('div', { class: 'nbgrad-graph-toolbar' });
    const count = (kind: string) => graph.nodes.filter(n => n.kind === kind).length;
    const params = graph.nodes.filter(n => n.is_parameter).length;
    const inside = graph.nodes.reduce((sum, n) => sum + (n.kind === 'module' ? n.parameters?.length ?? 0 : 0), 0);
    const parts = [`${count('op')} ops`, `${params} parameters${inside ? ` (+${inside} inside modules)` : ''}`];
    if (count('module')) parts.push(`${count('module')} collapsed modules`);
    bar.appendChild(el('span', { class: 'nbgrad-graph-summary' },
                       `${graph.nodes.length} nodes (${parts.join(', ')}), ${graph.edges.length} edges`));

    const depth = this.get<number | null>('collapse_depth');
    const paths = Object.keys(graph.modules);
    const deepest = Math.max(0, ...paths.map(p => (p === '' ? 0 : p.split('.').length)));
    const select = el('select', { class: 'nbgrad-graph-depth', title: 'draw the modules this deep as one node each' });
    const options: [string, string][] = [['all', 'every op']];
    for (let d = 0; d <= Math.max(deepest, depth ?? 0); d++) {
      options.push([String(d), d === 0 ? 'depth 0 (whole model)' : `depth ${d}`]);
    }
    for (const [value, text] of options) select.appendChild(el('option', { value }, text));
    select.value = depth === null ? 'all' : String(depth);
    select.disabled = !paths.length;
    if (!paths.length) select.title = 'no module information: make the view from a module, GraphView(model, x)';
    select.addEventListener('change', () => {
      // as GraphView.collapse(depth): a new depth starts with nothing expanded
      if (this.get<string[]>('expanded').length) this.model.set('expanded', []);
      this.set('collapse_depth', select.value === 'all' ? null : Number(select.value));
    });
    bar.append(el('label', {}, 'modules: '), select);

    for (const path of this.get<string[]>('expanded')) {
      const chip = el('button', { class: 'nbgrad-graph-expanded', title: `collapse ${path} again` },
                      `${path} \u00d7`);
      chip.addEventListener('click', () =>
        this.set('expanded', this.get<string[]>('expanded').filter(p => p !== path)));
      bar.appendChild(chip);
    }
    const fit = el('button', { class: 'nbgrad-graph-fit', title: 'fit the graph in view' }, 'fit');
    fit.addEventListener('click', () => { this.transform = null; this.applyTransform(); });
    bar.appendChild(fit);
    bar.appendChild(el('span', { class: 'nbgrad-graph-hint' },
                       'drag: pan, wheel: zoom, click: details, double-click a module: expand'));
    return bar;
  }

  private expand(path: string): void {
    const expanded = this.get<string[]>('expanded');
    if (!expanded.includes(path)) this.set('expanded', [...expanded, path]);
  }

  // -- the SVG ----------------------------------------------------------------------------------
  private drawing(graph: Required<GraphData>, layout: Layout): HTMLElement {
    const canvas = this.canvas = el('div', { class: 'nbgrad-graph-canvas' });
    canvas.style.height = `${Math.round(Math.min(Math.max(layout.height + 8, 160), 560))}px`;
    const svg = this.svg = svgEl('svg', { class: 'nbgrad-graph-svg', width: '100%', height: '100%' }) as SVGSVGElement;
    const defs = svgEl('defs');
    for (const [suffix, cls] of [['', 'nbgrad-graph-arrow'], ['-hl', 'nbgrad-graph-arrow-highlight']]) {
      const marker = svgEl('marker', { id: this.markerId(suffix), viewBox: '0 0 10 10', refX: 10, refY: 5,
                                       markerWidth: 7, markerHeight: 7, orient: 'auto' });
      marker.appendChild(svgEl('path', { d: 'M0,0 L10,5 L0,10 z', class: cls }));
      defs.appendChild(marker);
    }
    svg.appendChild(defs);
    const viewport = this.viewport = svgEl('g', { class: 'nbgrad-graph-viewport' }) as SVGGElement;
    const edges = svgEl('g', { class: 'nbgrad-graph-edges' });
    for (const e of layout.edges) {
      const data = graph.edges[e.index];
      const path = svgEl('path', { class: 'nbgrad-graph-edge', d: edgePath(e.points), 'data-index': e.index,
                                   'data-source': e.source, 'data-target': e.target,
                                   'marker-end': `url(#${this.markerId('')})` });
      if (data.count && data.count > 1) path.appendChild(svgEl('title', {}, `${data.count} edges`));
      edges.appendChild(path);
    }
    const nodes = svgEl('g', { class: 'nbgrad-graph-nodes' });
    for (const n of graph.nodes) nodes.appendChild(this.box(n, layout.nodes[n.id]));
    viewport.append(edges, nodes);
    svg.appendChild(viewport);
    canvas.appendChild(svg);
    this.listen(canvas);
    new ResizeObserver(() => { if (!this.transform) this.applyTransform(); }).observe(canvas);
    return canvas;
  }

  private markerId(suffix: string): string { return `nbgrad-graph-arrow-${this.cid}${suffix}`; }

  private box(n: GraphNode, at: { x: number; y: number }): SVGElement {
    const grad = gradText(n);
    const classes = ['nbgrad-graph-node', `nbgrad-graph-${n.kind}`];
    if (n.is_parameter) classes.push('nbgrad-graph-param');
    if (grad?.bad) classes.push('nbgrad-graph-nonfinite');
    const g = svgEl('g', { class: classes.join(' '), 'data-id': n.id, transform: `translate(${at.x},${at.y})` });
    g.appendChild(svgEl('rect', { width: BOX_W, height: BOX_H, rx: 4 }));
    const lines = [title(n), shapeText(n.shape), `${n.dtype ?? '-'} ${n.device ?? '-'}`];
    if (n.kind === 'module') lines.splice(1, 0, contents(n));
    if (grad) lines.push(`|grad| ${grad.text}`);
    lines.forEach((line, i) => {
      const short = line.length <= MAX_CHARS ? line : `${line.slice(0, MAX_CHARS - 1)}\u2026`;
      const cls = i === 0 ? 'nbgrad-graph-label' : grad && i === lines.length - 1 ? 'nbgrad-graph-grad' : '';
      g.appendChild(svgEl('text', { x: 6, y: 14 + i * LINE, class: cls }, short));
    });
    g.appendChild(svgEl('title', {}, lines.join('\n')));
    if (n.kind === 'module') {
      const plus = svgEl('g', { class: 'nbgrad-graph-expand', transform: `translate(${BOX_W - 18},3)` });
      plus.append(svgEl('rect', { width: 15, height: 15, rx: 3 }),
                  svgEl('text', { x: 7.5, y: 12, 'text-anchor': 'middle' }, '+'),
                  svgEl('title', {}, `expand ${n.module || '(model)'}`));
      plus.addEventListener('click', event => { event.stopPropagation(); this.expand(n.module ?? ''); });
      g.appendChild(plus);
      g.addEventListener('dblclick', () => this.expand(n.module ?? ''));
    }
    return g;
  }

  // -- pan, zoom, click -------------------------------------------------------------------------
  private listen(canvas: HTMLDivElement): void {
    canvas.addEventListener('pointerdown', down => {
      if (down.button !== 0 || (down.target as Element).closest('.nbgrad-graph-expand')) return;
      const start = this.current(), x0 = down.clientX, y0 = down.clientY;
      this.dragged = false;
      // listen on window (no pointer capture: it would retarget the click away from the node)
      const move = (ev: PointerEvent) => {
        const dx = ev.clientX - x0, dy = ev.clientY - y0;
        if (!this.dragged && Math.hypot(dx, dy) < 4) return;
        this.dragged = true;
        canvas.classList.add('nbgrad-graph-panning');
        this.transform = { x: start.x + dx, y: start.y + dy, k: start.k };
        this.applyTransform();
      };
      const up = () => {
        window.removeEventListener('pointermove', move);
        window.removeEventListener('pointerup', up);
        canvas.classList.remove('nbgrad-graph-panning');
      };
      window.addEventListener('pointermove', move);
      window.addEventListener('pointerup', up);
    });
    canvas.addEventListener('wheel', ev => {
      ev.preventDefault();   // zoom the drawing, not scroll the notebook
      const t = this.current(), r = canvas.getBoundingClientRect();
      const k = clamp(t.k * Math.exp(-ev.deltaY * (ev.deltaMode === 1 ? 0.05 : 0.0015)), MIN_SCALE, MAX_SCALE);
      const px = ev.clientX - r.left, py = ev.clientY - r.top;   // keep the point under the cursor
      this.transform = { x: px - (px - t.x) * k / t.k, y: py - (py - t.y) * k / t.k, k };
      this.applyTransform();
    }, { passive: false });
    canvas.addEventListener('click', ev => {
      if (this.dragged) { this.dragged = false; return; }
      const node = (ev.target as Element).closest('.nbgrad-graph-node');
      this.select(node ? node.getAttribute('data-id') : null);
    });
  }

  private current(): { x: number; y: number; k: number } {
    if (!this.transform) this.applyTransform();
    return this.transform ?? { x: 0, y: 0, k: 1 };
  }

  /** Apply the pan and zoom; without one yet, fit the drawing (once the canvas has a size). */
  private applyTransform(): void {
    const canvas = this.canvas, layout = this.layout;
    if (!canvas || !layout || !this.viewport) return;
    if (!this.transform) {
      const width = canvas.clientWidth, height = canvas.clientHeight;
      if (!width) return;   // not in the page yet: the ResizeObserver fits it when it is
      const k = clamp(Math.min(width / layout.width, height / layout.height, 1), 0.3, 1);
      this.transform = { x: Math.max((width - layout.width * k) / 2, 0),
                         y: Math.max((height - layout.height * k) / 2, 0), k };
    }
    const { x, y, k } = this.transform;
    this.viewport.setAttribute('transform', `translate(${x.toFixed(1)},${y.toFixed(1)}) scale(${k.toFixed(4)})`);
  }

  // -- selection, highlight, details ------------------------------------------------------------
  private select(id: string | null): void {
    this.selected = id;
    const svg = this.svg, graph = this.graph();
    if (!svg || !this.details) return;
    const node = graph.nodes.find(n => n.id === id) ?? null;
    for (const g of Array.from(svg.querySelectorAll('.nbgrad-graph-node'))) {
      g.classList.toggle('nbgrad-graph-selected', g.getAttribute('data-id') === id);
    }
    const highlighted = node && highlights(node) ? onPaths(node.id, graph) : null;
    svg.classList.toggle('nbgrad-graph-highlighting', highlighted !== null);
    for (const g of Array.from(svg.querySelectorAll('.nbgrad-graph-node'))) {
      g.classList.toggle('nbgrad-graph-highlight', !!highlighted?.nodes.has(g.getAttribute('data-id') ?? ''));
    }
    for (const p of Array.from(svg.querySelectorAll('.nbgrad-graph-edge'))) {
      const on = !!highlighted?.edges.has(Number(p.getAttribute('data-index')));
      p.classList.toggle('nbgrad-graph-highlight', on);
      p.setAttribute('marker-end', `url(#${this.markerId(on ? '-hl' : '')})`);
    }
    this.showDetails(node, graph, highlighted?.nodes.size ?? 0);
  }

  private showDetails(n: GraphNode | null, graph: Required<GraphData>, onPath: number): void {
    const panel = this.details!;
    panel.replaceChildren();
    panel.classList.toggle('nbgrad-graph-details-empty', !n);
    if (!n) { panel.appendChild(el('div', { class: 'nbgrad-graph-hint' }, 'Click a node for its details.')); return; }
    const head = el('div', { class: 'nbgrad-graph-details-title' }, title(n));
    const close = el('button', { class: 'nbgrad-graph-close', title: 'close' }, '\u00d7');
    close.addEventListener('click', () => this.select(null));
    head.appendChild(close);
    panel.appendChild(head);
    const table = el('table');
    const row = (key: string, value: string, bad = false) => {
      const tr = el('tr');
      tr.append(el('th', {}, key), el('td', bad ? { class: 'nbgrad-graph-bad' } : {}, value));
      table.appendChild(tr);
    };
    for (const [key, value] of Object.entries(n)) {
      if (key === 'grad') continue;
      if (key === 'module') row(key, moduleText(value as string | null, graph));
      else if (key === 'grad_norm') {
        row(key, value === null ? 'nan or inf' : show(value), !Number.isFinite(value as number | null));
      }
      else if (key === 'shape') row(key, shapeText(value as number[] | null));
      else row(key, show(value));
    }
    const label = (id: string) => graph.nodes.find(m => m.id === id)?.label ?? id;
    const inputs = graph.edges.filter(e => e.target === n.id).map(e => label(e.source));
    const users = graph.edges.filter(e => e.source === n.id).map(e => label(e.target));
    if (inputs.length) row('inputs', inputs.join(', '));
    if (users.length) row('used by', users.join(', '));
    if (n.grad) {
      for (const [key, value] of Object.entries(n.grad)) {
        const bad = (key === 'nan_count' || key === 'inf_count') && (value as number) > 0;
        // a null norm is NaN or inf (JSON has neither): name it from the counts, as the box does
        const text = key === 'norm' && value === null ? gradText(n)!.text.split(' ')[0] : show(value);
        row(`grad ${key}`, text, bad || (key === 'norm' && value === null));
      }
    }
    panel.appendChild(table);
    if (onPath) {
      panel.appendChild(el('div', { class: 'nbgrad-graph-hint' },
                           `highlighted: ${onPath} nodes on the paths from ${n.label} to the outputs`));
    }
    if (n.kind === 'module') {
      const button = el('button', { class: 'nbgrad-graph-expand-button' }, `expand ${n.module || '(model)'}`);
      button.addEventListener('click', () => this.expand(n.module ?? ''));
      panel.appendChild(button);
    }
  }
}

// ---------------------------------------------------------------------------------------------

/** Whether clicking the node highlights its paths to the outputs: a parameter (any leaf), or a
 *  collapsed module with parameters inside. */
function highlights(n: GraphNode): boolean {
  return n.kind === 'leaf' || (n.kind === 'module' && !!n.parameters?.length);
}

function onPaths(id: string, graph: Required<GraphData>) {
  let outputs = graph.nodes.filter(n => n.kind === 'output').map(n => n.id);
  if (!outputs.length) {   // (every exported graph has output nodes; else its sinks)
    const sources = new Set(graph.edges.map(e => e.source));
    outputs = graph.nodes.filter(n => !sources.has(n.id)).map(n => n.id);
  }
  return pathsToOutputs(id, graph.edges, outputs);
}

/** The box's first line, as the static fallback's (an op by its label: 'Addmm'). */
function title(n: GraphNode): string {
  if (n.kind === 'module') return n.label === n.op ? n.label : `${n.label || '(model)'} (${n.op})`;
  return n.label;
}

function contents(n: GraphNode): string {
  const ops = n.op_count ?? 0, params = n.parameters?.length ?? 0;
  return `${ops} op${ops === 1 ? '' : 's'}, ${params} param${params === 1 ? '' : 's'}`;
}

function shapeText(shape: number[] | null | undefined): string {
  return shape ? `[${shape.join(', ')}]` : '-';
}

function moduleText(path: string | null, graph: Required<GraphData>): string {
  if (path === null) return '-';
  const type = graph.modules[path]?.type;
  return `${path === '' ? '(model)' : path}${type ? ` (${type})` : ''}`;
}

/** '|grad|' text as the fallback writes it: the gradient statistics' norm (else a leaf's .grad
 *  norm) and nan/inf counts; bad when the gradient is not finite (null norms are NaN or inf). */
function gradText(n: GraphNode): { text: string; bad: boolean } | null {
  if (n.grad) {
    const { norm, nan_count: nans, inf_count: infs } = n.grad;
    const flags = (nans ? ` nan:${nans}` : '') + (infs ? ` inf:${infs}` : '');
    // a null norm is NaN (some element is) or inf: say which the counts tell
    const shown = norm !== null ? fmt(norm) : nans ? 'nan' : infs ? 'inf' : 'nan/inf';
    return { text: shown + flags, bad: !!(nans || infs || norm === null) };
  }
  if (n.grad_norm !== undefined) {
    const norm = n.grad_norm;
    return norm === null ? { text: 'nan/inf', bad: true } : { text: fmt(norm), bad: !Number.isFinite(norm) };
  }
  return null;
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number') return fmt(value);
  if (Array.isArray(value)) return value.length ? value.map(v => show(v)).join(', ') : '(none)';
  if (typeof value === 'string') return value === '' ? "''" : value;
  return String(value);
}

function clamp(x: number, lo: number, hi: number): number { return Math.min(Math.max(x, lo), hi); }
