"""repr of a sparse COO tensor, as PyTorch prints one: its indices and values as nested tensors,
then size, nnz, dtype (when not a default one), layout, and the autograd suffix, each suffix
line starting under the contents."""
import numpy as np

from .. import _dtype
from .._tensor_str import _add_suffixes, _tensor_str


def _host(array):
    return array if isinstance(array, np.ndarray) else array.get()


def _nested(prefix, array, indent):
    """'indices=tensor([...])', with the shape spelled out for an empty array (even (0,))."""
    text = prefix + _tensor_str(array, indent + len(prefix))
    if array.size == 0:
        text += ', size=' + str(tuple(int(d) for d in array.shape))
    return text + ')'


def format_sparse(tensor):
    """repr of a sparse tensor: COO's indices and values, or a compressed tensor's two index
    arrays and values (on one line with size and nnz where they fit, as PyTorch prints them)."""
    payload = tensor._data
    compressed = payload.compressed
    prefix = 'tensor('
    indent = len(prefix)
    suffixes = []
    device = str(tensor.device)
    if device != 'cpu':
        suffixes.append(f"device='{device}'")
    suffixes.append('size=' + str(tuple(payload.shape)))
    suffixes.append(f'nnz={payload.nnz}')
    default = _dtype.get_default_dtype().name
    name = payload.dtype.name
    if name not in (default, 'complex128' if default == 'float64' else 'complex64', 'int64',
                    'bool'):
        suffixes.append('dtype=nbgrad.' + name)
    suffixes.append(f'layout=nbgrad.{payload.compressed.layout.name}' if compressed else
                    'layout=nbgrad.sparse_coo')
    fn = tensor._grad_fn
    if fn is not None:
        suffixes.append(f'grad_fn=<{fn.type_name()}>')
    elif tensor._requires_grad:
        suffixes.append('requires_grad=True')
    if compressed is None:
        contents = (_nested('indices=tensor(', _host(payload.indices), indent) + ',\n' +
                    ' ' * indent + _nested('values=tensor(', _host(payload.values), indent))
        return _add_suffixes(prefix + contents, suffixes, indent, force_newline=True)
    first, second = compressed.names
    contents = ',\n'.join([
        _nested(first + '=tensor(', _host(compressed.compressed_indices), indent),
        ' ' * indent + _nested(second + '=tensor(', _host(compressed.plain_indices), indent),
        ' ' * indent + _nested('values=tensor(', _host(payload.values), indent)])
    return _add_suffixes(prefix + contents, suffixes, indent)
