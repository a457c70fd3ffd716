"""torch.sparse.as_sparse_gradcheck: extends a gradcheck function to functions that take or
return sparse tensors, as PyTorch's does: the checked variables of a sparse input are its
stored values (its indices stay fixed), and a sparse output is compared through to_dense(). So
the wrapped gradcheck itself only ever sees strided tensors."""
import functools

from .._tensor import Tensor
from ._build import is_sparse
from ._compressed import is_compressed


def _rebuild(template, values):
    """A sparse tensor with template's indices (and layout) and `values`."""
    from . import sparse_coo_tensor
    data = template._data
    if is_compressed(template):
        from ._compressed import sparse_compressed_tensor
        index = data.compressed
        return sparse_compressed_tensor(Tensor._make(index.compressed_indices),
                                        Tensor._make(index.plain_indices), values, data.shape,
                                        layout=index.layout)
    return sparse_coo_tensor(Tensor._make(data.indices), values, data.shape,
                             is_coalesced=data.coalesced or None)


def _densified(output):
    if isinstance(output, Tensor) and is_sparse(output):
        return output.to_dense()
    if isinstance(output, (tuple, list)):
        return type(output)(_densified(o) for o in output)
    return output


def as_sparse_gradcheck(gradcheck):
    """Decorate gradcheck (or a functools.partial of it) so that it accepts sparse inputs and
    outputs."""

    @functools.wraps(gradcheck)
    def gradcheck_with_sparse_support(func, inputs, **kwargs):
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        templates, flat = [], []
        for x in inputs:
            if isinstance(x, Tensor) and is_sparse(x):
                templates.append(x)
                values = x._values() if not is_compressed(x) else x.values()
                flat.append(values.detach().clone().requires_grad_(x.requires_grad))
            else:
                templates.append(None)
                flat.append(x)

        def func_of_values(*args):
            rebuilt = [arg if template is None else _rebuild(template, arg)
                       for template, arg in zip(templates, args)]
            return _densified(func(*rebuilt))

        return gradcheck(func_of_values, tuple(flat), **kwargs)

    return gradcheck_with_sparse_support
