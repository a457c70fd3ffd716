"""torch.utils._pytree: nested containers ("pytrees") flattened to a list of leaves and a
TreeSpec that rebuilds them, as PyTorch's Python implementation does it (libraries reach for
tree_map, tree_flatten and register_pytree_node to walk nested outputs).

Containers are tuple, list, dict, OrderedDict, defaultdict, deque, namedtuples, nbgrad.Size and
whatever register_pytree_node adds; everything else (None included) is a leaf. A dict's children
come in its insertion order. The key-path API (tree_flatten_with_path, keystr) names each leaf's
place as SequenceKey/MappingKey/GetAttrKey entries. Not here: treespec_dumps/treespec_loads (the
JSON form torch.export uses) and register_dataclass/register_constant.
"""
import collections
import dataclasses
from typing import Any, Callable, NamedTuple

__all__ = ['TreeSpec', 'LeafSpec', 'SequenceKey', 'MappingKey', 'GetAttrKey', 'KeyPath',
           'register_pytree_node', 'tree_flatten', 'tree_unflatten', 'tree_iter', 'tree_leaves',
           'tree_structure', 'tree_map', 'tree_map_', 'tree_map_only', 'tree_map_only_',
           'tree_all', 'tree_any', 'tree_all_only', 'tree_any_only', 'tree_is_leaf',
           'tree_flatten_with_path', 'tree_leaves_with_path', 'tree_map_with_path', 'keystr',
           'key_get', 'treespec_leaf', 'treespec_tuple', 'treespec_dict', 'is_namedtuple',
           'is_namedtuple_class', 'is_namedtuple_instance', 'SUPPORTED_NODES']


# ----------------------------------------------------------------------------- key paths

@dataclasses.dataclass(frozen=True)
class SequenceKey:
    idx: int

    def __str__(self):
        return f'[{self.idx!r}]'

    def get(self, sequence):
        return sequence[self.idx]


@dataclasses.dataclass(frozen=True)
class MappingKey:
    key: Any

    def __str__(self):
        return f'[{self.key!r}]'

    def get(self, mapping):
        return mapping[self.key]


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    name: str

    def __str__(self):
        return f'.{self.name}'

    def get(self, obj):
        return getattr(obj, self.name)


KeyPath = tuple


def keystr(kp):
    """A key path as the text that indexes the tree: "['a'][0].x"."""
    return ''.join(str(k) for k in kp)


def key_get(obj, kp):
    for k in kp:
        obj = k.get(obj)
    return obj


# ----------------------------------------------------------------------------- the registry

class NodeDef(NamedTuple):
    type: Any
    flatten_fn: Callable          # node -> (children, context)
    unflatten_fn: Callable        # (children, context) -> node
    flatten_with_keys_fn: Callable = None   # node -> ([(key, child)...], context)


SUPPORTED_NODES = {}


def register_pytree_node(cls, flatten_fn, unflatten_fn, *, serialized_type_name=None,
                         to_dumpable_context=None, from_dumpable_context=None,
                         flatten_with_keys_fn=None):
    """Make instances of cls containers: flatten_fn(node) -> (children, context),
    unflatten_fn(children, context) -> node. (The serialization arguments are accepted and
    unused: nbgrad has no treespec_dumps.)"""
    if cls in SUPPORTED_NODES:
        raise ValueError(f'{cls} is already registered as pytree node.')
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn, flatten_with_keys_fn)


def _sequence_keys(children, context):
    return [(SequenceKey(i), c) for i, c in enumerate(children)], context


def _register_builtins():
    def seq(kind, rebuild):
        register_pytree_node(kind, lambda node: (list(node), None),
                             lambda children, context: rebuild(children),
                             flatten_with_keys_fn=lambda node: _sequence_keys(list(node), None))
    seq(tuple, tuple)
    seq(list, list)

    def mapping(kind, rebuild):
        register_pytree_node(
            kind, lambda node: (list(node.values()), list(node.keys())),
            lambda children, keys: rebuild(zip(keys, children)),
            flatten_with_keys_fn=lambda node: (
                [(MappingKey(k), v) for k, v in node.items()], list(node.keys())))
    mapping(dict, dict)
    mapping(collections.OrderedDict, collections.OrderedDict)
    register_pytree_node(
        collections.defaultdict,
        lambda node: (list(node.values()), [node.default_factory, list(node.keys())]),
        lambda children, context: collections.defaultdict(context[0], zip(context[1], children)),
        flatten_with_keys_fn=lambda node: (
            [(MappingKey(k), v) for k, v in node.items()],
            [node.default_factory, list(node.keys())]))
    register_pytree_node(
        collections.deque, lambda node: (list(node), node.maxlen),
        lambda children, maxlen: collections.deque(children, maxlen=maxlen),
        flatten_with_keys_fn=lambda node: _sequence_keys(list(node), node.maxlen))
    # namedtuples: one entry for all of them (the spec's type is collections.namedtuple, its
    # context the class), as in PyTorch
    register_pytree_node(
        collections.namedtuple, lambda node: (list(node), type(node)),
        lambda children, cls: cls(*children),
        flatten_with_keys_fn=lambda node: (
            [(GetAttrKey(f), v) for f, v in zip(node._fields, node)], type(node)))


def _register_size():
    from .._tensor import Size
    register_pytree_node(Size, lambda node: (list(node), None),
                         lambda children, context: Size(children),
                         flatten_with_keys_fn=lambda node: _sequence_keys(list(node), None))


_register_builtins()
_register_size()


# the dict types, whose nodes match one another by key (as PyTorch's STANDARD_DICT_TYPES)
_DICTS = (dict, collections.OrderedDict, collections.defaultdict)


def is_namedtuple_class(cls):
    return isinstance(cls, type) and issubclass(cls, tuple) and \
        isinstance(getattr(cls, '_fields', None), tuple)


def is_namedtuple_instance(obj):
    return is_namedtuple_class(type(obj))


def is_namedtuple(obj):
    return is_namedtuple_class(obj if isinstance(obj, type) else type(obj))


def _node_type(tree):
    """The registry key of tree's kind of container, or None for a leaf."""
    kind = type(tree)
    if kind in SUPPORTED_NODES and kind is not collections.namedtuple:
        return kind
    if is_namedtuple_class(kind):
        return collections.namedtuple
    return None


def tree_is_leaf(tree, is_leaf=None):
    if is_leaf is not None and is_leaf(tree):
        return True
    return _node_type(tree) is None


# ----------------------------------------------------------------------------- TreeSpec

class TreeSpec:
    """The structure of a pytree: the container's type and context (dict keys, a namedtuple's
    class...) and one TreeSpec per child; a leaf's spec has type None (LeafSpec, printed *)."""

    def __init__(self, type, context, children_specs):
        self.type, self.context = type, context
        self._children = list(children_specs)
        self.num_nodes = 1 + sum(c.num_nodes for c in self._children)
        self.num_leaves = 1 if type is None else sum(c.num_leaves for c in self._children)
        self.num_children = len(self._children)

    @property
    def children_specs(self):
        return self._children

    def children(self):
        return list(self._children)

    def child(self, index):
        return self._children[index]

    def is_leaf(self):
        return self.type is None

    def flatten_up_to(self, tree):
        """tree's subtrees at this spec's leaves (tree must have this structure down to them)."""
        if self.is_leaf():
            return [tree]
        kind = _node_type(tree)
        if self.type in _DICTS and kind in _DICTS:
            children = self._by_keys(tree)
        else:
            children = self._children_of(tree, kind)
        out = []
        for spec, child in zip(self._children, children):
            out.extend(spec.flatten_up_to(child))
        return out

    def _by_keys(self, mapping):
        """mapping's values in this spec's key order (any dict type, its keys in any order)."""
        keys = self.context[1] if self.type is collections.defaultdict else self.context
        if len(mapping) != len(keys):
            raise ValueError(f'Node arity mismatch; expected {len(keys)}, but got '
                             f'{len(mapping)}.')
        missing, extra = set(keys) - set(mapping), set(mapping) - set(keys)
        if missing or extra:
            raise ValueError(f'Node keys mismatch; missing key(s): {missing or "{}"}; extra '
                             f'key(s): {extra or "{}"}.')
        return [mapping[k] for k in keys]

    def _children_of(self, tree, kind):
        if kind is not self.type:
            raise ValueError(f'Node type mismatch; expected {self.type!r}, but got '
                             f'{type(tree)!r}.')
        children, context = SUPPORTED_NODES[kind].flatten_fn(tree)
        if len(children) != self.num_children:
            raise ValueError(f'Node arity mismatch; expected {self.num_children}, but got '
                             f'{len(children)}.')
        if context != self.context:
            raise ValueError(f'Node context mismatch for custom node type {self.type!r}.')
        return children

    def unflatten(self, leaves):
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(f'treespec.unflatten(leaves): `leaves` has length {len(leaves)} '
                             f'but the spec refers to a pytree that holds {self.num_leaves} '
                             f'items ({self}).')
        return self._build(iter(leaves))

    def _build(self, leaves):
        if self.is_leaf():
            return next(leaves)
        children = [c._build(leaves) for c in self._children]
        return SUPPORTED_NODES[self.type].unflatten_fn(children, self.context)

    def __eq__(self, other):
        if not isinstance(other, TreeSpec):
            return NotImplemented
        return (self.type, self.context, self._children) == \
            (other.type, other.context, other._children)

    def __hash__(self):
        return hash((id(self.type), self.num_nodes, self.num_leaves))

    def __repr__(self, indent=0):
        if self.is_leaf():
            return '*'
        inner = ''
        if self._children:
            indent += 2
            inner = self._children[0].__repr__(indent)
            inner += ''.join(',\n' + ' ' * indent + c.__repr__(indent)
                             for c in self._children[1:])
        return f'TreeSpec({self.type.__name__}, {self._context_text()}, [{inner}])'

    def _context_text(self):
        return repr(self.context)


class LeafSpec(TreeSpec):
    def __init__(self):
        super().__init__(None, None, [])


def treespec_leaf():
    return LeafSpec()


def treespec_tuple(iterable=()):
    return TreeSpec(tuple, None, list(iterable))


def treespec_dict(mapping=(), **kwargs):
    d = dict(mapping, **kwargs)
    return TreeSpec(dict, list(d.keys()), list(d.values()))


# ----------------------------------------------------------------------------- flatten, map

def tree_flatten(tree, is_leaf=None):
    """(leaves, treespec): the leaves left to right and the structure that holds them."""
    leaves = []
    return leaves, _flatten_into(tree, is_leaf, leaves)


def _flatten_into(tree, is_leaf, leaves):
    if tree_is_leaf(tree, is_leaf):
        leaves.append(tree)
        return LeafSpec()
    kind = _node_type(tree)
    children, context = SUPPORTED_NODES[kind].flatten_fn(tree)
    return TreeSpec(kind, context, [_flatten_into(c, is_leaf, leaves) for c in children])


def tree_unflatten(leaves, treespec):
    if not isinstance(treespec, TreeSpec):
        raise TypeError(f'Expected `treespec` to be an instance of PyTreeSpec but got item of '
                        f'type {type(treespec)}.')
    return treespec.unflatten(leaves)


def tree_iter(tree, is_leaf=None):
    if tree_is_leaf(tree, is_leaf):
        yield tree
        return
    children, _ = SUPPORTED_NODES[_node_type(tree)].flatten_fn(tree)
    for child in children:
        yield from tree_iter(child, is_leaf)


def tree_leaves(tree, is_leaf=None):
    return list(tree_iter(tree, is_leaf))


def tree_structure(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func, tree, *rests, is_leaf=None):
    """func applied to each leaf (with the matching subtrees of `rests`, which must have tree's
    structure down to its leaves), in a tree of the same structure."""
    leaves, spec = tree_flatten(tree, is_leaf)
    columns = [leaves] + [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten(func(*args) for args in zip(*columns))


def tree_map_(func, tree, *rests, is_leaf=None):
    """func on each leaf for its effect; returns tree."""
    leaves, spec = tree_flatten(tree, is_leaf)
    columns = [leaves] + [spec.flatten_up_to(r) for r in rests]
    for args in zip(*columns):
        func(*args)
    return tree


def _only(type_or_types_or_pred):
    if isinstance(type_or_types_or_pred, (type, tuple)):
        kinds = type_or_types_or_pred
        return lambda x: isinstance(x, kinds)
    if callable(type_or_types_or_pred):
        return type_or_types_or_pred
    raise TypeError('Argument must be a type, a tuple of types, or a callable.')


def map_only(type_or_types_or_pred):
    """A decorator: the function applies to the leaves it names and passes others through."""
    chosen = _only(type_or_types_or_pred)

    def wrap(func):
        def wrapped(x):
            return func(x) if chosen(x) else x
        return wrapped
    return wrap


def tree_map_only(type_or_types_or_pred, func, tree, is_leaf=None):
    return tree_map(map_only(type_or_types_or_pred)(func), tree, is_leaf=is_leaf)


def tree_map_only_(type_or_types_or_pred, func, tree, is_leaf=None):
    return tree_map_(map_only(type_or_types_or_pred)(func), tree, is_leaf=is_leaf)


def tree_all(pred, tree, is_leaf=None):
    return all(map(pred, tree_iter(tree, is_leaf)))


def tree_any(pred, tree, is_leaf=None):
    return any(map(pred, tree_iter(tree, is_leaf)))


def tree_all_only(type_or_types, pred, tree, is_leaf=None):
    chosen = _only(type_or_types)
    return all(pred(x) for x in tree_iter(tree, is_leaf) if chosen(x))


def tree_any_only(type_or_types, pred, tree, is_leaf=None):
    chosen = _only(type_or_types)
    return any(pred(x) for x in tree_iter(tree, is_leaf) if chosen(x))


# ----------------------------------------------------------------------------- key paths

def tree_flatten_with_path(tree, is_leaf=None):
    """([(key_path, leaf)...], treespec)."""
    pairs = []
    _with_path(tree, is_leaf, (), pairs)
    return pairs, tree_structure(tree, is_leaf)


def _with_path(tree, is_leaf, path, pairs):
    if tree_is_leaf(tree, is_leaf):
        pairs.append((path, tree))
        return
    node = SUPPORTED_NODES[_node_type(tree)]
    if node.flatten_with_keys_fn is None:
        raise ValueError(f'Did not find a flatten_with_keys_fn for type: {node.type}. Please '
                         'pass a flatten_with_keys_fn argument to register_pytree_node.')
    keyed, _ = node.flatten_with_keys_fn(tree)
    for key, child in keyed:
        _with_path(child, is_leaf, path + (key,), pairs)


def tree_leaves_with_path(tree, is_leaf=None):
    return tree_flatten_with_path(tree, is_leaf)[0]


def tree_map_with_path(func, tree, *rests, is_leaf=None):
    """func(key_path, leaf, *matching subtrees of rests) for each leaf."""
    pairs, spec = tree_flatten_with_path(tree, is_leaf)
    columns = [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten(func(path, leaf, *others)
                          for (path, leaf), *others in zip(pairs, *columns))
