"""Sparse COO tensors, differentially against PyTorch (the oracle, always on the CPU).

Every case builds the same sparse tensor from NumPy arrays in both libraries (nbgrad's on the
`device` fixture's device) and compares what comes out: layout, is_coalesced(), shape, dtype,
sparse/dense dims and the values (to_dense(), and the stored indices/values where they are
determined), or the kind of exception raised. Covered: torch.sparse_coo_tensor and its errors,
the attributes and methods of a sparse tensor, to_sparse, arithmetic with sparse, dense and
scalar operands, sums, products (mm, @, sparse.mm, addmm), sparse softmax, the refusal of other
ops, repr, autograd (values, sparse leaves, dense operands, gradcheck) and save/load."""
import re
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import dname, exc_kind

torch = pytest.importorskip('torch')

# PyTorch warns that invariant checks are off and that CSR support is in beta (sparse.mm)
pytestmark = pytest.mark.filterwarnings('ignore:Sparse:UserWarning')

IDX = np.array([[0, 1, 1, 0], [2, 0, 2, 2]])  # (0, 2) twice and out of order: uncoalesced
VAL = np.array([-3.0, 4.0, 5.0, 1.0])  # the duplicates sum to -2: relu/abs differ per entry
SIZE = (2, 3)
IDX_B = np.array([[1, 0, 1], [1, 2, 2]])  # another 2x3 pattern, overlapping at (0, 2), (1, 2)
VAL_B = np.array([2.0, -1.5, 0.5])
D23 = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -2.5]])
D32 = np.array([[1.0, -2.0], [0.5, 3.0], [-1.5, 0.25]])
D22 = np.array([[1.0, 2.0], [-3.0, 0.5]])


def lname(layout):
    return str(layout).rsplit('.', 1)[-1]


def host(t):
    """A tensor of either library as a NumPy array on the host."""
    t = t.detach()
    return t.numpy() if isinstance(t, torch.Tensor) else t.cpu().numpy()


def dev_of(lib, device):
    return 'cpu' if lib is torch else device


def dense(lib, device, a, dtype='float32'):
    return lib.tensor(np.asarray(a, dtype), device=dev_of(lib, device))


def sp(lib, device, idx=IDX, val=VAL, size=SIZE, dtype='float32', coalesced=False, cast=None,
       lists=False, **kw):
    """sparse_coo_tensor(idx, val, size) in lib, on the device (torch: the CPU); size=None
    leaves it out, cast names the dtype argument, lists passes Python lists."""
    i, v = np.asarray(idx), np.asarray(val, dtype)
    args = (i.tolist(), v.tolist()) if lists else (lib.tensor(i), lib.tensor(v))
    if cast:
        kw['dtype'] = getattr(lib, cast)
    s = lib.sparse_coo_tensor(*args, *([] if size is None else [size]),
                              device=dev_of(lib, device), **kw)
    return s.coalesce() if coalesced else s


def check(got, exp, device, rtol=1e-6, atol=1e-6, raw=False, flag=True, where='result'):
    """nbgrad's `got` (on `device`) is PyTorch's `exp`. Sparse: layout, shape, dtype, sparse and
    dense dims, to_dense(), the is_coalesced() flag (unless flag=False), and with raw=True or a
    coalesced result (whose entries are determined) the stored _indices/_values as they are.
    (An uncoalesced result's entries are PyTorch's kernels' choice: s * t keeps one operand's
    pattern, with explicit zeros; only its dense value is compared.)"""
    if isinstance(exp, (tuple, list)):
        assert len(got) == len(exp), where
        for k, (g, e) in enumerate(zip(got, exp)):
            check(g, e, device, rtol, atol, raw, flag, f'{where}[{k}]')
        return
    if not isinstance(exp, torch.Tensor):
        assert got == exp, f'{where}: {got!r} != {exp!r} (PyTorch)'
        return
    assert isinstance(got, nbgrad.Tensor), f'{where}: {type(got).__name__}, expected a Tensor'
    assert lname(got.layout) == lname(exp.layout), f'{where}: layout {got.layout}'
    assert got.is_sparse == exp.is_sparse, where
    assert tuple(got.shape) == tuple(exp.shape), f'{where}: shape {tuple(got.shape)}'
    assert dname(got.dtype) == dname(exp.dtype), f'{where}: dtype {got.dtype}'
    assert got.device.type == device, f'{where}: device {got.device}'
    assert got.requires_grad == exp.requires_grad, f'{where}: requires_grad'
    close = dict(rtol=rtol, atol=atol, err_msg=where)
    if not exp.is_sparse:
        np.testing.assert_allclose(host(got), host(exp), **close)
        return
    assert not flag or got.is_coalesced() == exp.is_coalesced(), f'{where}: is_coalesced()'
    assert (got.sparse_dim(), got.dense_dim()) == (exp.sparse_dim(), exp.dense_dim()), where
    np.testing.assert_allclose(host(got.to_dense()), host(exp.to_dense()), **close)
    if raw or exp.is_coalesced():
        assert got._nnz() == exp._nnz(), f'{where}: _nnz() {got._nnz()} != {exp._nnz()}'
        assert dname(got._indices().dtype) == dname(exp._indices().dtype), where
        np.testing.assert_array_equal(host(got._indices()), host(exp._indices()), err_msg=where)
        np.testing.assert_allclose(host(got._values()), host(exp._values()), **close)


def both(fn, device, **kw):
    """fn(torch, 'cpu') and fn(nbgrad, device): the same result (check), or where PyTorch raises,
    an exception of the same kind from nbgrad. Returns (nbgrad's result, PyTorch's)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            exp = fn(torch, 'cpu')
        except Exception as e:
            with pytest.raises(exc_kind(e)):
                fn(nbgrad, device)
            return None, None
        got = fn(nbgrad, device)
    check(got, exp, device, **kw)
    return got, exp


# -- construction ------------------------------------------------------------------------------

E2 = np.zeros((2, 0), int)  # the indices of no entry
CONSTRUCT = {  # case: sp's arguments
    'given_size': {}, 'inferred_size': dict(size=None), 'larger_size': dict(size=(5, 4)),
    'dtype_casts_to_f64': dict(cast='float64'), 'dtype_casts_to_int32': dict(cast='int32'),
    'float64_values': dict(dtype='float64'), 'int64_values': dict(dtype='int64'),
    'dense_dim': dict(val=np.arange(8.).reshape(4, 2), size=(2, 3, 2)),
    'dense_dim_inferred': dict(val=np.arange(12.).reshape(4, 3), size=None),
    'one_sparse_dim': dict(idx=[[3, 0, 3]], val=[1., 2., 3.], size=(5,)),
    'three_sparse_dims': dict(idx=[[0, 1], [2, 0], [1, 1]], val=[1., 2.], size=(2, 3, 2)),
    'single_entry': dict(idx=[[1], [2]], val=[5.]),
    'empty_nnz': dict(idx=E2, val=[]), 'empty_nnz_inferred': dict(idx=E2, val=[], size=None),
    'empty_nnz_dense_dim': dict(idx=np.zeros((1, 0), int), val=np.zeros((0, 3))),
    'lists': dict(lists=True), 'lists_cast': dict(lists=True, cast='float64'),
    'int32_indices': dict(idx=IDX.astype('int32')), 'requires_grad': dict(requires_grad=True),
    'is_coalesced_flag': dict(idx=[[0, 1, 1], [2, 0, 2]], val=[1., 2., 3.], is_coalesced=True),
    'check_invariants_valid': dict(check_invariants=True),
}


@pytest.mark.parametrize('case', CONSTRUCT)
def test_sparse_coo_tensor(case, device):
    got, exp = both(lambda lib, dev: sp(lib, dev, **CONSTRUCT[case]), device, raw=True)
    assert exp is not None, 'PyTorch builds every case of this table'
    assert got.is_sparse and got.layout == nbgrad.sparse_coo and got.layout != nbgrad.strided


ERRORS = {  # case: (sp's arguments, words (regexes) in both PyTorch's message and nbgrad's)
    'indices_not_2d': (dict(idx=[0, 1], val=[1., 2.], size=None), ['indices']),
    'indices_3d': (dict(idx=np.zeros((2, 2, 2), int), val=[1., 2.]), ['indices']),
    'index_out_of_range_checked': (dict(size=(1, 3), check_invariants=True), ['size', 'index']),
    'col_out_of_range_checked': (dict(size=(2, 2), check_invariants=True), ['size', 'index']),
    'negative_index_inferred_size': (dict(idx=[[0, -1], [2, 0]], val=[1., 2.], size=None),
                                     ['negative']),
    'negative_index_checked': (dict(idx=[[0, -1], [2, 0]], val=[1., 2.],
                                    check_invariants=True), ['negative']),
    'nnz_mismatch': (dict(val=[1., 2.]), ['nnz']),
    'nnz_mismatch_inferred_size': (dict(val=[1., 2.], size=None), ['nnz']),
    'size_lacks_dense_dim': (dict(val=np.ones((4, 2))), ['size', 'dense.?dim']),
    'dense_size_mismatch': (dict(val=np.ones((4, 2)), size=(2, 3, 3)), ['values', 'size']),
    'size_too_short': (dict(size=(2,)), ['size', 'sparse.?dim']),
    'too_many_index_rows': (dict(idx=np.zeros((3, 4), int)), ['size', 'sparse.?dim']),
}


@pytest.mark.parametrize('case', ERRORS)
def test_sparse_coo_tensor_errors(case):
    args, words = ERRORS[case]
    with pytest.raises(Exception) as theirs:
        sp(torch, 'cpu', **args)
    with pytest.raises(exc_kind(theirs.value)) as ours:
        sp(nbgrad, 'cpu', **args)
    for w in words:  # regular expressions, matched regardless of case
        assert re.search(w, str(theirs.value), re.I), f'{w!r} not in PyTorch\'s {theirs.value}'
        assert re.search(w, str(ours.value), re.I), f'{w!r} not in nbgrad\'s: {ours.value}'


@pytest.mark.parametrize('idx, words', [([[0, 1], [2, 0]], ['size', 'index 1']),
                                        ([[0, -1], [2, 0]], ['negative', '-1'])],
                         ids=['oob', 'negative'])
def test_indices_always_checked(idx, words):
    """A deliberate difference (nbgrad.sparse's docstring): with check_invariants off (its
    default), PyTorch stores indices outside the size as given, and later ops on them are
    undefined behaviour; nbgrad checks them always and raises, naming the index."""
    size = (1, 3)
    t = torch.sparse_coo_tensor(torch.tensor(idx), torch.tensor([1., 2.]), size)
    assert t._nnz() == 2    # PyTorch: stored unchecked
    with pytest.raises(RuntimeError) as ours:
        nbgrad.sparse_coo_tensor(nbgrad.tensor(idx), nbgrad.tensor([1., 2.]), size)
    for w in words:
        assert w in str(ours.value), str(ours.value)


# -- attributes, methods, conversions ----------------------------------------------------------

ATTRS = {
    'is_sparse': lambda s: s.is_sparse,
    'layout': lambda s: lname(s.layout),
    'shape': lambda s: tuple(s.shape),
    'size': lambda s: tuple(s.size()),
    'size_dim': lambda s: (s.size(0), s.size(-1)),
    'dim': lambda s: s.dim(),
    'ndim': lambda s: s.ndim,
    'dtype': lambda s: dname(s.dtype),
    'numel': lambda s: s.numel(),
    'sparse_dim': lambda s: s.sparse_dim(),
    'dense_dim': lambda s: s.dense_dim(),
    'nnz': lambda s: s._nnz(),
    'is_coalesced': lambda s: s.is_coalesced(),
    '_indices': lambda s: s._indices(),
    '_values': lambda s: s._values(),
    'indices': lambda s: s.indices(),
    'values': lambda s: s.values(),
    'requires_grad': lambda s: s.requires_grad,
    'is_leaf': lambda s: s.is_leaf,
}


@pytest.mark.parametrize('coalesced', [False, True], ids=['uncoalesced', 'coalesced'])
@pytest.mark.parametrize('attr', ATTRS)
def test_attributes(attr, coalesced, device):
    got, exp = both(lambda lib, dev: ATTRS[attr](sp(lib, dev, coalesced=coalesced)), device,
                    raw=True)
    if attr == 'indices' and not coalesced:
        assert exp is None  # PyTorch refuses indices()/values() of an uncoalesced tensor


def test_indices_values_refusal_message(device):
    s = sp(nbgrad, device)
    for method in (s.indices, s.values):
        with pytest.raises(RuntimeError, match='(?i)coalesce'):
            method()


def test_coalesce_sorts_and_sums(device):
    idx = np.array([[2, 0, 1, 0, 2, 1], [1, 2, 0, 2, 1, 0]])
    got, exp = both(lambda lib, dev: sp(lib, dev, idx=idx, val=np.arange(1., 7.),
                                        size=(3, 3)).coalesce(), device)
    assert exp.is_coalesced() and got._nnz() == 3
    # coalescing with a dense dim sums rows of values
    both(lambda lib, dev: sp(lib, dev, val=np.arange(8.).reshape(4, 2), size=(2, 3, 2))
         .coalesce(), device)


TO_SPARSE = {
    '2d': (lambda lib, d: d.to_sparse(), D23),
    '2d_sparse_dim_1': (lambda lib, d: d.to_sparse(1), D23),
    '2d_sparse_dim_2': (lambda lib, d: d.to_sparse(2), D23),
    '3d_sparse_dim_1': (lambda lib, d: d.to_sparse(1), np.where(np.arange(12) % 3, 0.,
                                                                 np.arange(12.)).reshape(2, 3, 2)),
    '3d_sparse_dim_2': (lambda lib, d: d.to_sparse(2), np.eye(3)[:2, :, None] * [1., 0.]),
    'all_zero': (lambda lib, d: d.to_sparse(), np.zeros((2, 3))),
    'int': (lambda lib, d: d.long().to_sparse(), D23 * 2),
    'to_sparse_coo': (lambda lib, d: d.to_sparse_coo(), D23),
    'layout_kwarg': (lambda lib, d: d.to_sparse(layout=lib.sparse_coo), D23),
    'sparse_dim_0': (lambda lib, d: d.to_sparse(0), D23),
    'sparse_dim_3': (lambda lib, d: d.to_sparse(3), D23),
    'round_trip': (lambda lib, d: d.to_sparse().to_dense(), D23),
}


@pytest.mark.parametrize('case', TO_SPARSE)
def test_to_sparse(case, device):
    fn, a = TO_SPARSE[case]
    both(lambda lib, dev: fn(lib, dense(lib, dev, a)), device, raw=True)


COPIES = {
    'clone': lambda lib, s: s.clone(),
    'detach': lambda lib, s: s.requires_grad_().detach(),
    'requires_grad_': lambda lib, s: s.requires_grad_(),
    'requires_grad_false': lambda lib, s: s.requires_grad_().requires_grad_(False),
    'int_requires_grad_': lambda lib, s: s.long().requires_grad_(),
    'double': lambda lib, s: s.double(),
    'to_float64': lambda lib, s: s.to(lib.float64),
    'long': lambda lib, s: s.long(),
    'to_dense': lambda lib, s: s.to_dense(),
    'coalesce_twice': lambda lib, s: s.coalesce().coalesce(),
}


@pytest.mark.parametrize('coalesced', [False, True], ids=['uncoalesced', 'coalesced'])
@pytest.mark.parametrize('case', COPIES)
def test_copies_and_casts(case, coalesced, device):
    both(lambda lib, dev: COPIES[case](lib, sp(lib, dev, coalesced=coalesced)), device, raw=True)


def test_clone_is_a_copy(device):
    s = sp(nbgrad, device, coalesced=True)
    c = s.clone()
    c._values().mul_(0)
    assert host(s._values()).any(), 'clone() shares its values with the original'


@pytest.mark.parametrize('coalesced', [False, True], ids=['uncoalesced', 'coalesced'])
@pytest.mark.parametrize('how', ['to_cpu', 'cpu'])
def test_to_the_cpu(how, coalesced, device):
    t = sp(torch, 'cpu', coalesced=coalesced)
    s = sp(nbgrad, device, coalesced=coalesced)
    got = s.to('cpu') if how == 'to_cpu' else s.cpu()
    exp = t.to('cpu') if how == 'to_cpu' else t.cpu()
    check(got, exp, 'cpu', raw=True)
    if device == 'cpu':
        assert (got is s) == (exp is t), 'PyTorch returns the tensor itself when it is there'
    check(got.to(device), exp, device, raw=True)  # and back onto the device


# -- ops on a sparse tensor --------------------------------------------------------------------

OPS = {  # name: fn(lib, s, dev) with s the 2x3 sparse tensor (uncoalesced or coalesced)
    'neg': lambda lib, s, dev: -s,
    'neg_method': lambda lib, s, dev: s.neg(),
    'abs': lambda lib, s, dev: s.abs(),
    'sqrt': lambda lib, s, dev: s.sqrt(),
    'sqrt_of_square': lambda lib, s, dev: (s * s).sqrt(),
    'tanh': lambda lib, s, dev: s.tanh(),
    'relu': lambda lib, s, dev: s.relu(),
    'relu_function': lambda lib, s, dev: lib.relu(s),
    'pow2': lambda lib, s, dev: s.pow(2),
    'pow_op': lambda lib, s, dev: s ** 2,
    'pow_neg1': lambda lib, s, dev: s.pow(-1),
    'pow0': lambda lib, s, dev: s ** 0,
    'scalar_pow_s': lambda lib, s, dev: 2 ** s,
    'mul_scalar': lambda lib, s, dev: s * 2,
    'rmul_scalar': lambda lib, s, dev: 2 * s,
    'mul_float': lambda lib, s, dev: s * 2.5,
    'div_scalar': lambda lib, s, dev: s / 2,
    'floordiv_scalar': lambda lib, s, dev: s // 2,
    'add_scalar': lambda lib, s, dev: s + 1,
    'add_self': lambda lib, s, dev: s + s,
    'sub_self': lambda lib, s, dev: s - s,
    'mul_self': lambda lib, s, dev: s * s,
    'add_other': lambda lib, s, dev: s + sp(lib, dev, IDX_B, VAL_B, dtype=s_dt(s)),
    'sub_other': lambda lib, s, dev: s - sp(lib, dev, IDX_B, VAL_B, dtype=s_dt(s)),
    'mul_other': lambda lib, s, dev: s * sp(lib, dev, IDX_B, VAL_B, dtype=s_dt(s)),
    'add_shape_mismatch': lambda lib, s, dev: s + sp(lib, dev, size=(3, 3), dtype=s_dt(s)),
    'mul_dense': lambda lib, s, dev: s * dense(lib, dev, D23, s_dt(s)),
    'dense_mul': lambda lib, s, dev: dense(lib, dev, D23, s_dt(s)) * s,
    'mul_dense_broadcast_row': lambda lib, s, dev: s * dense(lib, dev, D23[0], s_dt(s)),
    'dense_add': lambda lib, s, dev: dense(lib, dev, D23, s_dt(s)) + s,
    'dense_sub': lambda lib, s, dev: dense(lib, dev, D23, s_dt(s)) - s,
    'add_dense_refused': lambda lib, s, dev: s + dense(lib, dev, D23, s_dt(s)),
    'sub_dense_refused': lambda lib, s, dev: s - dense(lib, dev, D23, s_dt(s)),
    'sum': lambda lib, s, dev: s.sum(),
    'sparse_sum': lambda lib, s, dev: lib.sparse.sum(s),
    'sparse_sum_0': lambda lib, s, dev: lib.sparse.sum(s, 0),
    'sparse_sum_1': lambda lib, s, dev: lib.sparse.sum(s, 1),
    'sparse_sum_both': lambda lib, s, dev: lib.sparse.sum(s, (0, 1)),
    'sparse_sum_bad_dim': lambda lib, s, dev: lib.sparse.sum(s, 2),
    'sparse_sum_dtype': lambda lib, s, dev: lib.sparse.sum(s, dtype=lib.float64),
    'sum_0': lambda lib, s, dev: s.sum(0),
    'sum_neg1': lambda lib, s, dev: s.sum(-1),
    'sum_keepdim': lambda lib, s, dev: s.sum(0, keepdim=True),
    'matmul': lambda lib, s, dev: s @ dense(lib, dev, D32, s_dt(s)),
    'matmul_vector': lambda lib, s, dev: s @ dense(lib, dev, D32[:, 0], s_dt(s)),
    'mm': lambda lib, s, dev: lib.mm(s, dense(lib, dev, D32, s_dt(s))),
    'sparse_mm': lambda lib, s, dev: lib.sparse.mm(s, dense(lib, dev, D32, s_dt(s))),
    'sparse_mm_sparse': lambda lib, s, dev: lib.sparse.mm(s, sp(lib, dev, IDX_B, VAL_B,
                                                                dtype=s_dt(s)).t()),
    'sparse_mm_bad_shape': lambda lib, s, dev: lib.sparse.mm(s, dense(lib, dev, D22, s_dt(s))),
    'addmm': lambda lib, s, dev: lib.sparse.addmm(dense(lib, dev, D22, s_dt(s)), s,
                                                  dense(lib, dev, D32, s_dt(s))),
    'addmm_beta_alpha': lambda lib, s, dev: lib.sparse.addmm(
        dense(lib, dev, D22, s_dt(s)), s, dense(lib, dev, D32, s_dt(s)), beta=0.5, alpha=2.0),
    'softmax_1': lambda lib, s, dev: lib.sparse.softmax(s, 1),
    'softmax_0': lambda lib, s, dev: lib.sparse.softmax(s, 0),
    'softmax_neg1': lambda lib, s, dev: lib.sparse.softmax(s, -1),
    'softmax_bad_dim': lambda lib, s, dev: lib.sparse.softmax(s, 2),
    'softmax_dtype': lambda lib, s, dev: lib.sparse.softmax(s, 1, dtype=lib.float64),
    'log_softmax_1': lambda lib, s, dev: lib.sparse.log_softmax(s, 1),
    'log_softmax_0': lambda lib, s, dev: lib.sparse.log_softmax(s, 0),
    't': lambda lib, s, dev: s.t(),
    'transpose': lambda lib, s, dev: s.transpose(0, 1),
    'transpose_neg': lambda lib, s, dev: s.transpose(-1, 0),
    'coalesce': lambda lib, s, dev: s.coalesce(),
    'to_dense': lambda lib, s, dev: s.to_dense(),
}
INT_OPS = ['neg', 'abs', 'sqrt', 'tanh', 'relu', 'pow2', 'mul_scalar', 'mul_float', 'div_scalar',
           'add_self', 'mul_self', 'mul_dense', 'dense_add', 'sum', 'sparse_sum_0', 'sparse_mm',
           'softmax_1', 't', 'to_dense']


def s_dt(s):
    return dname(s.dtype)


def _cases():
    for name in OPS:
        for dt in ['float32', 'float64'] + (['int64'] if name in INT_OPS else []):
            yield pytest.param(name, dt, id=f'{name}-{dt}')


@pytest.mark.parametrize('coalesced', [False, True], ids=['uncoalesced', 'coalesced'])
@pytest.mark.parametrize('op, dtype', list(_cases()))
def test_op(op, dtype, coalesced, device):
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == 'float32' else dict(rtol=1e-12, atol=1e-12)
    both(lambda lib, dev: OPS[op](lib, sp(lib, dev, dtype=dtype, coalesced=coalesced), dev),
         device, **tol)


def test_add_dense_message(device):
    with pytest.raises(RuntimeError, match=re.escape('add(sparse, dense) is not supported')):
        sp(nbgrad, device) + dense(nbgrad, device, D23)


def test_ops_with_a_dense_dim(device):
    """A sparse tensor whose values are rows (size 2x3x2, sparse_dim 2, dense_dim 1)."""
    def mk(lib, dev):
        return sp(lib, dev, val=np.arange(-4., 4.).reshape(4, 2), size=(2, 3, 2))
    for fn in (lambda s: s * 2, lambda s: s + s, lambda s: s.coalesce(), lambda s: s.sum(),
               lambda s: s.transpose(0, 1), lambda s: s.relu(), lambda s: s.to_dense()):
        both(lambda lib, dev: fn(mk(lib, dev)), device)


EMPTY_OPS = {
    'coalesce': lambda lib, s, dev: s.coalesce(),
    'to_dense': lambda lib, s, dev: s.to_dense(),
    'mul_scalar': lambda lib, s, dev: s * 2,
    'add_self': lambda lib, s, dev: s + s,
    'dense_add': lambda lib, s, dev: dense(lib, dev, D23) + s,
    'sum': lambda lib, s, dev: s.sum(),
    'sparse_sum_0': lambda lib, s, dev: lib.sparse.sum(s, 0),
    'sparse_mm': lambda lib, s, dev: lib.sparse.mm(s, dense(lib, dev, D32)),
    'softmax': lambda lib, s, dev: lib.sparse.softmax(s, 1),
    't': lambda lib, s, dev: s.t(),
}


@pytest.mark.parametrize('op', EMPTY_OPS)
def test_ops_on_empty_nnz(op, device):
    both(lambda lib, dev: EMPTY_OPS[op](lib, sp(lib, dev, idx=E2, val=[]), dev), device,
         raw=True)


def test_device_follows_the_operands(device):
    """No device argument: the tensor lives where its indices and values are."""
    s = nbgrad.sparse_coo_tensor(nbgrad.tensor(IDX, device=device),
                                 nbgrad.tensor(VAL, device=device), SIZE)
    check(s, torch.sparse_coo_tensor(torch.tensor(IDX), torch.tensor(VAL), SIZE), device,
          raw=True)
    assert s._values().device.type == device and s._indices().device.type == device


UNSUPPORTED = {
    'exp': lambda s: s.exp(),
    'view': lambda s: s.view(3, 2),
    'mean': lambda s: s.mean(),
    'sigmoid': lambda s: s.sigmoid(),
}


@pytest.mark.parametrize('op', UNSUPPORTED)
def test_unsupported_op_raises_not_implemented(op, device):
    with pytest.raises(NotImplementedError) as theirs:
        UNSUPPORTED[op](sp(torch, 'cpu'))
    assert op in str(theirs.value) and 'sparse' in str(theirs.value).lower()
    with pytest.raises(NotImplementedError) as ours:
        UNSUPPORTED[op](sp(nbgrad, device))
    message = str(ours.value)
    assert op in message and 'sparse' in message.lower(), message


# -- repr --------------------------------------------------------------------------------------

def _leaf(lib):
    return sp(lib, 'cpu', dtype='float64', requires_grad=True)


REPRS = {
    '2x3': lambda lib: sp(lib, 'cpu'),
    'coalesced': lambda lib: sp(lib, 'cpu', coalesced=True),
    'empty_nnz': lambda lib: sp(lib, 'cpu', idx=E2, val=[]),
    'empty_nnz_float64': lambda lib: sp(lib, 'cpu', idx=E2, val=[], dtype='float64'),
    'dense_dim': lambda lib: sp(lib, 'cpu', val=np.arange(8.).reshape(4, 2), size=(2, 3, 2)),
    'float64': lambda lib: sp(lib, 'cpu', dtype='float64'),
    'int64': lambda lib: sp(lib, 'cpu', dtype='int64'),
    'fractions': lambda lib: sp(lib, 'cpu', val=[0.125, -1 / 3, 12.5, 1e-3]),
    'requires_grad': _leaf,
    'grad_fn_mul': lambda lib: _leaf(lib) * 2,
    'grad_fn_neg': lambda lib: -_leaf(lib),
    'grad_fn_coalesce': lambda lib: _leaf(lib).coalesce(),
    'grad_fn_from_values': lambda lib: lib.sparse_coo_tensor(
        lib.tensor(IDX), lib.tensor(VAL, requires_grad=True), SIZE),
}


@pytest.mark.parametrize('case', REPRS)
def test_repr(case):
    expected = repr(REPRS[case](torch)).replace('torch.', 'nbgrad.')
    got = repr(REPRS[case](nbgrad))
    # nbgrad names its backward nodes its own way: only the grad_fn's presence is compared
    name = re.compile(r'grad_fn=<\w+>')
    assert name.sub('grad_fn=<>', got) == name.sub('grad_fn=<>', expected)


# -- autograd ----------------------------------------------------------------------------------

VALUE_LOSSES = {
    'to_dense': lambda lib, t, dev: (t.to_dense() * dense(lib, dev, D23, 'f8')).pow(2).sum(),
    'sparse_mm': lambda lib, t, dev: lib.sparse.mm(t, dense(lib, dev, D32, 'f8')).pow(2).sum(),
    'matmul': lambda lib, t, dev: (t @ dense(lib, dev, D32, 'f8')).pow(2).sum(),
    'mul2_to_dense': lambda lib, t, dev: ((t * 2).to_dense() * dense(lib, dev, D23, 'f8')).sum(),
    'coalesce_values': lambda lib, t, dev: t.coalesce()._values().pow(2).sum(),
    'sparse_sum': lambda lib, t, dev: lib.sparse.sum(t * t),
}


@pytest.mark.parametrize('loss', VALUE_LOSSES)
def test_grad_of_values(loss, device):
    def run(lib, dev):
        v = lib.tensor(VAL, device=dev, requires_grad=True)
        t = lib.sparse_coo_tensor(lib.tensor(IDX, device=dev), v, SIZE)
        VALUE_LOSSES[loss](lib, t, dev).backward()
        return v.grad
    both(run, device, rtol=1e-12, atol=1e-12)


LEAF_LOSSES = {  # PyTorch: a sparse .grad for all but @ and mm, which give a dense one
    'sparse_mm': lambda lib, s, dev: lib.sparse.mm(s, dense(lib, dev, D32, 'f8')).sum(),
    'to_dense': lambda lib, s, dev: s.to_dense().sum(),
    'to_dense_weighted': lambda lib, s, dev: (s.to_dense() * dense(lib, dev, D23, 'f8')).sum(),
    'matmul': lambda lib, s, dev: (s @ dense(lib, dev, D32, 'f8')).sum(),
    'mm': lambda lib, s, dev: lib.mm(s, dense(lib, dev, D32, 'f8')).sum(),
    'sparse_sum': lambda lib, s, dev: lib.sparse.sum(s),
    'mul2': lambda lib, s, dev: (s * 2).to_dense().sum(),
    'addmm': lambda lib, s, dev: lib.sparse.addmm(dense(lib, dev, D22, 'f8'), s,
                                                  dense(lib, dev, D32, 'f8')).sum(),
    'softmax': lambda lib, s, dev: (lib.sparse.softmax(s, 1).to_dense()
                                    * dense(lib, dev, D23, 'f8')).sum(),
}


@pytest.mark.parametrize('coalesced', [True, False], ids=['coalesced', 'uncoalesced'])
@pytest.mark.parametrize('loss', LEAF_LOSSES)
def test_grad_of_sparse_leaf(loss, coalesced, device):
    def run(lib, dev):
        s = sp(lib, dev, dtype='float64', coalesced=coalesced).requires_grad_()
        LEAF_LOSSES[loss](lib, s, dev).backward()
        assert s.grad is not None
        return s.grad
    # layout, indices and values here; the is_coalesced() flag below
    got, exp = both(run, device, rtol=1e-12, atol=1e-12, raw=True, flag=False)
    assert exp is not None


@pytest.mark.parametrize('loss', [k for k in LEAF_LOSSES if k not in ('matmul', 'mm')])
def test_sparse_grad_is_coalesced_flag(loss, device):
    """PyTorch flags the sparse .grad of most of these uncoalesced (sparse.sum's coalesced),
    although its entries are sorted and distinct."""
    flags = []
    for lib, dev in ((torch, 'cpu'), (nbgrad, device)):
        s = sp(lib, dev, dtype='float64', coalesced=True).requires_grad_()
        LEAF_LOSSES[loss](lib, s, dev).backward()
        flags.append(s.grad.is_sparse and s.grad.is_coalesced())
    assert flags[1] == flags[0], f'nbgrad: {flags[1]}, PyTorch: {flags[0]}'


def test_sparse_grad_accumulates(device):
    def run(lib, dev):
        s = sp(lib, dev, dtype='float64', coalesced=True).requires_grad_()
        for _ in range(2):
            lib.sparse.mm(s, dense(lib, dev, D32, 'f8')).sum().backward()
        return s.grad
    both(run, device, rtol=1e-12, atol=1e-12)


DENSE_LOSSES = {
    'sparse_mm': lambda lib, s, d: lib.sparse.mm(s, d),
    'matmul': lambda lib, s, d: s @ d,
    'mm': lambda lib, s, d: lib.mm(s, d),
    'addmm': lambda lib, s, d: lib.sparse.addmm(d[:2], s, d),
}


@pytest.mark.parametrize('leaf_too', [False, True], ids=['dense_only', 'both_leaves'])
@pytest.mark.parametrize('coalesced', [True, False], ids=['coalesced', 'uncoalesced'])
@pytest.mark.parametrize('op', DENSE_LOSSES)
def test_grad_of_dense_operand(op, coalesced, leaf_too, device):
    def run(lib, dev):
        s = sp(lib, dev, dtype='float64', coalesced=coalesced).requires_grad_(leaf_too)
        d = lib.tensor(D32, device=dev, requires_grad=True)
        out = DENSE_LOSSES[op](lib, s, d)
        (out * lib.tensor(D22, device=dev)).sum().backward()
        return d.grad
    both(run, device, rtol=1e-12, atol=1e-12)


GRADCHECKS = {
    'sparse_mm_dense_arg': lambda lib, s: (lambda d: lib.sparse.mm(s, d), 1),
    'matmul_dense_arg': lambda lib, s: (lambda d: s @ d, 1),
    'addmm_dense_args': lambda lib, s: (lambda d: lib.sparse.addmm(d[:2], s, d), 1),
    'sparse_mm_masked': lambda lib, s: (lambda s2, d: lib.sparse.mm(s2, d), 2),
}


@pytest.mark.parametrize('case', GRADCHECKS)
def test_gradcheck(case, device):
    results = []
    for lib, dev in ((torch, 'cpu'), (nbgrad, device)):
        s = sp(lib, dev, dtype='float64', coalesced=True)
        fn, n = GRADCHECKS[case](lib, s)
        d = lib.tensor(D32, device=dev, requires_grad=True)
        inputs = (s.clone().requires_grad_(), d) if n == 2 else (d,)
        kw = dict(masked=True) if n == 2 else {}
        results.append(lib.autograd.gradcheck(fn, inputs, **kw))
    assert results == [True, True]


# -- save / load -------------------------------------------------------------------------------

@pytest.mark.parametrize('coalesced', [False, True], ids=['uncoalesced', 'coalesced'])
@pytest.mark.parametrize('dtype', ['float32', 'int64'])
def test_save_load_round_trip(dtype, coalesced, device, tmp_path):
    s = sp(nbgrad, device, dtype=dtype, coalesced=coalesced)
    nbgrad.save({'s': s}, tmp_path / 'nb.pt')
    back = nbgrad.load(tmp_path / 'nb.pt')['s']
    check(back, sp(torch, 'cpu', dtype=dtype, coalesced=coalesced), device, raw=True)


@pytest.mark.parametrize('coalesced', [False, True], ids=['uncoalesced', 'coalesced'])
def test_save_load_across_libraries(coalesced, tmp_path):
    t = sp(torch, 'cpu', val=np.arange(8.).reshape(4, 2), size=(2, 3, 2), coalesced=coalesced)
    s = sp(nbgrad, 'cpu', val=np.arange(8.).reshape(4, 2), size=(2, 3, 2), coalesced=coalesced)
    torch.save(t, tmp_path / 'torch.pt')
    nbgrad.save(s, tmp_path / 'nb.pt')
    check(nbgrad.load(tmp_path / 'torch.pt'), t, 'cpu', raw=True)
    from_nb = torch.load(tmp_path / 'nb.pt')
    assert from_nb.is_sparse and from_nb.is_coalesced() == t.is_coalesced()
    assert torch.equal(from_nb._indices(), t._indices())
    assert torch.equal(from_nb._values(), t._values()) and from_nb.shape == t.shape
