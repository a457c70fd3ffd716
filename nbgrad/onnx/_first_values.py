"""The values that tensors the traced code did not make itself (constants it creates, buffers)
held when an op first read them.

An in-place op on such a tensor (MultiheadAttention's zeros_like(mask).masked_fill_(mask, -inf),
instance norm copying running stats back) changes it while the model is traced, and again when
the exporter replays the trace for its values: the graph's initializer must hold the value the
op read, not what the op left, or the graph would start from the example's result (a -inf
wherever the example's mask was set). This observer, registered next to the recorder, copies
each such tensor before the first op reads it; those copies become the initializers, and are
put back before the replay, so that the model's state after export is that of one forward."""
from .. import _dispatch
from .._tensor import Tensor


class FirstValues:
    def __init__(self, inputs):
        self.made = {id(x) for x in inputs}     # the inputs, and every op's results
        self.arrays = {}                        # id -> the value before any op wrote it
        self.keep = list(inputs)                # (alive while observed: ids are not reused)

    def op_started(self, op, inputs):
        for x in inputs:
            # (parameters, which require grad, are never written in place while tracing)
            if isinstance(x, Tensor) and id(x) not in self.made and id(x) not in self.arrays \
                    and not x.requires_grad:
                self.arrays[id(x)] = x.detach().cpu().numpy().copy()
                self.keep.append(x)
        return None

    def op_finished(self, token, outputs):
        for t in outputs if isinstance(outputs, tuple) else (outputs,):
            if isinstance(t, Tensor):
                self.made.add(id(t))
                self.keep.append(t)

    def of(self, t):
        """t's value before the trace wrote it (its current value if never read so)."""
        array = self.arrays.get(id(t))
        return t.detach().cpu().numpy() if array is None else array

    def restore(self, tensors):
        """Put the first values back into tensors the trace wrote in place."""
        from .. import from_numpy, no_grad
        with no_grad():
            for t in tensors:
                array = self.arrays.get(id(t))
                if array is not None and not (t.detach().cpu().numpy() == array).all():
                    t.copy_(from_numpy(array.copy()).to(t.device))


def observing(inputs):
    """(FirstValues, remove): the observer, registered until remove() is called."""
    first = FirstValues(inputs)
    return first, _dispatch.add_observer(first)
