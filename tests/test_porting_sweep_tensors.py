"""Tensor-library differences from PyTorch that a porting sweep found (the same PyTorch code run
under both libraries), each fixed and checked here against PyTorch itself: result layouts,
legacy constructors, operators with sequences, as_strided's checks, size= keywords."""
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same, assert_same_error, both

torch = pytest.importorskip('torch')


def _inputs(lib):
    a = lib.arange(12.).reshape(3, 4)
    p = lib.arange(24.).reshape(2, 3, 4).permute(2, 0, 1)
    e = lib.arange(3.).expand(4, 3)
    return a, p, e


# ops whose results PyTorch allocates contiguously, whatever the inputs' layout
CONTIGUOUS_RESULTS = {
    'cat': lambda lib, a, p, e: lib.cat([a.t(), a.t()]),
    'stack': lambda lib, a, p, e: lib.stack([a.t(), a.t()]),
    'cumsum': lambda lib, a, p, e: a.t().cumsum(1),
    'cumprod': lambda lib, a, p, e: a.t().cumprod(0),
    'cummax': lambda lib, a, p, e: a.t().cummax(1).values,
    'logcumsumexp': lambda lib, a, p, e: a.t().logcumsumexp(1),
    'masked_fill': lambda lib, a, p, e: a.t().masked_fill(a.t() > 5, 0),
    'roll': lambda lib, a, p, e: a.t().roll(1, 0),
    'repeat': lambda lib, a, p, e: a.t().repeat(2, 1),
    'tril': lambda lib, a, p, e: a.t().tril(),
    'to_double_expanded': lambda lib, a, p, e: e.double(),
    'zeros_like_expanded': lambda lib, a, p, e: lib.zeros_like(e),
    'sum_dim': lambda lib, a, p, e: p.sum(1),
    'mean_dim': lambda lib, a, p, e: p.mean(1),
    'amax_dim': lambda lib, a, p, e: p.amax(1),
    'prod_dim': lambda lib, a, p, e: p.prod(1),
    'std_dim': lambda lib, a, p, e: p.std(1),
    'logsumexp_dim': lambda lib, a, p, e: p.logsumexp(1),
    'norm_dim': lambda lib, a, p, e: p.norm(dim=1),
    'all_dim': lambda lib, a, p, e: (p > 3).all(1),
    'max_dim': lambda lib, a, p, e: p.max(1).values,
    'argmax_dim': lambda lib, a, p, e: p.argmax(1),
    # (elementwise ops keep a transposed input's layout, in both)
    'sin_transposed': lambda lib, a, p, e: a.t().sin(),
}


@pytest.mark.parametrize('case', CONTIGUOUS_RESULTS)
def test_result_layouts_match_pytorch(case):
    """A transposed or expanded input must not leave its layout on these results: .view()
    after them works in PyTorch."""
    def run(lib):
        y = CONTIGUOUS_RESULTS[case](lib, *_inputs(lib))
        flat = y.view(-1) if y.is_contiguous() else None
        return y, y.stride(), y.is_contiguous(), flat
    both(run)


LEGACY = {
    'size_object': lambda lib: lib.Tensor(lib.zeros(3, 4).size()).shape,
    'float_tensor_size': lambda lib: lib.FloatTensor(lib.Size([2, 3])).shape,
    'no_arguments': lambda lib: lib.Tensor(),
    'long_no_arguments': lambda lib: lib.LongTensor(),
    'ints': lambda lib: lib.Tensor(2, 3).shape,
    'data': lambda lib: lib.Tensor((2, 3)),
}


@pytest.mark.parametrize('case', LEGACY)
def test_legacy_constructors_read_a_size_object_as_a_size(case):
    both(LEGACY[case])


def test_operators_decline_python_sequences():
    """t == [1, 2] is False (Python's fallback), as in PyTorch; t + [1, 2] a TypeError."""
    both(lambda lib: (lib.tensor([1, 2]) == [1, 2], lib.tensor([1, 2]) != [1, 2],
                      lib.tensor([1]) == (1,)))
    for op in (lambda t: t + [1, 2], lambda t: t < [1, 2], lambda t: [1, 2] - t):
        assert_same_error(lambda lib: op(lib.tensor([1, 2])))


@pytest.mark.parametrize('args', [((2,), (1,), -1), ((3,), (-1,), 0)], ids=['offset', 'stride'])
def test_as_strided_refuses_negative_offsets_and_strides(args):
    """(nbgrad read memory outside the tensor's storage.)"""
    assert_same_error(lambda lib: lib.arange(4.).as_strided(*args))


def test_factories_take_size_and_end_keywords():
    both(lambda lib: (lib.zeros(size=(2, 3)), lib.ones(size=[2]), lib.empty(size=(1, 2)).shape,
                      lib.arange(end=3)))

    def seeded(lib):
        lib.manual_seed(0)
        return lib.rand(size=(2,)), lib.randn(size=(3,))
    both(seeded)
    assert_same_error(lambda lib: lib.zeros(2, size=(2,)))


VALUES = {
    'diag_embed_dims': lambda lib: lib.diag_embed(lib.tensor([[1, 2]]), dim1=0, dim2=2),
    'diag_embed_offset_dims': lambda lib: lib.diag_embed(lib.tensor([[1, 2], [3, 4]]), offset=1,
                                                         dim1=0, dim2=2),
    'diag_embed_reversed': lambda lib: lib.diag_embed(lib.arange(6.).reshape(2, 3), dim1=2,
                                                      dim2=0),
    'logspace_overflow': lambda lib: (lib.logspace(0, 400, 3),
                                      lib.logspace(0, 401, 3, base=-2.0, dtype=lib.float64)),
    # half times a 0-dim float tensor (second operand): read in float, rounded once
    'half_times_0d': lambda lib: (lib.tensor([1.5], dtype=lib.float16) * lib.tensor(1.3),
                                  lib.tensor(1.3) * lib.tensor([1.5], dtype=lib.float16),
                                  lib.tensor([1000.], dtype=lib.float16) / lib.tensor(1.3)),
    'einsum_bool_sum': lambda lib: lib.einsum('ij->j', lib.tensor([[True, False],
                                                                   [True, True]])),
    'einsum_bool_product': lambda lib: lib.einsum('ij,ij->ij', lib.tensor([[True, False]]),
                                                  lib.tensor([[True, True]])),
    'linspace_half': lambda lib: [lib.linspace(s, e, n, dtype=lib.float16)
                                  for s, e in ((0, 1), (-3, 3), (0.1, 7.7)) for n in (5, 7, 31)],
    'linspace_uint8_negative_start': lambda lib: lib.linspace(-3, 3, 4, dtype=lib.uint8),
}


@pytest.mark.parametrize('case', VALUES)
def test_values_match_pytorch(case):
    both(VALUES[case])


@pytest.mark.parametrize('call', [
    lambda lib: lib.einsum('ij,jk->ik', lib.ones(2, 2, dtype=lib.bool),
                           lib.ones(2, 2, dtype=lib.bool)),
    lambda lib: lib.diag_embed(lib.ones(2), dim1=0, dim2=0),
    lambda lib: lib.linspace(0, 250, 6, dtype=lib.int8),
])
def test_refusals_match_pytorch(call):
    assert_same_error(call)


@pytest.mark.parametrize('values', [[1e20], [1e-30, 0.], [1e20, 1e20], [3., 4.]])
def test_norms_of_one_element_do_not_overflow(values):
    """PyTorch's norm of a single element is its absolute value (no x^2 to overflow float32);
    over several elements float32's squares overflow and underflow in both."""
    both(lambda lib: (lib.tensor(values).norm(), lib.linalg.vector_norm(lib.tensor(values), 3),
                      lib.dist(lib.tensor(values), lib.zeros(len(values)))))


@pytest.mark.parametrize('call', [
    lambda lib: lib.stack([__import__('numpy').array([1, 2])]),
    lambda lib: lib.sum([1, 2]), lambda lib: lib.max([1, 2]), lambda lib: lib.mean([1., 2.]),
], ids=['stack_numpy', 'sum_list', 'max_list', 'mean_list'])
def test_non_tensor_inputs_are_type_errors(call):
    assert_same_error(call)


def test_same_padding_with_an_even_kernel_warns_once():
    """PyTorch warns once per process (so each library runs in a fresh one here)."""
    import subprocess
    import sys
    program = ("import warnings; warnings.simplefilter('always'); import {0} as t\n"
               "for _ in range(2): t.nn.Conv2d(1, 1, 2, padding='same')(t.ones(1, 1, 4, 4))\n")
    messages = []
    for name in ('torch', 'nbgrad'):
        run = subprocess.run([sys.executable, '-c', program.format(name)], capture_output=True,
                             text=True, timeout=120, cwd=__import__('os').path.dirname(
                                 __import__('os').path.dirname(__file__)))
        messages.append([line.split('Warning: ')[1][:60] for line in run.stderr.splitlines()
                         if 'Warning: ' in line])
    assert messages[1] == messages[0] and len(messages[0]) == 1, messages


LINALG = {
    'svd_no_uv_shapes': lambda lib: [tuple(t.shape) for s in ((2, 3), (3, 2), (4, 3, 2))
                                     for t in lib.svd(lib.ones(*s), compute_uv=False)],
    'cov_no_dof_sign': lambda lib: lib.cov(lib.tensor([[1., 2, 4, 7]]), correction=5,
                                           aweights=lib.tensor([0.5, 1, 2, 0.25])),
    'lu_empty': lambda lib: (lib.linalg.lu(lib.zeros(0, 0)), lib.linalg.lu(lib.zeros(3, 0)),
                             lib.linalg.lu_factor(lib.zeros(2, 0, 3))),
    'matrix_norm_empty': lambda lib: [lib.linalg.matrix_norm(lib.zeros(*s), o) for s, o in (
        ((0, 0), 1), ((3, 0), 2), ((2, 0, 3), float('inf')))],
    'complex_without_imaginary_part': lambda lib: (int(lib.tensor(1 + 0j)),
                                                   float(lib.tensor(1.5 + 0j))),
}


@pytest.mark.filterwarnings('ignore:cov')
@pytest.mark.parametrize('case', LINALG)
def test_linalg_cases(case):
    both(LINALG[case])


def test_pdist_inf_norm_gives_ties_the_whole_gradient():
    def run(lib):
        x = lib.tensor([[0., 0, 1], [2, -2, 3], [1, 5, -2]], dtype=lib.float64,
                       requires_grad=True)
        d = lib.pdist(x, p=float('inf'))
        d.sum().backward()
        return d, x.grad
    both(run)


@pytest.mark.parametrize('call', [
    lambda lib: lib.linalg.vector_norm(lib.ones(3), dtype=lib.complex64),
    lambda lib: lib.linalg.vector_norm(lib.ones(3), dtype=lib.float16),
    lambda lib: lib.linalg.matrix_norm(lib.ones(2, 2, dtype=lib.complex64), dtype=lib.float64),
    lambda lib: lib.linalg.vector_norm(lib.tensor([3, 4]), dtype=lib.float32),
    lambda lib: lib.norm(lib.ones(2, 2, 2), p='nuc'),
    lambda lib: lib.linalg.norm(lib.ones(2, 2, 2), dim=(0, 1, 2)),
    lambda lib: lib.linalg.norm(lib.ones(3), 'fro'),
    lambda lib: lib.linalg.vector_norm(lib.ones(3), 'fro'),
    lambda lib: lib.norm(lib.ones(2, 3), p='nuc', dim=1),
])
def test_norm_arguments_refused_as_pytorch(call):
    assert_same_error(call)


def test_norm_dtype_widening_is_allowed():
    both(lambda lib: (lib.linalg.vector_norm(lib.ones(3), dtype=lib.float64),
                      lib.linalg.vector_norm(lib.ones(3, dtype=lib.complex64),
                                             dtype=lib.complex128)))


COMPLEX_REFUSED = ['floor', 'ceil', 'trunc', 'frac', 'sign', 'round', 'relu', 'clamp', 'max',
                   'argmax', 'amax', 'softmax', 'fmod', 'remainder', 'floordiv', 'atan2',
                   'signbit', 'copysign', 'unique', 'cummax', 'minimum', 'median', 'nansum',
                   'abs_', 'heaviside', 'isin', 'kthvalue', 'mode', 'lt']


@pytest.mark.parametrize('op', COMPLEX_REFUSED)
def test_complex_inputs_refused_as_pytorch(op):
    calls = {'relu': lambda z, lib: lib.relu(z), 'clamp': lambda z, lib: z.clamp(0, 1),
             'softmax': lambda z, lib: z.softmax(0), 'fmod': lambda z, lib: z.fmod(2),
             'remainder': lambda z, lib: z % 2, 'floordiv': lambda z, lib: z // 2,
             'atan2': lambda z, lib: lib.atan2(z, z), 'copysign': lambda z, lib: z.copysign(z),
             'cummax': lambda z, lib: z.cummax(0), 'minimum': lambda z, lib: lib.minimum(z, z),
             'median': lambda z, lib: z.median(0), 'abs_': lambda z, lib: z.clone().abs_(),
             'heaviside': lambda z, lib: lib.heaviside(z, z), 'isin': lambda z, lib: lib.isin(z, z),
             'kthvalue': lambda z, lib: z.kthvalue(1), 'lt': lambda z, lib: z < z}
    call = calls.get(op, lambda z, lib: getattr(z, op)())
    assert_same_error(lambda lib: call(lib.tensor([1 + 2j, -3 + 0.5j]), lib))


def test_deepcopy_keeps_storage_sharing_strides_and_offsets():
    import copy

    def run(lib):
        b = lib.arange(4.)
        first, view = copy.deepcopy([b, b[1:]])
        first[1] = 9
        t = copy.deepcopy(lib.arange(6.).reshape(2, 3).t())
        row = copy.deepcopy(lib.arange(6.).reshape(2, 3)[1])
        return view, t.stride(), row.storage_offset(), copy.deepcopy(
            lib.arange(3.).expand(2, 3)).stride()
    both(run)


@pytest.mark.parametrize('case', [
    'y[0] = lib.ones(1)', 'y[0] = lib.ones(1, 1)', 'y[1:] = lib.ones(1, 1, 2) * 3',
    'y[lib.tensor([0, 2])] = lib.ones(1, 2) * 4', 'y[lib.tensor([True, False, True])] = '
    'lib.ones(1, 2) * 5', 'y[:] = lib.ones(1, 3)'])
def test_setitem_drops_the_values_leading_size_1_dims(case):
    """x[i] = net(x) with a (1,) output fills a scalar slot, as PyTorch's setitem strips the
    value's leading 1s (slicePrefix1sSize); nbgrad raised a shape mismatch."""
    def run(lib):
        y = lib.zeros(3)
        w = lib.ones(1, 1, requires_grad=True)
        exec(case, {'y': y, 'lib': lib})
        y2 = lib.zeros(3)
        y2[1] = w * 2                   # and the gradient reaches the (1, 1) value
        y2.sum().backward()
        return y, w.grad
    both(run)


@pytest.mark.parametrize('args', ['0, 3, np.float32(0.5)', 'np.float32(0.5), 3',
                                  'np.float16(1), np.float32(2.5)', 'np.int32(4)',
                                  'np.float32(2.5)'])
def test_arange_takes_numpy_float32_scalars_as_floats(args):
    """np.float32 is not a Python float subclass (np.float64 is): arange truncated to int64."""
    both(lambda lib: eval(f'lib.arange({args})', {'lib': lib, 'np': np}))


@pytest.mark.parametrize('divisor', [1, -1, 2.5, -2.5, float('inf'), -float('inf'), 0.0])
def test_float_remainder_signs_zero_as_pytorch(divisor):
    """PyTorch's float remainder is fmod plus the divisor where the signs differ: -0. % 1 is
    -0. and 0. % -1 is 0. (NumPy's remainder signs zero by the divisor)."""
    values = [-0., -2., 0., 2., 5.5, -5.5, 1e30, float('inf'), float('nan'), -1., 3.]
    both(lambda lib: [str(v) for v in (lib.tensor(values) % divisor).tolist()])


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('exponent', [2, 3, -2, -0.5, -1, 2.0, 3.0])
def test_pow_by_small_exponents_is_pytorchs_bit_for_bit(dtype, exponent):
    """PyTorch computes x ** 2, 3, -2 as products, x ** -0.5 as rsqrt and x ** -1 as a
    reciprocal; np.power rounded a third of the float32 results differently."""
    x = (np.random.default_rng(0).standard_normal(4000) * 10).astype(dtype)
    both(lambda lib: lib.tensor(x) ** exponent, check=lambda got, expected:
         np.testing.assert_array_equal(got.numpy(), expected.numpy()))


@pytest.mark.parametrize('case', [
    'lib.ones(3).H', 'lib.ones(2, 2, 2).H', 'lib.ones(2, 3).H.shape', 'lib.tensor(2.).H',
    'x.new_ones(size=(2,))', 'x.new_zeros(size=(2,))', 'x.new_empty(size=(2,)).shape',
    'x.to(None) is x', 'x[range(2)]', 'x[:, range(1, 3)]', 'hash(x) == id(x)',
    'lib.Size([2, 3]) * 2', '2 * lib.Size([2, 3])', 'lib.Size(lib.tensor([2, 3]))',
    'lib.Size(lib.tensor([2, 3])).numel()', 'lib.tensor(1.).size(0)', "'a' in x",
    'pow(x, 2, 5)', 'x[lib.tensor([0, 1], dtype=lib.int8)]',
    'x[lib.tensor([0, 1], dtype=lib.int16)]', 'x[lib.tensor([0, 1], dtype=lib.int32)]',
    'x[np.array([1, 0], dtype=np.uint8)]', 'x[np.array([1, 0], dtype=np.int16)]',
    'x[[1.7, 0.2]]', 'x[np.array([1.7, 0.2], dtype=np.float32)]',
    'lib.mm(lib.ones(2, 2, dtype=lib.long), lib.ones(2, 2))',
    'lib.ones(2, 2, dtype=lib.float64) @ lib.ones(2, 2)',
    'lib.ones(2, 2, dtype=lib.float64) @ lib.ones(2, 2, 2)',
    'lib.mv(lib.ones(2, 2, dtype=lib.float64), lib.ones(2))',
    'lib.bmm(lib.ones(1, 2, 2, dtype=lib.float64), lib.ones(1, 2, 2))',
    'lib.dot(lib.ones(2, dtype=lib.float64), lib.ones(2))',
    'lib.mm(lib.ones(2, 2, dtype=lib.half), lib.ones(2, 2))',
])
def test_tensor_api_corners_as_pytorch(case):
    """Corners a sweep of the Tensor API found: .H's ranks, new_*(size=), to(None), range
    indices, hash, Size arithmetic, size(0) of a 0-dim tensor, `in` and pow's modulo, index
    dtypes (uint8 arrays are masks, int8/int16 refused), and products of two dtypes (refused,
    with each kernel's message)."""
    def run(lib):
        x = lib.arange(6.).reshape(2, 3)
        return eval(case, {'lib': lib, 'x': x, 'np': np})
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        both(lambda lib: _plain(run(lib)))


def _plain(value):
    """A result as comparable data (Size and tensors through their values)."""
    return tuple(value) if isinstance(value, tuple) else value


def test_copy_copy_shares_memory_and_pickle_keeps_attributes():
    import copy
    import pickle

    def run(lib):
        a = lib.arange(3.)
        a.note = 'kept'
        b = copy.copy(a)
        b[0] = 9
        again = pickle.loads(pickle.dumps(a))
        return a, b.requires_grad, b.note, again.note, copy.copy(lib.ones(2, requires_grad=True)
                                                              * 2).is_leaf
    both(run)


def test_legacy_constructor_of_a_tensor_is_an_alias():
    """Tensor(t) is t's alias in PyTorch (same memory and dtype, AliasBackward0), where nbgrad
    copied it into float32 with a copy-construct warning."""
    def run(lib):
        a = lib.ones(2)
        b = lib.Tensor(a)
        b[0] = 5
        r = lib.ones(2, requires_grad=True)
        d = lib.Tensor(r)
        (d * 3).sum().backward()
        integers = lib.Tensor(lib.tensor([1, 2]))
        return a, integers, str(integers.dtype)[-5:], d.requires_grad, d.is_leaf, \
            d.grad_fn.name(), r.grad
    with warnings.catch_warnings():
        warnings.simplefilter('error')       # (no copy-construct warning either)
        both(run)


@pytest.mark.parametrize('case', ['np.exp(t)', 'np.add(t, 1)', 'np.greater(t, 1)',
                                  'str(np.sqrt(t).dtype)[-7:]', 'np.round(t * 1.6)',
                                  'np.float64(2) * t', 'np.sqrt(lib.ones(2, requires_grad=True))'])
def test_numpy_functions_of_a_tensor_give_tensors(case):
    """np.exp(t) computes on the tensor's array and returns a tensor (PyTorch's __array__ and
    __array_wrap__, booleans as uint8); nbgrad refused NumPy ufuncs outright."""
    both(lambda lib: eval(case, {'np': np, 'lib': lib, 't': lib.tensor([1., 2.])}))


def test_map_and_map2_and_the_small_predicates():
    def run(lib):
        x = lib.arange(4.)
        x.map_(lib.tensor([10.]), lambda a, b: a + b)
        x.map2_(lib.ones(4), lib.full((4,), 2.), lambda a, b, c: a * b * c)
        flags = (x.is_mps, x.is_xpu, x.is_nested, x.const_data_ptr() == x.data_ptr())
        return x, flags, x.unsafe_chunk(2), x.unsafe_split(3)
    both(run)


def test_pytorchs_private_transformer_helpers_import_where_pytorch_has_them():
    """Copies of PyTorch's Transformer code import these by these paths."""
    from nbgrad.nn.functional import (_canonical_mask, _in_projection,  # noqa: F401
                                      _in_projection_packed, _mha_shape_check, _none_or_dtype)
    from nbgrad.nn.modules.linear import NonDynamicallyQuantizableLinear
    assert NonDynamicallyQuantizableLinear.__module__ == 'nbgrad.nn.modules.linear'
    mask = _canonical_mask(nbgrad.tensor([True, False]), 'mask', None, '', nbgrad.float32)
    expected = torch.nn.functional._canonical_mask(torch.tensor([True, False]), 'mask', None, '',
                                                   torch.float32)
    assert mask.tolist() == expected.tolist()


@pytest.mark.parametrize('case', [
    'lib.tensordot(lib.tensor([1., 2, 3]), lib.tensor([10.]), dims=([0], [0]))',
    'lib.tensordot(lib.ones(2, 1), lib.arange(6.).reshape(3, 2), dims=([1], [0]))',
    'lib.select_scatter(lib.zeros(3), lib.tensor(5.), 0, 1)',
    'lib.movedim(lib.tensor(1), 0, 0).shape', 'lib.movedim(lib.tensor(1), -1, 0).shape',
    'lib.movedim(lib.ones(2, 3), (0, 1), (1, 1))', 'lib.roll(lib.tensor(3), 1, 0)',
    'lib.fliplr(lib.ones(3))', 'lib.flipud(lib.tensor(1))', 'lib.diag_embed(lib.tensor(1))',
    'lib.narrow(lib.arange(4), 0, 5, 0)', 'lib.narrow(lib.tensor(1), 0, 0, 1)',
    'lib.narrow(lib.arange(4), 0, -2, 2)', 'lib.narrow(lib.arange(4), 0, 1, -1)',
    'lib.rot90(lib.ones(2, 2), 1, [0, 1, 2])', 'lib.rot90(lib.ones(2, 2), 1, [1, 1])',
    'lib.rot90(lib.ones(2, 2, 2), 1, [0, -3])', 'lib.rot90(lib.arange(6.).reshape(2, 3), 3)',
    'lib.lerp(lib.tensor([1., 2, 3, 4]), lib.tensor([10., 20, 30, 40]), 0.7)',
    'lib.lerp(lib.tensor([1., 2, 3, 4]).double(), lib.tensor([10., 20, 30, 40]).double(),'
    ' lib.tensor([0.7, 0.2, 0.9, -1.5]).double())',
])
def test_less_common_functions_as_pytorch(case):
    """A sweep of less common functions: tensordot broadcasts a size-1 contracted dim,
    0-dim corners of select_scatter/movedim, lerp's fused multiply-add (1 ulp), and PyTorch's
    checks and errors for roll, fliplr/flipud, diag_embed, narrow, rot90 and movedim."""
    def exactly(got, expected):
        if isinstance(got, tuple):             # (a Size)
            assert tuple(got) == tuple(expected)
        else:
            assert_same(got, expected, rtol=0, atol=0)
    both(lambda lib: eval(case, {'lib': lib}), check=exactly)


def test_clamp_with_min_above_max_sends_the_gradient_to_max():
    def run(lib):
        x, lo, hi = (lib.tensor(v, requires_grad=True) for v in
                     ([1., 2., 0., 5.], [3., 0., 1., 1.], [2., 1., 2., 4.]))
        lib.clamp(x, lo, hi).backward(lib.tensor([.25, .75, 1., 2.]))
        return x.grad, lo.grad, hi.grad
    both(run)


def test_float32_weighted_bincount_adds_in_float32_in_order():
    rng = np.random.default_rng(0)
    index, weights = rng.integers(0, 50, 10000), rng.random(10000).astype(np.float32)
    both(lambda lib: lib.bincount(lib.tensor(index), weights=lib.tensor(weights)),
         check=lambda got, expected: np.testing.assert_array_equal(got.numpy(),
                                                                   expected.numpy()))


@pytest.mark.parametrize('case', [
    "lib.einsum('i,i->', lib.tensor([1, 2, 3]), lib.tensor([1., 2., 3.]))",
    "lib.einsum('i,i->', lib.ones(3), lib.ones(3, dtype=lib.float64))",
    "lib.meshgrid(lib.tensor([1, 2]), lib.ones(2), indexing='ij')",
    "lib.cartesian_prod(lib.tensor([1, 2]), lib.ones(2))", "lib.meshgrid(indexing='ij')",
    'lib.cartesian_prod()', 'lib.linalg.cross(lib.tensor([1, 2, 3]), lib.ones(3))',
    'lib.cross(lib.tensor([1, 2, 3]), lib.ones(3), dim=0)',
    'lib.lerp(lib.ones(3), lib.ones(3), lib.ones(3, dtype=lib.float64))',
    'lib.lerp(lib.ones(3, dtype=lib.float64), lib.ones(3), 0.5)',
])
def test_one_dtype_kernels_refuse_mixed_dtypes(case):
    """einsum, meshgrid/cartesian_prod, cross and lerp take one dtype in PyTorch (no type
    promotion); nbgrad promoted silently."""
    assert_same_error(lambda lib: eval(case, {'lib': lib}))


@pytest.mark.parametrize('call', ['x.to(lib.float64, lib.float32)', "x.to(dtype='float64')",
                                  'x.to(foo=1)', 'm.to(lib.float64, lib.float32)',
                                  "m.to(dtype='float64')", 'm.to(foo=1)'])
def test_to_calls_matching_no_overload_get_pytorchs_type_error(call):
    assert_same_error(lambda lib: eval(call, {'lib': lib, 'x': lib.ones(2),
                                              'm': lib.nn.Linear(2, 2)}))


@pytest.mark.parametrize('call', ['lib.Tensor(3.5)', 'lib.Tensor(None)', 'lib.Size([2.0])',
                                  'lib.ones(2).new_full(2, 1)'])
def test_constructor_misuse_as_pytorch(call):
    assert_same_error(lambda lib: eval(call, {'lib': lib}))
