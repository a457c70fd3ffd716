"""DistributedDataParallel's gradient reducer, after PyTorch's (torch/csrc/distributed/c10d/
reducer.cpp): backward's post-accumulate hooks only mark parameters ready; once every parameter
expected in this iteration is ready, all gradients are averaged together, in parameter order,
in one message per rank (one flat buffer per dtype). So ranks that reach parameters in
different orders still average each parameter with itself, and a rank whose backward misses a
parameter does not silently average the wrong ones: its reduction stays unfinished and the
next forward raises PyTorch's error.

find_unused_parameters=True: the forward's outputs are walked back through the autograd graph;
parameters not reached are marked ready with the first hook. A used-mask is summed across the
ranks with the gradients: a parameter no rank used keeps its .grad untouched; one used on some
rank gets the average (ranks without a gradient count zeros), as PyTorch's.
"""
import numpy as np

from .._arrays import is_host_array
from .._tensor import Tensor
from ..autograd._graph_walk import count_dependencies
from ._collectives import gather_at, spread
from ._names import RedOpType, combine

_MARKED_TWICE = (
    'Expected to mark a variable ready only once. This error is caused by one of the following '
    'reasons: 1) Use of a module parameter outside the `forward` function. Please make sure '
    'model parameters are not shared across multiple concurrent forward-backward passes. or '
    'try to use _set_static_graph() as a workaround if this module graph does not change '
    'during training loop.2) Reused parameters in multiple reentrant backward passes. For '
    'example, if you use multiple `checkpoint` functions to wrap the same part of your model, '
    'it would result in the same set of parameters been used by different reentrant backward '
    'passes multiple times, and hence marking a variable ready multiple times. DDP does not '
    'support such use cases in default. You can try to use _set_static_graph() as a workaround '
    'if your module graph does not change over iterations.\nParameter at index {index} has '
    'been marked as ready twice. This means that multiple autograd engine  hooks have fired for '
    'this particular parameter during this iteration. You can set the environment variable '
    'TORCH_DISTRIBUTED_DEBUG to either INFO or DETAIL to print parameter names for further '
    'debugging.')

_UNFINISHED = ('Expected to have finished reduction in the prior iteration before starting a '
               'new one. This error indicates that your module has parameters that were not '
               'used in producing loss. ')
_UNFINISHED_STATIC = (
    'Expected to have finished reduction in the prior iteration before starting a new one. '
    'This error indicates that your training graph has changed in this iteration, e.g., one '
    'parameter is used in first iteration, but then got unused in the second iteration. this '
    'is not compatible with static_graph set to True.')
_ENABLE_FIND_UNUSED = ('You can enable unused parameter detection by passing the keyword '
                       'argument `find_unused_parameters=True` to `torch.nn.parallel.'
                       'DistributedDataParallel`, and by \n')
_FIND_UNUSED_ON = ('Since `find_unused_parameters=True` is enabled, this likely  means that not '
                   'all `forward` outputs participate in computing loss. You can fix this by ')
_OUTPUTS = 'making sure all `forward` function outputs participate in calculating loss. '
_LOCATE = ("\nIf you already have done the above, then the distributed data parallel module "
           "wasn't able to locate the output tensors in the return value of your module's "
           "`forward` function. Please include the loss function and the structure of the "
           "return value of `forward` of your module when reporting this issue (e.g. list, "
           "dict, iterable).")
_DEBUG_HINT = ('\n In addition, you can set the environment variable TORCH_DISTRIBUTED_DEBUG to '
               'either INFO or DETAIL to print out information about which particular '
               'parameters did not receive gradient on this rank as part of this error')


def output_tensors(obj):
    """The tensors anywhere in a forward's return value (tuples, lists, dicts, nested)."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for item in obj for t in output_tensors(item)]
    if isinstance(obj, dict):
        return [t for item in obj.values() for t in output_tensors(item)]
    return []


class Reducer:
    def __init__(self, params, group, find_unused_parameters, static_graph):
        self.params = params
        self.group = group
        self.find_unused = find_unused_parameters or static_graph
        self.static_graph = static_graph
        self.find_unused_flag = find_unused_parameters
        self.expect_hooks = False
        self.require_finalize = False
        self.ready = set()
        self.unused = []
        self.marked_unused = False
        self.local_used = np.zeros(len(params), dtype=np.int32)
        self.handles = [p.register_post_accumulate_grad_hook(self._hook_for(i))
                        for i, p in enumerate(params)]

    def _hook_for(self, index):
        def hook(param):
            self.autograd_hook(index)
        return hook

    # -- forward ----------------------------------------------------------------------------
    def ensure_prior_reduction_finished(self):
        if not self.require_finalize:
            return
        missing = ' '.join(str(i) for i in range(len(self.params)) if i not in self.ready)
        if self.static_graph:
            message = _UNFINISHED_STATIC
        elif not self.find_unused_flag:
            message = _UNFINISHED + _ENABLE_FIND_UNUSED + _OUTPUTS + _LOCATE
        else:
            message = _UNFINISHED + _FIND_UNUSED_ON + _OUTPUTS + _LOCATE
        message += (f'\nParameter indices which did not receive grad for rank '
                    f'{self.group.rank()}: {missing}' + _DEBUG_HINT)
        raise RuntimeError(message)

    def prepare_for_backward(self, output):
        self.expect_hooks = True
        self.marked_unused = False
        self.ready.clear()
        self.unused = []
        if self.find_unused:
            self.unused = self._unreachable(output_tensors(output))

    def _unreachable(self, outputs):
        roots = []
        for t in outputs:
            if t._grad_fn is not None:
                roots.append(((t._grad_fn, t._output_nr), None))
            elif t._requires_grad:
                roots.append(((t._grad_accumulator(), 0), None))
        reached = count_dependencies(roots)
        nodes = [p._grad_acc() if p._grad_acc is not None else None for p in self.params]
        return [i for i, node in enumerate(nodes) if node is None or node not in reached]

    # -- backward ---------------------------------------------------------------------------
    def autograd_hook(self, index):
        if self.find_unused:
            # (also inside no_sync: a parameter used in any backward since the last reduction
            # counts as used, as PyTorch's local_used_map)
            self.local_used[index] = 1
        if not self.expect_hooks:
            return
        if not self.marked_unused:
            self.marked_unused = True
            for unused in self.unused:
                self._mark_ready(unused)
        self._mark_ready(index)

    def _mark_ready(self, index):
        if index in self.ready:
            raise RuntimeError(_MARKED_TWICE.format(index=index))
        self.ready.add(index)
        self.require_finalize = True
        if len(self.ready) == len(self.params):
            self._finalize()

    def _finalize(self):
        self.expect_hooks = False
        self.require_finalize = False
        size = self.group.size()
        # one flat buffer per dtype, each gradient already divided by the world size (as
        # PyTorch's bucket views: the sum of the quotients is the average)
        dtypes, flats = [], {}
        for p in self.params:
            dtype = np.dtype(p._data.dtype)
            if dtype not in flats:
                dtypes.append(dtype)
                flats[dtype] = []
        for p in self.params:
            dtype = np.dtype(p._data.dtype)
            grad = p._grad
            if grad is None:
                flats[dtype].append(np.zeros(p._data.size, dtype))
            else:
                host = grad._data if is_host_array(grad._data) else grad._data.get()
                flats[dtype].append((host * dtype.type(1.0 / size)).astype(dtype).reshape(-1))
        message = [np.concatenate(flats[d]) for d in dtypes]
        if self.find_unused:
            message.append(self.local_used.copy())
        key, root = self.group.next_key('ddp_reduce'), self.group.ranks[0]
        gathered = gather_at(self.group, key, message, root, 'DistributedDataParallel backward')
        result = None
        if gathered is not None:
            result = [combine([m[i] for m in gathered], RedOpType.SUM, size)
                      for i in range(len(message))]
        result = spread(self.group, key, root, 'DistributedDataParallel backward', same=result)
        used = result[-1] if self.find_unused else None
        offsets = dict.fromkeys(dtypes, 0)
        reduced = dict(zip(dtypes, result))
        for i, p in enumerate(self.params):
            dtype, n = np.dtype(p._data.dtype), p._data.size
            chunk = reduced[dtype][offsets[dtype]:offsets[dtype] + n].reshape(p._data.shape)
            offsets[dtype] += n
            if used is not None and used[i] == 0:
                continue            # unused on every rank: .grad stays as it was
            self._store_grad(p, chunk)
        self.local_used[:] = 0

    @staticmethod
    def _store_grad(param, array):
        grad = param._grad
        if grad is None:
            from .. import tensor
            param.grad = tensor(array.copy(), device=param.device)
            return
        if is_host_array(grad._data):
            grad._data[...] = array
        else:                                   # (a GPU gradient: reduced on the host)
            import cupy
            grad._data[...] = cupy.asarray(array)
        grad._vc[0] += 1

    def remove_hooks(self):
        for handle in self.handles:
            handle.remove()
