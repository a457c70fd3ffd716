"""Complex autograd of the matrix and tensor products against PyTorch: matmul/@ (broadcast batch
dims, 1-D operands), mm, bmm, mv, dot, vdot, inner, outer/ger, tensordot, einsum, kron,
linalg.multi_dot, chain_matmul, F.linear and the addmm family (complex alpha and beta too), and
F.bilinear, which PyTorch differentiates for complex tensors only in its bias. The gradients are PyTorch's (g @ B^H and A^H @ g for C = A @ B, conjugates elsewhere);
each case runs through autograd.grad with a complex output gradient and through .backward of a
real loss, in single and double precision, with real operands too (whose results must not
change) and with real operands of complex products (whose gradients are the real parts)."""
import warnings

import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')

REAL = {'single': 'float32', 'double': 'float64'}
COMPLEX = {'single': 'complex64', 'double': 'complex128'}
TOLERANCE = {'single': dict(rtol=2e-4, atol=2e-4), 'double': dict(rtol=1e-10, atol=1e-10)}


def _array(rng, shape, dtype):
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == 'c':
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dtype)


def _to_numpy(t):
    if isinstance(t, torch.Tensor):
        return t.detach().resolve_conj().resolve_neg().numpy()
    return t.detach().cpu().numpy()


def _leaves(lib, arrays, device):
    if lib is torch:
        return [torch.tensor(a, requires_grad=True) for a in arrays]
    return [nbgrad.tensor(a, device=device, requires_grad=True) for a in arrays]


def _assert_close(got, expected, precision, what):
    got, expected = _to_numpy(got), _to_numpy(expected)
    assert got.dtype == expected.dtype, f'{what}: dtype {got.dtype} != torch\'s {expected.dtype}'
    assert got.shape == expected.shape, f'{what}: shape {got.shape} != torch\'s {expected.shape}'
    np.testing.assert_allclose(got, expected, err_msg=what, **TOLERANCE[precision])


# ---------------------------------------------------------------------------------------------
# The cases: name -> (fn(lib, *tensors), operand shapes, operand kinds). A kind is 'x' (the
# dtype under test: real or complex), or 'r' / 'c' (real / complex whatever is under test, for
# the mixed cases).
# ---------------------------------------------------------------------------------------------

def _chain_matmul(lib, *ms):
    with warnings.catch_warnings():      # (deprecated in both libraries)
        warnings.simplefilter('ignore')
        return lib.chain_matmul(*ms)


def _oracle_promoting_real_operands(fn):
    """fn, where PyTorch (the oracle) gets its real operands as complex copies first: PyTorch's
    addr takes real and complex operands in forward but its backward fails on them (an
    internal check, or mv's dtype error), though the gradient of a real operand is just the
    real part of the complex one, which .to(complex) gives in PyTorch too."""
    def call(lib, *tensors):
        if lib is torch:
            complex_dtype = next(t.dtype for t in tensors if t.is_complex())
            tensors = [t if t.is_complex() else t.to(complex_dtype) for t in tensors]
        return fn(lib, *tensors)
    return call


def _functional(lib):
    return torch.nn.functional if lib is torch else nbgrad.nn.functional


X2, X3 = 'xx', 'xxx'
CASES = {
    'matmul_2d': (lambda lib, a, b: lib.matmul(a, b), [(3, 4), (4, 5)], X2),
    'matmul_operator': (lambda lib, a, b: a @ b, [(3, 4), (4, 2)], X2),
    'matmul_broadcast_batch': (lambda lib, a, b: a @ b, [(2, 1, 3, 4), (5, 4, 2)], X2),
    'matmul_matrix_by_batch': (lambda lib, a, b: a @ b, [(3, 4), (2, 4, 5)], X2),
    'matmul_vector_by_batch': (lambda lib, a, b: a @ b, [(4,), (2, 4, 3)], X2),
    'matmul_batch_by_vector': (lambda lib, a, b: a @ b, [(2, 3, 4), (4,)], X2),
    'matmul_vector_by_matrix': (lambda lib, a, b: a @ b, [(4,), (4, 3)], X2),
    'matmul_matrix_by_vector': (lambda lib, a, b: a @ b, [(3, 4), (4,)], X2),
    'matmul_vectors': (lambda lib, a, b: a @ b, [(4,), (4,)], X2),
    'mm': (lambda lib, a, b: lib.mm(a, b), [(3, 4), (4, 5)], X2),
    'bmm': (lambda lib, a, b: lib.bmm(a, b), [(2, 3, 4), (2, 4, 5)], X2),
    'mv': (lambda lib, a, b: lib.mv(a, b), [(3, 4), (4,)], X2),
    'dot': (lambda lib, a, b: lib.dot(a, b), [(5,), (5,)], X2),
    'vdot': (lambda lib, a, b: lib.vdot(a, b), [(5,), (5,)], X2),
    'inner_vectors': (lambda lib, a, b: lib.inner(a, b), [(5,), (5,)], X2),
    'inner_tensors': (lambda lib, a, b: lib.inner(a, b), [(2, 4), (3, 2, 4)], X2),
    'inner_scalar': (lambda lib, a, b: lib.inner(a, b), [(), (3, 2)], X2),
    'outer': (lambda lib, a, b: lib.outer(a, b), [(3,), (4,)], X2),
    'ger': (lambda lib, a, b: lib.ger(a, b), [(3,), (4,)], X2),
    'tensordot_int': (lambda lib, a, b: lib.tensordot(a, b, dims=2), [(2, 3, 4), (3, 4, 5)], X2),
    'tensordot_lists': (lambda lib, a, b: lib.tensordot(a, b, dims=([0, 2], [2, 1])),
                        [(2, 3, 4), (5, 4, 2)], X2),
    'tensordot_total': (lambda lib, a, b: lib.tensordot(a, b, dims=2), [(3, 4), (3, 4)], X2),
    'einsum_matmul': (lambda lib, a, b: lib.einsum('ij,jk->ik', a, b), [(3, 4), (4, 5)], X2),
    'einsum_batch_ellipsis': (lambda lib, a, b: lib.einsum('...ij,...jk', a, b),
                              [(2, 3, 4), (2, 4, 2)], X2),
    'einsum_diagonal': (lambda lib, a, b: lib.einsum('ii,ij->ij', a, b), [(3, 3), (3, 2)], X2),
    'einsum_summed_away': (lambda lib, a, b: lib.einsum('ij,kl->ik', a, b), [(2, 3), (4, 5)],
                           X2),
    'einsum_three': (lambda lib, a, b, c: lib.einsum('ij,jk,kl->il', a, b, c),
                     [(2, 3), (3, 4), (4, 2)], X3),
    'einsum_trace': (lambda lib, a: lib.einsum('ii', a), [(4, 4)], 'x'),
    'kron': (lambda lib, a, b: lib.kron(a, b), [(2, 3), (3, 2)], X2),
    'kron_ranks': (lambda lib, a, b: lib.kron(a, b), [(2,), (2, 3)], X2),
    'multi_dot': (lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]), [(2, 3), (3, 4), (4, 5)],
                  X3),
    'multi_dot_vectors': (lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]),
                          [(3,), (3, 4), (4,)], X3),
    'chain_matmul': (_chain_matmul, [(2, 3), (3, 6), (6, 2)], X3),
    'linear': (lambda lib, x, w: _functional(lib).linear(x, w), [(3, 4), (5, 4)], X2),
    'linear_bias': (lambda lib, x, w, b: _functional(lib).linear(x, w, b),
                    [(3, 4), (5, 4), (5,)], X3),
    'linear_batched_bias': (lambda lib, x, w, b: _functional(lib).linear(x, w, b),
                            [(2, 3, 4), (5, 4), (5,)], X3),
    'linear_vector_input': (lambda lib, x, w: _functional(lib).linear(x, w), [(4,), (5, 4)], X2),
    'linear_vector_weight': (lambda lib, x, w: _functional(lib).linear(x, w), [(3, 4), (4,)], X2),
    # (complex bilinear: PyTorch differentiates only its bias, see the test below)
    'bilinear': (lambda lib, x1, x2, w, b: _functional(lib).bilinear(x1, x2, w, b),
                 [(3, 2), (3, 4), (5, 2, 4), (5,)], 'rrrr'),
    'addmm': (lambda lib, i, a, b: lib.addmm(i, a, b), [(3, 5), (3, 4), (4, 5)], X3),
    'addmm_broadcast_input': (lambda lib, i, a, b: lib.addmm(i, a, b, beta=0.5, alpha=2.),
                              [(5,), (3, 4), (4, 5)], X3),
    'addmm_beta_zero': (lambda lib, i, a, b: lib.addmm(i, a, b, beta=0), [(3, 5), (3, 4), (4, 5)],
                        X3),
    'addmv': (lambda lib, i, a, b: lib.addmv(i, a, b, beta=2, alpha=3), [(3,), (3, 4), (4,)], X3),
    'addbmm': (lambda lib, i, a, b: lib.addbmm(i, a, b, alpha=0.5),
               [(3, 5), (2, 3, 4), (2, 4, 5)], X3),
    'baddbmm': (lambda lib, i, a, b: lib.baddbmm(i, a, b, beta=1.5),
                [(2, 3, 5), (2, 3, 4), (2, 4, 5)], X3),
    'addr': (lambda lib, i, a, b: lib.addr(i, a, b, beta=2., alpha=-1.), [(3, 4), (3,), (4,)], X3),
    # real operands of complex products: each gets the real part of its complex gradient
    'outer_real_complex': (lambda lib, a, b: lib.outer(a, b), [(3,), (4,)], 'rc'),
    'kron_complex_real': (lambda lib, a, b: lib.kron(a, b), [(2, 2), (3, 2)], 'cr'),
    # (PyTorch's addr backward fails on these: its oracle promotes the real operands)
    'addr_real_input': (_oracle_promoting_real_operands(lambda lib, i, a, b: lib.addr(i, a, b)),
                        [(3, 4), (3,), (4,)], 'rcc'),
    'addr_real_vector': (_oracle_promoting_real_operands(
        lambda lib, i, a, b: lib.addr(i, a, b, alpha=0.5)), [(3, 4), (3,), (4,)], 'crc'),
    'real_weight_as_complex': (lambda lib, w, z: w.to(z.dtype) @ z, [(3, 4), (4, 2)], 'rc'),
    'real_weight_linear': (lambda lib, z, w: _functional(lib).linear(z, w.to(z.dtype)),
                           [(3, 4), (5, 4)], 'cr'),
}

# complex alpha and beta (complex results only): the gradients take their conjugates
COMPLEX_SCALAR_CASES = {
    'addmm_complex_scalars': (lambda lib, i, a, b: lib.addmm(i, a, b, beta=1 - 2j, alpha=0.5 + 1j),
                              [(3, 5), (3, 4), (4, 5)], X3),
    'addmv_complex_scalars': (lambda lib, i, a, b: lib.addmv(i, a, b, beta=2j, alpha=1 + 1j),
                              [(3,), (3, 4), (4,)], X3),
    'addbmm_complex_scalars': (lambda lib, i, a, b: lib.addbmm(i, a, b, beta=-1j, alpha=2 - 1j),
                               [(3, 5), (2, 3, 4), (2, 4, 5)], X3),
    'baddbmm_complex_scalars': (lambda lib, i, a, b: lib.baddbmm(i, a, b, beta=0.5j, alpha=3j),
                                [(2, 3, 5), (2, 3, 4), (2, 4, 5)], X3),
    'addr_complex_scalars': (lambda lib, i, a, b: lib.addr(i, a, b, beta=1 + 1j, alpha=-2j),
                             [(3, 4), (3,), (4,)], X3),
    'addr_complex_scalars_real_input': (_oracle_promoting_real_operands(
        lambda lib, i, a, b: lib.addr(i, a, b, beta=1j, alpha=1 + 2j)), [(3, 4), (3,), (4,)],
        'rcc'),
    'addmm_complex_beta_zero': (lambda lib, i, a, b: lib.addmm(i, a, b, beta=0j, alpha=1j),
                                [(3, 5), (3, 4), (4, 5)], X3),
}

MIXED = {name for name, (_, _, kinds) in {**CASES, **COMPLEX_SCALAR_CASES}.items()
         if set(kinds) - {'x'}}


def _inputs(case, kind, precision, seed=0):
    fn, shapes, kinds = {**CASES, **COMPLEX_SCALAR_CASES}[case]
    dtype_of = {'x': (COMPLEX if kind == 'complex' else REAL)[precision],
                'r': REAL[precision], 'c': COMPLEX[precision]}
    rng = np.random.default_rng(seed)
    return fn, [_array(rng, shape, dtype_of[k]) for shape, k in zip(shapes, kinds)]


def _params():
    for case in CASES:
        kinds = ('complex', 'real') if case not in MIXED else \
            ('real',) if set(CASES[case][2]) == {'r'} else ('mixed',)
        for kind in kinds:
            for precision in ('single', 'double'):
                yield pytest.param(case, kind, precision, id=f'{case}-{kind}-{precision}')
    for case in COMPLEX_SCALAR_CASES:
        for precision in ('single', 'double'):
            yield pytest.param(case, 'mixed' if case in MIXED else 'complex', precision,
                               id=f'{case}-{precision}')


PARAMS = list(_params())


@pytest.mark.parametrize('case,kind,precision', PARAMS)
def test_vector_jacobian_product_matches_torch(case, kind, precision, device):
    """autograd.grad with a (complex, for a complex result) output gradient: the gradients of
    every operand, their dtypes and shapes are PyTorch's."""
    fn, arrays = _inputs(case, kind, precision)
    results = {}
    for lib in (torch, nbgrad):
        leaves = _leaves(lib, arrays, device)
        out = fn(lib, *leaves)
        v = _array(np.random.default_rng(1), tuple(out.shape), _to_numpy(out).dtype)
        v = torch.tensor(v) if lib is torch else nbgrad.tensor(v, device=device)
        results[lib] = out, lib.autograd.grad(out, leaves, v)
    (t_out, t_grads), (n_out, n_grads) = results[torch], results[nbgrad]
    _assert_close(n_out, t_out, precision, f'{case}: forward')
    for i, (n, t) in enumerate(zip(n_grads, t_grads)):
        _assert_close(n, t, precision, f'{case}: gradient of operand {i}')


@pytest.mark.parametrize('case,kind,precision', PARAMS)
def test_backward_of_a_real_loss_matches_torch(case, kind, precision):
    """.backward() of a real loss (|out| summed) fills each leaf's .grad as PyTorch does."""
    fn, arrays = _inputs(case, kind, precision, seed=2)
    grads = {}
    for lib in (torch, nbgrad):
        leaves = _leaves(lib, arrays, 'cpu')
        fn(lib, *leaves).abs().sum().backward()
        grads[lib] = [t.grad for t in leaves]
    for i, (n, t) in enumerate(zip(grads[nbgrad], grads[torch])):
        _assert_close(n, t, precision, f'{case}: .grad of operand {i}')


# ---------------------------------------------------------------------------------------------
# Double backward (create_graph) through complex products
# ---------------------------------------------------------------------------------------------

DOUBLE_BACKWARD = {
    'matmul_2d': (lambda lib, a, b: a @ b, [(3, 4), (4, 5)]),
    'matmul_broadcast_batch': (lambda lib, a, b: a @ b, [(2, 1, 3, 4), (5, 4, 2)]),
    'matmul_vector_by_batch': (lambda lib, a, b: a @ b, [(4,), (2, 4, 3)]),
    'dot': (lambda lib, a, b: lib.dot(a, b), [(5,), (5,)]),
    'einsum': (lambda lib, a, b: lib.einsum('bij,jk->bik', a, b), [(2, 3, 4), (4, 5)]),
    'linear_bias': (lambda lib, x, w, b: _functional(lib).linear(x, w, b),
                    [(2, 3, 4), (5, 4), (5,)]),
}


@pytest.mark.parametrize('precision', ['single', 'double'])
@pytest.mark.parametrize('case', DOUBLE_BACKWARD)
def test_double_backward_matches_torch(case, precision, device):
    """Gradients computed with create_graph=True are differentiable again: a real function of
    them differentiated with respect to the operands and to the output gradient."""
    fn, shapes = DOUBLE_BACKWARD[case]
    rng = np.random.default_rng(3)
    arrays = [_array(rng, shape, COMPLEX[precision]) for shape in shapes]
    results = {}
    for lib in (torch, nbgrad):
        leaves = _leaves(lib, arrays, device)
        out = fn(lib, *leaves)
        v_array = _array(np.random.default_rng(4), tuple(out.shape), COMPLEX[precision])
        v = _leaves(lib, [v_array], device)[0]
        grads = lib.autograd.grad(out, leaves, v, create_graph=True)
        loss = sum((g.abs() ** 2).sum() + (g * (1 + 2j)).real.sum() for g in grads)
        results[lib] = grads, lib.autograd.grad(loss, leaves + [v], allow_unused=True)
    for stage in (0, 1):
        for i, (n, t) in enumerate(zip(results[nbgrad][stage], results[torch][stage])):
            if t is None:   # (a bias: its gradient does not depend on anything)
                assert n is None, f'{case}: input {i} has a second gradient, torch\'s has none'
                continue
            _assert_close(n, t, precision, f'{case}: {("first", "second")[stage]} gradient, '
                                           f'input {i}')


@pytest.mark.parametrize('requiring', [(0,), (1,), (2,), (3,), ()])
def test_complex_bilinear_differentiates_only_its_bias_as_in_torch(requiring):
    """PyTorch's bilinear kernel has no complex derivative: it refuses where input1, input2 or
    the weight requires grad, and differentiates a bias alone."""
    rng = np.random.default_rng(6)
    arrays = [_array(rng, shape, 'complex64') for shape in ((3, 2), (3, 4), (5, 2, 4), (5,))]
    outcome = {}
    for lib in (torch, nbgrad):
        make = torch.tensor if lib is torch else nbgrad.tensor
        tensors = [make(a, requires_grad=i in requiring) for i, a in enumerate(arrays)]
        try:
            out = _functional(lib).bilinear(*tensors)
        except RuntimeError as error:
            outcome[lib] = str(error)
            continue
        if requiring:
            out.abs().sum().backward()
            outcome[lib] = tensors[3].grad
        else:
            outcome[lib] = out
    if isinstance(outcome[torch], str):
        assert outcome[nbgrad] == outcome[torch]
    else:
        _assert_close(outcome[nbgrad], outcome[torch], 'single', 'bilinear')
    with torch.no_grad(), nbgrad.no_grad():   # nothing to record: both compute it
        tensors = [nbgrad.tensor(a, requires_grad=True) for a in arrays]
        expected = _functional(torch).bilinear(*[torch.tensor(a) for a in arrays])
        _assert_close(_functional(nbgrad).bilinear(*tensors), expected, 'single', 'bilinear')


def test_bilinear_of_mixed_dtypes_is_torchs_error():
    rng = np.random.default_rng(7)
    arrays = [_array(rng, (3, 2), 'complex64'), _array(rng, (3, 4), 'float32'),
              _array(rng, (5, 2, 4), 'complex64')]
    messages = []
    for lib in (torch, nbgrad):
        with pytest.raises(RuntimeError) as error:
            _functional(lib).bilinear(*[(torch.tensor if lib is torch else nbgrad.tensor)(a)
                                        for a in arrays])
        messages.append(str(error.value))
    assert messages[0] == messages[1]
