"""Sparse COO tensors against PyTorch: every case runs the same code with torch (on the CPU) and
with nbgrad (on each device), and the results must agree: layout, is_coalesced(), shape, dtype,
the value (to_dense()), for gradients their layout and value too, for errors the exception's
kind. The training-side uses (Embedding's sparse gradient, optimizers, save/load) are in
test_sparse_grads.py."""
import copy
import pickle

import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')
pytestmark = pytest.mark.filterwarnings('ignore:Sparse invariant checks')

INDICES = [[0, 1, 1, 0], [2, 0, 2, 2]]     # (0, 2) twice: uncoalesced
VALUES = [3., 4., 5., 1.]


def _s(lib, device, coalesce=False, values=VALUES, dtype=None, size=(2, 3)):
    s = lib.sparse_coo_tensor(lib.tensor(INDICES, device=device),
                              lib.tensor(values, dtype=dtype, device=device), size)
    return s.coalesce() if coalesce else s


def _d(lib, device, shape=(2, 3)):
    return lib.arange(float(np.prod(shape)), device=device).reshape(shape) - 2


def _describe(x):
    """What is compared of a result: tensors by layout, coalesced flag, shape, dtype and value."""
    if isinstance(x, (tuple, list)):
        return [_describe(v) for v in x]
    if hasattr(x, 'layout') and hasattr(x, 'detach'):
        sparse = x.is_sparse
        value = (x.detach().to_dense() if sparse else x.detach()).cpu().numpy()
        return ('sparse' if sparse else 'strided', x.is_coalesced() if sparse else None,
                tuple(x.shape), str(x.dtype).split('.')[-1], value)
    return x


def _outcome(fn, lib, device):
    try:
        return _describe(fn(lib, device))
    except Exception as error:     # noqa: BLE001 (the kinds are compared)
        return ('raised', type(error).__name__)


def _assert_same(ours, theirs):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_same(a, b)
    elif isinstance(theirs, tuple) and len(theirs) == 5:
        assert ours[:4] == theirs[:4]
        np.testing.assert_allclose(ours[4], theirs[4], rtol=1e-6, atol=1e-7)
    else:
        assert ours == theirs


CASES = {
    'construct': lambda lib, d: _s(lib, d),
    'infer-size': lambda lib, d: lib.sparse_coo_tensor(lib.tensor(INDICES, device=d),
                                                       lib.tensor(VALUES, device=d)),
    'dtype-cast': lambda lib, d: _s(lib, d, dtype=lib.float64).to(lib.float16),
    'int-values': lambda lib, d: _s(lib, d, values=[3, 4, 5, 1]),
    'hybrid': lambda lib, d: lib.sparse_coo_tensor(
        lib.tensor([[0, 2, 0]], device=d), lib.ones(3, 2, device=d), (4, 2)),
    'empty': lambda lib, d: lib.sparse_coo_tensor(lib.zeros(2, 0, dtype=lib.long, device=d),
                                                  lib.zeros(0, device=d), (2, 3)),
    'size-only': lambda lib, d: lib.sparse_coo_tensor((2, 3)),
    'one-entry-is-coalesced': lambda lib, d: lib.sparse_coo_tensor([[1]], [2.], (3,)),
    'coalesce': lambda lib, d: _s(lib, d).coalesce(),
    'indices-values': lambda lib, d: [_s(lib, d, True).indices(), _s(lib, d, True).values()],
    'raw-storage': lambda lib, d: [_s(lib, d)._indices(), _s(lib, d)._values()],
    'values-uncoalesced': lambda lib, d: _s(lib, d).values(),
    'metadata': lambda lib, d: [_s(lib, d).sparse_dim(), _s(lib, d).dense_dim(),
                                _s(lib, d)._nnz(), _s(lib, d).is_sparse,
                                str(_s(lib, d).layout).split('.')[-1]],
    'to_sparse': lambda lib, d: _d(lib, d).to_sparse(),
    'to_sparse(1)': lambda lib, d: _d(lib, d).to_sparse(1),
    'to_sparse_coo': lambda lib, d: _d(lib, d).to_sparse_coo(),
    'dense.to_dense': lambda lib, d: _d(lib, d).to_dense(),
    'add': lambda lib, d: _s(lib, d) + _s(lib, d),
    'add-coalesced': lambda lib, d: _s(lib, d, True) + _s(lib, d, True),
    'add-alpha': lambda lib, d: lib.add(_s(lib, d, True), _s(lib, d, True), alpha=2),
    'sub': lambda lib, d: _s(lib, d, True) - _s(lib, d),
    'dense+sparse': lambda lib, d: _d(lib, d) + _s(lib, d),
    'dense-sparse': lambda lib, d: _d(lib, d) - _s(lib, d),
    'sparse+dense': lambda lib, d: _s(lib, d) + _d(lib, d),
    'sparse+1': lambda lib, d: _s(lib, d) + 1,
    'mul-scalar': lambda lib, d: _s(lib, d) * 2.5,
    'rmul-scalar': lambda lib, d: 3 * _s(lib, d, True),
    'mul-int-by-float': lambda lib, d: _s(lib, d, values=[3, 4, 5, 1]) * 0.5,
    'mul-0d-tensor': lambda lib, d: _s(lib, d) * lib.tensor(2., device=d),
    'mul-dense': lambda lib, d: _s(lib, d) * _d(lib, d),
    'dense-mul': lambda lib, d: _d(lib, d) * _s(lib, d, True),
    'mul-sparse': lambda lib, d: _s(lib, d) * _s(lib, d, True),
    'div': lambda lib, d: _s(lib, d) / 4,
    'neg': lambda lib, d: -_s(lib, d),
    'abs': lambda lib, d: (-_s(lib, d)).abs(),
    'sqrt': lambda lib, d: _s(lib, d).sqrt(),
    'tanh': lambda lib, d: _s(lib, d).tanh(),
    'relu': lambda lib, d: (_s(lib, d) - _s(lib, d, True) * 2).relu(),
    'square': lambda lib, d: _s(lib, d) ** 2,
    'pow3': lambda lib, d: _s(lib, d).pow(3),
    'sin': lambda lib, d: _s(lib, d).sin(),
    't': lambda lib, d: _s(lib, d).t(),
    't-coalesced': lambda lib, d: _s(lib, d, True).t(),
    'transpose': lambda lib, d: _s(lib, d).transpose(1, 0),
    'select': lambda lib, d: _s(lib, d)[0],
    'select-hybrid': lambda lib, d: lib.sparse_coo_tensor([[0, 1]], lib.ones(2, 3), (2, 3))[1],
    'sum': lambda lib, d: _s(lib, d).sum(),
    'sum-dim': lambda lib, d: _s(lib, d).sum(0),
    'sparse.sum': lambda lib, d: lib.sparse.sum(_s(lib, d)),
    'sparse.sum-dim1': lambda lib, d: lib.sparse.sum(_s(lib, d), 1),
    'sparse.sum-dims': lambda lib, d: lib.sparse.sum(_s(lib, d), (0, 1)),
    'sum-int': lambda lib, d: _s(lib, d, values=[3, 4, 5, 1]).sum(),
    'mm': lambda lib, d: _s(lib, d) @ _d(lib, d, (3, 2)),
    'torch.mm': lambda lib, d: lib.mm(_s(lib, d), _d(lib, d, (3, 2))),
    'mv': lambda lib, d: _s(lib, d) @ _d(lib, d, (3,)),
    'dense@sparse': lambda lib, d: _d(lib, d, (4, 2)) @ _s(lib, d),
    'sparse.mm': lambda lib, d: lib.sparse.mm(_s(lib, d), _d(lib, d, (3, 2))),
    'sparse@sparse': lambda lib, d: lib.sparse.mm(_s(lib, d), _s(lib, d).t()),
    'addmm': lambda lib, d: lib.sparse.addmm(_d(lib, d, (2, 2)), _s(lib, d),
                                             _d(lib, d, (3, 2)), beta=0.5, alpha=2),
    'mm-shapes': lambda lib, d: _s(lib, d) @ _d(lib, d, (2, 2)),
    'softmax': lambda lib, d: lib.sparse.softmax(_s(lib, d), 1),
    'softmax-dim0': lambda lib, d: lib.sparse.softmax(_s(lib, d), 0),
    'log_softmax': lambda lib, d: lib.sparse.log_softmax(_s(lib, d), 1),
    'sparse_mask': lambda lib, d: _d(lib, d).sparse_mask(_s(lib, d, True)),
    'clone': lambda lib, d: _s(lib, d).clone(),
    'double': lambda lib, d: _s(lib, d).double(),
    'detach': lambda lib, d: _s(lib, d, True).detach(),
    'mul_': lambda lib, d: _s(lib, d).mul_(2),
    'zero_': lambda lib, d: _s(lib, d).zero_(),
    'add_': lambda lib, d: _s(lib, d).add_(_s(lib, d, True)),
    'dense.add_': lambda lib, d: _d(lib, d).add_(_s(lib, d), alpha=-0.5),
    'exp-refused': lambda lib, d: _s(lib, d).exp(),
    'view-refused': lambda lib, d: _s(lib, d).view(3, 2),
    'mean-refused': lambda lib, d: _s(lib, d).mean(),
    'sigmoid-refused': lambda lib, d: _s(lib, d).sigmoid(),
    'eq-refused': lambda lib, d: _s(lib, d) == _s(lib, d),
    'numpy-refused': lambda lib, d: _s(lib, d).cpu().numpy(),
    'coalesce-dense-refused': lambda lib, d: _d(lib, d).coalesce(),
    'values-dense-refused': lambda lib, d: _d(lib, d)._values(),
    'nnz-mismatch': lambda lib, d: lib.sparse_coo_tensor([[0, 1]], [1.], (2,)),
    'size-too-short': lambda lib, d: lib.sparse_coo_tensor([[0, 1]], [1., 2.], (2, 3)),
    'dense-size-wrong': lambda lib, d: lib.sparse_coo_tensor([[0, 1]], [[1., 2.], [3, 4]],
                                                             (2, 3)),
    'index-out-of-range': lambda lib, d: lib.sparse_coo_tensor([[5]], [1.], (2,),
                                                               check_invariants=True),
    'negative-index': lambda lib, d: lib.sparse_coo_tensor([[-1]], [1.]),
    'int-requires-grad': lambda lib, d: lib.sparse_coo_tensor([[0]], [1], (1,),
                                                              requires_grad=True),
}


@pytest.mark.parametrize('name', CASES)
def test_matches_pytorch(device, name):
    fn = CASES[name]
    _assert_same(_outcome(fn, nbgrad, device), _outcome(fn, torch, 'cpu'))


# -- gradients -------------------------------------------------------------------------------------

def _weights(lib, shape):
    return lib.arange(1., 1 + float(np.prod(shape))).reshape(shape)


def _leaf(lib, device, coalesce=True):
    s = _s(lib, device, coalesce)
    return lib.sparse_coo_tensor(s._indices(), s._values(), s.shape, requires_grad=True,
                                 is_coalesced=s.is_coalesced())


GRADIENT_CASES = {
    'to_dense': lambda lib, s: s.to_dense(),
    'mul-scalar': lambda lib, s: (s * 2).to_dense(),
    'div': lambda lib, s: (s / 4).to_dense(),
    'neg': lambda lib, s: (-s).to_dense(),
    'mul-dense': lambda lib, s: (s * _weights(lib, (2, 3))).to_dense(),
    'add-self': lambda lib, s: (s + s).to_dense(),
    'abs': lambda lib, s: s.abs().to_dense(),
    'square': lambda lib, s: (s ** 2).to_dense(),
    'sparse.sum-dim': lambda lib, s: lib.sparse.sum(s, 1).to_dense(),
    't': lambda lib, s: s.t().to_dense(),
    'coalesce': lambda lib, s: s.coalesce().to_dense(),
    'clone': lambda lib, s: s.clone().to_dense(),
    'double': lambda lib, s: s.double().to_dense(),
    'sparse.mm (masked)': lambda lib, s: lib.sparse.mm(s, _weights(lib, (3, 2))),
    'mm (dense grad)': lambda lib, s: s @ _weights(lib, (3, 2)),
    'sum (dense grad)': lambda lib, s: s.sum().reshape(1),
    'dense+sparse (dense grad)': lambda lib, s: _weights(lib, (2, 3)) + s,
    'softmax': lambda lib, s: lib.sparse.softmax(s, 1).to_dense(),
    'log_softmax': lambda lib, s: lib.sparse.log_softmax(s, 0).to_dense(),
    'sparse@sparse': lambda lib, s: lib.sparse.mm(s, s.t()).to_dense(),
}


@pytest.mark.parametrize('coalesce', [True, False], ids=['coalesced', 'uncoalesced'])
@pytest.mark.parametrize('name', GRADIENT_CASES)
def test_gradients_of_a_sparse_leaf_match_pytorch(name, coalesce):
    fn = GRADIENT_CASES[name]
    if name in ('softmax', 'log_softmax', 'sparse@sparse') and not coalesce:
        pytest.skip('PyTorch itself refuses or rejects an uncoalesced input here')
    grads = {}
    for lib in (torch, nbgrad):
        s = _leaf(lib, 'cpu', coalesce)
        out = fn(lib, s)
        (out * _weights(lib, tuple(out.shape))).sum().backward()
        grads[lib] = s.grad
    ours, theirs = _describe(grads[nbgrad]), _describe(grads[torch])
    assert ours[0] == theirs[0] and ours[2:4] == theirs[2:4]     # layout, shape, dtype
    np.testing.assert_allclose(ours[4], theirs[4], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('make', [
    lambda lib, v: lib.sparse_coo_tensor(INDICES, v, (2, 3)).to_dense(),
    lambda lib, v: lib.sparse.mm(lib.sparse_coo_tensor(INDICES, v, (2, 3)),
                                 _weights(lib, (3, 2)).to(v.device)),
    lambda lib, v: (lib.sparse_coo_tensor(INDICES, v, (2, 3)) * 3).coalesce().to_dense(),
    lambda lib, v: lib.sparse_coo_tensor(INDICES, v, (2, 3)).coalesce().values(),
], ids=['to_dense', 'sparse.mm', 'scaled', 'values'])
def test_gradients_reach_the_values_as_in_pytorch(device, make):
    grads = {}
    for lib, dev in ((torch, 'cpu'), (nbgrad, device)):
        v = lib.tensor(VALUES, device=dev, requires_grad=True)
        out = make(lib, v)
        (out * _weights(lib, tuple(out.shape)).to(dev)).sum().backward()
        grads[lib] = v.grad.cpu().numpy()
    np.testing.assert_allclose(grads[nbgrad], grads[torch], rtol=1e-6)


def test_gradients_accumulate_across_backward_calls_as_in_pytorch():
    grads = {}
    for lib in (torch, nbgrad):
        s = _leaf(lib, 'cpu')
        lib.sparse.mm(s, _weights(lib, (3, 2))).sum().backward()
        s.to_dense().pow(2).sum().backward()
        grads[lib] = _describe(s.grad)
    assert grads[nbgrad][:4] == grads[torch][:4]
    np.testing.assert_allclose(grads[nbgrad][4], grads[torch][4])


def test_the_dense_operand_passes_gradcheck():
    s = nbgrad.sparse_coo_tensor(INDICES, nbgrad.tensor(VALUES, dtype=nbgrad.float64), (2, 3))
    d = nbgrad.randn(3, 2, dtype=nbgrad.float64, requires_grad=True)
    assert nbgrad.autograd.gradcheck(lambda x: nbgrad.sparse.mm(s, x).tanh(), (d,))
    assert nbgrad.autograd.gradcheck(lambda x: (s @ x) * (x.t() @ s.t().to_dense()).t(), (d,))


# -- printing, copying ------------------------------------------------------------------------------

@pytest.mark.parametrize('make', [
    lambda lib: _s(lib, 'cpu'),
    lambda lib: _s(lib, 'cpu', dtype=lib.float64),
    lambda lib: _s(lib, 'cpu', values=[3, 4, 5, 1]),
    lambda lib: lib.sparse_coo_tensor(lib.zeros(2, 0, dtype=lib.long), lib.zeros(0), (2, 3)),
    lambda lib: lib.sparse_coo_tensor([[0, 2]], lib.ones(2, 3), (4, 3)),
    lambda lib: _leaf(lib, 'cpu'),
    lambda lib: _leaf(lib, 'cpu') * 2,
    lambda lib: lib.sparse_coo_tensor([[0, 2]], [1.5, -2.25], (100000,)),
], ids=['plain', 'float64', 'int64', 'empty', 'hybrid', 'requires-grad', 'grad-fn', 'long'])
def test_repr_is_pytorchs(make):
    assert repr(make(nbgrad)) == repr(make(torch)).replace('torch.', 'nbgrad.')


def test_cuda_tensors_print_their_device():
    if not nbgrad.cuda.is_available():
        pytest.skip('no CUDA device')
    text = repr(_s(nbgrad, 'cuda'))
    assert "device='cuda:0'" in text and text.index('device') < text.index('size=')


@pytest.mark.parametrize('copier', [copy.deepcopy, copy.copy,
                                    lambda t: pickle.loads(pickle.dumps(t))],
                         ids=['deepcopy', 'copy', 'pickle'])
def test_copies_keep_entries_and_flags(copier):
    s = _s(nbgrad, 'cpu')
    c = copier(s)
    assert c.is_sparse and not c.is_coalesced()
    np.testing.assert_array_equal(c._indices().numpy(), INDICES)
    np.testing.assert_array_equal(c.to_dense().numpy(), s.to_dense().numpy())


def test_refusals_name_the_op_and_the_way_out():
    with pytest.raises(NotImplementedError, match="aten::exp.*SparseCPU.*to_dense"):
        _s(nbgrad, 'cpu').exp()
    assert _s(nbgrad, 'cpu').stride() == _s(torch, 'cpu').stride()     # (PyTorch's zeros)
    s = _leaf(nbgrad, 'cpu')
    with pytest.raises(RuntimeError, match='requires grad'):
        s.mul_(2)
    np.testing.assert_array_equal(s._values().numpy(), [4., 4., 5.])    # unchanged
