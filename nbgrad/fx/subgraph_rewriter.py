"""fx.subgraph_rewriter.replace_pattern: find every non-overlapping occurrence of one traced
function's graph (the pattern) in a GraphModule's graph, by use-def structure rather than
names, and put another traced function's graph (the replacement) in its place.

A pattern's placeholders match any Node (the same Node wherever the placeholder is reused);
its other Nodes match Nodes of the same op and target whose operands match in turn. Values
computed inside a match may not be used outside it, except the ones the pattern returns.
Matches are found in graph order and the first of overlapping ones wins; each is replaced in
turn, and Nodes of later matches that an earlier replacement removed are mapped to their
replacements (as PyTorch does).
"""
from typing import NamedTuple

from .graph_module import GraphModule
from .node import Node, map_arg
from ._symbolic_trace import symbolic_trace


class Match(NamedTuple):
    anchor: Node        # the pattern Node the match was found from (its returned value)
    nodes_map: dict     # pattern Node -> the graph Node it matched


def _graph_of(obj):
    if isinstance(obj, GraphModule):
        return obj.graph, obj
    gm = symbolic_trace(obj)
    return gm.graph, gm


def _returned(graph):
    output = next(n for n in graph.nodes if n.op == 'output')
    value = output.args[0]
    return list(value) if isinstance(value, (tuple, list)) else [value]


class _Matcher:
    def __init__(self, pattern_graph):
        self.placeholders = [n for n in pattern_graph.nodes if n.op == 'placeholder']
        self.returned = _returned(pattern_graph)
        self.inner = [n for n in pattern_graph.nodes if n.op not in ('placeholder', 'output')]

    def match_at(self, anchor_node, graph):
        """The pattern matched with its (first) returned value at anchor_node, or None. Other
        returned values not reached from it are looked for among the graph's Nodes."""
        nodes_map = {}
        if not self._nodes(self.returned[0], anchor_node, nodes_map):
            return None
        nodes_map = self._rest(self.returned[1:], nodes_map, list(graph.nodes))
        if nodes_map is None:
            return None
        matched = {nodes_map[p] for p in self.inner}
        outputs = {nodes_map[p] for p in self.returned}
        for node in matched - outputs:   # (an inner value used elsewhere cannot be removed)
            if any(user not in matched for user in node.users):
                return None
        return nodes_map

    def _rest(self, returned, nodes_map, candidates):
        """nodes_map extended to match every pattern Node in returned (backtracking over the
        candidates for each), or None."""
        if not returned:
            return nodes_map
        first, rest = returned[0], returned[1:]
        if first in nodes_map:
            return self._rest(rest, nodes_map, candidates)
        for node in candidates:
            if node.op in ('placeholder', 'output') or node in nodes_map.values():
                continue
            trial = dict(nodes_map)
            if self._nodes(first, node, trial):
                found = self._rest(rest, trial, candidates)
                if found is not None:
                    return found
        return None

    def _nodes(self, pn, gn, nodes_map):
        if pn in nodes_map:
            return nodes_map[pn] is gn
        if pn.op == 'placeholder':
            if not isinstance(gn, Node):
                return False
            nodes_map[pn] = gn
            return True
        if not isinstance(gn, Node) or pn.op != gn.op or pn.target != gn.target or \
                len(pn.args) != len(gn.args) or set(pn.kwargs) != set(gn.kwargs):
            return False
        nodes_map[pn] = gn
        if all(self._values(a, b, nodes_map) for a, b in zip(pn.args, gn.args)) and \
                all(self._values(pn.kwargs[k], gn.kwargs[k], nodes_map) for k in pn.kwargs):
            return True
        del nodes_map[pn]
        return False

    def _values(self, a, b, nodes_map):
        if isinstance(a, Node):
            return self._nodes(a, b, nodes_map)
        if isinstance(a, (list, tuple)):
            return isinstance(b, (list, tuple)) and len(a) == len(b) and \
                all(self._values(x, y, nodes_map) for x, y in zip(a, b))
        if isinstance(a, dict):
            return isinstance(b, dict) and a.keys() == b.keys() and \
                all(self._values(a[k], b[k], nodes_map) for k in a)
        return not isinstance(b, Node) and type(a) is type(b) and a == b


def replace_pattern(gm, pattern, replacement):
    """Replace every non-overlapping occurrence of `pattern` (a function or GraphModule) in
    gm's graph with `replacement` (the same number of parameters); returns the Matches."""
    pattern_graph, _ = _graph_of(pattern)
    replacement_graph, replacement_module = _graph_of(replacement)
    matcher = _Matcher(pattern_graph)
    replacement_inputs = [n for n in replacement_graph.nodes if n.op == 'placeholder']
    if len(replacement_inputs) != len(matcher.placeholders):    # (AssertionError, as PyTorch's)
        raise AssertionError(f'Placeholder count mismatch: the replacement takes '
                             f'{len(replacement_inputs)} arguments but the pattern '
                             f'{len(matcher.placeholders)}; they must take the same ones (an '
                             f'unused parameter is fine)')
    if not matcher.inner:
        raise AssertionError('replace_pattern: the pattern computes nothing (it returns its '
                             'input): there is nothing to match')
    graph = gm.graph
    matches, taken = [], set()
    for node in graph.nodes:
        if node.op in ('placeholder', 'output'):
            continue
        nodes_map = matcher.match_at(node, graph)
        if nodes_map is None:
            continue
        inner = {nodes_map[p] for p in matcher.inner}
        if inner & taken:
            continue
        taken |= inner
        matches.append(Match(anchor=matcher.returned[0], nodes_map=nodes_map))
    replaced = {}       # graph Node removed -> the Node that took its place
    for match in matches:
        for p, g in list(match.nodes_map.items()):
            while g in replaced:
                g = replaced[g]
            match.nodes_map[p] = g
        _replace_one(gm, graph, match, matcher, replacement_graph, replacement_module,
                     replacement_inputs, replaced)
    gm.recompile()
    return matches


def _replace_one(gm, graph, match, matcher, replacement_graph, replacement_module,
                 replacement_inputs, replaced):
    nodes_map = match.nodes_map
    value_map = {r: nodes_map[p] for r, p in zip(replacement_inputs, matcher.placeholders)}
    outputs = [nodes_map[p] for p in matcher.returned]
    with graph.inserting_before(outputs[0]):
        for node in replacement_graph.nodes:
            if node.op == 'placeholder':
                continue
            if node.op == 'output':
                new_values = _returned(replacement_graph)
                new_values = [map_arg(v, lambda n: value_map[n]) for v in new_values]
                break
            if node.op in ('get_attr', 'call_module') and replacement_module is not None:
                _install(gm, replacement_module, node.target)
            value_map[node] = graph.node_copy(node, lambda n: value_map[n])
    if len(new_values) != len(outputs):
        raise ValueError(f'replace_pattern: the replacement returns {len(new_values)} values '
                         f'but the pattern {len(outputs)}')
    for old, new in zip(outputs, new_values):
        old.replace_all_uses_with(new)
        replaced[old] = new
    for p in reversed(matcher.inner):
        node = nodes_map[p]
        if not node._erased and not node.users:
            graph.erase_node(node)


def _install(gm, module, target):
    """A submodule or attribute the replacement reads, copied into gm under the same path."""
    from .graph_module import _assign_attr
    value = module
    for part in target.split('.'):
        value = getattr(value, part)
    existing = gm
    for part in target.split('.'):
        existing = getattr(existing, part, None)
        if existing is None:
            break
    if existing is None:
        _assign_attr(value, gm, target)
