import { test } from 'node:test';
import assert from 'node:assert';
import { Box, Layout, LayoutEdge, edgePath, layoutGraph } from '../logic/graph_layout';
import { pathsToOutputs } from '../logic/graph_paths';

const W = 172, H = 72;
const boxes = (ids: string[]) => ids.map(id => ({ id, width: W, height: H }));

// two parameters -> addmm -> relu -> output, in the order GraphView sends them (outputs first)
const SMALL_IDS = ['out0', 'relu', 'addmm', 'weight', 'bias'];
const SMALL_EDGES: LayoutEdge[] = [
  { source: 'relu', target: 'out0' }, { source: 'addmm', target: 'relu' },
  { source: 'weight', target: 'addmm' }, { source: 'bias', target: 'addmm' },
];

// GraphView(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), (3, 4)).graph's ids and
// edges, as the Python side exported them
const MLP_IDS = ['out0', 'n0', 'n3', 'n2', 'n1', 'n4', 'n6', 'n5'];
const MLP_EDGES: LayoutEdge[] = [
  { source: 'n0', target: 'out0' }, { source: 'n1', target: 'n0' }, { source: 'n2', target: 'n0' },
  { source: 'n3', target: 'n0' }, { source: 'n4', target: 'n1' }, { source: 'n5', target: 'n4' },
  { source: 'n6', target: 'n4' },
];

const overlap = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

function assertWellDrawn(layout: Layout, ids: string[], edges: LayoutEdge[]) {
  assert.deepStrictEqual(Object.keys(layout.nodes).sort(), [...ids].sort());
  for (const id of ids) {
    const b = layout.nodes[id];
    assert.strictEqual(b.width, W); assert.strictEqual(b.height, H);
    assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.width <= layout.width && b.y + b.height <= layout.height,
              `${id} inside the drawing`);
  }
  for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) {
    assert.ok(!overlap(layout.nodes[ids[i]], layout.nodes[ids[j]]), `${ids[i]} and ${ids[j]} overlap`);
  }
  // every edge points down: its source's box ends above its target's box begins, and its route
  // starts on the source's box, ends on the target's, and never climbs
  assert.strictEqual(layout.edges.length, edges.length);
  for (const e of layout.edges) {
    const s = layout.nodes[e.source], t = layout.nodes[e.target];
    assert.ok(s.y + s.height <= t.y, `${e.source} -> ${e.target} points down`);
    const first = e.points[0], last = e.points[e.points.length - 1];
    assert.ok(Math.abs(first.y - (s.y + s.height)) < 1e-6, 'route leaves the source box bottom');
    assert.ok(Math.abs(last.y - t.y) < 1e-6, 'route enters the target box top');
    for (let k = 1; k < e.points.length; k++) assert.ok(e.points[k].y >= e.points[k - 1].y);
  }
}

test('layoutGraph: two parameters -> addmm -> relu -> output, in layers top to bottom', () => {
  const layout = layoutGraph(boxes(SMALL_IDS), SMALL_EDGES);
  assertWellDrawn(layout, SMALL_IDS, SMALL_EDGES);
  const y = (id: string) => layout.nodes[id].y;
  assert.strictEqual(y('weight'), y('bias'), 'both parameters in the first layer');
  assert.ok(y('weight') < y('addmm') && y('addmm') < y('relu') && y('relu') < y('out0'));
  // four layers of boxes 72 high, 36 apart (ranksep), 12 margin: 4*72 + 3*36 + 2*12
  assert.strictEqual(layout.height, 4 * 72 + 3 * 36 + 24);
  // two boxes side by side, 24 apart (nodesep): 2*172 + 24 + 2*12
  assert.strictEqual(layout.width, 2 * 172 + 24 + 24);
});

test('layoutGraph: the MLP GraphView exports (outputs first, as sent) is drawn inputs first', () => {
  const layout = layoutGraph(boxes(MLP_IDS), MLP_EDGES);
  assertWellDrawn(layout, MLP_IDS, MLP_EDGES);
  const y = (id: string) => layout.nodes[id].y;
  // 0.weight, 0.bias -> addmm -> relu -> addmm (with 2.weight, 2.bias) -> output
  assert.ok(y('n5') < y('n4') && y('n4') < y('n1') && y('n1') < y('n0') && y('n0') < y('out0'));
  assert.ok(Math.max(y('n2'), y('n3')) < y('n0'));
  assert.strictEqual(Math.max(...MLP_IDS.map(y)), y('out0'), 'the output is the lowest box');
});

test('layoutGraph is deterministic', () => {
  const a = layoutGraph(boxes(MLP_IDS), MLP_EDGES);
  const b = layoutGraph(boxes(MLP_IDS), MLP_EDGES);
  assert.deepStrictEqual(a, b);
  assert.deepStrictEqual(layoutGraph(boxes(SMALL_IDS), SMALL_EDGES),
                         layoutGraph(boxes(SMALL_IDS), SMALL_EDGES));
});

test('layoutGraph routes both edges of x * x and leaves out edges to unknown nodes', () => {
  const ids = ['out0', 'mul', 'x'];
  const edges = [{ source: 'mul', target: 'out0' }, { source: 'x', target: 'mul' },
                 { source: 'x', target: 'mul' }, { source: 'ghost', target: 'mul' }];
  const layout = layoutGraph(boxes(ids), edges);
  assert.deepStrictEqual(layout.edges.map(e => e.index), [0, 1, 2]);
  assertWellDrawn(layout, ids, edges.slice(0, 3));
});

test('layoutGraph of nothing is an empty drawing', () => {
  const layout = layoutGraph([], []);
  assert.deepStrictEqual(layout.nodes, {});
  assert.deepStrictEqual(layout.edges, []);
});

test('edgePath: straight segments, quadratic curves through the bends', () => {
  assert.strictEqual(edgePath([]), '');
  assert.strictEqual(edgePath([{ x: 0, y: 0 }, { x: 10, y: 20 }]), 'M0,0 L10,20');
  assert.strictEqual(edgePath([{ x: 0, y: 0 }, { x: 5, y: 10 }, { x: 10, y: 20 }]), 'M0,0 Q5,10 10,20');
  // four points: a curve to the middle of the second segment, then to the end
  assert.strictEqual(edgePath([{ x: 0, y: 0 }, { x: 0, y: 10 }, { x: 10, y: 20 }, { x: 10, y: 30 }]),
                     'M0,0 Q0,10 5,15 Q10,20 10,30');
});

// A hand-made graph: w1 and x feed mm1 -> relu -> mm2 (with w2) -> out0; relu also feeds a dead
// end 'side' (a sink that is not an output); w2 also feeds mm3 -> out1.
const HAND: LayoutEdge[] = [
  { source: 'w1', target: 'mm1' },    // 0
  { source: 'x', target: 'mm1' },     // 1
  { source: 'mm1', target: 'relu' },  // 2
  { source: 'relu', target: 'mm2' },  // 3
  { source: 'w2', target: 'mm2' },    // 4
  { source: 'mm2', target: 'out0' },  // 5
  { source: 'relu', target: 'side' }, // 6
  { source: 'w2', target: 'mm3' },    // 7
  { source: 'mm3', target: 'out1' },  // 8
];
const sorted = (s: Set<string | number>) => [...s].sort();

test('pathsToOutputs: the nodes and edges on every path from a parameter to the outputs', () => {
  const w1 = pathsToOutputs('w1', HAND, ['out0', 'out1']);
  assert.deepStrictEqual(sorted(w1.nodes), ['mm1', 'mm2', 'out0', 'relu', 'w1']);
  assert.deepStrictEqual([...w1.edges].sort(), [0, 2, 3, 5]);   // not x's edge, not the dead end
  const w2 = pathsToOutputs('w2', HAND, ['out0', 'out1']);
  assert.deepStrictEqual(sorted(w2.nodes), ['mm2', 'mm3', 'out0', 'out1', 'w2']);
  assert.deepStrictEqual([...w2.edges].sort(), [4, 5, 7, 8]);
  const w2only0 = pathsToOutputs('w2', HAND, ['out0']);
  assert.deepStrictEqual(sorted(w2only0.nodes), ['mm2', 'out0', 'w2']);
  assert.deepStrictEqual([...w2only0.edges].sort(), [4, 5]);
});

test('pathsToOutputs: both edges of x * x; a node with no path is alone', () => {
  const edges = [{ source: 'x', target: 'mul' }, { source: 'x', target: 'mul' },
                 { source: 'mul', target: 'out0' }];
  const on = pathsToOutputs('x', edges, ['out0']);
  assert.deepStrictEqual(sorted(on.nodes), ['mul', 'out0', 'x']);
  assert.deepStrictEqual([...on.edges].sort(), [0, 1, 2]);
  const none = pathsToOutputs('side', HAND, ['out0', 'out1']);
  assert.deepStrictEqual(sorted(none.nodes), ['side']);
  assert.strictEqual(none.edges.size, 0);
  // an output itself is on its own (empty) path
  assert.deepStrictEqual(sorted(pathsToOutputs('out0', HAND, ['out0']).nodes), ['out0']);
});
