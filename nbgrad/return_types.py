"""Named-tuple results of ops such as max(dim), sort, topk (PyTorch's torch.return_types)."""
import collections

_FIELDS = {
    'max': ('values', 'indices'), 'min': ('values', 'indices'), 'sort': ('values', 'indices'),
    'topk': ('values', 'indices'), 'kthvalue': ('values', 'indices'),
    'median': ('values', 'indices'), 'nanmedian': ('values', 'indices'),
    'mode': ('values', 'indices'),
    'cummax': ('values', 'indices'), 'cummin': ('values', 'indices'),
    'aminmax': ('min', 'max'), 'slogdet': ('sign', 'logabsdet'), 'qr': ('Q', 'R'),
    'svd': ('U', 'S', 'V'), 'eigh': ('eigenvalues', 'eigenvectors'),
    'linalg_slogdet': ('sign', 'logabsdet'), 'linalg_qr': ('Q', 'R'),
    'linalg_svd': ('U', 'S', 'Vh'), 'linalg_eigh': ('eigenvalues', 'eigenvectors'),
    'linalg_eig': ('eigenvalues', 'eigenvectors'),
    'linalg_inv_ex': ('inverse', 'info'), 'linalg_solve_ex': ('result', 'info'), 'linalg_cholesky_ex': ('L', 'info'),
    'lu_unpack': ('P', 'L', 'U'), 'histogram': ('hist', 'bin_edges'), 'histogramdd': ('hist', 'bin_edges'),
    'linalg_lu_factor': ('LU', 'pivots'), 'linalg_lu_factor_ex': ('LU', 'pivots', 'info'),
    'linalg_lu': ('P', 'L', 'U'), '_lu_with_info': ('LU', 'pivots', 'info'),
    'linalg_lstsq': ('solution', 'residuals', 'rank', 'singular_values'),
    'frexp': ('mantissa', 'exponent'), 'triangular_solve': ('solution', 'cloned_coefficient'),
}
_CLASSES = {}


def _make(name):
    base = collections.namedtuple(name, _FIELDS[name])

    def __repr__(self):
        body = ',\n'.join(f'{field}={value!r}' for field, value in zip(self._fields, self))
        return f'nbgrad.return_types.{name}(\n{body})'
    cls = type(name, (base,), {'__repr__': __repr__, '__slots__': ()})
    cls.__module__ = __name__
    return cls


def return_type(name, *values):
    cls = _CLASSES.get(name)
    if cls is None:
        cls = _CLASSES[name] = _make(name)
    return cls(*values)


def __getattr__(name):
    if name in _FIELDS:
        return _CLASSES.setdefault(name, _make(name))
    raise AttributeError(name)
