"""What vmap learns while its function runs on one batch element, by watching the dispatcher.

nbgrad's vmap calls the function once per batch element (PyTorch runs it once, on batched
tensors). What PyTorch's batched tensors tell apart needs following here:
- which tensors derive from the element's inputs (PyTorch's BatchedTensors): an output that
  does, returned with out_dims=None, is PyTorch's "can not return a BatchedTensor" error;
- which memory belongs to the call. An in-place op whose target is neither derived from the
  inputs nor created during the call writes into a tensor from outside the function. Writing a
  value derived from the inputs there is refused, as PyTorch refuses it (c.add_(a) would add
  the whole batch into c here, a BatchNorm's running statistics would take one update per
  element). A write of values that do not depend on the batch (a spectral norm's power
  iteration, c.add_(1)) happens once in PyTorch: here each element's call starts from the
  state such tensors had before the first write, so they end as one call leaves them.

Tensors are followed by id while the element's call runs; the tracker holds them, so an id
stays theirs until the call ends. Memory is followed by the array that owns it (a view's, a
detach's and .data's memory is their source's)."""
from .. import _dispatch
from .._tensor import Tensor


def _owner(t):
    """The array owning t's memory: views and detached aliases share it."""
    a = t._data
    while getattr(a, 'base', None) is not None:
        a = a.base
    return a


def _tensors_in(values):
    for v in values:
        if isinstance(v, Tensor):
            yield v
        elif isinstance(v, (tuple, list)):
            yield from _tensors_in(v)


class SampleTracker:
    """A dispatcher observer for the duration of one vmap call: start(inputs) before each
    element's call."""

    def __init__(self, func_name, batch_size):
        self.func_name, self.batch_size = func_name, batch_size
        self.derived = {}       # id -> tensor derived from this element's inputs
        self.owned = {}         # id(owning array) -> array: memory the call may write into
        self.kept = []          # every tensor looked at, alive until the element's call ends
        self.saved = []         # (array from outside the call, its values before a write)
        self.saved_ids = set()

    def start(self, inputs):
        self.derived.clear()
        self.owned.clear()
        self.kept = []
        for t in _tensors_in(inputs):
            self._derive(t)

    def is_derived(self, t):
        return id(t) in self.derived

    def _derive(self, t):
        self.derived[id(t)] = t     # (the dict holds it: its id stays its own)
        self._own(t)

    def _own(self, t):
        owner = _owner(t)
        self.owned[id(owner)] = owner
        self.kept.append(t)

    # -- dispatcher observer API --------------------------------------------------------------
    def op_started(self, op, inputs):
        if _dispatch._observing_in_place:
            self._writing(inputs[:1], inputs[1:], self._outside_write, op)
        elif getattr(op, 'use_input_stats', False):
            # (batch norm in training mode writes its running statistics inside its kernel)
            self._writing(inputs[3:5], inputs[:1], self._outside_running_stats)
        return inputs

    def _writing(self, targets, sources, refusal, *details):
        """An op writes into targets from sources: refused where a target is from outside
        the call and a source derives from the batch; an outside target is saved first."""
        outside = [t for t in _tensors_in(targets)
                   if id(t) not in self.derived and id(_owner(t)) not in self.owned]
        if not outside:
            return
        if any(id(t) in self.derived for t in _tensors_in(sources)):
            raise RuntimeError(refusal(*details))
        for t in outside:
            if id(t._data) not in self.saved_ids:
                self.saved_ids.add(id(t._data))
                self.saved.append((t._data, t._data.copy()))

    def restore_outside(self):
        """The tensors from outside the call written so far as they were before the first
        write (earliest saves last, where two views overlap)."""
        for array, before in reversed(self.saved):
            array[...] = before

    def op_finished(self, inputs, outputs):
        self._made(inputs, outputs if isinstance(outputs, (tuple, list)) else (outputs,))

    def composite_started(self, name, args):
        return args

    def composite_finished(self, args, out):
        if out is not None:
            self._made(args, out if isinstance(out, (tuple, list)) else (out,))

    def _made(self, inputs, outputs):
        """outputs of an op (or factory) on inputs: derived where an input is, the call's own
        where their memory is new (not a view of an input from outside). (Every op of the
        call comes here: the common case, plain tensors in and out, takes no generator.)"""
        derived_ids = self.derived
        derived = False
        for t in inputs:
            if t.__class__ is Tensor or isinstance(t, Tensor):
                if id(t) in derived_ids:
                    derived = True
                    break
            elif isinstance(t, (tuple, list)) and any(id(x) in derived_ids
                                                      for x in _tensors_in(t)):
                derived = True
                break
        if derived:
            owned = self.owned
            for out in _tensors_in(outputs):
                derived_ids[id(out)] = out
                owner = _owner(out)         # (its memory too: a detach() of it is the call's)
                owned[id(owner)] = owner
                base = out._base
                if base is not None:        # (an in-place write into a view of a tensor)
                    derived_ids[id(base)] = base
            return
        input_owners = {id(_owner(t)) for t in _tensors_in(inputs)}
        for out in _tensors_in(outputs):
            if id(_owner(out)) not in input_owners:
                self._own(out)

    def _outside_running_stats(self):
        return (f'vmap: batch_norm in training mode got a batched input inside '
                f'vmap({self.func_name}) while its running_mean and running_var, which it '
                f'updates in place, come from outside the function: vmap cannot write into a '
                f'tensor from outside the function (PyTorch\'s vmap refuses it too). Put the '
                f'module in eval mode, build it with track_running_stats=False, or call '
                f'torch.func.replace_all_batch_norm_modules_(model) before vmap.')

    def _outside_write(self, op):
        name = _dispatch._op_name(op)
        return (f'vmap: an in-place operation ({name}_, or a write such as out= or indexing '
                f'assignment) writes a value computed from the batched inputs into a tensor '
                f'from outside the function given to vmap({self.func_name}): one that is '
                f'neither a batched input, nor derived from one, nor created inside the '
                f'function. vmap cannot write into a tensor from outside the function (each '
                f'of the {self.batch_size} batch elements would write its own value into the '
                f'one tensor; PyTorch refuses it too). Use the out-of-place operation and '
                f'return its result, or create the tensor inside the function.')


def tracking(func_name, batch_size):
    """(tracker, remove): a SampleTracker registered with the dispatcher until remove()."""
    tracker = SampleTracker(func_name, batch_size)
    return tracker, _dispatch.add_observer(tracker)
