"""Compressed sparse tensors (CSR, CSC) and torch.spmm/smm/hspmm/sspaddmm, against PyTorch.

Each case builds the same tensor in both libraries from NumPy arrays (nbgrad's on the `device`
fixture's device, PyTorch's on the CPU) and compares what comes out: the layout, shape, dtype,
the compressed index arrays and values as stored, to_dense(), repr, gradients (of the values,
of the dense operands, of sparse leaves), and the kind of exception (with PyTorch's message for
the invariant checks). PyTorch checks a CSR tensor's invariants only under
check_invariants=True; nbgrad always checks, so the errors are compared with PyTorch's checked
constructor."""
import io
import pickle

import numpy as np
import pytest

import nbgrad
from torch_compare import exc_kind

torch = pytest.importorskip('torch')

# PyTorch warns that CSR support is in beta and that invariant checks are off
pytestmark = pytest.mark.filterwarnings('ignore:Sparse:UserWarning')

CROW, COL, VAL, SIZE = [0, 2, 3, 3], [0, 2, 1], [1.0, -2.0, 3.0], (3, 3)
DENSE = np.array([[0.0, 1.5, 0.0, -2.0], [0.0, 0.0, 0.0, 0.0], [3.0, 0.0, 4.0, 0.5]])
D32 = np.array([[1.0, -2.0], [0.5, 3.0], [-1.5, 0.25]])
D43 = np.arange(12.0).reshape(4, 3) / 4 - 1
COO_IDX = np.array([[2, 0, 2, 0], [1, 2, 1, 0]])      # (2, 1) twice, unsorted: uncoalesced
COO_VAL = np.array([1.0, -2.0, 4.0, 0.5])


def lname(layout):
    return str(layout).rsplit('.', 1)[-1]


def host(t):
    t = t.detach()
    return t.numpy() if isinstance(t, torch.Tensor) else t.cpu().numpy()


def dev(lib, device):
    return 'cpu' if lib is torch else device


def csr(lib, device, crow=CROW, col=COL, val=VAL, size=SIZE, dtype='float32', **kw):
    t = lib.tensor
    return lib.sparse_csr_tensor(t(crow), t(col), t(np.asarray(val, dtype)),
                                 *([] if size is None else [size]), device=dev(lib, device), **kw)


def dense(lib, device, a, dtype='float32', requires_grad=False):
    return lib.tensor(np.asarray(a, dtype), device=dev(lib, device), requires_grad=requires_grad)


def coo(lib, device, idx=COO_IDX, val=COO_VAL, size=(3, 3), dtype='float32'):
    return lib.sparse_coo_tensor(lib.tensor(idx), lib.tensor(np.asarray(val, dtype)), size,
                                 device=dev(lib, device))


def same(got, exp, rtol=1e-6, atol=1e-6, where='result'):
    """nbgrad's `got` is PyTorch's `exp`: layout, shape, dtype, the stored arrays (compressed
    indices or COO indices, values, in the stored order; coalesced flag) and the dense value."""
    if not isinstance(exp, torch.Tensor):
        assert got == exp, f'{where}: {got!r} != {exp!r}'
        return
    assert lname(got.layout) == lname(exp.layout), f'{where}: layout {got.layout}'
    assert tuple(got.shape) == tuple(exp.shape), f'{where}: shape {tuple(got.shape)}'
    assert lname(got.dtype) == lname(exp.dtype), f'{where}: dtype {got.dtype}'
    layout = lname(exp.layout)
    if layout == 'sparse_csr':
        parts = [('crow_indices', got.crow_indices(), exp.crow_indices()),
                 ('col_indices', got.col_indices(), exp.col_indices())]
    elif layout == 'sparse_csc':
        parts = [('ccol_indices', got.ccol_indices(), exp.ccol_indices()),
                 ('row_indices', got.row_indices(), exp.row_indices())]
    elif layout == 'sparse_coo':
        parts = [('_indices', got._indices(), exp._indices())]
        assert got.is_coalesced() == exp.is_coalesced(), f'{where}: is_coalesced'
    else:
        parts = []
    for name, g, e in parts:
        assert lname(g.dtype) == lname(e.dtype), f'{where}: {name} dtype {g.dtype}'
        np.testing.assert_array_equal(host(g), host(e), err_msg=f'{where}: {name}')
    if layout != 'strided':
        g_values = got._values() if layout == 'sparse_coo' else got.values()
        e_values = exp._values() if layout == 'sparse_coo' else exp.values()
        np.testing.assert_allclose(host(g_values), host(e_values), rtol, atol,
                                   err_msg=f'{where}: values')
        got, exp = got.to_dense(), exp.to_dense()
    np.testing.assert_allclose(host(got), host(exp), rtol, atol, err_msg=f'{where}: dense')


def both(fn, device):
    return fn(nbgrad, device), fn(torch, 'cpu')


def same_error(fn, device, message=False):
    with pytest.raises(Exception) as expected:
        fn(torch, 'cpu')
    with pytest.raises(exc_kind(expected.value)) as got:
        fn(nbgrad, device)
    if message:
        assert str(got.value).split('\n')[0] == str(expected.value).split('\n')[0]


# -- construction and attributes -----------------------------------------------------------------

CONSTRUCT = {
    'given size': lambda lib, d: csr(lib, d),
    'inferred size': lambda lib, d: csr(lib, d, size=None),
    'wider size': lambda lib, d: csr(lib, d, size=(3, 7)),
    'int32 indices': lambda lib, d: lib.sparse_csr_tensor(
        lib.tensor(CROW, dtype=lib.int32), lib.tensor(COL, dtype=lib.int32),
        lib.tensor(VAL), SIZE, device=dev(lib, d)),
    'python lists': lambda lib, d: lib.sparse_csr_tensor([0, 1, 2], [0, 1], [1, 2],
                                                         device=dev(lib, d)),
    'dtype argument': lambda lib, d: lib.sparse_csr_tensor(CROW, COL, [1, 2, 3], SIZE,
                                                           dtype=lib.float64,
                                                           device=dev(lib, d)),
    'empty': lambda lib, d: lib.sparse_csr_tensor(lib.tensor([0, 0]),
                                                  lib.tensor([], dtype=lib.int64),
                                                  lib.tensor([]), (1, 3), device=dev(lib, d)),
    'float64 values': lambda lib, d: csr(lib, d, dtype='float64'),
    'int8 values': lambda lib, d: csr(lib, d, val=[1, 2, 3], dtype='int8'),
    'requires_grad': lambda lib, d: csr(lib, d, requires_grad=True),
    'dense to_sparse_csr': lambda lib, d: dense(lib, d, DENSE).to_sparse_csr(),
    'dense to_sparse(layout=csr)': lambda lib, d: dense(lib, d, DENSE).to_sparse(
        layout=lib.sparse_csr),
    'dense to_sparse_csr(dense_dim=None)': lambda lib, d: dense(
        lib, d, DENSE).to_sparse_csr(dense_dim=None),
    'int dense to_sparse_csr': lambda lib, d: dense(lib, d, DENSE * 2, 'int64').to_sparse_csr(),
    'bool dense to_sparse_csr': lambda lib, d: dense(lib, d, DENSE, 'bool').to_sparse_csr(),
    '0-row dense to_sparse_csr': lambda lib, d: dense(lib, d, np.zeros((0, 3))).to_sparse_csr(),
    'uncoalesced coo to_sparse_csr': lambda lib, d: coo(lib, d).to_sparse_csr(),
    'csr to_sparse_csr': lambda lib, d: csr(lib, d).to_sparse_csr(),
    'csr to_sparse': lambda lib, d: csr(lib, d).to_sparse(),
    'csr to_sparse_coo': lambda lib, d: csr(lib, d).to_sparse_coo(),
    'csr to_dense': lambda lib, d: csr(lib, d).to_dense(),
    'csr values': lambda lib, d: csr(lib, d).values(),
    'dense to_sparse_csc': lambda lib, d: dense(lib, d, DENSE).to_sparse_csc(),
    'csr to_sparse_csc': lambda lib, d: csr(lib, d).to_sparse_csc(),
    'csc to_sparse_csr': lambda lib, d: dense(lib, d, DENSE).to_sparse_csc().to_sparse_csr(),
    'csc to_sparse': lambda lib, d: dense(lib, d, DENSE).to_sparse_csc().to_sparse(),
    'csc values': lambda lib, d: dense(lib, d, DENSE).to_sparse_csc().values(),
    'csr t()': lambda lib, d: csr(lib, d).t(),
    'csr transpose(0, 1)': lambda lib, d: csr(lib, d).transpose(0, 1),
    'csr t().t()': lambda lib, d: csr(lib, d).t().t(),
    'csr detach': lambda lib, d: csr(lib, d).detach(),
    'csr to float64': lambda lib, d: csr(lib, d).to(lib.float64),
    'csr double()': lambda lib, d: csr(lib, d).double(),
    'csr clone': lambda lib, d: csr(lib, d).clone(),
}


@pytest.mark.parametrize('case', CONSTRUCT)
def test_construction_matches_pytorch(case, device):
    got, exp = both(CONSTRUCT[case], device)
    same(got, exp)


@pytest.mark.parametrize('case', ['given size', 'int32 indices', 'empty', 'int8 values',
                                  'requires_grad', 'dense to_sparse_csr', 'csr t()',
                                  'csr to float64', 'python lists', 'dense to_sparse_csc'])
def test_repr_matches_pytorch(case):
    got, exp = both(CONSTRUCT[case], 'cpu')
    assert repr(got) == repr(exp).replace('torch.', 'nbgrad.')


def test_attributes_match_pytorch(device):
    got, exp = both(csr, device)
    for name in ('is_sparse', 'is_sparse_csr', 'requires_grad', 'is_leaf'):
        assert getattr(got, name) == getattr(exp, name), name
    for name in ('_nnz', 'sparse_dim', 'dense_dim', 'dim', 'numel'):
        assert getattr(got, name)() == getattr(exp, name)(), name
    assert lname(got.layout) == lname(exp.layout) == 'sparse_csr'
    assert got.layout is nbgrad.sparse_csr
    assert got.device == nbgrad.ones(1, device=device).device     # (cuda:0 for 'cuda')
    assert tuple(got.size()) == tuple(exp.size())
    assert got.crow_indices().device == got.device


def test_grad_fn_names_match_pytorch():
    def names(lib):
        v = lib.tensor(VAL, requires_grad=True)
        c = lib.sparse_csr_tensor(lib.tensor(CROW), lib.tensor(COL), v, SIZE)
        d = lib.tensor(D32, dtype=lib.float32)
        x = lib.tensor(DENSE, requires_grad=True)
        return [type(t.grad_fn).__name__ for t in (
            c, c @ d, c * 2, c.to_dense(), c.values(), lib.addmm(lib.zeros(3, 2), c, d),
            x.to_sparse_csr(), c.t())]
    assert names(nbgrad) == names(torch)


# -- invariant checks ----------------------------------------------------------------------------

BAD = {
    'crow[0] != 0': ([1, 2, 3, 3], COL, VAL, SIZE),
    'crow[-1] != nnz': ([0, 2, 3, 4], COL, VAL, SIZE),
    'crow decreasing': ([0, 2, 1, 3], COL, VAL, SIZE),
    'crow too short': ([0, 2, 3], COL, VAL, SIZE),
    'col out of range': (CROW, [0, 3, 1], VAL, SIZE),
    'negative col': (CROW, [0, -1, 1], VAL, SIZE),
    'cols unsorted in a row': (CROW, [2, 0, 1], VAL, SIZE),
    'col repeated in a row': (CROW, [2, 2, 1], VAL, SIZE),
    'nnz mismatch': (CROW, COL, VAL[:2], SIZE),
    '1-d size': (CROW, COL, VAL, (9,)),
}


@pytest.mark.parametrize('case', BAD)
def test_invariant_errors_match_pytorch(case, device):
    crow, col, val, size = BAD[case]

    def build(lib, d):
        kw = {'check_invariants': True} if lib is torch else {}
        return lib.sparse_csr_tensor(lib.tensor(crow), lib.tensor(col), lib.tensor(val), size,
                                     device=dev(lib, d), **kw)
    same_error(build, device, message=True)


def test_index_dtype_errors_match_pytorch(device):
    def mixed(lib, d):
        kw = {'check_invariants': True} if lib is torch else {}
        return lib.sparse_csr_tensor(lib.tensor(CROW, dtype=lib.int32), lib.tensor(COL),
                                     lib.tensor(VAL), SIZE, device=dev(lib, d), **kw)
    same_error(mixed, device, message=True)
    same_error(lambda lib, d: csr(lib, d, val=[1, 2, 3], dtype='int64', requires_grad=True),
               device)


# -- ops ----------------------------------------------------------------------------------------

def _v(lib, d):
    """A CSR tensor whose values require grad (a non-leaf), and the values."""
    v = lib.tensor(np.asarray(VAL, 'float32'), device=dev(lib, d), requires_grad=True)
    return lib.sparse_csr_tensor(lib.tensor(CROW), lib.tensor(COL), v, SIZE), v


OPS = {
    'csr * 2': lambda lib, d: csr(lib, d) * 2,
    '2 * csr': lambda lib, d: 2.5 * csr(lib, d),
    'csr * 0-d tensor': lambda lib, d: csr(lib, d) * dense(lib, d, 3.0),
    'csr * dense': lambda lib, d: csr(lib, d) * dense(lib, d, D43[:3]),
    'csr * csr': lambda lib, d: csr(lib, d) * csr(lib, d, val=[2.0, 0.5, -1.0]),
    '-csr': lambda lib, d: -csr(lib, d),
    'abs(csr)': lambda lib, d: csr(lib, d).abs(),
    'sin(csr)': lambda lib, d: lib.sin(csr(lib, d)),
    'csr + csr': lambda lib, d: csr(lib, d) + dense(lib, d, DENSE[:, :3]).to_sparse_csr(),
    'csr + dense': lambda lib, d: csr(lib, d) + dense(lib, d, D43[:3]),
    'dense + csr': lambda lib, d: dense(lib, d, D43[:3]) + csr(lib, d),
    'csr.sum()': lambda lib, d: csr(lib, d).sum(),
    'csr @ dense': lambda lib, d: csr(lib, d) @ dense(lib, d, D32),
    'csr.mm(dense)': lambda lib, d: csr(lib, d).mm(dense(lib, d, D32)),
    'torch.mm': lambda lib, d: lib.mm(csr(lib, d), dense(lib, d, D32)),
    'torch.matmul': lambda lib, d: lib.matmul(csr(lib, d), dense(lib, d, D32)),
    'torch.sparse.mm': lambda lib, d: lib.sparse.mm(csr(lib, d), dense(lib, d, D32)),
    'csr @ vector': lambda lib, d: csr(lib, d) @ dense(lib, d, [1.0, -1.0, 2.0]),
    'dense @ csr': lambda lib, d: dense(lib, d, D32.T) @ csr(lib, d),
    'csr @ csr': lambda lib, d: csr(lib, d) @ csr(lib, d),
    'csc @ dense': lambda lib, d: csr(lib, d).t() @ dense(lib, d, D32),
    'addmm(dense, csr, dense)': lambda lib, d: lib.addmm(dense(lib, d, D32), csr(lib, d),
                                                         dense(lib, d, D32)),
    'addmm beta alpha': lambda lib, d: lib.addmm(dense(lib, d, D32), csr(lib, d),
                                                 dense(lib, d, D32), beta=0.5, alpha=-2),
    'torch.sparse.addmm': lambda lib, d: lib.sparse.addmm(dense(lib, d, D32), csr(lib, d),
                                                          dense(lib, d, D32)),
    'float64 csr @ dense': lambda lib, d: csr(lib, d, dtype='float64') @ dense(lib, d, D32,
                                                                               'float64'),
    'csr.t().to_dense()': lambda lib, d: csr(lib, d).t().to_dense(),
    'csc.t()': lambda lib, d: dense(lib, d, DENSE).to_sparse_csc().t(),
    '-csc': lambda lib, d: -dense(lib, d, DENSE).to_sparse_csc(),
    'abs(csc)': lambda lib, d: dense(lib, d, DENSE).to_sparse_csc().abs(),
    'csc * 2': lambda lib, d: dense(lib, d, DENSE).to_sparse_csc() * 2,
}


@pytest.mark.parametrize('case', OPS)
def test_ops_match_pytorch(case, device):
    got, exp = both(OPS[case], device)
    same(got, exp, rtol=1e-5, atol=1e-5)


REFUSED = {
    'csr / 2': lambda lib, d: csr(lib, d) / 2,
    'csr - csr': lambda lib, d: csr(lib, d) - csr(lib, d),
    'exp(csr)': lambda lib, d: csr(lib, d).exp(),
    'csr + coo': lambda lib, d: csr(lib, d) + coo(lib, d),
    'csr.indices()': lambda lib, d: csr(lib, d).indices(),
    'csr._indices()': lambda lib, d: csr(lib, d)._indices(),
    'csr._values()': lambda lib, d: csr(lib, d)._values(),
    'csr.coalesce()': lambda lib, d: csr(lib, d).coalesce(),
    'csr.is_coalesced()': lambda lib, d: csr(lib, d).is_coalesced(),
    'csr.sum(0)': lambda lib, d: csr(lib, d).sum(0),
    'torch.sparse.sum(csr)': lambda lib, d: lib.sparse.sum(csr(lib, d)),
    'csr.numpy()': lambda lib, d: csr(lib, d).numpy(),
    'coo.crow_indices()': lambda lib, d: coo(lib, d).crow_indices(),
    'dense.col_indices()': lambda lib, d: dense(lib, d, D32).col_indices(),
    'csr.ccol_indices()': lambda lib, d: csr(lib, d).ccol_indices(),
    'csr.to_dense(dtype)': lambda lib, d: csr(lib, d).to_dense(lib.float64),
    'int csr @ dense': lambda lib, d: csr(lib, d, val=[1, 2, 3], dtype='int64') @ dense(
        lib, d, D32 * 4, 'int64'),
    'mm dtype mismatch': lambda lib, d: csr(lib, d) @ dense(lib, d, D32, 'float64'),
}


@pytest.mark.parametrize('case', REFUSED)
def test_refusals_match_pytorch(case, device):
    same_error(REFUSED[case], device)


# -- gradients ----------------------------------------------------------------------------------

GRADS = {
    'csr @ dense': lambda lib, c, d: c @ d,
    'torch.sparse.mm': lambda lib, c, d: lib.sparse.mm(c, d),
    'torch.mm': lambda lib, c, d: lib.mm(c, d),
    'addmm': lambda lib, c, d: lib.addmm(d[:, :1] * 0 + 1, c, d, beta=0.5, alpha=2.0),
    'torch.sparse.addmm': lambda lib, c, d: lib.sparse.addmm(d, c, d),
    'dense @ csr': lambda lib, c, d: d.t() @ c,
    'csr @ vector': lambda lib, c, d: c @ d[:, 0],
    'csc @ dense': lambda lib, c, d: c.t() @ d,
    '(csr * 2).to_dense()': lambda lib, c, d: (c * 2).to_dense() @ d,
    'to_dense': lambda lib, c, d: c.to_dense(),
    'values()': lambda lib, c, d: c.values() * 3,
    'abs(csr) @ dense': lambda lib, c, d: c.abs() @ d,
    'csr.to_sparse().to_dense()': lambda lib, c, d: c.to_sparse().to_dense(),
    'csr.sum()': lambda lib, c, d: c.sum() * d,
}


@pytest.mark.parametrize('case', GRADS)
def test_gradients_of_values_and_dense_operand_match_pytorch(case, device):
    results = []
    for lib, d_ in ((nbgrad, device), (torch, 'cpu')):
        c, v = _v(lib, d_)
        d = dense(lib, d_, D32, requires_grad=True)
        out = GRADS[case](lib, c, d)
        (out * out).sum().backward()
        results.append((v.grad, d.grad))
    for got, exp, name in zip(results[0], results[1], ('values', 'dense operand')):
        if exp is None:
            assert got is None, name
        else:
            np.testing.assert_allclose(host(got), host(exp), 1e-5, 1e-5, err_msg=name)


@pytest.mark.parametrize('case', ['csr @ dense', 'torch.mm', 'dense @ csr'])
def test_gradient_of_a_csr_leaf_matches_pytorch(case, device):
    """A dense gradient reaches a CSR leaf dense, as in PyTorch."""
    grads = []
    for lib, d_ in ((nbgrad, device), (torch, 'cpu')):
        c = csr(lib, d_, requires_grad=True)
        out = GRADS[case](lib, c, dense(lib, d_, D32))
        (out * out).sum().backward()
        grads.append(c.grad)
    same(*grads)


def test_masked_gradient_of_a_csr_leaf_has_pytorchs_values(device):
    """torch.sparse.mm's gradient of a CSR leaf holds the leaf's entries, in the leaf's CSR
    layout as PyTorch's (it was stored COO)."""
    grads = []
    for lib, d_ in ((nbgrad, device), (torch, 'cpu')):
        c = csr(lib, d_, requires_grad=True)
        lib.sparse.mm(c, dense(lib, d_, D32)).pow(2).sum().backward()
        grads.append(c.grad)
    got, exp = grads
    assert lname(exp.layout) == lname(got.layout) == 'sparse_csr'
    same(got, exp)


def test_gradcheck_through_csr_products():
    d = nbgrad.tensor(D32, requires_grad=True)

    def fn(values, d):
        c = nbgrad.sparse_csr_tensor(CROW, COL, values, SIZE)
        return nbgrad.addmm(d, c, d, beta=0.5) + (c.t() @ d) * 2
    v = nbgrad.tensor(VAL, dtype=nbgrad.float64, requires_grad=True)
    assert nbgrad.autograd.gradcheck(fn, (v, d))


# -- save and load ------------------------------------------------------------------------------

def test_save_load_round_trips_through_pytorch():
    ours = {'csr': csr(nbgrad, 'cpu', dtype='float64'),
            'csc': dense(nbgrad, 'cpu', DENSE).to_sparse_csc(),
            'int32': CONSTRUCT['int32 indices'](nbgrad, 'cpu')}
    theirs = {'csr': csr(torch, 'cpu', dtype='float64'),
              'csc': dense(torch, 'cpu', DENSE).to_sparse_csc(),
              'int32': CONSTRUCT['int32 indices'](torch, 'cpu')}
    buffer = io.BytesIO()
    nbgrad.save(ours, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    for key in theirs:
        same(ours[key], loaded[key], where=key)
    buffer = io.BytesIO()
    torch.save(theirs, buffer)
    buffer.seek(0)
    back = nbgrad.load(buffer)
    for key in theirs:
        same(back[key], theirs[key], where=key)
    assert lname(pickle.loads(pickle.dumps(ours['csr'])).layout) == 'sparse_csr'


# -- torch.spmm, smm, hspmm, sspaddmm -------------------------------------------------------------

S_DENSE = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [2.0, 0.0, 3.0]])
PRODUCTS = {
    'spmm coo dense': lambda lib, d: lib.spmm(dense(lib, d, S_DENSE).to_sparse(),
                                              dense(lib, d, D32)),
    'spmm uncoalesced': lambda lib, d: lib.spmm(coo(lib, d), dense(lib, d, D32)),
    'spmm csr': lambda lib, d: lib.spmm(csr(lib, d), dense(lib, d, D32)),
    'spmm dense dense': lambda lib, d: lib.spmm(dense(lib, d, S_DENSE), dense(lib, d, D32)),
    'spmm dense coo': lambda lib, d: lib.spmm(dense(lib, d, D32.T), coo(lib, d)),
    'spmm coo coo': lambda lib, d: lib.spmm(coo(lib, d), coo(lib, d).t()),
    'spmm int64': lambda lib, d: lib.spmm(dense(lib, d, S_DENSE, 'int64').to_sparse(),
                                          dense(lib, d, D32 * 4, 'int64')),
    'smm': lambda lib, d: lib.smm(dense(lib, d, S_DENSE).to_sparse(), dense(lib, d, D32)),
    'smm uncoalesced': lambda lib, d: lib.smm(coo(lib, d), dense(lib, d, D32)),
    'smm empty': lambda lib, d: lib.smm(dense(lib, d, np.zeros((3, 3))).to_sparse(),
                                        dense(lib, d, D32)),
    'Tensor.smm': lambda lib, d: coo(lib, d).smm(dense(lib, d, D32)),
    'smm int64': lambda lib, d: lib.smm(dense(lib, d, S_DENSE, 'int64').to_sparse(),
                                        dense(lib, d, D32 * 4, 'int64')),
    'hspmm': lambda lib, d: lib.hspmm(dense(lib, d, S_DENSE).to_sparse(), dense(lib, d, D32)),
    'hspmm uncoalesced': lambda lib, d: lib.hspmm(coo(lib, d), dense(lib, d, D32)),
    'hspmm one row': lambda lib, d: lib.hspmm(dense(lib, d, S_DENSE[:1]).to_sparse(),
                                              dense(lib, d, D32)),
    'hspmm empty': lambda lib, d: lib.hspmm(dense(lib, d, np.zeros((3, 3))).to_sparse(),
                                            dense(lib, d, D32)),
    'sspaddmm': lambda lib, d: lib.sspaddmm(dense(lib, d, np.ones((3, 2))).to_sparse(),
                                            dense(lib, d, S_DENSE).to_sparse(),
                                            dense(lib, d, D32)),
    'sspaddmm beta alpha': lambda lib, d: lib.sspaddmm(
        dense(lib, d, np.ones((3, 2))).to_sparse(), coo(lib, d), dense(lib, d, D32),
        beta=2.0, alpha=-0.5),
    'sspaddmm uncoalesced input': lambda lib, d: lib.sspaddmm(
        coo(lib, d, COO_IDX[:, :3] % 2, COO_VAL[:3], (3, 2)),
        dense(lib, d, S_DENSE).to_sparse(), dense(lib, d, D32)),
    'Tensor.sspaddmm': lambda lib, d: dense(lib, d, np.ones((3, 2))).to_sparse().sspaddmm(
        coo(lib, d), dense(lib, d, D32), alpha=3),
    'sspaddmm int64': lambda lib, d: lib.sspaddmm(
        dense(lib, d, np.ones((3, 2)), 'int64').to_sparse(),
        dense(lib, d, S_DENSE, 'int64').to_sparse(), dense(lib, d, D32 * 4, 'int64'),
        beta=2, alpha=3),
}


@pytest.mark.parametrize('case', PRODUCTS)
def test_sparse_products_match_pytorch(case, device):
    got, exp = both(PRODUCTS[case], device)
    same(got, exp, rtol=1e-5, atol=1e-5)
    if lname(exp.layout) == 'sparse_coo':
        assert got.sparse_dim() == exp.sparse_dim() and got.dense_dim() == exp.dense_dim()


PRODUCT_ERRORS = {
    'spmm dtype mismatch': lambda lib, d: lib.spmm(coo(lib, d), dense(lib, d, D32, 'float64')),
    'spmm vector': lambda lib, d: lib.spmm(coo(lib, d), dense(lib, d, [1.0, 2.0, 3.0])),
    'smm dense': lambda lib, d: lib.smm(dense(lib, d, S_DENSE), dense(lib, d, D32)),
    'smm sparse mat': lambda lib, d: lib.smm(coo(lib, d), coo(lib, d)),
    'smm csr': lambda lib, d: lib.smm(csr(lib, d), dense(lib, d, D32)),
    'smm dtype mismatch': lambda lib, d: lib.smm(coo(lib, d), dense(lib, d, D32, 'float64')),
    'hspmm dense': lambda lib, d: lib.hspmm(dense(lib, d, S_DENSE), dense(lib, d, D32)),
    'hspmm csr': lambda lib, d: lib.hspmm(csr(lib, d), dense(lib, d, D32)),
    'hspmm shapes': lambda lib, d: lib.hspmm(coo(lib, d), dense(lib, d, D32[:2])),
    'hspmm hybrid': lambda lib, d: lib.hspmm(dense(lib, d, S_DENSE).to_sparse(1),
                                             dense(lib, d, D32)),
    'hspmm dtype mismatch': lambda lib, d: lib.hspmm(coo(lib, d), dense(lib, d, D32, 'float64')),
    'sspaddmm dense input': lambda lib, d: lib.sspaddmm(dense(lib, d, np.ones((3, 2))),
                                                        coo(lib, d), dense(lib, d, D32)),
    'sspaddmm dense mat1': lambda lib, d: lib.sspaddmm(
        dense(lib, d, np.ones((3, 2))).to_sparse(), dense(lib, d, S_DENSE), dense(lib, d, D32)),
    'sspaddmm input shape': lambda lib, d: lib.sspaddmm(
        dense(lib, d, np.ones((2, 2))).to_sparse(), coo(lib, d), dense(lib, d, D32)),
    'sspaddmm dtype': lambda lib, d: lib.sspaddmm(
        dense(lib, d, np.ones((3, 2)), 'float64').to_sparse(), coo(lib, d), dense(lib, d, D32)),
    'sspaddmm float beta on ints': lambda lib, d: lib.sspaddmm(
        dense(lib, d, np.ones((3, 2)), 'int64').to_sparse(),
        dense(lib, d, S_DENSE, 'int64').to_sparse(), dense(lib, d, D32, 'int64'), beta=0.5),
}


@pytest.mark.parametrize('case', PRODUCT_ERRORS)
def test_sparse_product_errors_match_pytorch(case, device):
    same_error(PRODUCT_ERRORS[case], device)


@pytest.mark.parametrize('case', ['smm', 'hspmm', 'sspaddmm'])
def test_products_without_derivative_refuse_backward_as_pytorch(case, device):
    def run(lib, d):
        s = dense(lib, d, S_DENSE).to_sparse().requires_grad_()
        m = dense(lib, d, D32, requires_grad=True)
        out = {'smm': lambda: lib.smm(s, m), 'hspmm': lambda: lib.hspmm(s, m),
               'sspaddmm': lambda: lib.sspaddmm(dense(lib, d, np.ones((3, 2))).to_sparse(),
                                                s, m)}[case]()
        assert out.requires_grad
        out.to_dense().sum().backward()
    same_error(run, device, message=True)


def test_spmm_gradients_match_pytorch(device):
    """torch.spmm is torch.mm: gradients of a sparse leaf (dense) and the dense operand."""
    grads = []
    for lib, d_ in ((nbgrad, device), (torch, 'cpu')):
        s = coo(lib, d_).requires_grad_()
        m = dense(lib, d_, D32, requires_grad=True)
        out = lib.spmm(s, m)
        assert type(out.grad_fn).__name__ == 'MmBackward0'
        out.pow(2).sum().backward()
        grads.append((s.grad, m.grad))
    same(grads[0][0], grads[1][0], where='sparse grad')
    same(grads[0][1], grads[1][1], where='dense grad')


def test_pygcn_graph_convolution_trains_as_in_pytorch(device):
    """Kipf's pygcn layer: output = spmm(adj, input @ weight) + bias, with a sparse adjacency
    (COO, and the CSR form): the loss and every parameter's gradient agree with PyTorch."""
    rng = np.random.default_rng(0)
    adj = (rng.random((6, 6)) < 0.4) * rng.random((6, 6))
    adj = (adj + np.eye(6)) / (adj + np.eye(6)).sum(1, keepdims=True)
    features, weight, bias = rng.standard_normal((6, 4)), rng.standard_normal((4, 3)), \
        rng.standard_normal(3)
    for layout in ('coo', 'csr'):
        results = []
        for lib, d_ in ((nbgrad, device), (torch, 'cpu')):
            a = dense(lib, d_, adj)
            a = a.to_sparse() if layout == 'coo' else a.to_sparse_csr()
            w = dense(lib, d_, weight, requires_grad=True)
            b = dense(lib, d_, bias, requires_grad=True)
            out = lib.spmm(a, dense(lib, d_, features) @ w) + b
            loss = lib.nn.functional.log_softmax(out, dim=1)[:, 0].mean()
            loss.backward()
            results.append((loss, w.grad, b.grad))
        for got, exp in zip(*results):
            np.testing.assert_allclose(host(got), host(exp), 1e-5, 1e-5, err_msg=layout)


def test_sparse_mm_of_two_csr_matrices_is_csr():
    """(found by a second sweep) torch.sparse.mm(csr, csr) gave COO; PyTorch's is CSR, as @."""
    results = []
    for lib in (torch, nbgrad):
        S = (lib.eye(3) * 2 + lib.diag(lib.ones(2), 1)).to_sparse_csr()
        r = lib.sparse.mm(S, S)
        results.append((str(r.layout).split('.')[-1], r.to_dense().tolist()))
    assert results[1] == results[0]
