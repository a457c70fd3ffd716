"""In-place writes through a view of a tensor that is part of a graph (PyTorch's CopySlices).

After `view.op_(...)`, the *base* has a new history: outside the view's region it is its old self,
inside it is the op's result. CopySlices is that node: its backward sends the gradient outside the
region to the base's old node and the gradient inside the region to the op's result.
"""
from .. import _dispatch
from .graph import COPY_SLICES, Node


def _view_chain(view):
    """The view ops leading from the base to `view`, base first."""
    chain = []
    t = view
    while t._base is not None:
        parent, op = t._view_src
        chain.append(op)
        t = parent
    chain.reverse()
    return chain


def replay(chain, tensor, base_offset=0):
    """The view of `tensor` (shaped like the base) that chain made of the base. as_strided
    addresses storage, not its input: on a stand-in for the base it reads that stand-in's
    memory, at the offset the view had from the base (base_offset: the base's own)."""
    for op in chain:
        step = op.on_stand_in(base_offset) if hasattr(op, 'on_stand_in') else op.replay_copy()
        tensor = _dispatch.dispatch(step, tensor)
    return tensor


class CopySlices(Node):
    def __init__(self, chain, base_shape, base_dtype, base_offset=0):
        self.chain = chain
        self.base_shape, self.base_dtype = base_shape, base_dtype
        self.base_offset = base_offset

    def name(self):
        return COPY_SLICES

    def backward(self, g):
        grad_base = self._outside_region(g) if self._edges[0] is not None else None
        grad_result = replay(self.chain, g.contiguous(), self.base_offset) \
            if self._edges[1] is not None else None
        return grad_base, grad_result

    def _outside_region(self, g):
        """g with the view's region zeroed. A mask of the base's shape, True outside the
        region, selects. Where the chain crosses between real and complex memory (z.real,
        z.imag, view_as_real(z), view_as_complex(x)), the mask is of the base's own dtype
        instead, ones written with zeros through the view: for a complex base it multiplies g's
        real and imaginary parts each by their own 0 or 1."""
        from .._creation import ones
        from .. import _dtype
        from ..ops.complex_ops import _ComplexView, view_as_real, view_as_complex
        if any(isinstance(op, _ComplexView) for op in self.chain):
            complex_base = self.base_dtype.kind == 'c'
            outside = ones(self.base_shape, dtype=_dtype.from_numpy_dtype(self.base_dtype),
                           device=g.device) * (1 + 1j if complex_base else 1)
            with _no_grad():
                replay(self.chain, outside, self.base_offset).fill_(0)
            if complex_base:
                return view_as_complex(view_as_real(g.contiguous()) * view_as_real(outside))
            return g.where(outside != 0, 0.0)
        outside = ones(self.base_shape, dtype=_dtype.bool, device=g.device)
        with _no_grad():
            replay(self.chain, outside, self.base_offset).fill_(False)
        return g.where(outside, 0.0)

    @classmethod
    def rebase(cls, view, result):
        """view was just overwritten in place with `result` (which has a grad_fn)."""
        base = view._base
        chain = _view_chain(view)
        base_offset = 0
        if any(hasattr(op, 'on_stand_in') for op in chain):
            from .._storage import storage_offset
            if not base._data.flags.c_contiguous:
                raise NotImplementedError(
                    'an in-place write through an as_strided view of a non-contiguous tensor '
                    'that is part of a graph: nbgrad replays the view on a dense stand-in for '
                    'the base. Call .contiguous() on the base first.')
            base_offset = storage_offset(base)
        node = cls(chain, base._data.shape, base._data.dtype, base_offset)
        base_edge = None
        if base._requires_grad:
            fn = base._grad_fn
            node_in = fn if fn is not None else base._grad_accumulator()
            base_edge = (node_in, base._output_nr if fn is not None else 0,
                         base._data.shape, base._data.dtype)
        r = result._data
        node._edges = (base_edge, (result._grad_fn, result._output_nr, r.shape, r.dtype))
        node._seq = _dispatch._next_sequence()
        base._grad_fn = node
        base._output_nr = 0
        base._requires_grad = True
        # the view (and any sibling view) re-derives its grad_fn from the base on next use
        view._view_stamp = -1
        _dispatch.refresh_view(view)


class _no_grad:
    def __enter__(self):
        self.previous = _dispatch._modes.grad_enabled
        _dispatch._modes.grad_enabled = False

    def __exit__(self, *exc):
        _dispatch._modes.grad_enabled = self.previous

