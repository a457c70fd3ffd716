"""Sparse COO features beyond the basics, each against PyTorch: cat and stack, narrow_copy, bmm,
F.linear with a sparse weight, any/all, sparse_coo_tensor(size), spdiags, sampled_addmm,
as_sparse_gradcheck, and the errors of strided-memory methods (tolist, reshape, masked_fill,
stride...). A case returns a description of its results (layout, shape, dtype, coalesced flag,
indices, values, gradients) built from each library's own answers, and both() compares them."""
import numpy as np
import pytest

torch = pytest.importorskip('torch')

from torch_compare import both  # noqa: E402


def describe(lib, value):
    """A library-neutral description of a result: plain Python values, floats rounded."""
    if isinstance(value, (tuple, list)):
        return [describe(lib, v) for v in value]
    if not isinstance(value, lib.Tensor):
        return value
    dtype = str(value.dtype).rsplit('.', 1)[-1]
    if value.layout == lib.sparse_coo:
        return ('sparse', tuple(value.shape), dtype, value.is_coalesced(), value._nnz(),
                value._indices().tolist(), _rounded(value._values().detach()),
                value.requires_grad)
    if value.layout != lib.strided:
        return (str(value.layout).rsplit('.', 1)[-1], tuple(value.shape), dtype,
                _rounded(value.detach().to_dense()))
    return ('strided', tuple(value.shape), dtype, _rounded(value.detach()), value.requires_grad)


def _rounded(t):
    a = np.asarray(t.tolist(), dtype=object if t.dtype.is_complex else None)
    if a.dtype.kind == 'f':
        return np.round(a, 4).tolist()
    return a.tolist()


def check_equal(got, expected):
    assert got == expected, f'\nnbgrad: {got}\ntorch:  {expected}'


def same(fn):
    """fn(lib) -> results; both libraries' descriptions must agree (or both raise alike)."""
    return both(lambda lib: describe(lib, fn(lib)), check=check_equal, quiet=True)


INDICES = [[0, 1, 1], [2, 0, 2]]


def plain(lib, coalesced=False, requires_grad=False):
    s = lib.sparse_coo_tensor(lib.tensor(INDICES), lib.tensor([3., 4., 5.]), (2, 3))
    s = s.coalesce() if coalesced else s
    return s.requires_grad_() if requires_grad else s


def repeated(lib):
    return lib.sparse_coo_tensor(lib.tensor([[1, 0, 1], [0, 2, 0]]), lib.tensor([1., 2., 3.]),
                                 (2, 3))


def hybrid(lib):
    return lib.sparse_coo_tensor(lib.tensor([[0, 2]]), lib.tensor([[1., 2.], [3., 4.]]), (3, 2))


def batch3(lib):
    return lib.sparse_coo_tensor(lib.tensor([[0, 1, 1, 0], [0, 1, 0, 1], [2, 0, 2, 0]]),
                                 lib.tensor([1., 2., 3., 4.]), (2, 2, 3))


# -- cat and stack ----------------------------------------------------------------------------

CAT_CASES = {
    'dim0': lambda lib: lib.cat([plain(lib), plain(lib)]),
    'dim1': lambda lib: lib.cat([plain(lib), repeated(lib)], 1),
    'dim-1 coalesced': lambda lib: lib.cat([plain(lib, True), plain(lib, True)], -1),
    'single': lambda lib: lib.cat([plain(lib, True)]),
    'hybrid sparse dim': lambda lib: lib.cat([hybrid(lib), hybrid(lib)]),
    'hybrid dense dim': lambda lib: lib.cat([hybrid(lib), hybrid(lib)], 1),
    'promotes': lambda lib: lib.cat([plain(lib), plain(lib).double()]),
    'int with float': lambda lib: lib.cat([plain(lib).long(), plain(lib)]),
    'one entry': lambda lib: lib.cat([lib.sparse_coo_tensor(size=(2, 3)),
                                      lib.sparse_coo_tensor([[0], [1]], [1.], (2, 3))]),
    'dense second': lambda lib: lib.cat([plain(lib), plain(lib).to_dense()]),
    'dense first': lambda lib: lib.cat([plain(lib).to_dense(), plain(lib)]),
    'shape mismatch': lambda lib: lib.cat([plain(lib), lib.sparse_coo_tensor(
        lib.tensor(INDICES), lib.tensor([1., 2., 3.]), (2, 4))]),
    'dims mismatch': lambda lib: lib.cat([hybrid(lib), hybrid(lib).to_dense().to_sparse()]),
    'dim out of range': lambda lib: lib.cat([plain(lib), plain(lib)], 2),
    'stack0': lambda lib: lib.stack([plain(lib), repeated(lib)]),
    'stack1': lambda lib: lib.stack([plain(lib), plain(lib)], 1),
    'stack-1': lambda lib: lib.stack([plain(lib, True), plain(lib, True)], -1),
    'stack single entry': lambda lib: lib.stack([lib.sparse_coo_tensor([[0], [1]], [1.],
                                                                       (2, 3))]),
    'stack hybrid': [lambda lib, d=d: lib.stack([hybrid(lib), hybrid(lib)], d) for d in range(3)],
    'stack dense second': lambda lib: lib.stack([plain(lib), plain(lib).to_dense()]),
    'stack dense first': lambda lib: lib.stack([plain(lib).to_dense(), plain(lib)]),
    'stack size mismatch': lambda lib: lib.stack([plain(lib), lib.sparse_coo_tensor(
        lib.tensor(INDICES), lib.tensor([1., 2., 3.]), (2, 4))]),
}


@pytest.mark.parametrize('name', list(CAT_CASES))
def test_cat_and_stack(name):
    cases = CAT_CASES[name]
    for case in cases if isinstance(cases, list) else [cases]:
        same(case)


def _grad_through(lib, make, reduce):
    """make(lib, a, b) from two sparse leaves; reduce(lib, y) a scalar; (y, grads)."""
    a = plain(lib, requires_grad=True)
    b = lib.sparse_coo_tensor(lib.tensor(INDICES), lib.tensor([6., 8., 10.]), (2, 3),
                              requires_grad=True)
    y = make(lib, a, b)
    reduce(lib, y).backward()
    return y, a.grad, b.grad


def _weights(lib, shape):
    return lib.arange(float(np.prod(shape))).reshape(shape)


@pytest.mark.parametrize('dim', [0, 1])
def test_cat_gradient_dense_slices(dim):
    """A dense gradient (through torch.mm) comes back narrowed, dense, to each input."""
    same(lambda lib: _grad_through(
        lib, lambda lib, a, b: lib.cat([a, b], dim),
        lambda lib, y: lib.mm(y, _weights(lib, (y.shape[1], 2))).sum()))


def test_cat_gradient_sparse_refused():
    """PyTorch's CatBackward0 cannot narrow a sparse gradient: NotImplementedError."""
    same(lambda lib: _grad_through(lib, lambda lib, a, b: lib.cat([a, b], 1),
                                   lambda lib, y: lib.sparse.sum(y)))


@pytest.mark.parametrize('dim', [0, 1, 2])
def test_stack_gradient(dim):
    def reduce(lib, y):
        return (y.to_dense() * _weights(lib, tuple(y.shape))).sum()

    # (each input's gradient: the incoming sparse gradient's slice, as PyTorch selects it)
    same(lambda lib: _grad_through(lib, lambda lib, a, b: lib.stack([a, b], dim), reduce))


def test_stack_gradient_hybrid_dense_value():
    def case(lib):
        a = hybrid(lib).requires_grad_()
        y = lib.stack([a, a], 2)
        (y.to_dense() * _weights(lib, (3, 2, 2))).sum().backward()
        return y, a.grad.to_dense()     # (accumulated entries: compared as a dense value)
    same(case)


# -- narrow_copy ------------------------------------------------------------------------------

NARROW_CASES = [
    (lambda lib: plain(lib), 0, 1, 1), (lambda lib: plain(lib), 1, 1, 2),
    (lambda lib: plain(lib, True), 1, 1, 2), (lambda lib: plain(lib, True), 1, 1, 0),
    (lambda lib: plain(lib, True), 0, 0, 1), (repeated, 1, 0, 1), (hybrid, 1, 1, 1),
    (hybrid, 0, 1, 2),
    # PyTorch's refusals: negative dim, range outside the dim, negative length
    (lambda lib: plain(lib), -1, 0, 2), (lambda lib: plain(lib), 1, -2, 2),
    (lambda lib: plain(lib), 1, 2, 5), (lambda lib: plain(lib), 2, 0, 1),
    (lambda lib: plain(lib), 1, 0, -1),
]


@pytest.mark.parametrize('make, dim, start, length', NARROW_CASES)
def test_narrow_copy(make, dim, start, length):
    same(lambda lib: make(lib).narrow_copy(dim, start, length))
    same(lambda lib: lib.narrow_copy(make(lib), dim, start, length))


def test_narrow_copy_tensor_start():
    same(lambda lib: plain(lib).narrow_copy(0, lib.tensor(1), 1))


@pytest.mark.parametrize('dim, start, length', [(0, 1, 1), (1, 1, 2)])
def test_narrow_copy_gradients(dim, start, length):
    def dense_grad(lib):
        a = plain(lib, requires_grad=True)
        y = a.narrow_copy(dim, start, length)
        lib.mm(y, _weights(lib, (y.shape[1], 2))).sum().backward()
        return y, a.grad
    same(dense_grad)

    def sparse_grad(lib):   # (refused by PyTorch's backward)
        a = plain(lib, requires_grad=True)
        a.narrow_copy(dim, start, length).to_dense().sum().backward()
    same(sparse_grad)


# -- bmm and F.linear -------------------------------------------------------------------------

BMM_CASES = {
    'values': lambda lib: lib.bmm(batch3(lib), _weights(lib, (2, 3, 2))),
    'method': lambda lib: batch3(lib).bmm(_weights(lib, (2, 3, 2))),
    'repeated entries': lambda lib: lib.bmm(lib.sparse_coo_tensor(
        lib.tensor([[0, 0], [0, 0], [1, 1]]), lib.tensor([1., 2.]), (2, 2, 3)),
        _weights(lib, (2, 3, 2))),
    'int': lambda lib: lib.bmm(batch3(lib).long(), _weights(lib, (2, 3, 2)).long()),
    'inner size': lambda lib: lib.bmm(batch3(lib), lib.ones(2, 2, 2)),
    'batch size': lambda lib: lib.bmm(batch3(lib), lib.ones(3, 3, 2)),
    '2-d': lambda lib: lib.bmm(plain(lib), lib.ones(3, 2)),
    'dtypes': lambda lib: lib.bmm(batch3(lib), lib.ones(2, 3, 2).double()),
    'sparse mat2': lambda lib: lib.bmm(batch3(lib), batch3(lib).transpose(1, 2)),
    'dense self': lambda lib: lib.bmm(lib.ones(2, 2, 3), batch3(lib).transpose(1, 2)),
    'hybrid': lambda lib: lib.bmm(batch3(lib).to_dense().to_sparse(2), lib.ones(2, 3, 2)),
    'matmul refuses 3-d': lambda lib: lib.matmul(batch3(lib), lib.ones(2, 3, 2)),
}


@pytest.mark.parametrize('name', list(BMM_CASES))
def test_bmm(name):
    same(BMM_CASES[name])


@pytest.mark.parametrize('coalesced', [False, True])
def test_bmm_gradients(coalesced):
    def case(lib):
        a = batch3(lib)
        a = (a.coalesce() if coalesced else a).requires_grad_()
        b = _weights(lib, (2, 3, 2)).requires_grad_()
        y = lib.bmm(a, b)
        (y * _weights(lib, (2, 2, 2))).sum().backward()
        return y, a.grad, b.grad      # (a's gradient is dense, as PyTorch's)
    same(case)


def test_bmm_gradient_through_values():
    def case(lib):
        values = lib.tensor([1., 2., 3., 4.], requires_grad=True)
        a = lib.sparse_coo_tensor(batch3(lib)._indices(), values, (2, 2, 3))
        (lib.bmm(a, _weights(lib, (2, 3, 2))) * _weights(lib, (2, 2, 2))).sum().backward()
        return values.grad
    same(case)


LINEAR_CASES = {
    '2-d': lambda lib: (_weights(lib, (2, 3)), None),
    '1-d': lambda lib: (_weights(lib, (3,)), None),
    '1-d bias': lambda lib: (_weights(lib, (3,)), lib.tensor([1., -1.])),
    '3-d': lambda lib: (_weights(lib, (2, 2, 3)), None),
    '3-d bias': lambda lib: (_weights(lib, (2, 2, 3)), lib.tensor([1., -1.])),
    '3-d 0-d bias': lambda lib: (_weights(lib, (2, 2, 3)), lib.tensor(1.)),
    '4-d bias': lambda lib: (_weights(lib, (1, 2, 2, 3)), lib.tensor([1., -1.])),
    '2-d bias refused': lambda lib: (_weights(lib, (2, 3)), lib.tensor([1., -1.])),
    'in_features': lambda lib: (lib.ones(2, 2), None),
    'dtypes': lambda lib: (lib.ones(2, 2, 3).double(), None),
}


@pytest.mark.parametrize('name', list(LINEAR_CASES))
@pytest.mark.parametrize('weight', ['uncoalesced', 'coalesced', 'repeated'])
def test_linear_sparse_weight(name, weight):
    def case(lib):
        x, bias = LINEAR_CASES[name](lib)
        w = {'uncoalesced': plain(lib), 'coalesced': plain(lib, True),
             'repeated': repeated(lib)}[weight].requires_grad_()
        x = x.requires_grad_() if x.dtype.is_floating_point else x
        bias = None if bias is None else bias.requires_grad_()
        y = lib.nn.functional.linear(x, w, bias)
        (y * _weights(lib, tuple(y.shape))).sum().backward()
        return y, x.grad, w.grad, None if bias is None else bias.grad
    same(case)


def test_linear_other_sparse_cases():
    same(lambda lib: lib.nn.functional.linear(lib.ones(2, 3, dtype=lib.int64), plain(lib).long()))
    same(lambda lib: lib.nn.functional.linear(plain(lib), lib.ones(2, 3)))
    same(lambda lib: lib.nn.functional.linear(plain(lib), plain(lib)))
    same(lambda lib: lib.nn.functional.linear(lib.ones(2, 3), lib.ones(2, 3),
                                              lib.ones(2).to_sparse()))
    same(lambda lib: lib.nn.functional.linear(lib.ones(2, 3), lib.tensor(
        [[0., 1., 0.], [2., 0., 3.]]).to_sparse(1)))
    same(lambda lib: lib.nn.functional.linear(lib.tensor(1.), plain(lib)))


# -- any / all, construction from a size ------------------------------------------------------

ANY_CASES = {
    'any': lambda lib: plain(lib).any(),
    'torch.any': lambda lib: lib.any(plain(lib, True)),
    'stored zeros': lambda lib: lib.sparse_coo_tensor([[0, 1]], [0., 0.], (3,)).any(),
    'cancelling repeats': lambda lib: lib.sparse_coo_tensor([[0, 0]], [1., -1.], (3,)).any(),
    'empty': lambda lib: lib.sparse_coo_tensor(size=(2, 3)).any(),
    'nan': lambda lib: lib.tensor([0., float('nan')]).to_sparse().any(),
    'int': lambda lib: plain(lib).long().any(),
    'bool': lambda lib: lib.tensor([True, False]).to_sparse().any(),
    'hybrid': lambda lib: hybrid(lib).any(),
    'requires grad': lambda lib: plain(lib, requires_grad=True).any(),
    'any(dim)': lambda lib: plain(lib).any(0),
    'any(dim, keepdim)': lambda lib: plain(lib).any(1, keepdim=True),
    'all': lambda lib: plain(lib).all(),
    'torch.all': lambda lib: lib.all(plain(lib)),
    'all(dim)': lambda lib: plain(lib).all(0),
}


@pytest.mark.parametrize('name', list(ANY_CASES))
def test_any_all(name):
    same(ANY_CASES[name])


SIZE_CASES = {
    'size=': lambda lib: lib.sparse_coo_tensor(size=(2, 3)),
    'positional tuple': lambda lib: lib.sparse_coo_tensor((2, 3)),
    'positional list': lambda lib: lib.sparse_coo_tensor([2, 3]),
    'Size': lambda lib: lib.sparse_coo_tensor(lib.Size([2, 3])),
    'dtype': lambda lib: lib.sparse_coo_tensor((2, 3), dtype=lib.float64),
    'int dtype': lambda lib: lib.sparse_coo_tensor((2, 3), dtype=lib.int32),
    'requires_grad': lambda lib: lib.sparse_coo_tensor((2, 3), requires_grad=True),
    '0-d': lambda lib: lib.sparse_coo_tensor(size=()),
    'dims': lambda lib: (lib.sparse_coo_tensor(size=(2, 3)).sparse_dim(),
                         lib.sparse_coo_tensor(size=(2, 3)).dense_dim(),
                         lib.sparse_coo_tensor(size=(2, 3))._indices()),
    'keywords': lambda lib: lib.sparse_coo_tensor(indices=lib.tensor([[0]]),
                                                  values=lib.tensor([1.]), size=(2,)),
    'no values': lambda lib: lib.sparse_coo_tensor(lib.tensor([[0]]), None, (2,)),
    'tensor size': lambda lib: lib.sparse_coo_tensor(lib.tensor([2, 3])),
    '0-d tensor size': lambda lib: lib.sparse_coo_tensor(lib.tensor(3)),
    'nothing': lambda lib: lib.sparse_coo_tensor(),
    'is_coalesced': lambda lib: lib.sparse_coo_tensor((2, 3), is_coalesced=False),
}


@pytest.mark.parametrize('name', list(SIZE_CASES))
def test_sparse_coo_tensor_of_size(name):
    same(SIZE_CASES[name])


# -- spdiags, sampled_addmm, as_sparse_gradcheck ----------------------------------------------

def _diagonals(lib):
    return lib.arange(1., 10.).reshape(3, 3)


SPDIAGS_CASES = {
    'square': lambda lib: lib.sparse.spdiags(_diagonals(lib), lib.tensor([0, -1, 2]), (5, 5)),
    'wide': lambda lib: lib.sparse.spdiags(_diagonals(lib), lib.tensor([0, -1, 2]), (3, 5)),
    'tall': lambda lib: lib.sparse.spdiags(_diagonals(lib), lib.tensor([0, -1, 2]), (5, 3)),
    '1-d': lambda lib: lib.sparse.spdiags(lib.tensor([1., 2., 3.]), lib.tensor(0), (3, 3)),
    '1-d offset': lambda lib: lib.sparse.spdiags(lib.tensor([1., 2., 3.]), lib.tensor([1]),
                                                 (3, 3)),
    'one entry': lambda lib: lib.sparse.spdiags(lib.tensor([[1., 2., 3.]]), lib.tensor([2]),
                                                (3, 3)),
    'short diagonals': lambda lib: lib.sparse.spdiags(lib.ones(3, 2), lib.tensor([0, -1, 2]),
                                                      (5, 5)),
    'int': lambda lib: lib.sparse.spdiags(_diagonals(lib).long(), lib.tensor([0, -1, 2]),
                                          (4, 4)),
    'none': lambda lib: lib.sparse.spdiags(lib.ones(0, 3), lib.tensor([], dtype=lib.int64),
                                           (3, 3)),
    'csr': lambda lib: lib.sparse.spdiags(_diagonals(lib), lib.tensor([0, -1, 2]), (5, 5),
                                          layout=lib.sparse_csr),
    'csc': lambda lib: lib.sparse.spdiags(_diagonals(lib), lib.tensor([0, -1, 2]), (3, 5),
                                          layout=lib.sparse_csc),
    'strided refused': lambda lib: lib.sparse.spdiags(_diagonals(lib), lib.tensor([0, 1, 2]),
                                                      (3, 3), layout=lib.strided),
    'repeated offsets': lambda lib: lib.sparse.spdiags(_diagonals(lib), lib.tensor([0, 0, 1]),
                                                       (3, 3)),
    '3-d diagonals': lambda lib: lib.sparse.spdiags(lib.ones(2, 2, 2), lib.tensor([0, 1]),
                                                    (3, 3)),
    '2-d offsets': lambda lib: lib.sparse.spdiags(_diagonals(lib), lib.tensor([[0, 1, 2]]),
                                                  (3, 3)),
    'float offsets': lambda lib: lib.sparse.spdiags(_diagonals(lib), lib.tensor([0., 1., 2.]),
                                                    (3, 3)),
    'list offsets': lambda lib: lib.sparse.spdiags(_diagonals(lib), [0, 1, 2], (3, 3)),
    '3-d shape': lambda lib: lib.sparse.spdiags(_diagonals(lib), lib.tensor([0, 1, 2]),
                                                (3, 3, 3)),
    'offset far out': lambda lib: lib.sparse.spdiags(_diagonals(lib), lib.tensor([0, 1, 9]),
                                                     (3, 3)),
}


@pytest.mark.parametrize('name', list(SPDIAGS_CASES))
def test_spdiags(name):
    same(SPDIAGS_CASES[name])


def test_spdiags_has_no_derivative():
    def case(lib):
        x = _diagonals(lib).requires_grad_()
        y = lib.sparse.spdiags(x, lib.tensor([0, -1, 2]), (4, 4))
        assert y.requires_grad
        lib.sparse.sum(y).backward()
    same(case)


def _csr_eye(lib):
    return lib.eye(2).to_sparse_csr()


SAMPLED_CASES = {
    'plain': lambda lib: lib.sparse.sampled_addmm(_csr_eye(lib), _weights(lib, (2, 3)),
                                                  _weights(lib, (3, 2))),
    'beta alpha': lambda lib: lib.sparse.sampled_addmm(
        _csr_eye(lib), _weights(lib, (2, 3)), _weights(lib, (3, 2)), beta=2., alpha=.5),
    'off-diagonal': lambda lib: lib.sparse.sampled_addmm(
        lib.tensor([[0., 2.], [0., 0.]]).to_sparse_csr(), _weights(lib, (2, 3)),
        _weights(lib, (3, 2))),
    'coo refused': lambda lib: lib.sparse.sampled_addmm(lib.eye(2).to_sparse(),
                                                        lib.ones(2, 3), lib.ones(3, 2)),
    'dense refused': lambda lib: lib.sparse.sampled_addmm(lib.eye(2), lib.ones(2, 3),
                                                          lib.ones(3, 2)),
    'csc refused': lambda lib: lib.sparse.sampled_addmm(lib.eye(2).to_sparse_csc(),
                                                        lib.ones(2, 3), lib.ones(3, 2)),
    'shapes': lambda lib: lib.sparse.sampled_addmm(_csr_eye(lib), lib.ones(2, 3),
                                                   lib.ones(2, 3)),
    'input shape': lambda lib: lib.sparse.sampled_addmm(lib.eye(3).to_sparse_csr(),
                                                        lib.ones(2, 3), lib.ones(3, 2)),
    'dtypes': lambda lib: lib.sparse.sampled_addmm(_csr_eye(lib), lib.ones(2, 3).double(),
                                                   lib.ones(3, 2)),
    'int': lambda lib: lib.sparse.sampled_addmm(lib.eye(2).long().to_sparse_csr(),
                                                lib.ones(2, 3).long(), lib.ones(3, 2).long()),
    'sparse mat1': lambda lib: lib.sparse.sampled_addmm(_csr_eye(lib),
                                                        lib.ones(2, 3).to_sparse_csr(),
                                                        lib.ones(3, 2)),
}


@pytest.mark.parametrize('name', list(SAMPLED_CASES))
def test_sampled_addmm(name):
    same(SAMPLED_CASES[name])


def test_sampled_addmm_gradients():
    def case(lib):
        a = _weights(lib, (2, 3)).requires_grad_()
        b = _weights(lib, (3, 2)).requires_grad_()
        values = lib.tensor([1., 1.], requires_grad=True)
        inp = lib.sparse_csr_tensor(lib.tensor([0, 1, 2]), lib.tensor([0, 1]), values, (2, 2))
        y = lib.sparse.sampled_addmm(inp, a, b, beta=2., alpha=.5)
        (y.to_dense() * _weights(lib, (2, 2))).sum().backward()
        return y, a.grad, b.grad, values.grad
    same(case)


@pytest.mark.parametrize('fn', ['to_dense', 'mm', 'csr', 'mul'])
def test_as_sparse_gradcheck(fn):
    def case(lib):
        gradcheck = lib.sparse.as_sparse_gradcheck(lib.autograd.gradcheck)
        x = lib.tensor([[0., 1.], [2., 3.]], dtype=lib.float64).to_sparse().requires_grad_()
        d = lib.tensor([[1., 2.], [3., 4.]], dtype=lib.float64)
        f = {'to_dense': lambda s: s.to_dense(), 'mm': lambda s: lib.sparse.mm(s, d),
             'csr': lambda s: s.to_sparse_csr(), 'mul': lambda s: s * 2}[fn]
        return gradcheck(f, (x,))
    same(case)


# -- what sparse tensors refuse, and stride() -------------------------------------------------

REFUSED = {
    'tolist': lambda lib: plain(lib).tolist(),
    'data_ptr': lambda lib: plain(lib).data_ptr(),
    'reshape': lambda lib: plain(lib).reshape(3, 2),
    'reshape same size': lambda lib: plain(lib).reshape(2, 3),
    'torch.reshape': lambda lib: lib.reshape(plain(lib), (6,)),
    'flatten': lambda lib: plain(lib).flatten(),
    'torch.flatten': lambda lib: lib.flatten(plain(lib)),
    'flatten 1-d': lambda lib: lib.tensor([0., 1.]).to_sparse().flatten(),
    'flatten no-op': lambda lib: plain(lib).flatten(1),
    'view': lambda lib: plain(lib).view(6),
    'unflatten': lambda lib: plain(lib).unflatten(1, (3, 1)),
    'masked_fill': lambda lib: plain(lib).masked_fill(lib.ones(2, 3, dtype=lib.bool), 1.),
    'torch.masked_fill': lambda lib: lib.masked_fill(plain(lib),
                                                     lib.ones(2, 3, dtype=lib.bool), 1.),
    'masked_fill_': lambda lib: plain(lib).masked_fill_(lib.ones(2, 3, dtype=lib.bool), 1.),
    'dense masked_fill sparse mask': lambda lib: lib.ones(2, 3).masked_fill(
        lib.ones(2, 3, dtype=lib.bool).to_sparse(), 1.),
    'contiguous': lambda lib: plain(lib).contiguous(),
    'untyped_storage': lambda lib: plain(lib).untyped_storage(),
    'stride': lambda lib: plain(lib).stride(),
    'stride(dim)': lambda lib: plain(lib).stride(1),
    'stride 3-d': lambda lib: lib.ones(2, 2, 2).to_sparse().stride(),
    'stride hybrid': lambda lib: hybrid(lib).stride(),
    'storage_offset': lambda lib: plain(lib).storage_offset(),
}


@pytest.mark.parametrize('name', list(REFUSED))
def test_strided_memory_questions(name):
    same(REFUSED[name])


def test_dense_tensors_keep_their_methods():
    same(lambda lib: (lib.ones(2, 3).stride(), lib.ones(2, 3).tolist(),
                      lib.arange(6.).narrow_copy(0, 1, 2), lib.ones(2, 3).t().stride(0)))
