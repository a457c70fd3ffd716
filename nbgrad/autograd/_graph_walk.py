"""Reachability in the backward graph, for the engine: how many edges point at each node
reachable from the roots (a node runs once all of them have delivered), and which nodes lead
down to a set of targets (autograd.grad and backward(inputs=) run only those)."""


def count_dependencies(root_edges):
    """How many edges point at each node reachable from the roots (iterative DFS).

    Every reachable node gets an entry (roots start at 0), so "has an entry" doubles as
    "already visited" and each node's edges are walked once."""
    dependencies = {}
    for (node, _), _ in root_edges:
        dependencies[node] = 0
    stack = list(dependencies)
    pop, push = stack.pop, stack.append
    while stack:
        for edge in pop()._edges:
            if edge is not None:
                child = edge[0]
                if child in dependencies:
                    dependencies[child] += 1
                else:
                    dependencies[child] = 1
                    push(child)
    return dependencies


def nodes_above(target_nodes, root_nodes):
    """The nodes that have some target node strictly below them: the ones worth running."""
    needed = set()
    done = set()
    for root in root_nodes:
        if root in done:
            continue
        stack = [(root, iter(_children(root)))]
        done.add(root)
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in done:
                    done.add(child)
                    stack.append((child, iter(_children(child))))
                    break
            else:
                stack.pop()
                if any(child in target_nodes or child in needed for child in _children(node)):
                    needed.add(node)
    return needed


def _children(node):
    return [e[0] for e in node._edges if e is not None]
