"""Transforms applied piecewise: CatTransform and StackTransform run one transform per slice of
a dimension. Re-exported by transforms.py."""
import nbgrad
from . import constraints
from .transforms import Transform
from .utils import _sum_rightmost, lazy_property


def _check_slice_dim(dim, size, expected, tensor, name, what):
    """Cat/StackTransform's checks that `tensor` (called `name` in the range message and `what`
    in the size message, as PyTorch's do) has `expected` entries along `dim`."""
    if not (-tensor.dim() <= dim < tensor.dim()):
        raise AssertionError(f'dim {dim} out of range for {name} with {tensor.dim()} dimensions')
    if tensor.size(dim) != expected:
        raise AssertionError(f'{what}.size({dim}) = {tensor.size(dim)} must equal {size} '
                             f'{expected}')


class CatTransform(Transform):
    """Applies the transforms `tseq` to consecutive slices of dimension `dim` of lengths
    `lengths` (default 1 each), as torch.cat would join them."""

    def __init__(self, tseq, dim=0, lengths=None, cache_size=0):
        if not all(isinstance(t, Transform) for t in tseq):
            raise AssertionError('All elements of tseq must be Transform instances')
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = list(tseq)
        if lengths is None:
            lengths = [1] * len(self.transforms)
        self.lengths = list(lengths)
        if len(self.lengths) != len(self.transforms):
            raise AssertionError(f'lengths ({len(self.lengths)}) must match transforms '
                                 f'({len(self.transforms)})')
        self.dim = dim

    @lazy_property
    def event_dim(self):
        return max(t.event_dim for t in self.transforms)

    @lazy_property
    def length(self):
        return sum(self.lengths)

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return CatTransform(self.transforms, self.dim, self.lengths, cache_size)

    def _check(self, value, name, what):
        _check_slice_dim(self.dim, 'length', self.length, value, name, what)

    def _slices(self, value):
        start = 0
        for length in self.lengths:
            yield value.narrow(self.dim, start, length)
            start = start + length

    def _call(self, x):
        self._check(x, 'tensor', 'x')
        return nbgrad.cat([t(s) for t, s in zip(self.transforms, self._slices(x))], dim=self.dim)

    def _inverse(self, y):
        self._check(y, 'tensor', 'y')
        return nbgrad.cat([t.inv(s) for t, s in zip(self.transforms, self._slices(y))],
                         dim=self.dim)

    def log_abs_det_jacobian(self, x, y):
        self._check(x, 'x', 'x')
        self._check(y, 'y', 'y')
        logdetjacs = []
        for trans, xslice, yslice in zip(self.transforms, self._slices(x), self._slices(y)):
            logdetjac = trans.log_abs_det_jacobian(xslice, yslice)
            if trans.event_dim < self.event_dim:
                logdetjac = _sum_rightmost(logdetjac, self.event_dim - trans.event_dim)
            logdetjacs.append(logdetjac)
        # concatenate along `dim` when it is a batch dim of the log-dets; sum when it is an
        # event dim
        dim = self.dim
        if dim >= 0:
            dim = dim - x.dim()
        dim = dim + self.event_dim
        if dim < 0:
            return nbgrad.cat(logdetjacs, dim=dim)
        return sum(logdetjacs)

    @property
    def bijective(self):
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self):
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @constraints.dependent_property
    def codomain(self):
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)


class StackTransform(Transform):
    """Applies the transforms `tseq` to the slices of dimension `dim`, as torch.stack would join
    them."""

    def __init__(self, tseq, dim=0, cache_size=0):
        if not all(isinstance(t, Transform) for t in tseq):
            raise AssertionError('All elements of tseq must be Transform instances')
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = list(tseq)
        self.dim = dim

    def with_cache(self, cache_size=1):
        if self._cache_size == cache_size:
            return self
        return StackTransform(self.transforms, self.dim, cache_size)

    def _slice(self, z):
        return [z.select(self.dim, i) for i in range(z.size(self.dim))]

    def _check(self, value, name, what):
        _check_slice_dim(self.dim, 'len(transforms)', len(self.transforms), value, name, what)

    def _call(self, x):
        self._check(x, 'tensor', 'x')
        return nbgrad.stack([t(s) for s, t in zip(self._slice(x), self.transforms)], dim=self.dim)

    def _inverse(self, y):
        self._check(y, 'tensor', 'y')
        return nbgrad.stack([t.inv(s) for s, t in zip(self._slice(y), self.transforms)],
                           dim=self.dim)

    def log_abs_det_jacobian(self, x, y):
        self._check(x, 'x', 'x')
        self._check(y, 'y', 'y')
        return nbgrad.stack([t.log_abs_det_jacobian(xs, ys) for xs, ys, t
                            in zip(self._slice(x), self._slice(y), self.transforms)], dim=self.dim)

    @property
    def bijective(self):
        return all(t.bijective for t in self.transforms)

    @constraints.dependent_property
    def domain(self):
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @constraints.dependent_property
    def codomain(self):
        return constraints.stack([t.codomain for t in self.transforms], self.dim)
