"""torch.layout: how a tensor's elements are stored. nbgrad's tensors are strided (dense, with
strides) or sparse COO (nbgrad.sparse); the other sparse layouts exist as names, so that code can
mention and compare them, and asking a factory for one is an error rather than a dense tensor in
disguise."""


from ._named_constant import NamedConstant


class layout(NamedConstant):
    """torch.layout."""


strided = layout('strided')
sparse_coo = layout('sparse_coo')
sparse_csr = layout('sparse_csr')
sparse_csc = layout('sparse_csc')
sparse_bsr = layout('sparse_bsr')
sparse_bsc = layout('sparse_bsc')
jagged = layout('jagged')
ALL = (strided, sparse_coo, sparse_csr, sparse_csc, sparse_bsr, sparse_bsc, jagged)


def check_layout(value, fn):
    """A factory's layout= argument: None or strided; TypeError for what is not a layout (as
    PyTorch's parser), NotImplementedError for the layouts nbgrad does not have yet."""
    if value is None or value is strided:
        return
    if not isinstance(value, layout):
        raise TypeError(f"{fn}(): argument 'layout' must be torch.layout, not "
                        f'{type(value).__name__}')
    raise NotImplementedError(f'{fn}(layout={value}): nbgrad makes strided (dense) tensors here; '
                              f'of the sparse layouts it has sparse COO tensors (zeros or empty '
                              f'with layout=torch.sparse_coo, torch.sparse_coo_tensor, '
                              f'to_sparse()). Leave layout at its default.')
