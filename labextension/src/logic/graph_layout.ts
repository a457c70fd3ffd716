// A layered drawing of GraphView's DAG through dagre (bundled): boxes in, positions and edge
// routes out. Pure (no DOM), so it is unit-tested under node.
//
// Edges run in the forward direction (an input to the op that consumes it), and the layout is
// top to bottom, so parameters and inputs sit above the ops that use them and the outputs at the
// bottom. dagre is deterministic: the same nodes and edges in the same order give the same
// positions (the view relies on this to keep a drawing still when only gradients change).
//
// Laid out synchronously: dagre takes well under a second for the few hundred nodes of a
// collapsed model; a Web Worker would need a second bundle entry that the builder does not make.
import * as dagre from '@dagrejs/dagre';

export interface LayoutNode { id: string; width: number; height: number }
export interface LayoutEdge { source: string; target: string }
export interface Point { x: number; y: number }
/** A box by its top-left corner (SVG's convention, not dagre's centre). */
export interface Box { x: number; y: number; width: number; height: number; rank: number }
/** One drawn edge per input edge that joins two known nodes (index: its place in the input). */
export interface RoutedEdge { index: number; source: string; target: string; points: Point[] }
export interface Layout { nodes: Record<string, Box>; edges: RoutedEdge[]; width: number; height: number }

export interface LayoutOptions { nodesep?: number; ranksep?: number; margin?: number }

export function layoutGraph(nodes: LayoutNode[], edges: LayoutEdge[],
                            options: LayoutOptions = {}): Layout {
  const margin = options.margin ?? 12;
  // multigraph: x * x has two edges from the same node into MulBackward0; each is drawn
  const g = new dagre.graphlib.Graph({ directed: true, multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: options.nodesep ?? 24, ranksep: options.ranksep ?? 36,
               edgesep: 10, marginx: margin, marginy: margin, ranker: 'network-simplex' });
  g.setDefaultEdgeLabel(() => ({}));
  const known = new Set<string>();
  for (const n of nodes) {
    if (known.has(n.id)) continue;
    known.add(n.id);
    g.setNode(n.id, { width: n.width, height: n.height });
  }
  const kept: { index: number; source: string; target: string }[] = [];
  edges.forEach((e, index) => {
    // an edge to a node not drawn (or a self-loop, impossible in autograd's DAG) is left out
    if (!known.has(e.source) || !known.has(e.target) || e.source === e.target) return;
    g.setEdge(e.source, e.target, { minlen: 1, weight: 1 }, String(index));
    kept.push({ index, source: e.source, target: e.target });
  });
  dagre.layout(g);

  const placed: Record<string, Box> = {};
  let width = 0, height = 0;
  for (const id of known) {
    const n = g.node(id);
    placed[id] = { x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width,
                   height: n.height, rank: n.rank ?? 0 };
    width = Math.max(width, n.x + n.width / 2 + margin);
    height = Math.max(height, n.y + n.height / 2 + margin);
  }
  const routed = kept.map(e => ({
    ...e, points: attach(g.edge(e.source, e.target, String(e.index)).points,
                         placed[e.source], placed[e.target]),
  }));
  for (const e of routed) for (const p of e.points) {
    width = Math.max(width, p.x + margin);
    height = Math.max(height, p.y + margin);
  }
  return { nodes: placed, edges: routed, width, height };
}

/**
 * dagre clips a route where it meets a box on the way to the box's centre, which can be a side;
 * move its ends onto the source's bottom and the target's top (the arrow then always enters a
 * box from above), each under the neighbouring bend where that lies over the box.
 */
function attach(route: Point[], source: Box, target: Box): Point[] {
  const points = route.map(p => ({ x: p.x, y: p.y }));
  const inset = Math.min(8, source.width / 2, target.width / 2);
  const within = (x: number, b: Box) => Math.min(Math.max(x, b.x + inset), b.x + b.width - inset);
  const first = points[0], last = points[points.length - 1];
  const next = points.length > 2 ? points[1] : last, before = points.length > 2 ? points[points.length - 2] : first;
  points[0] = { x: within(next.x, source), y: source.y + source.height };
  points[points.length - 1] = { x: within(before.x, target), y: target.y };
  return points;
}

/** An SVG path through an edge's points: straight ends, quadratic curves through the bends. */
export function edgePath(points: Point[]): string {
  if (points.length === 0) return '';
  const r = (v: number) => Math.round(v * 10) / 10;
  if (points.length < 3) return points.map((p, i) => `${i ? 'L' : 'M'}${r(p.x)},${r(p.y)}`).join(' ');
  let d = `M${r(points[0].x)},${r(points[0].y)}`;
  for (let i = 1; i < points.length - 1; i++) {
    const mid = { x: (points[i].x + points[i + 1].x) / 2, y: (points[i].y + points[i + 1].y) / 2 };
    const end = i === points.length - 2 ? points[i + 1] : mid;
    d += ` Q${r(points[i].x)},${r(points[i].y)} ${r(end.x)},${r(end.y)}`;
  }
  return d;
}
