"""PyTorch's refusal of in-place writes whose input partly overlaps the written-to memory.

`a[1:] += a[:-1]` reads elements it has already written in PyTorch's kernels, so PyTorch refuses
it (at::assert_no_partial_overlap, MemoryOverlap.cpp); NumPy would buffer and give a different
answer than a PyTorch that ran, so nbgrad refuses it with PyTorch's message. The rule is
PyTorch's: both tensors dense without self-overlap, in the same memory, their byte ranges
intersecting without being the same elements in the same layout (x.add_(x) is fine). Where
either is not dense (x[::2] and x[1::2]) PyTorch does not decide ("too hard") and neither does
nbgrad."""
import numpy as np

from ._sparse_coo import SparseCOO
from ._storage import root_array
from ._tensor import Tensor

_ndarray = np.ndarray


def _dense(a):
    """Non-overlapping and dense: the elements fill a block of memory, in some order of dims."""
    if a.flags.c_contiguous or a.flags.f_contiguous:
        return True
    expected = a.itemsize
    for stride, size in sorted((s, n) for s, n in zip(a.strides, a.shape) if n != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def _start(a):
    if a.__class__ is _ndarray:
        return a.__array_interface__['data'][0]
    return a.data.ptr          # CuPy


def partly_overlaps(written, read):
    """Whether PyTorch calls the two arrays' overlap partial."""
    if read is written or not written.size or not read.size or \
            root_array(read) is not root_array(written) or not (_dense(written) and _dense(read)):
        return False
    # dense arrays' elements start at their lowest address, since no stride is negative
    if any(s < 0 for s in written.strides + read.strides):
        return False
    w0, r0 = _start(written), _start(read)
    w1, r1 = w0 + written.nbytes, r0 + read.nbytes
    if w0 == r0 and w1 == r1:
        return written.strides != read.strides
    return w0 < r1 and r0 < w1


PARTIAL_OVERLAP = ('unsupported operation: some elements of the input tensor and the written-to '
                   'tensor refer to a single memory location. Please clone() the tensor before '
                   'performing the operation.')


def check_no_partial_overlap(written, arrays):
    """Raise PyTorch's error if any of arrays partly overlaps written (see the module doc)."""
    if written.__class__ is SparseCOO:      # (no dense memory to overlap)
        return
    for a in arrays:
        if a.__class__ is written.__class__ and partly_overlaps(written, a):
            raise RuntimeError(PARTIAL_OVERLAP)


def refuse_partial_overlap(target, *others):
    """check_no_partial_overlap for the tensors among others (an in-place method that nbgrad
    composes of other ops: x.add_(y, alpha=2), x.addcmul_(a, b), x.put_(i, y)...)."""
    check_no_partial_overlap(target._data, [t._data for t in others if isinstance(t, Tensor)])


# out= functions whose PyTorch kernels do not check (reductions, the GEMMs, triangles...): each
# tested against PyTorch 2.13 with an out= that partly overlaps an input
OUT_UNCHECKED = frozenset((
    'addr', 'all', 'amax', 'amin', 'any', 'argmax', 'argmin', 'bmm', 'cholesky_inverse',
    'cholesky_solve', 'cummax', 'cummin', 'diag', 'dot', 'histc', 'inner', 'inverse',
    'log_softmax', 'logsumexp', 'matmul', 'matrix_power', 'max', 'mean', 'median', 'min', 'mm',
    'mv', 'nanmean', 'nanmedian', 'nanquantile', 'nansum', 'narrow_copy', 'norm', 'prod',
    'quantile', 'slice_scatter', 'softmax', 'std', 'sum', 'tensordot', 'threshold', 'tril',
    'triu', 'var', 'vdot'))


# out= functions whose PyTorch kernels refuse any overlap with an input, the same memory too
# (at::assert_no_overlap): gather(x, 0, i, out=x) raises where add(x, 1, out=x) runs. Each tested
# against PyTorch 2.13.
OUT_NO_OVERLAP = frozenset((
    'cat', 'concat', 'concatenate', 'gather', 'index_add', 'index_select', 'kthvalue',
    'masked_select', 'stack', 'take'))


def _overlaps(written, read):
    """Whether two arrays share any memory (the same memory included)."""
    if read.__class__ is not written.__class__ or read.__class__ is SparseCOO or \
            not written.size or not read.size or root_array(read) is not root_array(written):
        return False
    return np.shares_memory(written, read) if written.__class__ is _ndarray else True


def _tensors(values):
    for v in values:
        if isinstance(v, Tensor):
            yield v
        elif isinstance(v, (list, tuple)):
            yield from _tensors(v)


def refuse_out_overlap(name, out, args, kwargs):
    """f(..., out=t) where t partly overlaps an input: PyTorch's error (see the module doc)."""
    if name in OUT_UNCHECKED:
        return
    inputs = [t._data for t in _tensors(args)] + [t._data for t in _tensors(kwargs.values())]
    for o in _tensors(out if isinstance(out, (list, tuple)) else (out,)):
        if name in OUT_NO_OVERLAP and any(_overlaps(o._data, a) for a in inputs):
            raise RuntimeError(PARTIAL_OVERLAP)
        check_no_partial_overlap(o._data, inputs)
