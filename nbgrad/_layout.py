"""torch.layout: how a tensor's elements are stored. nbgrad's tensors are strided (dense, with
strides), sparse COO or 2-d compressed (CSR, CSC) (nbgrad.sparse); the block layouts and jagged
exist as names, so that code can mention and compare them. Asking a dense factory for a sparse
layout is an error rather than a dense tensor in disguise."""


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
                              f'make sparse tensors with torch.sparse_coo_tensor, '
                              f'torch.sparse_csr_tensor, to_sparse() or to_sparse_csr(). Leave '
                              f'layout at its default.')
