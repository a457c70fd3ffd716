"""Non-reentrant activation checkpointing (checkpoint(..., use_reentrant=False)) on nbgrad's
graph nodes.

PyTorch drops the tensors a checkpointed region saves for backward through saved-tensor hooks,
and when backward first unpacks one it reruns the region and hands out the recomputed tensors
in the order they were saved. nbgrad's ops keep what their backward needs on the node itself
(saved inputs, the output, masks, im2col operands...), so the same idea works one level up:

- The forward runs as usual and records the graph, with edges to every input and parameter the
  region used, so backward(), autograd.grad() and backward(inputs=...) all see through it.
- Then every node the region made gives up the arrays and tensors it holds. That frees the
  region's activations; the nodes, their edges and the region's inputs stay.
- When backward reaches one of those nodes, the region runs again with grad on, under the
  forward's RNG and autocast state. Its new nodes match the stripped ones one to one, in
  creation order, and hand them their saved data.
- A node gives its data up again once its backward has run, so a second backward with
  retain_graph=True recomputes again, as PyTorch's does, and one without it finds the usual
  "backward through the graph a second time" error.

The recomputation must run the forward's ops in the same order (ops it runs after them are
ignored, as PyTorch stops early): fewer or other ops are always a CheckpointError (handing the
wrong op's data over would be a silent wrong gradient); determinism_check='default' also
compares the saved arrays' shapes, dtypes and devices. A region whose ops keep nothing for
backward is not run again at all. Unlike PyTorch, nbgrad runs the rest of the function rather
than stopping once every needed tensor is back (set_checkpoint_early_stop is accepted and has
no effect).
"""
import contextlib
import functools
import weakref

import numpy as np

from .. import _dispatch
from ..amp import autocast_mode as amp
from .._tensor import Tensor
from ..autograd.graph import _FREED_MESSAGE, AccumulateGrad, _modified_message, \
    running_backward_retains_graph
from ..autograd.grad_mode import enable_grad
from ..random import fork_rng, get_rng_state, set_rng_state

# What a node holds for the graph itself, never for its backward's arithmetic: kept as it is.
_GRAPH_ATTRIBUTES = frozenset({
    '_edges', '_seq', '_output_meta', '_freed', '_pre_hooks', '_post_hooks', '_tensor_hooks',
    '_retained', '_anomaly_trace', '_hooked', '_direct', 'metadata_dict', '_needs_input_grad',
    '_input_is_tensor', 'num_outputs', '_materialize_grads', '_fn_cls'})


class CheckpointError(RuntimeError):
    """The recomputation of a checkpointed region did not match its forward."""
    __module__ = 'nbgrad.utils.checkpoint'


def _is_array(value):
    return value.__class__ is np.ndarray or value.__class__.__module__.startswith('cupy')


def _arrays_in(value, found, depth=0):
    """Append the tensors and arrays in value (an attribute of a node) to found."""
    if isinstance(value, Tensor) or _is_array(value):
        found.append(value)
    elif depth < 3 and isinstance(value, (tuple, list)):
        for item in value:
            _arrays_in(item, found, depth + 1)
    return found


def _data_attributes(node):
    """The names of node's attributes that hold arrays or tensors, sorted."""
    return sorted(name for name, value in vars(node).items()
                  if name not in _GRAPH_ATTRIBUTES and _arrays_in(value, []))


def _strip(node):
    for name in _data_attributes(node):
        delattr(node, name)


def _take_over(node, source):
    """node (stripped) takes the saved data of source, the same op recomputed."""
    for name in _data_attributes(source):
        setattr(node, name, getattr(source, name))


def _device_name(value):
    if isinstance(value, Tensor):
        return str(value.device)
    return 'cpu' if value.__class__ is np.ndarray else f'cuda:{value.device.id}'


def _metadata(node):
    """{'shape', 'dtype', 'device'} of every array or tensor node holds (PyTorch's default
    determinism check, per saved tensor)."""
    found = []
    for name in _data_attributes(node):
        _arrays_in(getattr(node, name), found)
    return [{'shape': tuple(a.shape), 'dtype': str(a.dtype).replace('nbgrad.', ''),
             'device': _device_name(a)} for a in found]


def region_nodes(outputs, first_seq):
    """The graph nodes made since sequence number first_seq that outputs (any nesting of
    tuples, lists and dicts) were computed through, in creation order. Leaves' AccumulateGrad
    nodes hold nothing and are left out."""
    roots = [t._grad_fn for t in _tensors_in(outputs) if t._grad_fn is not None]
    seen, stack = set(), [n for n in roots if n._seq >= first_seq]
    nodes = []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.__class__ is not AccumulateGrad:
            nodes.append(node)
        for edge in node._edges:
            if edge is not None and edge[0]._seq >= first_seq:
                stack.append(edge[0])
    nodes.sort(key=lambda n: n._seq)
    return nodes


def _tensors_in(value):
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _tensors_in(item)]
    return []


class RecomputeFrame:
    """One checkpointed call: what it needs to run again, and the nodes it stripped."""

    def __init__(self, function, args, kwargs, rng, autocast_state, recompute_context,
                 check_metadata, debug):
        self.function, self.args, self.kwargs = function, args, kwargs
        # the inputs are saved as tensors are for backward: modifying one in place afterwards
        # would make the recomputation silently differ, so it is an error, as in PyTorch
        self.input_versions = [(a, a._vc[0]) for a in args if isinstance(a, Tensor)]
        self.rng, self.autocast_state = rng, autocast_state
        self.recompute_context = recompute_context
        self.check_metadata, self.debug = check_metadata, debug
        self.first_seq = _dispatch._next_sequence()
        self.nodes, self.names, self.metadata, self.filled = [], [], [], []

    def strip(self, outputs):
        """After the forward: every node of the region gives up its saved data and is hooked to
        get it back by recomputation when backward reaches it."""
        nodes = region_nodes(outputs, self.first_seq)
        self.names = [n.name() for n in nodes]
        self.metadata = [_metadata(n) for n in nodes] if self.check_metadata else None
        # the nodes are held weakly: they hold the frame (through their hooks), and the graph
        # must still die with its last tensor
        self.nodes = [weakref.ref(n) for n in nodes]
        self.filled = [False] * len(nodes)
        for i, node in enumerate(nodes):
            if not _data_attributes(node):
                # a node that keeps nothing for its backward (x * 2) never needs the region
                # run again: PyTorch recomputes only to unpack a saved tensor
                self.filled[i] = True
                continue
            _strip(node)
            node.register_prehook(functools.partial(self._before_backward, i))
            node.register_hook(functools.partial(self._after_backward, i))

    def _before_backward(self, i, grad_outputs):
        if self.filled[i]:
            return
        if self.nodes[i]()._freed:      # a backward without retain_graph has been through
            raise RuntimeError(_FREED_MESSAGE)
        self.recompute()

    def _after_backward(self, i, grad_inputs, grad_outputs):
        node = self.nodes[i]()
        _strip(node)
        self.filled[i] = False
        if not running_backward_retains_graph():
            node._freed = True      # a second backward raises PyTorch's error

    def recompute(self):
        for tensor, version in self.input_versions:
            if tensor._vc[0] != version:
                raise RuntimeError(_modified_message(self._node_for_messages(), tensor,
                                                     tensor._vc[0], version))
        first_seq = _dispatch._next_sequence()
        with enable_grad(), self.rng.restored(), self.autocast_state.restored(), \
                self.recompute_context:
            outputs = self.function(*self.args, **self.kwargs)
        # (ops the recomputation runs after the forward's last one are left over: PyTorch
        # stops recomputing once it has every saved tensor back)
        fresh = region_nodes(outputs, first_seq)[:len(self.names)]
        self._check(fresh)
        for ref, source in zip(self.nodes, fresh):
            node = ref()
            if node is not None:
                _take_over(node, source)
        self.filled = [True] * len(self.nodes)

    def _node_for_messages(self):
        return next(n for n in (ref() for ref in self.nodes) if n is not None)

    def _check(self, fresh):
        names = [n.name() for n in fresh]
        if names != self.names:
            raise CheckpointError(
                'nbgrad.utils.checkpoint: the recomputation ran different operations than the '
                f'original forward ({len(self.names)} ops recorded in the forward, '
                f'{len(names)} in the recomputation; first difference at op '
                f'{_first_difference(self.names, names)}). The checkpointed function must run '
                'the same ops on every call: make any data-dependent branch depend on its '
                'inputs only, or checkpoint a smaller part.' + self._logs(names))
        if self.metadata is None:
            return
        different = []
        for i, node in enumerate(fresh):
            recomputed = _metadata(node)
            if recomputed != self.metadata[i]:
                different.append(f'op {i} ({names[i]}):\nsaved metadata: {self.metadata[i]}\n'
                                 f'recomputed metadata: {recomputed}\n')
        if different:
            raise CheckpointError(
                'nbgrad.utils.checkpoint: Recomputed values for the following tensors have '
                'different metadata than during the forward pass.\n' + ''.join(different) +
                self._logs(names))

    def _logs(self, names):
        if not self.debug:
            return ('\nTip: pass debug=True to checkpoint(...) (or use '
                    'set_checkpoint_debug_enabled(True)) to list the ops of both runs.')
        return ('\n\nOperations executed during the original forward:\n  ' +
                '\n  '.join(self.names) +
                '\n\nOperations executed during recomputation:\n  ' + '\n  '.join(names))


def _first_difference(a, b):
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


class RngSnapshot:
    """The CPU generator's state and, when CUDA is in use, the states of the GPUs the inputs are
    on, as the forward found them (PyTorch's preserve_rng_state)."""

    def __init__(self, enabled, gpu_devices):
        from .. import cuda
        self.enabled = enabled
        self.cpu = get_rng_state() if enabled else None
        self.gpus = [(d, cuda.get_rng_state(d)) for d in gpu_devices] if enabled else []

    @contextlib.contextmanager
    def restored(self):
        """Draws inside repeat the forward's; the generators are put back after."""
        if not self.enabled:
            yield
            return
        from .. import cuda
        with fork_rng(devices=[d for d, _ in self.gpus]):
            set_rng_state(self.cpu)
            for device, state in self.gpus:
                cuda.set_rng_state(state, device)
            yield


class AutocastSnapshot:
    """Autocast's settings for every device type as the forward found them."""

    def __init__(self):
        self.settings = {d: (amp.is_autocast_enabled(d), amp.get_autocast_dtype(d))
                         for d in ('cpu', 'cuda')}
        self.cache_enabled = amp.is_autocast_cache_enabled()

    @contextlib.contextmanager
    def restored(self):
        with contextlib.ExitStack() as stack:
            for device_type, (enabled, dtype) in self.settings.items():
                stack.enter_context(amp.autocast(device_type, dtype=dtype, enabled=enabled,
                                                 cache_enabled=self.cache_enabled))
            yield
