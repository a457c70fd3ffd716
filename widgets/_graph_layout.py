"""A layered drawing of a DAG (for GraphView's SVG fallback): the same positions for the same
graph, no graphviz.

Layers: longest path to a sink. A node with no consumer is in the last layer, every other node
one layer above its highest consumer, so inputs and parameters sit just above the op that uses
them rather than all at the top. Within a layer: barycenter ordering, a few sweeps down (order by
the mean position of a node's inputs) and up (of its consumers), ties kept in the previous order.
"""

SWEEPS = 4


def layers(node_ids, edges):
    """[[node id, ...] per layer], first layer first; edges: [(source, target), ...]."""
    index = {n: i for i, n in enumerate(node_ids)}
    succ = {n: [] for n in node_ids}
    pred = {n: [] for n in node_ids}
    for s, t in edges:
        if s in index and t in index and s != t:
            succ[s].append(t)
            pred[t].append(s)
    # height = longest path to a sink, computed sinks first (Kahn's order on the reversed graph)
    remaining = {n: len(succ[n]) for n in node_ids}
    ready = [n for n in node_ids if remaining[n] == 0]
    height = {}
    while ready:
        n = ready.pop()
        height[n] = max((height[t] + 1 for t in succ[n]), default=0)
        for s in pred[n]:
            remaining[s] -= 1
            if remaining[s] == 0:
                ready.append(s)
    if len(height) != len(node_ids):
        raise ValueError('the graph has a cycle; a layered layout needs a DAG')
    top = max(height.values(), default=0)
    rows = [[] for _ in range(top + 1)]
    for n in node_ids:
        rows[top - height[n]].append(n)
    _order(rows, pred, succ)
    return rows


def _order(rows, pred, succ):
    position = {n: i for row in rows for i, n in enumerate(row)}

    def sweep(sequence, neighbours):
        for row in sequence:
            def key(item):
                i, n = item
                near = [position[m] for m in neighbours[n]]
                return (sum(near) / len(near) if near else position[n], i)
            row[:] = [n for _, n in sorted(enumerate(row), key=key)]
            position.update({n: i for i, n in enumerate(row)})

    for _ in range(SWEEPS):
        sweep(rows[1:], pred)
        sweep(list(reversed(rows[:-1])), succ)


def positions(node_ids, edges, box_width, box_height, gap_x=16, gap_y=28, margin=8):
    """({id: (x, y) of the box's top left corner}, width, height) with each layer centered."""
    rows = layers(node_ids, edges)
    widest = max((len(row) for row in rows), default=0)
    width = 2 * margin + widest * box_width + max(widest - 1, 0) * gap_x
    height = 2 * margin + len(rows) * box_height + max(len(rows) - 1, 0) * gap_y
    placed = {}
    for r, row in enumerate(rows):
        row_width = len(row) * box_width + max(len(row) - 1, 0) * gap_x
        left = (width - row_width) / 2
        for i, n in enumerate(row):
            placed[n] = (left + i * (box_width + gap_x), margin + r * (box_height + gap_y))
    return placed, width, height
