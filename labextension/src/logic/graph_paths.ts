// Which nodes and edges lie on a path from one node (a parameter) to the graph's outputs, for
// GraphView's highlight. Pure: ids and forward edges in, sets out.

export interface PathEdge { source: string; target: string }
export interface OnPaths {
  nodes: Set<string>;
  /** indices into the edges given (two edges between the same nodes are both on the path) */
  edges: Set<number>;
}

/**
 * Every node and edge on some forward path from `start` to one of `outputs` (start itself
 * included when such a path exists; when none does, only start and no edge). A node is on such a
 * path exactly when it is reachable from start and an output is reachable from it; an edge is
 * when both its ends are.
 */
export function pathsToOutputs(start: string, edges: PathEdge[], outputs: Iterable<string>): OnPaths {
  const succ = new Map<string, string[]>(), pred = new Map<string, string[]>();
  for (const e of edges) {
    if (!succ.has(e.source)) succ.set(e.source, []);
    if (!pred.has(e.target)) pred.set(e.target, []);
    succ.get(e.source)!.push(e.target);
    pred.get(e.target)!.push(e.source);
  }
  const below = reach([start], succ);             // start and everything computed from it
  const above = reach([...outputs], pred);        // the outputs and everything they depend on
  const nodes = new Set([...below].filter(n => above.has(n)));
  const on = new Set<number>();
  edges.forEach((e, i) => { if (nodes.has(e.source) && nodes.has(e.target)) on.add(i); });
  if (!nodes.size) nodes.add(start);
  return { nodes, edges: on };
}

/** The nodes reachable from `from` (included) along `next`. */
function reach(from: string[], next: Map<string, string[]>): Set<string> {
  const seen = new Set<string>(from);
  const stack = [...from];
  while (stack.length) {
    for (const m of next.get(stack.pop()!) ?? []) {
      if (!seen.has(m)) { seen.add(m); stack.push(m); }
    }
  }
  return seen;
}
