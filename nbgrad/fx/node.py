"""fx.Node: one operation of a Graph, and the helpers that walk the nested arguments it holds.

A Node's args and kwargs may hold other Nodes anywhere inside lists, tuples, dicts and slices;
every Node found there is an input, and the input records this Node among its `users`. Setting
args or kwargs re-derives both, so the def-use edges never go stale (PyTorch's invariant, on
which dead-code elimination, erase_node and replace_all_uses_with rely).
"""
import builtins
import operator

from ._qualified_names import pretty_target, torch_text, type_text as _type_text
from .immutable_collections import immutable_dict, immutable_list

_OPS = ('placeholder', 'call_method', 'call_module', 'call_function', 'get_attr', 'output',
        'root')

# call_function targets with side effects: never removed as dead code (has_side_effect adds)
_SIDE_EFFECTS = {operator.setitem, builtins.print}
# functions that draw from the random number generator: removing an unused call would shift
# every later draw (PyTorch's list; nbgrad adds the dropout functionals, which draw too)
_RANDOM_NAMES = ('rand', 'randn', 'randint', 'randperm', 'rand_like', 'randn_like',
                 'randint_like', 'normal', 'poisson', 'bernoulli', 'multinomial')
_RANDOM_FUNCTIONAL_NAMES = ('dropout', 'dropout1d', 'dropout2d', 'dropout3d', 'alpha_dropout',
                            'feature_alpha_dropout', 'rrelu')


def has_side_effect(fn):
    """Register fn as a call eliminate_dead_code must keep; returns fn (a decorator)."""
    _SIDE_EFFECTS.add(fn)
    return fn


def _has_side_effects(target, kwargs, impure_random):
    if target in _SIDE_EFFECTS:
        return True
    import nbgrad
    from ._symbolic_trace import _assert_is_none
    if target is nbgrad._assert or target is _assert_is_none:
        return True
    name = getattr(target, '__name__', '')
    if kwargs.get('inplace') is True or (name.endswith('_') and not name.endswith('__')):
        return True           # (writes into its input: torch.relu_, F.relu(inplace=True))
    if impure_random:
        if any(getattr(nbgrad, n, None) is target for n in _RANDOM_NAMES) or any(
                getattr(nbgrad.nn.functional, n, None) is target
                for n in _RANDOM_FUNCTIONAL_NAMES):
            return True
    return False


def map_aggregate(a, fn):
    """fn applied to every leaf of a (lists, tuples, dicts and slices are walked; lists and
    dicts come back immutable, as a Node keeps them)."""
    if isinstance(a, tuple):
        mapped = tuple(map_aggregate(e, fn) for e in a)
        return mapped if not hasattr(a, '_fields') else type(a)(*mapped)   # (named tuples)
    if isinstance(a, list):
        return immutable_list(map_aggregate(e, fn) for e in a)
    if isinstance(a, dict):
        return immutable_dict((k, map_aggregate(v, fn)) for k, v in a.items())
    if isinstance(a, slice):
        return slice(map_aggregate(a.start, fn), map_aggregate(a.stop, fn),
                     map_aggregate(a.step, fn))
    return fn(a)


def map_arg(a, fn):
    """fn applied to every Node inside a (other leaves are kept)."""
    if not callable(fn):
        raise TypeError('torch.fx.map_arg(a, fn): fn must be a callable')
    return map_aggregate(a, lambda x: fn(x) if isinstance(x, Node) else x)


def _nodes_in(a):
    found = {}
    map_arg(a, lambda n: found.setdefault(n))
    return list(found)


def _format_arg(arg):
    if isinstance(arg, list):
        return '[' + ', '.join(_format_arg(a) for a in arg) + ']'
    if isinstance(arg, tuple):
        items = ', '.join(_format_arg(a) for a in arg)
        return f'({items},)' if len(arg) == 1 else f'({items})'
    if isinstance(arg, dict):
        return '{' + ', '.join(f'{k}: {_format_arg(v)}' for k, v in arg.items()) + '}'
    if isinstance(arg, Node):
        return '%' + arg.name
    return torch_text(arg, str)


class Node:
    """One operation: op is what kind (placeholder, get_attr, call_function, call_method,
    call_module, output), target what is called or read, args/kwargs its operands."""

    def __init__(self, graph, name, op, target, args, kwargs, return_type=None):
        if op not in _OPS:     # (AssertionError, as PyTorch's)
            raise AssertionError(f"op {op!r} is not a Node kind: one of "
                                 f"{', '.join(_OPS[:-1])}")
        if op in ('call_method', 'call_module', 'get_attr', 'placeholder') and \
                not isinstance(target, str):
            raise ValueError(f'Node target for {op} must be a string, got {target!r}')
        if op == 'call_function' and not callable(target):
            raise ValueError(f'Node target for call_function must be callable, got {target!r}')
        self.graph, self.name, self.op, self.target = graph, name, op, target
        self._input_nodes = {}
        self.users = {}
        self.type = return_type
        self.meta = {}
        self._prev = self._next = self
        self._erased = False
        self._args, self._kwargs = (), immutable_dict()
        self._update_args_kwargs(args, kwargs)

    # -- operands and the def-use edges ----------------------------------------------------------

    @property
    def args(self):
        return self._args

    @args.setter
    def args(self, value):
        self._update_args_kwargs(value, self._kwargs)

    @property
    def kwargs(self):
        return self._kwargs

    @kwargs.setter
    def kwargs(self, value):
        self._update_args_kwargs(self._args, value)

    def _update_args_kwargs(self, args, kwargs):
        for old in self._input_nodes:
            old.users.pop(self, None)
        self._args = map_aggregate(args, lambda x: x)      # (a list stays an immutable_list)
        self._kwargs = map_aggregate(dict(kwargs), lambda x: x)
        self._input_nodes = dict.fromkeys(_nodes_in((self._args, self._kwargs)))
        for new in self._input_nodes:     # (a Node of another graph: lint() says so)
            new.users.setdefault(self)

    @property
    def all_input_nodes(self):
        """The Nodes this one reads, in order of first appearance in args then kwargs."""
        return list(self._input_nodes)

    def update_arg(self, idx, arg):
        args = list(self._args)
        args[idx] = arg
        self.args = tuple(args)

    def insert_arg(self, idx, arg):
        """Insert arg into args at position idx (0 <= idx <= len(args))."""
        if not 0 <= idx <= len(self._args):     # (AssertionError, as PyTorch's)
            raise AssertionError(f'insert_args index must be between 0 (inclusive) and '
                                 f'{len(self._args)} (inclusive), got {idx}')
        self.args = tuple(self._args[:idx]) + (arg,) + tuple(self._args[idx:])

    def update_kwarg(self, key, arg):
        self.kwargs = {**self._kwargs, key: arg}

    def replace_input_with(self, old_input, new_input):
        """Every use of old_input in this Node's operands becomes new_input."""
        def swap(n):
            return new_input if n is old_input else n
        self._update_args_kwargs(map_arg(self._args, swap), map_arg(self._kwargs, swap))

    def replace_all_uses_with(self, replace_with, delete_user_cb=lambda user: True, *,
                              propagate_meta=False):
        """Every Node using this one uses replace_with instead (where delete_user_cb(user));
        returns those users."""
        if propagate_meta:
            if replace_with.meta:
                raise RuntimeError('Called node.replace_all_uses_with(replace_with, '
                                   'propagate_meta=True), but replace_with already has .meta keys')
            replace_with.meta.update(self.meta)
        changed = [user for user in list(self.users) if delete_user_cb(user)]
        for user in changed:
            user.replace_input_with(self, replace_with)
        return changed

    # -- position in the graph's list ----------------------------------------------------------

    @property
    def next(self):
        return self._next

    @property
    def prev(self):
        return self._prev

    def prepend(self, x):
        """Move (or insert) x just before this Node (x itself: nothing to do)."""
        if x.graph is not self.graph:
            raise AssertionError('Attempting to move a Node into a different Graph')
        if x is self:
            return
        x._remove_from_list()
        p = self._prev
        p._next, x._prev, x._next, self._prev = x, p, self, x

    def append(self, x):
        """Move (or insert) x just after this Node."""
        self._next.prepend(x)

    def _remove_from_list(self):
        # (the removed Node keeps its own links, as PyTorch's: a loop over graph.nodes standing
        # on it when it is erased or moved carries on from where it was)
        p, n = self._prev, self._next
        p._next, n._prev = n, p

    # -- reading it --------------------------------------------------------------------------

    def is_impure(self, impure_random=True):
        """Whether dead-code elimination must keep it: placeholders, outputs, in-place writes,
        calls with side effects and (impure_random) random draws. (Safer than PyTorch's, which
        drops in-place calls and warns that its heuristic is unsound.)"""
        if self.op in ('placeholder', 'output'):
            return True
        if self.op == 'call_function':
            return _has_side_effects(self.target, self.kwargs, impure_random)
        if self.op == 'call_method':
            return (self.target.endswith('_') and not self.target.endswith('__')) or \
                self.kwargs.get('inplace') is True
        if self.op == 'call_module':
            if self.graph.owning_module is None:
                raise AssertionError('self.graph.owning_module not set for purity check')
            return getattr(self.graph.owning_module.get_submodule(self.target),
                           '_is_impure', False)
        return False

    @property
    def stack_trace(self):
        return self.meta.get('stack_trace')

    @stack_trace.setter
    def stack_trace(self, trace):
        self.meta['stack_trace'] = trace

    def format_node(self, placeholder_names=None, maybe_return_typename=None):
        """The Node as a line of `print(graph)`: %name : [num_users=N] = op[target=...](...)."""
        typename = '' if self.type is None else f'{_type_text(self.type)} '
        head = f'%{self.name} : {typename}[num_users={len(self.users)}] = {self.op}'
        if self.op == 'placeholder':
            if placeholder_names is not None:
                placeholder_names.append(self.target)
                return None
            default = f'(default={_format_arg(self.args[0])})' if self.args else ''
            return f'{head}[target={self.target}]{default}'
        if self.op == 'get_attr':
            return f'{head}[target={self.target}]'
        if self.op == 'output':
            if self.type is not None and maybe_return_typename is not None:
                maybe_return_typename[0] = f' -> {_type_text(self.type)}'
            return f'return {self.args[0]}'
        return (f'{head}[target={pretty_target(self.target)}](args = {_format_arg(self.args)}, '
                f'kwargs = {_format_arg(self.kwargs)})')

    def _rename(self, candidate):
        if candidate != self.name:
            self.name = self.graph._namespace.rename(self, candidate)

    def __repr__(self):
        return self.name


