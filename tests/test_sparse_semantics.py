"""Sparse COO semantics beyond the op table of test_sparse_coo, against PyTorch (the oracle, on
the CPU): dtype promotion, how sums of entry lists merge (nnz and the coalesced flag), in-place
ops with a sparse operand, indexing and views (select, index_select, unsqueeze, permute),
sparse @ sparse with its gradients, the layout and flag of gradients, grad_fn names, and the
refusals PyTorch makes (each a clear error, never a silent answer)."""
import numpy as np
import pytest

import nbgrad
from test_sparse_coo import D23, D32, IDX, IDX_B, SIZE, VAL, VAL_B, both, dense, host, sp

torch = pytest.importorskip('torch')

pytestmark = pytest.mark.filterwarnings('ignore:Sparse:UserWarning')


def f64(lib, dev, coalesced=False, **kw):
    return sp(lib, dev, dtype='float64', coalesced=coalesced, **kw)


# -- dtype promotion ---------------------------------------------------------------------------

PROMOTION = {  # PyTorch's rules, not NumPy's (int64 with float32 is float32)
    'f32+f64': lambda lib, dev: sp(lib, dev) + f64(lib, dev),
    'i64+f32': lambda lib, dev: sp(lib, dev, dtype='int64') + sp(lib, dev),
    'i32*f32': lambda lib, dev: sp(lib, dev, dtype='int32') * sp(lib, dev),
    'dense_i64+f32': lambda lib, dev: dense(lib, dev, D23, 'int64') + sp(lib, dev),
    'dense_f32+i64': lambda lib, dev: dense(lib, dev, D23) + sp(lib, dev, dtype='int64'),
    'dense_f32+f64': lambda lib, dev: dense(lib, dev, D23) + f64(lib, dev),
    'sum_dim_i32_is_i64': lambda lib, dev: sp(lib, dev, dtype='int32').sum(1),
    'sparse_sum_dim_i32_stays': lambda lib, dev: lib.sparse.sum(sp(lib, dev, dtype='int32'), 1),
    'sum_i32': lambda lib, dev: sp(lib, dev, dtype='int32').sum(),
    'select_i32': lambda lib, dev: sp(lib, dev, dtype='int32')[0],
    'select_bool': lambda lib, dev: sp(lib, dev, dtype='bool')[1],
    # two True entries at one index count 2 once added to a float tensor
    'dense_plus_uncoalesced_bool': lambda lib, dev: dense(lib, dev, np.zeros((2, 3))) + sp(
        lib, dev, dtype='bool'),
}


@pytest.mark.parametrize('case', PROMOTION)
def test_dtype_promotion(case, device):
    got, exp = both(PROMOTION[case], device)
    assert exp is not None


# -- how entry lists merge ---------------------------------------------------------------------

MERGES = {  # raw: the stored entries themselves, not just the dense value
    'coalesced+coalesced': lambda lib, dev: f64(lib, dev, True) + f64(lib, dev, True) * 2,
    'coalesced+other_pattern': lambda lib, dev: f64(lib, dev, True) + f64(
        lib, dev, True, idx=IDX_B, val=VAL_B),
    'uncoalesced+same_pattern': lambda lib, dev: f64(lib, dev) + f64(lib, dev) * 2,
    'add_self_in_place': lambda lib, dev: f64(lib, dev).add_(f64(lib, dev)),
    'coalesced_add_self_in_place': lambda lib, dev: (lambda s: s.add_(s))(f64(lib, dev, True)),
}


@pytest.mark.parametrize('case', MERGES)
def test_sums_merge_entries_as_pytorch(case, device):
    both(MERGES[case], device, raw=True)


def test_accumulated_sparse_grad_stays_merged(device):
    """.grad += a sparse gradient merges the entries (PyTorch's add_), so nnz does not grow
    with every backward."""
    def run(lib, dev):
        s = f64(lib, dev, True).requires_grad_()
        for _ in range(3):
            lib.sparse.mm(s, dense(lib, dev, D32, 'f8')).sum().backward()
        return s.grad
    got, exp = both(run, device, raw=True)
    assert got._nnz() == exp._nnz() == 3


# -- in place ----------------------------------------------------------------------------------

INPLACE = {
    'dense_add_': lambda lib, dev: dense(lib, dev, D23, 'f8').add_(f64(lib, dev)),
    'dense_mul_': lambda lib, dev: dense(lib, dev, D23, 'f8').mul_(f64(lib, dev)),
    'dense_sub_': lambda lib, dev: dense(lib, dev, D23, 'f8').sub_(f64(lib, dev)),
    'dense_int_add_float_refused': lambda lib, dev: dense(lib, dev, D23, 'int64').add_(
        f64(lib, dev)),
    'dense_div_refused': lambda lib, dev: dense(lib, dev, D23, 'f8').div_(f64(lib, dev)),
    'dense_copy_sparse_refused': lambda lib, dev: dense(lib, dev, D23, 'f8').copy_(
        f64(lib, dev)),
    'copy_sparse': lambda lib, dev: f64(lib, dev).copy_(sp(lib, dev, coalesced=True) * 2),
    'copy_uncoalesced': lambda lib, dev: f64(lib, dev, True).copy_(f64(lib, dev)),
    'copy_dense_refused': lambda lib, dev: f64(lib, dev).copy_(dense(lib, dev, D23, 'f8')),
    'abs_uncoalesced_refused': lambda lib, dev: f64(lib, dev).abs_(),
    'abs_coalesced': lambda lib, dev: f64(lib, dev, True).abs_(),
    'sqrt_uncoalesced_refused': lambda lib, dev: f64(lib, dev).sqrt_(),
    'neg_uncoalesced': lambda lib, dev: f64(lib, dev).neg_(),
    'mul_scalar': lambda lib, dev: f64(lib, dev).mul_(2),
    'zero_': lambda lib, dev: f64(lib, dev).zero_(),
}


@pytest.mark.parametrize('case', INPLACE)
def test_inplace(case, device):
    both(INPLACE[case], device, raw=True)


def test_inplace_refusal_leaves_the_target(device):
    a = dense(nbgrad, device, D23, 'int64')
    with pytest.raises(RuntimeError, match="can't be cast"):
        a.add_(f64(nbgrad, device))
    np.testing.assert_array_equal(host(a), D23.astype('int64'))


# -- indexing and views ------------------------------------------------------------------------

def _with_dense_dim(lib, dev, coalesced=False):
    return sp(lib, dev, val=np.arange(-4., 4.).reshape(4, 2), size=(2, 3, 2),
              coalesced=coalesced)


VIEWS = {
    'select_0': lambda lib, s: s[1],
    'select_last': lambda lib, s: s[-1],
    'select_both': lambda lib, s: s[0, 2],
    'select_dim1': lambda lib, s: s.select(1, 2),
    'slice_then_int': lambda lib, s: s[:, 2],
    'select_out_of_range': lambda lib, s: s[5],
    'slice_refused': lambda lib, s: s[0:1],
    'new_axis': lambda lib, s: s[None],
    'new_axis_then_column': lambda lib, s: s[None, :, 1],
    'ellipsis_then_int': lambda lib, s: s[..., 2],
    'nan_to_num': lambda lib, s: (s / 0).nan_to_num(posinf=7.),
    'index_select_0': lambda lib, s: s.index_select(0, _ix(s, [1, 0, 1])),
    'index_select_1': lambda lib, s: s.index_select(1, _ix(s, [2, 2])),
    'index_select_empty': lambda lib, s: s.index_select(1, _ix(s, [])),
    'index_select_out_of_range': lambda lib, s: s.index_select(0, _ix(s, [2])),
    'unsqueeze_0': lambda lib, s: s.unsqueeze(0),
    'unsqueeze_1': lambda lib, s: s.unsqueeze(1),
    'unsqueeze_last': lambda lib, s: s.unsqueeze(-1),
    'permute': lambda lib, s: s.permute(1, 0),
    'permute_identity': lambda lib, s: s.permute(0, 1),
    'floordiv': lambda lib, s: s // 2,
    'floordiv_tensor': lambda lib, s: s // lib.tensor(2.),
    'div_trunc': lambda lib, s: s.div(2, rounding_mode='trunc'),
    'pow_neg1': lambda lib, s: s.pow(-1),
    'pow_0_refused': lambda lib, s: s ** 0,
    'pow_tensor_refused': lambda lib, s: s.pow(lib.tensor(2.)),
    'rpow_refused': lambda lib, s: 2 ** s,
    'norm': lambda lib, s: s.norm(),
    'norm_1': lambda lib, s: s.norm(p=1),
    'norm_inf': lambda lib, s: s.norm(p=float('inf')),
    'norm_all_dims': lambda lib, s: s.norm(dim=(0, 1)),
    'norm_dim_refused': lambda lib, s: s.norm(dim=1),
    'sum_keepdim_1': lambda lib, s: s.sum(1, keepdim=True),
    'sum_keepdim_all': lambda lib, s: s.sum((0, 1), keepdim=True),
    'mul_broadcast_row': lambda lib, s: s * _like(s, [1., 2., 3.]),
    'mul_broadcast_col': lambda lib, s: _like(s, [[2.], [3.]]) * s,
    'zeros_like': lambda lib, s: lib.zeros_like(s),
    'empty_like': lambda lib, s: lib.empty_like(s),
    'item_of_one': lambda lib, s: s[0].sum().item(),
    'type': lambda lib, s: s.type().replace('nbgrad', 'torch').replace('.cuda', ''),
    'type_int': lambda lib, s: s.int().type().replace('nbgrad', 'torch').replace('.cuda', ''),
}


def _like(s, values):
    """A dense tensor of s's library, dtype and device."""
    lib = torch if isinstance(s, torch.Tensor) else nbgrad
    return lib.tensor(values, dtype=s.dtype, device=s.device)


def _ix(t, values):
    """An index tensor of t's library, on t's device."""
    lib = torch if isinstance(t, torch.Tensor) else nbgrad
    return lib.tensor(values, dtype=lib.int64, device=t.device)


@pytest.mark.parametrize('coalesced', [False, True], ids=['uncoalesced', 'coalesced'])
@pytest.mark.parametrize('case', VIEWS)
def test_views_and_ops(case, coalesced, device):
    both(lambda lib, dev: VIEWS[case](lib, f64(lib, dev, coalesced)), device, raw=True)


def test_mul_by_a_larger_dense_tensor_is_refused(device):
    """A deliberate difference: PyTorch broadcasts s (2x3) * dense (4x2x3) into a sparse 4x2x3
    tensor, repeating the entries; nbgrad asks for an explicit expand instead."""
    assert sp(torch, 'cpu').mul(torch.ones(4, 2, 3)).shape == (4, 2, 3)
    with pytest.raises(RuntimeError, match=r'\[4, 2, 3\] must broadcast'):
        sp(nbgrad, device) * nbgrad.ones(4, 2, 3, device=device)


DENSE_DIM_VIEWS = {
    'select_dense_dim': lambda lib, s: s.select(2, 1),
    'index_select_dense_dim': lambda lib, s: s.index_select(2, _ix(s, [1, 1, 0])),
    'unsqueeze_dense': lambda lib, s: s.unsqueeze(3),
    'permute_sparse_dims': lambda lib, s: s.permute(1, 0, 2),
    'permute_mixed_refused': lambda lib, s: s.permute(2, 0, 1),
    'sum_dense_keepdim': lambda lib, s: s.sum(2, keepdim=True),
    'softmax_dense_dim': lambda lib, s: lib.sparse.softmax(s, 2),
    'log_softmax_dense_dim': lambda lib, s: lib.sparse.log_softmax(s, -1),
}


@pytest.mark.parametrize('coalesced', [False, True], ids=['uncoalesced', 'coalesced'])
@pytest.mark.parametrize('case', DENSE_DIM_VIEWS)
def test_with_a_dense_dim(case, coalesced, device):
    both(lambda lib, dev: DENSE_DIM_VIEWS[case](lib, _with_dense_dim(lib, dev, coalesced)),
         device, rtol=1e-6, atol=1e-7)


FACTORIES = {
    'zeros': lambda lib, dev: lib.zeros(2, 3, layout=lib.sparse_coo, device=dev),
    'zeros_int': lambda lib, dev: lib.zeros((2, 3), dtype=lib.int64, layout=lib.sparse_coo,
                                            device=dev),
    'empty': lambda lib, dev: lib.empty(2, 3, layout=lib.sparse_coo, device=dev),
    'item': lambda lib, dev: lib.sparse_coo_tensor([[0]], [3.], (1,), device=dev).item(),
    'float': lambda lib, dev: float(lib.sparse_coo_tensor([[0]], [3.], (1,), device=dev)),
    'int': lambda lib, dev: int(lib.sparse_coo_tensor([[0]], [3.], (1,), device=dev)),
    'bool': lambda lib, dev: bool(lib.sparse_coo_tensor([[0]], [3.], (1,), device=dev)),
    'item_of_many_refused': lambda lib, dev: sp(lib, dev).item(),
    'zero_dim': lambda lib, dev: lib.sparse_coo_tensor(lib.zeros(0, 1, dtype=lib.int64),
                                                       lib.tensor([3.]), (), device=dev),
}


@pytest.mark.parametrize('case', FACTORIES)
def test_factories_and_scalars(case, device):
    both(FACTORIES[case], device, raw=True)


# -- sparse @ sparse ---------------------------------------------------------------------------

def _b(lib, dev):
    return lib.sparse_coo_tensor(lib.tensor([[0, 2], [1, 0]]), lib.tensor([1., 2.],
                                 dtype=lib.float64), (3, 2), device=dev)


def test_sparse_product_keeps_cancelled_entries(device):
    """Products that cancel leave an explicit zero in PyTorch's result."""
    def run(lib, dev):
        x = lib.sparse_coo_tensor([[0, 0], [0, 1]], [1., -1.], (2, 2), device=dev)
        y = lib.sparse_coo_tensor([[0, 1], [0, 0]], [1., 1.], (2, 2), device=dev)
        return lib.sparse.mm(x, y), x @ y
    both(run, device, raw=True)


@pytest.mark.parametrize('how', ['sparse_mm', 'matmul'])
def test_sparse_product_gradients(how, device):
    """torch.sparse.mm's gradients keep each input's pattern; @'s are the full products."""
    def run(lib, dev):
        a = f64(lib, dev, True).requires_grad_()
        b = _b(lib, dev).requires_grad_()
        out = lib.sparse.mm(a, b) if how == 'sparse_mm' else a @ b
        (out.to_dense() * lib.tensor([[1., 2.], [3., 4.]], dtype=lib.float64,
                                     device=dev)).sum().backward()
        return out, a.grad.to_dense(), b.grad.to_dense()
    both(run, device, rtol=1e-12, atol=1e-12, flag=False)


SPARSE_MM_ERRORS = {
    'int_by_float': lambda lib, dev: sp(lib, dev, dtype='int64') @ dense(lib, dev, D32),
    'f32_by_f64': lambda lib, dev: sp(lib, dev) @ dense(lib, dev, D32, 'f8'),
    'sparse_mm_f32_by_f64': lambda lib, dev: lib.sparse.mm(sp(lib, dev),
                                                           dense(lib, dev, D32, 'f8')),
    'int_sparse_by_sparse': lambda lib, dev: sp(lib, dev, dtype='int64') @ sp(
        lib, dev, dtype='int64').t(),
    'f32_sparse_by_f64_sparse': lambda lib, dev: sp(lib, dev) @ f64(lib, dev).t(),
    'int_by_int': lambda lib, dev: sp(lib, dev, dtype='int64') @ dense(lib, dev, D32, 'int64'),
    'softmax_half': lambda lib, dev: lib.sparse.softmax(sp(lib, dev, dtype='float16'), 1),
    'softmax_int_with_dtype': lambda lib, dev: lib.sparse.softmax(sp(lib, dev, dtype='int64'), 1,
                                                                  dtype=lib.float64),
    'sparse_sum_bad_dim': lambda lib, dev: lib.sparse.sum(sp(lib, dev), -3),
}


@pytest.mark.parametrize('case', SPARSE_MM_ERRORS)
def test_products_and_softmax_dtypes(case, device):
    both(SPARSE_MM_ERRORS[case], device)


# -- gradients -------------------------------------------------------------------------------

GRAD_LAYOUTS = {  # the gradient PyTorch gives the dense operand (layout, pattern, values)
    'dense_operand_of_mul': lambda lib, s, d: (s * d).to_dense().sum(),
    'dense_operand_of_rmul': lambda lib, s, d: (d * s).to_dense().sum(),
    'values': lambda lib, s, d: s.coalesce().values().pow(2).sum() + (d * 0).sum(),
    'sparse_sum_dim': lambda lib, s, d: lib.sparse.sum(s * d, 0).to_dense().sum(),
}


@pytest.mark.parametrize('coalesced', [True, False], ids=['coalesced', 'uncoalesced'])
@pytest.mark.parametrize('case', GRAD_LAYOUTS)
def test_gradient_layouts(case, coalesced, device):
    def run(lib, dev):
        s = f64(lib, dev, coalesced)
        d = lib.tensor(D23, device=dev, requires_grad=True)
        GRAD_LAYOUTS[case](lib, s, d).backward()
        return d.grad
    # (the entries of a product with an uncoalesced s are PyTorch's kernel's choice)
    both(run, device, rtol=1e-12, atol=1e-12, raw=coalesced)


DENSE_GRADS = {  # a dense gradient reaching a sparse leaf through a linear op stays dense
    'scaled': lambda lib, x, w: (lib.zeros(2, 3, dtype=lib.float64, device=w.device) + x * 2) * w,
    'neg': lambda lib, x, w: (lib.zeros(2, 3, dtype=lib.float64, device=w.device) - (-x)) * w,
    'div': lambda lib, x, w: (lib.zeros(2, 3, dtype=lib.float64, device=w.device) + x / 2) * w,
    'clone': lambda lib, x, w: (lib.zeros(2, 3, dtype=lib.float64, device=w.device) + x.clone())
    * w,
    'mul_dense': lambda lib, x, w: (lib.zeros(2, 3, dtype=lib.float64, device=w.device) + x * w)
    * w,
    'scaled_matmul': lambda lib, x, w: (x * 3) @ w.t(),
    'select_row': lambda lib, x, w: (lib.zeros(3, dtype=lib.float64, device=w.device) + x[1])
    * w[0],
    'select_column': lambda lib, x, w: (lib.zeros(2, dtype=lib.float64, device=w.device)
                                        + x[:, 2]) * w[:, 0],
    'select_element': lambda lib, x, w: x[0, 2] * 3 + (w * 0).sum(),
}


@pytest.mark.parametrize('coalesced', [True, False], ids=['coalesced', 'uncoalesced'])
@pytest.mark.parametrize('case', DENSE_GRADS)
def test_dense_gradient_of_a_sparse_leaf(case, coalesced, device):
    """PyTorch differentiates s * 2, -s, s / 2, clone, s * w and select with the same op on
    the incoming gradient: a dense gradient gives the sparse leaf a dense .grad, every element
    (not only its entries)."""
    def run(lib, dev):
        x = f64(lib, dev, coalesced).requires_grad_()
        w = lib.tensor(D23, device=dev)
        DENSE_GRADS[case](lib, x, w).sum().backward()
        return x.grad
    both(run, device, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('coalesced', [True, False], ids=['coalesced', 'uncoalesced'])
@pytest.mark.parametrize('how', ['sum', 'sparse_sum'])
def test_dense_gradient_of_a_sum_over_every_sparse_dim(how, coalesced, device):
    def run(lib, dev):
        x = _with_dense_dim(lib, dev, coalesced).double().requires_grad_()
        total = x.sum((0, 1)) if how == 'sum' else lib.sparse.sum(x, (0, 1))
        (total * lib.tensor([1., 2.], dtype=lib.float64, device=dev)).sum().backward()
        return x.grad
    both(run, device)


GRAD_VALUES = {  # (on sparse tensors, on their dense twins): PyTorch has no sparse backward
    'index_select': (lambda s: s.index_select(0, _ix(s, [1, 1])).to_dense().pow(2).sum(),
                     lambda t: t.index_select(0, _ix(t, [1, 1])).pow(2).sum()),
    'index_select_dim1': (lambda s: s.index_select(1, _ix(s, [2, 0, 2])).to_dense().pow(2)
                          .sum(), lambda t: t.index_select(1, _ix(t, [2, 0, 2])).pow(2).sum()),
    'unsqueeze': (lambda s: (s.unsqueeze(1).to_dense() * 3).pow(2).sum(),
                  lambda t: (t.unsqueeze(1) * 3).pow(2).sum()),
    'permute': (lambda s: s.permute(1, 0).to_dense()[0].pow(3).sum(),
                lambda t: t.permute(1, 0)[0].pow(3).sum()),
    'norm': (lambda s: s.norm(), lambda t: t.norm()),
    'select': (lambda s: s[1].to_dense().pow(2).sum(), lambda t: t[1].pow(2).sum()),
    'select_dim1': (lambda s: s.select(1, 2).to_dense().pow(2).sum(),
                    lambda t: t.select(1, 2).pow(2).sum()),
}


@pytest.mark.parametrize('coalesced', [True, False], ids=['coalesced', 'uncoalesced'])
@pytest.mark.parametrize('case', GRAD_VALUES)
def test_gradients_where_pytorch_has_no_sparse_backward(case, coalesced, device):
    """The gradient of the dense operand d of (s * d) through ops PyTorch cannot differentiate
    on sparse tensors: compared with PyTorch's gradient of the same function of the dense
    tensor s.to_dense() * d (its values at s's entries: d's gradient is sparse there)."""
    on_sparse, on_dense = GRAD_VALUES[case]
    d = nbgrad.tensor(D23, device=device, requires_grad=True)
    on_sparse(f64(nbgrad, device, coalesced) * d).backward()
    t = torch.tensor(D23, requires_grad=True)
    on_dense(f64(torch, 'cpu', coalesced).to_dense() * t).backward()
    pattern = f64(torch, 'cpu', True).to_dense() != 0
    expected = torch.where(pattern, t.grad, 0)
    got = d.grad.to_dense() if d.grad.is_sparse else d.grad
    np.testing.assert_allclose(host(got), host(expected), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('mode', ['sum', 'mean'])
def test_embedding_bag_sparse_gradient(mode, device):
    def run(lib, dev):
        lib.manual_seed(0)
        bag = lib.nn.EmbeddingBag(5, 2, mode=mode, sparse=True).to(dev)
        weights = dict(per_sample_weights=lib.tensor([1., 2., 3., 4.], device=dev)) \
            if mode == 'sum' else {}
        bag(lib.tensor([0, 1, 1, 3], device=dev), lib.tensor([0, 2], device=dev),
            **weights).sum().backward()
        return bag.weight.grad
    both(run, device, raw=True)


def test_second_backward_through_a_sparse_graph_raises(device):
    def run(lib, dev):
        v = lib.tensor(VAL, device=dev, requires_grad=True)
        loss = lib.sparse_coo_tensor(lib.tensor(IDX, device=dev), v, SIZE).to_dense().sum()
        loss.backward()
        loss.backward()
    both(run, device)


def test_retain_graph_allows_a_second_backward(device):
    def run(lib, dev):
        v = lib.tensor(VAL, device=dev, requires_grad=True)
        loss = lib.sparse_coo_tensor(lib.tensor(IDX, device=dev), v, SIZE).to_dense().sum()
        loss.backward(retain_graph=True)
        loss.backward()
        return v.grad
    both(run, device)


NAMES = {
    'mul': lambda lib, s: s * 2, 'neg': lambda lib, s: -s, 'coalesce': lambda lib, s: s.coalesce(),
    't': lambda lib, s: s.t(), 'to_dense': lambda lib, s: s.to_dense(),
    'sum': lambda lib, s: s.sum(), 'sum_dim': lambda lib, s: s.sum(0),
    'sparse_sum': lambda lib, s: lib.sparse.sum(s),
    'sparse_sum_dim': lambda lib, s: lib.sparse.sum(s, 0),
    'add': lambda lib, s: s + s.detach(), 'sub': lambda lib, s: s - s.detach(),
    'mul_sparse': lambda lib, s: s * s.detach(),
    'matmul': lambda lib, s: s @ lib.ones(3, 2, dtype=lib.float64),
    'sparse_mm': lambda lib, s: lib.sparse.mm(s, lib.ones(3, 2, dtype=lib.float64)),
    'softmax': lambda lib, s: lib.sparse.softmax(s, 1),
    'log_softmax': lambda lib, s: lib.sparse.log_softmax(s, 1),
    'abs': lambda lib, s: s.abs(), 'pow': lambda lib, s: s.pow(2), 'div': lambda lib, s: s / 2,
    'select': lambda lib, s: s[0], 'clone': lambda lib, s: s.clone(),
    'float': lambda lib, s: s.float(), 'values': lambda lib, s: s.coalesce().values(),
    'dense_plus_sparse': lambda lib, s: lib.ones(2, 3, dtype=lib.float64) + s,
    'mul_dense': lambda lib, s: s * lib.ones(2, 3, dtype=lib.float64),
    'index_select': lambda lib, s: s.index_select(0, lib.tensor([1])),
    'unsqueeze': lambda lib, s: s.unsqueeze(0), 'permute': lambda lib, s: s.permute(1, 0),
    'norm': lambda lib, s: s.norm(),
}


@pytest.mark.parametrize('case', NAMES)
def test_grad_fn_names(case):
    def name(lib):
        s = f64(lib, 'cpu').requires_grad_()
        return NAMES[case](lib, s).grad_fn.name()
    assert name(nbgrad) == name(torch)


@pytest.mark.parametrize('sparse_dim', [None, 1])
def test_to_sparse_grad_fn_name(sparse_dim):
    def name(lib):
        x = lib.tensor(D23, requires_grad=True)
        return (x.to_sparse() if sparse_dim is None else x.to_sparse(sparse_dim)).grad_fn.name()
    assert name(nbgrad) == name(torch)


# -- found by a differential review ----------------------------------------------------------

def test_double_backward_through_a_sparse_product(device):
    def run(lib, dev):
        x = lib.sparse_coo_tensor(lib.tensor([[0, 1, 2]]), lib.tensor([1., 2., 3.],
                                  dtype=lib.float64), (4,), device=dev).coalesce()
        x.requires_grad_()
        y = lib.sparse.sum(x * x)
        (gx,) = lib.autograd.grad(y, x, create_graph=True)
        (y + lib.sparse.sum(gx * gx)).backward()
        return gx.requires_grad, x.grad.to_dense()
    both(run, device, rtol=1e-12, atol=1e-12)


def test_sparse_mask_gradient_counts_repeated_entries(device):
    def run(lib, dev):
        mask = lib.sparse_coo_tensor([[0, 0]], [1., 2.], (2,), device=dev)
        a = lib.ones(2, device=dev, requires_grad=True)
        a.sparse_mask(mask).to_dense().sum().backward()
        return a.grad
    both(run, device)


def test_in_place_change_of_a_saved_sparse_tensor_is_caught(device):
    def run(lib, dev):
        x = f64(lib, dev, True).requires_grad_()
        y = lib.sparse.sum(x * x)
        with lib.no_grad():
            x.mul_(2)
        y.backward()
    both(run, device)


SMALL_INT_SUMS = {  # two uint8 entries of 200 at one index: PyTorch sums them as it specifies
    'sum_dim': lambda lib, s: s.sum(0),
    'sparse_sum_dim_int64': lambda lib, s: lib.sparse.sum(s, 0, dtype=lib.int64),
    'sparse_sum_dim': lambda lib, s: lib.sparse.sum(s, 0),
    'sparse_sum_all': lambda lib, s: lib.sparse.sum(s),
    'sum_all': lambda lib, s: s.sum(),
    'select_all': lambda lib, s: s[0, 1],
    'bool_sum_dim': lambda lib, s: s.bool().sum(0),
    'bool_sparse_sum_all': lambda lib, s: lib.sparse.sum(s.bool()),
    'bool_select_all': lambda lib, s: s.bool()[0, 1],
}


@pytest.mark.parametrize('case', SMALL_INT_SUMS)
def test_sums_of_repeated_small_integers(case, device):
    def run(lib, dev):
        s = lib.sparse_coo_tensor([[0, 0, 1], [1, 1, 2]], lib.tensor([200, 200, 7],
                                  dtype=lib.uint8), (2, 3), device=dev)
        return SMALL_INT_SUMS[case](lib, s)
    both(run, device)


MISC = {
    'claimed_coalesced_with_repeats': lambda lib, dev: lib.sparse_coo_tensor(
        [[0, 0]], [1., 2.], (3,), is_coalesced=True, check_invariants=True, device=dev),
    'is_coalesced_false_single_entry': lambda lib, dev: lib.sparse_coo_tensor(
        [[1]], [1.], (3,), is_coalesced=False, device=dev),
    'zeros_like_dense_dim': lambda lib, dev: lib.zeros_like(_with_dense_dim(lib, dev)),
    'new_zeros_of_sparse': lambda lib, dev: sp(lib, dev).new_zeros((2, 2)),
    'ones_like_refused': lambda lib, dev: lib.ones_like(sp(lib, dev)),
    'full_like_refused': lambda lib, dev: lib.full_like(sp(lib, dev), 2.),
    'allclose_refused': lambda lib, dev: lib.allclose(sp(lib, dev), sp(lib, dev)),
    'is_contiguous': lambda lib, dev: sp(lib, dev).is_contiguous(),
    'index_select_0d_index_refused': lambda lib, dev: sp(lib, dev).index_select(
        0, lib.tensor(1, device=dev)),
    'index_select_int32_index_refused': lambda lib, dev: sp(lib, dev).index_select(
        0, lib.tensor([1], dtype=lib.int32, device=dev)),
    'complex_floordiv_refused': lambda lib, dev: sp(lib, dev).to(lib.complex64) // 2,
    'bool_add_refused': lambda lib, dev: sp(lib, dev, dtype='bool') + sp(lib, dev, dtype='bool'),
    'half_add_refused': lambda lib, dev: sp(lib, dev, dtype='float16') + sp(
        lib, dev, dtype='float16'),
    'copy_drops_requires_grad': lambda lib, dev: __import__('copy').copy(
        f64(lib, dev).requires_grad_()),
}


@pytest.mark.parametrize('case', MISC)
def test_misc(case, device):
    both(MISC[case], device, raw=True)


@pytest.mark.parametrize('mode', ['sum', 'mean', 'max'])
def test_embedding_bag_refuses_a_last_offset_short_of_the_input(mode, device):
    """include_last_offset=True makes offsets CSR row pointers, ending at len(input) (PyTorch's
    documentation). PyTorch computes something for a shorter last offset (sum and mean bags
    end there, max's runs to the end) with gradients from uninitialised memory; nbgrad
    refuses it, saying how to fix the offsets, and computes the CSR form as PyTorch does."""
    def bags(lib, dev, offsets):
        w = lib.arange(15., dtype=lib.float64, device=dev).reshape(5, 3)
        return lib.nn.functional.embedding_bag(lib.tensor([1, 2, 4, 1, 0, 3], device=dev), w,
                                               lib.tensor(offsets, device=dev), mode=mode,
                                               include_last_offset=True)
    with pytest.raises(RuntimeError, match='offsets\\[-1\\] must equal the input.s length 6'):
        bags(nbgrad, device, [0, 2, 2, 5])
    both(lambda lib, dev: bags(lib, dev, [0, 2, 2, 6]), device)


def test_large_sparse_product_split_over_threads(device):
    """Large enough (entries x columns) for spmm to split its rows over the worker threads."""
    rng = np.random.default_rng(3)
    idx, val = rng.integers(0, 2000, (2, 20000)), rng.standard_normal(20000)
    d = rng.standard_normal((2000, 32))

    def run(lib, dev):
        s = lib.sparse_coo_tensor(lib.tensor(idx), lib.tensor(val), (2000, 2000), device=dev)
        x = lib.tensor(d, device=dev, requires_grad=True)
        out = lib.sparse.mm(s, x)
        out.pow(2).sum().backward()
        return out, x.grad
    both(run, device, rtol=1e-10, atol=1e-10)
