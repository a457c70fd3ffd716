"""torch.utils._pytree (nbgrad/utils/_pytree.py): flattening, TreeSpecs and their text,
tree_map and friends, key paths, registration and the errors, each compared with PyTorch's
(results by their repr, with 'nbgrad' read as 'torch')."""
import collections
import warnings

import pytest

import nbgrad
from torch_compare import assert_same_kind

torch = pytest.importorskip('torch')

N = collections.namedtuple('N', 'x y')
TREE = (1, [2, {'a': 3, 'b': None}], collections.OrderedDict(x=4), N(5, (6,)))


class Point:
    def __init__(self, a, b):
        self.a, self.b = a, b

    def __repr__(self):
        return f'Point({self.a!r}, {self.b!r})'


def _spec_fields(p, tree):
    leaves, spec = p.tree_flatten(tree)
    return leaves, spec, spec.num_leaves, spec.num_nodes, spec.type, spec.context, \
        spec.num_children, spec.is_leaf()


CASES = {
    'flatten': lambda lib, p: _spec_fields(p, TREE),
    'unflatten': lambda lib, p: p.tree_unflatten(list(range(7)), p.tree_structure(TREE)),
    'map': lambda lib, p: p.tree_map(lambda x: x if x is None else x * 2, TREE),
    'none_is_a_leaf': lambda lib, p: p.tree_flatten(None),
    'dict_order': lambda lib, p: p.tree_leaves({'b': 1, 'a': 2}),
    'size': lambda lib, p: p.tree_flatten(lib.Size([2, 3])),
    'deque': lambda lib, p: p.tree_flatten(collections.deque([1, 2], maxlen=5)),
    'defaultdict': lambda lib, p: p.tree_flatten(collections.defaultdict(int, a=1)),
    'map_only': lambda lib, p: (p.tree_map_only(int, lambda x: -x, (1, 'a', 2.0)),
                                p.tree_map_only((int, float), lambda x: -x, (1, 'a', 2.0))),
    'all_any': lambda lib, p: (p.tree_all(lambda x: x > 0, [1, 2]),
                               p.tree_any(lambda x: x > 1, [1, 2]),
                               p.tree_all_only(int, lambda x: x > 0, [1, 'a']),
                               p.tree_any_only(str, lambda x: x == 'b', [1, 'a'])),
    'with_path': lambda lib, p: [(p.keystr(k), v) for k, v in
                                 p.tree_flatten_with_path({'a': [1, N(2, 3)]})[0]],
    'key_get': lambda lib, p: p.key_get({'a': [1, N(2, 3)]},
                                        p.tree_leaves_with_path({'a': [1, N(2, 3)]})[-1][0]),
    'map_with_path': lambda lib, p: p.tree_map_with_path(lambda k, v: p.keystr(k) + str(v),
                                                         {'a': [1, 2]}),
    'spec_equality': lambda lib, p: (p.tree_structure(TREE) == p.tree_structure(TREE),
                                     p.tree_structure(TREE) == p.tree_structure([1])),
    'is_leaf': lambda lib, p: p.tree_flatten([1, [2]], is_leaf=lambda x: x == [2]),
    'map_several': lambda lib, p: (p.tree_map(lambda a, b: a + b, [1, (2, 3)], [10, (20, 30)]),
                                   p.tree_map(lambda a, b: (a, b), [1, 2], [10, (20, 30)])),
    'leaf_spec': lambda lib, p: (p.tree_structure(1), p.LeafSpec(), p.treespec_leaf(),
                                 p.treespec_tuple([p.LeafSpec()] * 2),
                                 p.treespec_dict(a=p.LeafSpec())),
    'tensors': lambda lib, p: p.tree_map(lambda v: v * 2, {'w': lib.ones(2), 'n': 3}),
    'map_': lambda lib, p: (lambda seen: (p.tree_map_(seen.append, [1, (2,)]), seen))([]),
    'unflatten_wrong_count': lambda lib, p: p.tree_unflatten([1], p.tree_structure(TREE)),
    'unflatten_not_a_spec': lambda lib, p: p.tree_unflatten([1], [1]),
    'map_arity_mismatch': lambda lib, p: p.tree_map(lambda a, b: a, [1, 2], [10, 20, 30]),
    'map_type_mismatch': lambda lib, p: p.tree_map(lambda a, b: a, [1, 2], (10, 20)),
    'map_dict_key_order': lambda lib, p: (
        p.tree_map(lambda a, b: (a, b), {'a': 1, 'b': 2}, {'b': 20, 'a': 10}),
        p.tree_map(lambda a, b: (a, b), {'a': 1, 'b': 2}, collections.OrderedDict(b=2, a=1)),
        p.tree_map(lambda a, b: (a, b), collections.defaultdict(int, a=1), {'a': 10})),
    'map_dict_keys_differ': lambda lib, p: p.tree_map(lambda a, b: a, {'a': 1, 'b': 2},
                                                      {'a': 10, 'c': 30}),
    'map_dict_key_missing': lambda lib, p: p.tree_map(lambda a, b: a, {'a': 1, 'b': 2},
                                                      {'a': 10}),
}


def _run(lib, case):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            return 'ok', repr(case(lib, lib.utils._pytree)).replace('nbgrad', 'torch')
        except Exception as error:   # noqa: BLE001  (the error is the result compared)
            return 'error', error


@pytest.mark.parametrize('name', sorted(CASES))
def test_same_as_pytorch(name):
    (kind, theirs), (our_kind, ours) = _run(torch, CASES[name]), _run(nbgrad, CASES[name])
    assert our_kind == kind, (ours, theirs)
    if kind == 'ok':
        assert ours == theirs
    else:
        assert_same_kind(ours, theirs)
        assert str(ours).split('(')[0] == str(theirs).split('(')[0]


def test_registered_class_and_registering_twice():
    results = []
    for lib in (torch, nbgrad):
        p = lib.utils._pytree
        cls = type('Pair', (Point,), {})
        p.register_pytree_node(cls, lambda o: ([o.a, o.b], None),
                               lambda children, context: cls(*children))
        mapped = p.tree_map(lambda x: x + 1, [cls(1, 2)])
        with pytest.raises(ValueError, match='already registered'):
            p.register_pytree_node(cls, lambda o: ([], None), lambda c, x: cls(1, 2))
        results.append((repr(mapped), repr(p.tree_structure(cls(1, 2))).replace(
            str(cls), 'Pair')))
    assert results[0] == results[1]
