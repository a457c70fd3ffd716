"""Differences from PyTorch that porting sweeps found (scripts that ran the same PyTorch code
under both libraries), each fixed and checked here against PyTorch itself."""
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import nbgrad
from torch_compare import assert_same, both


def _half_big_and_small(lib):
    return (lib.tensor([[300., 200., 1000.]], dtype=lib.float16),
            lib.tensor([[1., 2., 3.]], dtype=lib.float16))


@pytest.mark.parametrize('call', [
    lambda lib, a, b: a.norm(),
    lambda lib, a, b: lib.linalg.vector_norm(a, 3),
    lambda lib, a, b: lib.linalg.vector_norm(a, 2.5, dim=1),
    lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b),
    lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b),
    lambda lib, a, b: lib.nn.functional.normalize(a, dim=1),
    lambda lib, a, b: lib.nn.functional.triplet_margin_loss(a, b, 0 * a),
], ids=['norm', 'ord 3', 'ord 2.5', 'pairwise_distance', 'cosine_similarity', 'normalize',
        'triplet_margin_loss'])
def test_half_norms_sum_their_powers_in_float(call):
    """1000^2 overflows float16: PyTorch sums a half tensor's powers in float."""
    both(lambda lib: call(lib, *_half_big_and_small(lib)), check=lambda g, e: assert_same(
        g, e, bitwise=True))


@pytest.mark.parametrize('approximate', ['tanh', 'none'])
def test_half_gelu_gradient_is_computed_in_float(approximate):
    """x * x overflows float16 at |x| = 256: PyTorch's half GELU backward computes in float."""
    def run(lib):
        x = lib.tensor([50., 300., 1000., -1000., -3.5, 0.7, 2.1], dtype=lib.float16,
                       requires_grad=True)
        lib.nn.functional.gelu(x, approximate=approximate).sum().backward()
        return x.grad
    both(run, check=lambda g, e: assert_same(g, e, bitwise=True))


def test_ctc_loss_refuses_a_second_derivative_instead_of_returning_zeros():
    """PyTorch has no derivative of ctc_loss's gradient: differentiating it raises there, where
    a constant gradient gave nbgrad silently zero Hessians."""
    def run(lib):
        lib.manual_seed(0)
        log_probs = lib.randn(4, 1, 3, dtype=lib.float64).log_softmax(2).requires_grad_()
        loss = lib.nn.functional.ctc_loss(log_probs, lib.tensor([[1]]), [4], [1])
        gradient, = lib.autograd.grad(loss, log_probs, create_graph=True)
        assert gradient.requires_grad
        lib.autograd.grad(gradient.sum(), log_probs)
    with pytest.raises(RuntimeError, match='derivative for aten::_ctc_loss_backward is not '
                                           'implemented'):
        run(torch)
    with pytest.raises(RuntimeError, match='derivative for aten::_ctc_loss_backward is not '
                                           'implemented'):
        run(nbgrad)


def test_std_gradient_is_zero_where_the_std_is_zero():
    def run(lib):
        x = lib.tensor([[1., 1.], [1., 3.]], dtype=lib.float64, requires_grad=True)
        x.std(1).sum().backward()
        y = lib.tensor([2., 2., 2.], dtype=lib.float64, requires_grad=True)
        std, mean = lib.std_mean(y, correction=0)
        (std * 2 + mean).backward()
        z = lib.tensor([2., 2.], dtype=lib.float64, requires_grad=True)
        first, = lib.autograd.grad(z.std(), z, create_graph=True)
        return x.grad, y.grad, first
    both(run)


@pytest.mark.parametrize('index', [
    lambda lib: [[0, 2], [1, 1]], lambda lib: [lib.tensor(1), lib.tensor(2)],
    lambda lib: [[True, False, True, False]], lambda lib: [0, slice(None)],
    lambda lib: [None, 1], lambda lib: [Ellipsis, 1], lambda lib: [0, 2]],
    ids=['lists', 'tensors', 'mask', 'slice', 'None', 'Ellipsis', 'ints stay an index list'])
def test_a_list_holding_sequences_indexes_as_a_tuple(index):
    """x[[a, b]] is x[a, b] when an element is a sequence, tensor, slice, None or ..., with
    PyTorch's deprecation warning; a list of ints stays an advanced index."""
    def run(lib):
        x = lib.arange(12.).reshape(4, 3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            got = x[index(lib)]
            x[index(lib)] = -1.0
        deprecated = [w for w in caught if 'non-tuple sequence' in str(w.message)]
        return got, x, len(deprecated)
    both(run)


@pytest.mark.parametrize('op', [
    lambda h: h * 0.1, lambda h: 0.1 * h, lambda h: h / 0.3, lambda h: 0.3 / h,
    lambda h: h // 0.1, lambda h: h * -1.2345678, lambda h: h + 0.5000001, lambda h: h - 0.1001,
    lambda h: h % 0.1001, lambda h: h ** 1.0001],
    ids=['mul', 'rmul', 'div', 'rdiv', 'floor_divide', 'mul2', 'add', 'sub', 'remainder', 'pow'])
def test_half_arithmetic_with_a_python_float_rounds_as_pytorch(op):
    """PyTorch's CPU mul, div and floor_divide read a Python float in float and round a half
    result once (h * 0.1 differed in a third of the elements); add, sub and the others round
    the scalar to half first, as NumPy does."""
    values = (np.random.default_rng(1).standard_normal(3000) * 4).astype(np.float16)
    both(lambda lib: op(lib.tensor(np.abs(values) + np.float16(0.5))),
         check=lambda g, e: assert_same(g, e, bitwise=True))


def test_data_of_a_tensor_that_requires_grad_must_stay_floating_point():
    def run(lib, value):
        p = lib.nn.Parameter(lib.ones(2))
        p.data = value(lib)
        return p
    for value in (lambda lib: lib.arange(2), lambda lib: lib.ones(3, dtype=lib.float64)):
        both(lambda lib: run(lib, value))
    both(lambda lib: lib.nn.utils.vector_to_parameters(lib.arange(2),
                                                       [lib.nn.Parameter(lib.ones(2))]))


@pytest.mark.parametrize('call', [
    lambda lib: lib.full((2,), 1e6, dtype=lib.float16),
    lambda lib: lib.empty(2, dtype=lib.float16).fill_(65519.),
    lambda lib: lib.empty(2, dtype=lib.float16).fill_(float('inf')),
    lambda lib: lib.full((2,), 1e40, dtype=lib.float32),
    lambda lib: lib.empty(2, dtype=lib.int64).fill_(float('nan')),
    lambda lib: lib.empty(2, dtype=lib.int32).fill_(3e9),
    lambda lib: lib.zeros(2, dtype=lib.uint8).fill_(-1.5),
    lambda lib: lib.zeros(2, dtype=lib.uint8).fill_(2.5),
    lambda lib: lib.nn.init.constant_(lib.empty(2, dtype=lib.float16), 1e6),
    lambda lib: lib.zeros(2, dtype=lib.float16).masked_fill(lib.tensor([True, False]), 1e5),
    lambda lib: lib.zeros(2, dtype=lib.float16).index_fill(0, lib.tensor([0]), 1e5),
    lambda lib: lib.zeros(2, dtype=lib.float16).scatter(0, lib.tensor([0]), 1e5),
    lambda lib: lib.zeros(2, dtype=lib.int64).masked_fill(lib.tensor([True, False]), float('nan')),
    lambda lib: lib.where(lib.tensor([True]), lib.zeros(1, dtype=lib.float16), 1e5),
    lambda lib: lib.tensor([1e5], dtype=lib.float16),
], ids=['full half', 'fill_ half 65519', 'fill_ half inf', 'full float 1e40', 'fill_ int nan',
        'fill_ int32 3e9', 'fill_ uint8 -1.5', 'fill_ uint8 2.5', 'constant_ half',
        'masked_fill half', 'index_fill half', 'scatter half', 'masked_fill int nan',
        'where half (no check)', 'tensor half (no check)'])
def test_float_values_that_overflow_the_element_type_are_refused_as_pytorch(call):
    """c10's checked conversion of a fill value: out of the target's range (or NaN into an
    integer type) is PyTorch's RuntimeError, where NumPy gave inf or garbage."""
    both(call)


def test_packing_an_empty_batch_is_refused():
    for lengths, shape in (([], (3, 0, 2)), ([0, 0], (0, 2, 2))):
        both(lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(shape), lengths))


def test_where_with_a_python_bool_condition_is_a_type_error():
    with pytest.raises(TypeError):
        torch.where(True, torch.ones(2), 2.0)
    with pytest.raises(TypeError, match='bool tensor'):
        nbgrad.where(True, nbgrad.ones(2), 2.0)


@pytest.mark.parametrize('call', [
    lambda lib: lib.randn(3, 7, dtype=lib.complex64),
    lambda lib: lib.rand(3, 7, dtype=lib.complex128),
    lambda lib: lib.empty(5, dtype=lib.complex128).normal_(1, 2),
    lambda lib: lib.empty(5, dtype=lib.complex64).uniform_(-1, 2),
    lambda lib: lib.randn_like(lib.zeros(20, dtype=lib.complex64)),
    lambda lib: lib.normal(0., 2., (20,), dtype=lib.complex64),
    lambda lib: lib.empty(4, 6, dtype=lib.complex64).t().normal_(),
], ids=['randn', 'rand', 'normal_', 'uniform_', 'randn_like', 'normal', 'strided normal_'])
def test_complex_random_samples_are_pytorchs(call):
    """PyTorch samples a complex tensor as its real view, normal parts with std / sqrt(2)."""
    def run(lib):
        lib.manual_seed(0)
        return call(lib)
    both(run, check=lambda g, e: assert_same(g, e, bitwise=True))


@pytest.mark.parametrize('call', [
    lambda lib, u, i8: u < -3, lambda lib, u, i8: u == -1 + 0 * 256, lambda lib, u, i8: i8 > 200,
    lambda lib, u, i8: u >= 300, lambda lib, u, i8: u.lt(-3), lambda lib, u, i8: lib.eq(u, 257),
    lambda lib, u, i8: i8 <= -129, lambda lib, u, i8: -3 > u, lambda lib, u, i8: u.clone().lt_(-3),
    lambda lib, u, i8: lib.tensor([1], dtype=lib.int32) < 2 ** 40,
    lambda lib, u, i8: lib.clamp(u, min=300), lambda lib, u, i8: lib.clamp(i8, min=-200),
    lambda lib, u, i8: lib.clamp(u, min=-1), lambda lib, u, i8: lib.clamp(u, max=2.5),
    lambda lib, u, i8: lib.clamp(lib.tensor([1., 2.], dtype=lib.float16), max=1e6),
    lambda lib, u, i8: lib.add(u, u, alpha=300), lambda lib, u, i8: u + 300,
], ids=['lt', 'eq', 'gt int8', 'ge', 'lt method', 'eq fn', 'le int8', 'reflected', 'lt_',
        'int32 vs 2**40', 'clamp min 300', 'clamp int8 -200', 'clamp min -1', 'clamp float max',
        'clamp half 1e6', 'add alpha 300', 'add 300'])
def test_out_of_range_int_scalars_wrap_or_raise_as_pytorch(call):
    """PyTorch wraps an out-of-range Python int into a narrow integer operand's type for
    comparisons and arithmetic (uint8 < -3 compares with 253; NumPy compares the true values),
    and refuses one as a clamp bound or alpha (c10's checked conversion)."""
    both(lambda lib: call(lib, lib.tensor([1, 250], dtype=lib.uint8),
                          lib.tensor([1, -2], dtype=lib.int8)))


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
@pytest.mark.parametrize('loss', [
    lambda F, lib, x, y, r: F.mse_loss(x, y, reduction=r),
    lambda F, lib, x, y, r: F.mse_loss(x, y, reduction=r, weight=lib.ones(3)),
    lambda F, lib, x, y, r: F.l1_loss(x, y, reduction=r),
    lambda F, lib, x, y, r: F.smooth_l1_loss(x, y, reduction=r),
    lambda F, lib, x, y, r: F.huber_loss(x, y, reduction=r),
    lambda F, lib, x, y, r: F.soft_margin_loss(x, y, reduction=r),
    lambda F, lib, x, y, r: F.binary_cross_entropy(x.sigmoid(), y, reduction=r),
    lambda F, lib, x, y, r: F.binary_cross_entropy_with_logits(x, y, reduction=r),
    lambda F, lib, x, y, r: F.multi_margin_loss(x[None], lib.tensor([1]), reduction=r),
    lambda F, lib, x, y, r: F.multilabel_margin_loss(x[None], lib.tensor([[1, -1, 0]]),
                                                     reduction=r),
    lambda F, lib, x, y, r: F.margin_ranking_loss(x, y, y * 2 - 1, reduction=r),
    lambda F, lib, x, y, r: F.triplet_margin_loss(x[None], y[None], y[None] * 0, reduction=r),
    lambda F, lib, x, y, r: x.clamp_min(0), lambda F, lib, x, y, r: x.clamp_max(lib.zeros(3)),
], ids=['mse', 'mse weighted', 'l1', 'smooth_l1', 'huber', 'soft_margin', 'bce',
        'bce_with_logits', 'multi_margin', 'multilabel_margin', 'margin_ranking', 'triplet',
        'clamp_min', 'clamp_max tensor'])
def test_loss_nodes_are_named_as_pytorchs(loss, reduction):
    """print(loss) shows grad_fn=<MseLossBackward0>: the composite losses' last node takes the
    name of PyTorch's single node."""
    names = []
    for lib in (torch, nbgrad):
        x = lib.tensor([0.3, -0.2, 0.9], requires_grad=True)
        names.append(loss(lib.nn.functional, lib, x, lib.tensor([0., 1., 1.]),
                          reduction).grad_fn.name())
    assert names[1] == names[0]


@pytest.mark.parametrize('convert', ['float', 'complex', 'int'])
def test_converting_a_tensor_that_requires_grad_warns_as_pytorch(convert):
    """float() and complex() of a tensor that requires grad warn in PyTorch with grad mode on;
    int(), item() and conversions under no_grad (LBFGS's float(loss)) do not. (PyTorch warns
    once a process: its side runs in a fresh interpreter.)"""
    code = (f'import warnings, {{lib}}\nwarnings.simplefilter("always")\n'
            f'with {{lib}}.no_grad():\n'
            f'    {convert}({{lib}}.tensor([1.5], requires_grad=True).sum())\n'
            f'{convert}({{lib}}.tensor([1.5], requires_grad=True).sum())\n'
            f'{{lib}}.tensor([1.5], requires_grad=True).sum().item()\n')
    expected = subprocess.run([sys.executable, '-c', code.format(lib='torch')],
                              capture_output=True, text=True, check=True).stderr
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        exec(code.format(lib='nbgrad'), {})
    got = [str(w.message) for w in caught]
    assert len(got) == expected.count('UserWarning: Converting a tensor with requires_grad')
    assert all(message in expected for message in got)


def test_bool_of_an_empty_tensor_says_it_has_no_values():
    for lib in (torch, nbgrad):
        with pytest.raises(RuntimeError, match='Boolean value of Tensor with no values is '
                                               'ambiguous'):
            bool(lib.tensor([]))


@pytest.mark.parametrize('call', [
    lambda lib, a, s: lib.select_scatter(a, s[0], 0, -1),
    lambda lib, a, s: lib.select_scatter(a, s[:, 0], 1, 2),
    lambda lib, a, s: a.select_scatter(s[:, 1], 1, 0),
    lambda lib, a, s: lib.slice_scatter(a, s[:, :2], 1, 1, None, 2),
    lambda lib, a, s: lib.slice_scatter(a, s[:1], 0, -1),
    lambda lib, a, s: a.slice_scatter(s, 0),
    lambda lib, a, s: lib.diagonal_scatter(a, s[0, :3], 0),
    lambda lib, a, s: lib.diagonal_scatter(a, s[0, :2], 1, 1, 0),
    lambda lib, a, s: lib.select_scatter(a, s[0, :3], 0, 0),
    lambda lib, a, s: lib.slice_scatter(a, s, 1, 0, 2),
], ids=['select', 'select dim 1', 'method', 'slice step', 'slice negative start',
        'slice all', 'diagonal', 'diagonal offset', 'select wrong size', 'slice wrong size'])
def test_view_scatters_and_their_gradients_match_pytorch(call):
    def run(lib):
        a = lib.tensor(np.arange(12.).reshape(3, 4), requires_grad=True)
        s = lib.tensor(np.arange(12.).reshape(3, 4) + 100, requires_grad=True)
        out = call(lib, a * 1, s * 1)
        (out * lib.tensor(np.linspace(-1, 2, 12).reshape(3, 4))).sum().backward()
        return out, a.grad, s.grad, out.grad_fn.name()
    both(run)


@pytest.mark.parametrize('call', [
    lambda lib: lib.nonzero_static(lib.tensor([[0, 1], [2, 0]]), size=4),
    lambda lib: lib.nonzero_static(lib.tensor([[0, 1], [2, 0]]), size=1, fill_value=7),
    lambda lib: lib.tensor([0., 3., 0., 4.]).nonzero_static(size=3, fill_value=-5),
    lambda lib: lib.nonzero_static(lib.tensor([1, 2]), size=-1),
    lambda lib: lib.empty_permuted((2, 3, 4), (0, 2, 1)).stride(),
    lambda lib: lib.empty_permuted((2, 3, 4, 5), (0, 2, 3, 1), dtype=lib.float64).stride(),
    lambda lib: lib.empty_permuted((2, 3), (0,)),
    lambda lib: lib.empty_permuted((2, 3), (1, 1)),
    lambda lib: lib.tensor([-1., 0.3, 2., -0.5]).hardshrink(0.4),
    lambda lib: lib.tensor([[-1., 2.], [3., -4.]]).prelu(lib.tensor([0.25, 0.5])),
], ids=['nonzero_static pad', 'cut', 'method', 'negative size', 'empty_permuted',
        'empty_permuted 4-d', 'wrong length', 'duplicate', 'Tensor.hardshrink', 'Tensor.prelu'])
def test_small_functions_added_from_the_missing_list(call):
    both(call)


@pytest.mark.parametrize('upper', [True, False])
@pytest.mark.parametrize('transpose', [False, True])
@pytest.mark.parametrize('unitriangular', [False, True])
def test_deprecated_triangular_solve_and_chain_matmul_match_pytorch(upper, transpose,
                                                                    unitriangular):
    def run(lib):
        rng = np.random.default_rng(0)
        A = lib.tensor(rng.standard_normal((2, 3, 3)) + 3 * np.eye(3), requires_grad=True)
        B = lib.tensor(rng.standard_normal((2, 3, 2)), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            solution, copy = lib.triangular_solve(B, A, upper, transpose, unitriangular)
            chained = lib.chain_matmul(A[0], A[1], B[0])
        (solution.sum() + chained.sum()).backward()
        return solution, copy, chained, A.grad, B.grad
    both(run, check=lambda g, e: assert_same(g, e, rtol=1e-10, atol=1e-12))


@pytest.mark.parametrize('call', [
    lambda lib: (lambda o: (lib.stack([lib.ones(2), lib.zeros(2)], out=o) is o, o))(
        lib.empty(2, 2)),
    lambda lib: (lambda o: (lib.stack([lib.ones(2), lib.zeros(2)], 1, out=o) is o, o))(
        lib.empty(2, 2)),
    lambda lib: lib.index_select(lib.tensor(5.), 0, lib.tensor([0])),
    lambda lib: lib.argmax(lib.zeros(0, 3), 1),
    lambda lib: lib.argmin(lib.zeros(2, 0, 3), 2, keepdim=True),
    lambda lib: lib.argmax(lib.zeros(0, 3), 0),
    lambda lib: lib.argmax(lib.zeros(0, 3)),
    lambda lib: lib.tensor(2.)[0],
], ids=['stack out', 'stack dim 1 out', 'index_select 0-d', 'argmax empty rows',
        'argmin keepdim', 'argmax empty dim', 'argmax all empty', '0-d index'])
def test_out_identity_empty_reductions_and_0d_indexing(call):
    """stack(out=o) wrote nothing into o (its own out= parameter was unused): now it fills and
    returns o as PyTorch's; argmax over a non-empty dim of an empty tensor is an empty result."""
    both(call, check=lambda g, e: assert_same(g, e, bitwise=True))


NAN = float('nan')


@pytest.mark.parametrize('call', [
    lambda lib: lib.linalg.cholesky(lib.tensor([[4., 100.], [2., 5.]]), upper=True),
    lambda lib: lib.linalg.cholesky(lib.tensor([[4., 1.], [100., 5.]]), upper=True),
    lambda lib: lib.cholesky(lib.tensor([[4., 1.5], [1.2, 5.]]), upper=True),
    lambda lib: lib.cholesky_solve(lib.tensor([[1.], [2.]]),
                                   lib.linalg.cholesky(lib.tensor([[4., 2.], [2., 3.]]),
                                                       upper=True), upper=True),
    lambda lib: lib.cholesky_solve(
        lib.tensor([[1.], [2j]]), lib.linalg.cholesky(lib.tensor([[4, 1 + 1j], [1 - 1j, 3]]))),
    lambda lib: lib.cholesky_solve(
        lib.tensor([[1.], [2j]]), lib.linalg.cholesky(lib.tensor([[4, 1 + 1j], [1 - 1j, 3]]),
                                                      upper=True), upper=True),
    lambda lib: lib.linalg.det(lib.tensor([[[NAN, 1.], [1., 1.]], [[2., 0.], [0., 2.]]])),
    lambda lib: lib.linalg.slogdet(lib.tensor([[[NAN, 1.], [1., 1.]], [[2., 0.], [0., 2.]]])),
    lambda lib: lib.linalg.inv(lib.tensor([[[NAN, 1.], [1., 1.]], [[2., 0.], [0., 2.]]])),
    lambda lib: lib.linalg.inv_ex(lib.tensor([[NAN, 1.], [1., 1.]])),
    lambda lib: lib.linalg.solve(lib.tensor([[NAN, 1.], [1., 1.]]), lib.ones(2)),
    lambda lib: lib.linalg.cholesky(lib.tensor([[1., NAN], [NAN, 1.]])),
    lambda lib: lib.linalg.cholesky_ex(lib.tensor([[[NAN, 1.], [1., 1.]],
                                                   [[2., 0.], [0., 2.]]])).info,
], ids=['cholesky upper reads the upper triangle', 'upper, the other way', 'torch.cholesky',
        'cholesky_solve upper', 'cholesky_solve complex', 'cholesky_solve complex upper',
        'det nan', 'slogdet nan', 'inv nan', 'inv_ex nan', 'solve nan', 'cholesky nan',
        'cholesky_ex nan info'])
def test_cholesky_triangles_and_nan_matrices_as_pytorch(call):
    """cholesky(upper=True) read the lower triangle and cholesky_solve(upper=True) solved the
    transposed system; a matrix holding NaN gave det 0 and raised from inv and solve."""
    both(call, check=lambda g, e: assert_same(g, e, rtol=1e-5, atol=1e-6))


def test_matrix_power_one_is_a_copy_and_power_zero_keeps_the_graph():
    def run(lib):
        a = lib.ones(2, 2)
        lib.linalg.matrix_power(a, 1).add_(1)
        x = lib.eye(2, requires_grad=True)
        gradient, = lib.autograd.grad(lib.linalg.matrix_power(x, 0).sum(), x)
        return a, gradient
    both(run)


@pytest.mark.parametrize('call', [
    lambda lib, z: lib.erf(z), lambda lib, z: lib.erfc(z), lambda lib, z: lib.erfinv(z),
    lambda lib, z: lib.lgamma(z), lambda lib, z: lib.digamma(z), lambda lib, z: lib.i0(z),
    lambda lib, z: lib.logit(z), lambda lib, z: lib.special.gammaln(z),
    lambda lib, z: lib.xlogy(z, z), lambda lib, z: lib.xlogy(2, z),
    lambda lib, z: lib.polygamma(1, z), lambda lib, z: lib.polygamma(3, z),
    lambda lib, z: lib.polygamma(1.0, z.real), lambda lib, z: lib.sinc(z),
], ids=['erf', 'erfc', 'erfinv', 'lgamma', 'digamma', 'i0', 'logit', 'gammaln', 'xlogy',
        'xlogy scalar', 'trigamma', 'polygamma', 'float n', 'sinc computes'])
def test_special_functions_refuse_complex_input_as_pytorch(call):
    """NumPy's special functions dropped the imaginary part of complex input (erf(1+1j) gave
    erf(1)); PyTorch has no complex kernel for them and says so."""
    both(lambda lib: call(lib, lib.tensor([0.3 + 0.1j, 1 + 1j])), quiet=True)


def test_sinc_gradient_is_zero_where_pi_x_squared_underflows():
    def run(lib):
        grads = []
        for dtype, tiny in ((lib.float64, 1e-200), (lib.float32, 1e-30)):
            x = lib.tensor([tiny, 0., 0.3, -2.5, 1e-5], dtype=dtype, requires_grad=True)
            grads.append(lib.autograd.grad(lib.special.sinc(x).sum(), x)[0])
        return grads
    both(run)


@pytest.mark.parametrize('call', [
    lambda lib, A: lib.linalg.pinv(A, rcond=0.1), lambda lib, A: lib.linalg.pinv(A, 0.1),
    lambda lib, A: lib.linalg.pinv(A, 1e-9, True), lambda lib, A: lib.pinverse(A, 0.1),
    lambda lib, A: lib.linalg.matrix_rank(A, tol=0.5),
    lambda lib, A: lib.linalg.matrix_rank(A, 0.5),
    lambda lib, A: lib.linalg.matrix_rank(A, 1e-9, True),
], ids=['pinv rcond=', 'pinv rcond', 'pinv rcond hermitian', 'pinverse', 'matrix_rank tol=',
        'matrix_rank tol', 'matrix_rank tol hermitian'])
def test_older_tolerance_overloads_of_pinv_and_matrix_rank(call):
    """pinv(A, rcond) is rtol with atol 0; matrix_rank(A, tol) is atol with rtol 0."""
    both(lambda lib: call(lib, lib.tensor([[1., 2.], [2., 4.0001]], dtype=lib.float64)))


def test_lstsq_gels_ignores_rcond():
    """LAPACK's gels assumes full rank and takes no rcond; nbgrad cut the small singular value."""
    def run(lib):
        A = lib.tensor([[1., 2, 3], [2, 4, 6], [1, 0, 1], [0, 1, 1], [3, 3, 3]])
        B = lib.tensor([[1.], [0], [2], [1], [0]])
        result = lib.linalg.lstsq(A, B, rcond=0.1, driver='gels')
        return result.solution, result.residuals
    both(run, check=lambda g, e: assert_same(g, e, rtol=1e-4, atol=1e-5))


def test_batchnorm_and_instancenorm_module_paths_for_isinstance_checks():
    """Code that freezes batch norm finds its layers with
    isinstance(m, torch.nn.modules.batchnorm._BatchNorm)."""
    def run(lib):
        layers = [lib.nn.Conv2d(1, 2, 3), lib.nn.BatchNorm2d(2), lib.nn.LazyBatchNorm1d(),
                  lib.nn.InstanceNorm2d(2), lib.nn.SyncBatchNorm(2)]
        return ([isinstance(m, lib.nn.modules.batchnorm._BatchNorm) for m in layers],
                [isinstance(m, lib.nn.modules.instancenorm._InstanceNorm) for m in layers],
                [isinstance(m, lib.nn.modules.batchnorm._NormBase) for m in layers])
    both(run, quiet=True)


@pytest.mark.parametrize('write', [
    lambda lib, x: x.__setitem__(0, lib.tensor([1, 2, 3])),
    lambda lib, x: x.__setitem__([0], lib.tensor([1, 2, 3])),
    lambda lib, x: x.__setitem__(lib.tensor([True, False]), lib.tensor([1, 2, 3])),
    lambda lib, x: x.__setitem__((0, [1]), lib.tensor([5])),
    lambda lib, x: x.index_put_((lib.tensor([0]),), lib.tensor([1, 2, 3])),
    lambda lib, x: x.__setitem__([0], lib.tensor([1., 2, 3], dtype=lib.float64)),
    lambda lib, x: x.__setitem__([0], 5),
    lambda lib, x: x.__setitem__(slice(0, 1), lib.tensor([[1, 2, 3]])),
    lambda lib, x: x.__setitem__(lib.tensor([True, False]), lib.tensor(2)),
    lambda lib, x: x.__setitem__([0], lib.tensor(2)),
], ids=['basic index casts', 'list index', 'mask', 'int and list', 'index_put_', 'double source',
        'python number', 'slice casts', 'mask with 0-d (masked_fill)', 'list with 0-d'])
def test_index_put_wants_the_destinations_dtype_as_pytorch(write):
    """An advanced-index write takes only a source of the destination's dtype in PyTorch (a
    basic index copies into a view, which casts)."""
    def run(lib):
        x = lib.zeros(2, 3)
        write(lib, x)
        return x
    both(run)


@pytest.mark.parametrize('call', [
    lambda lib: lib.ones(3) * np.array(2.0), lambda lib: lib.ones(3) * np.float64(2.0),
    lambda lib: lib.ones(3) * np.ones(3), lambda lib: lib.ones(3) + np.array(2, dtype=np.int64),
    lambda lib: lib.ones(3) * np.array([2.0], dtype=np.float32),
    lambda lib: lib.ones(3, dtype=lib.int64) * np.array(2.5),
    lambda lib: lib.ones(3, dtype=lib.uint8) + np.array([2], dtype=np.int8),
    lambda lib: lib.ones(3, dtype=lib.float16) * np.array([2.0], dtype=np.float32),
], ids=['0-d float64 array', 'numpy scalar stays weak', 'float64 array', '0-d int64 array',
        'float32 array', 'int tensor, 0-d float', 'uint8 and int8', 'half and float32'])
def test_a_tensor_operator_with_a_numpy_array_promotes_as_numpy(call):
    """PyTorch's operators decline NumPy arrays, so NumPy computes `tensor * array` with its own
    promotion (a 0-d array counts as an array) and hands back a Tensor."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')     # (PyTorch's __array_wrap__ deprecation)
        both(call, check=lambda g, e: assert_same(g, e, bitwise=True))
