"""PyTorch's basic complex-number API against PyTorch: Tensor.real/.imag (views that write through
and share the version counter, settable), view_as_real/view_as_complex (shapes, strides, storage
offsets, memory sharing, errors), complex and polar, angle (real, integer and complex inputs, its
zero gradient), conj_physical, resolve_conj/resolve_neg/is_conj/is_neg, and the gradients
through them (complex autograd: PyTorch's values, second derivatives by gradgradcheck). nbgrad runs on the `device` fixture ('cuda' with NBGRAD_FAKE_CUDA=1), PyTorch
on the CPU."""
import math

import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same, exc_kind

torch = pytest.importorskip('torch')



def _cpu(value):
    if isinstance(value, nbgrad.Tensor):
        return value.detach().cpu()
    if isinstance(value, (list, tuple)) and not isinstance(value, nbgrad.Size):
        return type(value)(_cpu(v) for v in value)
    return value


def check(fn, device, **tolerances):
    """fn(torch, 'cpu') and fn(nbgrad, device) give the same results (tensors, sizes, strides,
    flags), or raise the same kind of exception with the same message."""
    try:
        expected = fn(torch, 'cpu')
    except Exception as e:
        with pytest.raises(exc_kind(e)) as info:
            fn(nbgrad, device)
        ours = str(info.value).replace('nbgrad.', 'torch.')
        assert ours == str(e), f'nbgrad: {ours!r}, PyTorch: {str(e)!r}'
        return None
    got = fn(nbgrad, device)
    assert_same(_cpu(got), expected, **tolerances)
    return got


def check_error(fn, device):
    """Both raise (the same kind, the same message)."""
    with pytest.raises(Exception) as info:
        fn(torch, 'cpu')
    theirs = info.value
    with pytest.raises(exc_kind(theirs)) as info:
        fn(nbgrad, device)
    ours = str(info.value).replace('nbgrad.', 'torch.')
    assert ours == str(theirs), f'nbgrad: {ours!r}, PyTorch: {str(theirs)!r}'


Z = [[1 + 2j, -3.5 + 0.25j, 0j], [2 - 1j, -0.0 + 1j, 4 + 4j]]


def zmat(lib, dev, dtype='complex64'):
    return lib.tensor(Z, dtype=getattr(lib, dtype), device=dev)


LAYOUTS = {
    'contiguous': lambda z: z,
    'transposed': lambda z: z.t(),
    'strided': lambda z: z[:, ::2],
    'offset': lambda z: z[1:, 1:],
    'row': lambda z: z[1],
    'scalar': lambda z: z[1, 2],
    'empty': lambda z: z[:0],
    'expanded': lambda z: z[0].expand(4, 3),                  # a stride-0 dimension
}


def layout_facts(t):
    if t.numel() == 0:
        # nbgrad reports contiguous strides for every empty tensor (Tensor.stride: NumPy's are
        # not kept meaningful there), where PyTorch keeps a sliced view's; not a complex matter
        return (t, t.storage_offset())
    return (t, t.stride(), t.storage_offset(), t.is_contiguous())


# ---------------------------------------------------------------------------------------------
# real / imag
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('dtype', ['complex64', 'complex128'])
@pytest.mark.parametrize('layout', LAYOUTS)
def test_real_imag_values_strides_offsets(layout, dtype, device):
    def run(lib, dev):
        z = LAYOUTS[layout](zmat(lib, dev, dtype))
        parts = (z.real, z.imag, lib.real(z), lib.imag(z))
        return tuple(layout_facts(p) for p in parts)
    check(run, device)


@pytest.mark.parametrize('layout', LAYOUTS)
def test_real_imag_are_views_of_the_root(layout, device):
    def run(lib, dev):
        root = zmat(lib, dev)
        z = LAYOUTS[layout](root)
        r, i = z.real, z.imag
        return (r._base is root, i._base is root,
                r.untyped_storage().data_ptr() == root.untyped_storage().data_ptr(),
                i.untyped_storage().data_ptr() == root.untyped_storage().data_ptr())
    check(run, device)


def test_writes_through_real_and_imag_and_versions(device):
    def run(lib, dev):
        z = zmat(lib, dev)
        r, i = z.real, z.imag
        versions = [z._version, r._version, i._version]
        r[0, 1] = 5
        versions += [z._version, r._version, i._version]
        r.add_(1)
        versions += [z._version, r._version, i._version]
        z.imag.mul_(-2)
        versions += [z._version, r._version, i._version]
        z.mul_(2)  # a write into z shows in (and counts for) its views
        versions += [z._version, r._version, i._version]
        z[1].real.fill_(0)
        z.imag[:, 2] = 9
        versions += [z._version, r._version, i._version]
        return versions, z.clone(), r.clone(), i.clone()
    check(run, device)


def test_real_and_imag_are_settable(device):
    def run(lib, dev):
        z = zmat(lib, dev)
        steps = []
        z.real = lib.tensor([[1., 2., 3.], [4., 5., 6.]], device=dev)
        steps += [z.clone(), z._version]
        z.imag = lib.tensor([-1., 0.5, 2.], device=dev)  # broadcast over the rows
        steps += [z.clone(), z._version]
        z.real = 3.0
        z.imag = lib.tensor(-0.25, device=dev)
        steps += [z.clone(), z._version]
        w = z[0]
        w.real = lib.zeros(3, device=dev)  # through a view of a view
        steps += [z.clone(), z._version, w._version]
        return steps
    check(run, device)


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64', 'bool'])
def test_real_of_a_real_tensor_is_the_tensor_itself(dtype, device):
    def run(lib, dev):
        x = lib.tensor([1, 0, 2], dtype=getattr(lib, dtype), device=dev)
        return x.real is x, lib.real(x) is x, lib.conj_physical(x) is x, \
            x.conj_physical() is x, x.conj_physical_() is x
    check(run, device)


def test_setting_real_of_a_real_tensor_copies_in(device):
    def run(lib, dev):
        x = lib.tensor([1., 2., 3.], device=dev)
        x.real = lib.tensor([7., 8., 9.], device=dev)
        return x, x._version
    check(run, device)


@pytest.mark.parametrize('case', ['property', 'function', 'int', 'bool', 'setter'])
def test_imag_of_a_real_tensor_is_an_error(case, device):
    def run(lib, dev):
        x = lib.tensor([1., 2.], device=dev)
        if case == 'property':
            return x.imag
        if case == 'function':
            return lib.imag(x)
        if case == 'int':
            return lib.tensor([1, 2], device=dev).imag
        if case == 'bool':
            return lib.imag(lib.tensor([True], device=dev))
        x.imag = lib.zeros(2, device=dev)
    check_error(run, device)


def test_real_of_a_real_tensor_passes_gradients(device):
    def run(lib, dev):
        x = lib.tensor([1., -2., 3.], device=dev, requires_grad=True)
        y = (x * 2).real  # the same (non-leaf) tensor
        (y * lib.tensor([1., 2., 3.], device=dev)).sum().backward()
        return x.grad, y.grad_fn.name()
    check(run, device)


# ---------------------------------------------------------------------------------------------
# view_as_real / view_as_complex
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('dtype', ['complex64', 'complex128'])
@pytest.mark.parametrize('layout', LAYOUTS)
def test_view_as_real(layout, dtype, device):
    def run(lib, dev):
        root = zmat(lib, dev, dtype)
        v = lib.view_as_real(LAYOUTS[layout](root))
        return layout_facts(v) + (v._base is root,
                                  v.untyped_storage().data_ptr()
                                  == root.untyped_storage().data_ptr())
    check(run, device)


REAL_LAYOUTS = {
    'contiguous': lambda x: x,                                # (3, 4, 2)
    'rows': lambda x: x[:, 1],                                # strides (8, 1)
    'sliced': lambda x: x[:, ::2],                            # strides (8, 4, 1)
    'offset': lambda x: x[1:, 1:],                            # offset 10
    'pair': lambda x: x[2, 3],                                # (2,) -> a 0-dim complex
    'empty': lambda x: x[:0],
    'transposed': lambda x: x.transpose(0, 1),                # (4, 3, 2), strides (2, 8, 1)
    'unsqueezed': lambda x: x[0].unsqueeze(0),
    'expanded': lambda x: x[0, 1].expand(5, 2),               # strides (0, 1)
}


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('layout', REAL_LAYOUTS)
def test_view_as_complex(layout, dtype, device):
    def run(lib, dev):
        root = lib.arange(24., dtype=getattr(lib, dtype), device=dev).reshape(3, 4, 2)
        v = lib.view_as_complex(REAL_LAYOUTS[layout](root))
        return layout_facts(v) + (v._base is root,
                                  v.untyped_storage().data_ptr()
                                  == root.untyped_storage().data_ptr())
    check(run, device)


def test_view_as_real_and_complex_round_trip_and_write_through(device):
    def run(lib, dev):
        z = zmat(lib, dev)
        r = lib.view_as_real(z)
        versions = [z._version, r._version]
        r[..., 1].neg_()          # conjugates z in place
        versions += [z._version, r._version]
        back = lib.view_as_complex(r)
        back.mul_(1j)             # rotates z (and r sees it)
        versions += [z._version, r._version, back._version]
        x = lib.arange(8., device=dev).reshape(2, 2, 2)
        c = lib.view_as_complex(x)
        c[1, 0] = 10 - 20j
        c.real.add_(100)
        return versions, z.clone(), r.clone(), back._base is z, x, x._version, c.clone()
    check(run, device)


VIEW_AS_COMPLEX_ERRORS = {
    'last_dim_3': lambda lib, dev: lib.ones(3, device=dev),
    'transposed': lambda lib, dev: lib.ones(3, 2, device=dev).t(),
    'last_stride_2': lambda lib, dev: lib.ones(2, 4, device=dev)[:, ::2],
    'odd_stride': lambda lib, dev: lib.ones(3, 3, device=dev)[:, 1:],
    'odd_offset': lambda lib, dev: lib.ones(8, device=dev)[1:7].view(3, 2),
    'odd_stride_size_1_dim': lambda lib, dev: lib.ones(10, device=dev).as_strided((1, 2), (3, 1)),
    'zero_dim': lambda lib, dev: lib.tensor(1., device=dev),
    'int': lambda lib, dev: lib.ones(3, 2, dtype=lib.int32, device=dev),
    'long': lambda lib, dev: lib.ones(3, 2, dtype=lib.int64, device=dev),
    'bool': lambda lib, dev: lib.ones(3, 2, dtype=lib.bool, device=dev),
    'complex': lambda lib, dev: lib.ones(3, 2, dtype=lib.complex64, device=dev),
}


@pytest.mark.parametrize('case', VIEW_AS_COMPLEX_ERRORS)
def test_view_as_complex_errors(case, device):
    check(lambda lib, dev: lib.view_as_complex(VIEW_AS_COMPLEX_ERRORS[case](lib, dev)), device)


@pytest.mark.parametrize('dtype', ['float32', 'int64', 'bool'])
def test_view_as_real_error(dtype, device):
    check_error(lambda lib, dev: lib.view_as_real(lib.ones(3, dtype=getattr(lib, dtype),
                                                           device=dev)), device)


@pytest.mark.parametrize('fn', ['view_as_complex', 'complex', 'polar'])
def test_half_inputs_are_refused_for_want_of_complex32(fn, device):
    """PyTorch gives complex32 (ComplexHalf), which NumPy and so nbgrad do not have."""
    x = nbgrad.ones(3, 2, dtype=nbgrad.float16, device=device)
    with pytest.raises(RuntimeError, match='complex32'):
        nbgrad.view_as_complex(x) if fn == 'view_as_complex' else getattr(nbgrad, fn)(x, x)


@pytest.mark.parametrize('which', ['view_as_real_copy', 'view_as_complex_copy'])
def test_copy_variants(which, device):
    def run(lib, dev):
        if which == 'view_as_real_copy':
            src = zmat(lib, dev)[:, ::2]
        else:
            src = lib.arange(24., device=dev).reshape(3, 4, 2)[:, ::2]
        out = getattr(lib, which)(src)
        return layout_facts(out) + (out.untyped_storage().data_ptr()
                                    == src.untyped_storage().data_ptr(),)
    check(run, device)


# ---------------------------------------------------------------------------------------------
# complex / polar
# ---------------------------------------------------------------------------------------------

def _floats(lib, dev, dtype, *shape, seed=0, low=-3.0, high=3.0):
    a = np.random.default_rng(seed).uniform(low, high, size=shape)
    return lib.tensor(a, dtype=getattr(lib, dtype), device=dev)


SHAPES = {'same': ((2, 3), (2, 3)), 'broadcast': ((2, 1), (3,)), 'scalar': ((), ()),
          'scalar_and_vector': ((), (4,)), 'empty': ((0, 3), (1, 3))}


@pytest.mark.parametrize('fn', ['complex', 'polar'])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('shapes', SHAPES)
def test_complex_and_polar_values(fn, dtype, shapes, device):
    sa, sb = SHAPES[shapes]

    def run(lib, dev):
        a = _floats(lib, dev, dtype, *sa, seed=1, low=0 if fn == 'polar' else -3)
        b = _floats(lib, dev, dtype, *sb, seed=2)
        return getattr(lib, fn)(a, b)
    check(run, device, rtol=1e-6, atol=1e-6 if dtype == 'float32' else 1e-14)


@pytest.mark.parametrize('fn', ['complex', 'polar'])
def test_complex_and_polar_keep_inf_and_nan_in_place(fn, device):
    def run(lib, dev):
        inf, nan = math.inf, math.nan
        a = lib.tensor([inf, nan, 1., -inf, 0., 2.], device=dev)
        b = lib.tensor([inf, 1., nan, 0., inf, -0.], device=dev)
        return getattr(lib, fn)(a, b)
    check(run, device)


@pytest.mark.parametrize('fn', ['complex', 'polar'])
def test_complex_and_polar_out(fn, device):
    def run(lib, dev):
        a, b = _floats(lib, dev, 'float64', 3, seed=3), _floats(lib, dev, 'float64', 3, seed=4)
        out = lib.zeros(3, dtype=lib.complex128, device=dev)
        result = getattr(lib, fn)(a, b, out=out)
        return result is out, out, out._version
    check(run, device)


COMPOSE_ERRORS = {
    'float_double': lambda lib, dev: (lib.ones(2, device=dev),
                                      lib.ones(2, dtype=lib.float64, device=dev)),
    'double_float': lambda lib, dev: (lib.ones(2, dtype=lib.float64, device=dev),
                                      lib.ones(2, device=dev)),
    'long_long': lambda lib, dev: (lib.ones(2, dtype=lib.int64, device=dev),
                                   lib.ones(2, dtype=lib.int64, device=dev)),
    'int_float': lambda lib, dev: (lib.ones(2, dtype=lib.int32, device=dev),
                                   lib.ones(2, device=dev)),
    'bool_bool': lambda lib, dev: (lib.ones(2, dtype=lib.bool, device=dev),
                                   lib.ones(2, dtype=lib.bool, device=dev)),
    'complex': lambda lib, dev: (lib.ones(2, dtype=lib.complex64, device=dev),
                                 lib.ones(2, dtype=lib.complex64, device=dev)),
    'no_broadcast': lambda lib, dev: (lib.ones(2, device=dev), lib.ones(3, device=dev)),
    'second_a_float': lambda lib, dev: (lib.ones(2, device=dev), 1.0),
    'first_a_float': lambda lib, dev: (1.0, lib.ones(2, device=dev)),
}


@pytest.mark.parametrize('fn', ['complex', 'polar'])
@pytest.mark.parametrize('case', COMPOSE_ERRORS)
def test_complex_and_polar_errors(fn, case, device):
    check_error(lambda lib, dev: getattr(lib, fn)(*COMPOSE_ERRORS[case](lib, dev)), device)


@pytest.mark.parametrize('fn', ['complex', 'polar'])
@pytest.mark.parametrize('out_dtype', ['float32', 'complex128'])
def test_complex_and_polar_out_dtype_errors(fn, out_dtype, device):
    check_error(lambda lib, dev: getattr(lib, fn)(
        lib.ones(2, device=dev), lib.ones(2, device=dev),
        out=lib.empty(2, dtype=getattr(lib, out_dtype), device=dev)), device)


# ---------------------------------------------------------------------------------------------
# angle
# ---------------------------------------------------------------------------------------------

SPECIAL = [-1.5, -0.0, 0.0, 2.0, math.nan, -math.inf, math.inf, -1e-30]


@pytest.mark.parametrize('dtype', ['float16', 'float32', 'float64'])
def test_angle_of_real_tensors(dtype, device):
    def run(lib, dev):
        x = lib.tensor(SPECIAL, dtype=getattr(lib, dtype), device=dev)
        return lib.angle(x), x.angle(), lib.angle(x[3])
    check(run, device)


@pytest.mark.parametrize('dtype', ['int64', 'int32', 'int8', 'uint8', 'bool'])
def test_angle_of_integers_gives_the_default_float_dtype(dtype, device):
    def run(lib, dev):
        x = lib.tensor([-3, 0, 1, 5] if dtype not in ('uint8', 'bool') else [0, 1, 1, 0],
                       dtype=getattr(lib, dtype), device=dev)
        first = lib.angle(x)
        previous = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            second = lib.angle(x)
        finally:
            lib.set_default_dtype(previous)
        return first, second
    check(run, device)


@pytest.mark.parametrize('dtype', ['complex64', 'complex128'])
def test_angle_of_complex_tensors(dtype, device):
    def run(lib, dev):
        inf, nan = math.inf, math.nan
        z = lib.tensor(Z[0] + Z[1] + [complex(-1, -0.0), complex(-1, 0.0), complex(inf, inf),
                                      complex(nan, 1), complex(-inf, 0), 0j],
                       dtype=getattr(lib, dtype), device=dev)
        return lib.angle(z), z.angle(), lib.angle(zmat(lib, dev, dtype).t())
    check(run, device)


def test_angle_out(device):
    def run(lib, dev):
        out = lib.empty(3, device=dev)
        result = lib.angle(lib.tensor([1 + 1j, -2j, -1 + 0j], device=dev), out=out)
        out64 = lib.empty(2, dtype=lib.float64, device=dev)
        lib.angle(lib.tensor([-1., 1.], device=dev), out=out64)
        return result is out, out, out64
    check(run, device)


def test_angle_gradient_is_zero(device):
    def run(lib, dev):
        x = lib.tensor(SPECIAL, device=dev, requires_grad=True)
        y = lib.angle(x)
        (y * lib.arange(8., device=dev)).nansum().backward()
        g, = lib.autograd.grad(lib.angle(x * 3).sum(), x, create_graph=True)
        return y.grad_fn.name(), y.requires_grad, x.grad, g, g.requires_grad
    check(run, device)


# ---------------------------------------------------------------------------------------------
# conj_physical and the lazy-conjugation queries
# ---------------------------------------------------------------------------------------------

def test_conj_physical(device):
    def run(lib, dev):
        z = zmat(lib, dev)
        c = lib.conj_physical(z)
        m = z.t().conj_physical()
        shares = c.untyped_storage().data_ptr() == z.untyped_storage().data_ptr()
        w = zmat(lib, dev, 'complex128')
        before = w._version
        same = w.conj_physical_() is w
        out = lib.empty(2, 3, dtype=lib.complex64, device=dev)
        lib.conj_physical(z, out=out)
        return c, m, shares, c.is_conj(), w, w._version - before, same, out
    check(run, device)


def test_conj_queries(device):
    def run(lib, dev):
        z = zmat(lib, dev)
        x = lib.ones(2, device=dev)
        return (lib.is_conj(z), lib.is_neg(z), lib.resolve_conj(z), lib.resolve_neg(x),
                lib.resolve_conj(x) is x, lib.resolve_neg(x) is x, lib.is_complex(z),
                lib.is_complex(x), z.real.is_neg(), z.real.is_conj())
    check(run, device)


# ---------------------------------------------------------------------------------------------
# complex autograd: gradients through the ops of this file, against PyTorch's
# ---------------------------------------------------------------------------------------------

WRITES = {   # an in-place write of x (real, requires grad) into the complex tensor z in a graph
    'copy_into_real': lambda lib, x, z: z.real.copy_(x),
    'set_real': lambda lib, x, z: setattr(z, 'real', x),
    'set_imag': lambda lib, x, z: setattr(z, 'imag', x * 2),
    'index_into_imag': lambda lib, x, z: z.imag.__setitem__(slice(0, 2), x[:2]),
    'into_view_as_real': lambda lib, x, z: lib.view_as_real(z)[:, 0].add_(x),
    'into_complex': lambda lib, x, z: z.add_(x),
    'slice_mul': lambda lib, x, z: z[1:3].mul_(x[:2] * 1j),
    'real_mul': lambda lib, x, z: z.real.mul_(x),
    'imag_slice_add': lambda lib, x, z: z.imag[1:].add_(x[1:]),
    'copy_slice': lambda lib, x, z: z[1:3].copy_(x[:2] * 1j),
    'fill_element': lambda lib, x, z: z[0].fill_(x[1] * (1 + 1j)),
    'addmm_': lambda lib, x, z: z.view(2, 2).addmm_(z.view(2, 2).detach() * 1j,
                                                    x.view(2, 2).to(z.dtype), alpha=2 - 1j),
}


@pytest.mark.parametrize('case', WRITES)
def test_gradients_of_writes_into_complex_tensors(case, device):
    """Writes through z.real, z.imag, view_as_real(z) and slices of z: the gradients of the
    written value and of z's old value are PyTorch's (the write's region of z's real or
    imaginary part gets none)."""
    def run(lib, dev):
        x = lib.tensor([0.5, -1., 2., 3.], dtype=lib.float64, device=dev, requires_grad=True)
        w = lib.tensor([1 + 1j, 2 - 2j, 3j, 4.], device=dev, requires_grad=True)
        z = (w * 1).clone()
        WRITES[case](lib, x, z)
        weights = lib.tensor([1 + 2j, 3 - 1j, 0.5j, 2.0], dtype=lib.complex128, device=dev)
        loss = (z * weights).real.sum() + z.abs().sum()
        return [g.resolve_conj() for g in lib.autograd.grad(loss, (x, w))]
    check(run, device)


GRADIENTS = {   # a real loss of the op's result, of a real x and a complex z
    'real_imag': lambda lib, x, z: (z.real * x + z.imag ** 2).sum(),
    'view_as_real': lambda lib, x, z: (lib.view_as_real(z) ** 2 * x[:, None]).sum(),
    'view_as_complex': lambda lib, x, z: lib.view_as_complex(
        lib.stack([x, x * 3], -1)).mul(z).abs().sum(),
    'complex': lambda lib, x, z: lib.complex(x, x * 2).mul(z).abs().sum(),
    'polar': lambda lib, x, z: lib.polar(x.abs() + 0.5, x).mul(z).real.sum(),
    'polar_negative_abs': lambda lib, x, z: lib.polar(x, x * 2).imag.sum(),
    'angle': lambda lib, x, z: (z.angle() * x).sum() + x.angle().sum(),
    'conj': lambda lib, x, z: (z.conj() * z * x).real.sum() + (z.conj() * (1 + 2j)).imag.sum(),
    'conj_physical': lambda lib, x, z: (lib.conj_physical(z) * (2 - 1j)).real.sum(),
    'times_i': lambda lib, x, z: (x * 1j + z).imag.sum(),
    'abs_sgn': lambda lib, x, z: (z.abs() + z.sgn().real * 3 + z.sgn().imag).sum(),
    'to_complex': lambda lib, x, z: (x.to(lib.complex128) * z).imag.sum(),
    'to_real': lambda lib, x, z: z.real.to(lib.float32).sum() * 2,
    'acosh_left_half_plane': lambda lib, x, z: (z * -0.3).acosh().real.sum(),
    'pow_negative_base': lambda lib, x, z: (x ** (z * 0.1)).real.sum()
    + lib.pow(-2.0, z * 0.1).imag.sum() + (x ** lib.tensor(0.5j, dtype=z.dtype)).real.sum(),
    'logaddexp': lambda lib, x, z: lib.logaddexp(z, z * 0.5j).real.sum()
    + lib.logaddexp(z, x.to(z.dtype)).imag.sum(),
}


@pytest.mark.parametrize('case', GRADIENTS)
def test_gradients_match_pytorch(case, device):
    def run(lib, dev):
        x = lib.tensor([0.5, -1., 2., 3.], dtype=lib.float64, device=dev, requires_grad=True)
        z = lib.tensor([1 + 1j, 2 - 2j, 3j, -4.], device=dev, requires_grad=True)
        loss = GRADIENTS[case](lib, x, z)
        return [g.resolve_conj() if g is not None else None
                for g in lib.autograd.grad(loss, (x, z), allow_unused=True)]
    check(run, device)


@pytest.mark.parametrize('case', sorted(set(GRADIENTS) - {'to_real', 'polar_negative_abs'}))
def test_second_derivatives(case, device):
    """gradgradcheck against finite differences (complex inputs as real pairs)."""
    x = nbgrad.tensor([0.5, -1., 2., 3.], dtype=nbgrad.float64, device=device,
                      requires_grad=True)
    # (off angle's branch cut along the negative reals, where finite differences jump)
    z = nbgrad.tensor([1 + 1j, 2 - 2j, 3j, -4 + 0.5j], dtype=nbgrad.complex128, device=device,
                      requires_grad=True)
    fn = lambda x, z: GRADIENTS[case](nbgrad, x, z)     # noqa: E731
    assert nbgrad.autograd.gradcheck(fn, (x, z))
    assert nbgrad.autograd.gradgradcheck(fn, (x, z))


def test_grad_fn_names(device):
    def run(lib, dev):
        z = lib.tensor([1 + 1j, 2.], device=dev, requires_grad=True)
        x = lib.tensor([1., 2.], device=dev, requires_grad=True)
        return [type(t.grad_fn).__name__ for t in (
            z.real, z.imag, lib.view_as_real(z), lib.complex(x, x), lib.polar(x, x), z.angle(),
            lib.conj_physical(z), z.abs(), z.sgn())]
    check(run, device)


def test_a_complex_loss_has_no_implicit_gradient(device):
    check(lambda lib, dev: lib.tensor([1j], device=dev, requires_grad=True).sum().backward(),
          device)


def test_ops_without_a_complex_gradient_refuse_and_change_nothing(device):
    """An op whose backward is only right for real tensors refuses to record a complex tensor
    (a silently wrong gradient otherwise); without grad the same call works."""
    z = nbgrad.tensor([1 + 1j, 2 - 2j], device=device, requires_grad=True)
    target = nbgrad.zeros(2, dtype=nbgrad.complex64, device=device)
    index = nbgrad.tensor([0, 1], device=device)
    with pytest.raises(RuntimeError, match='ScatterReduce: an input is complex and requires '
                                           'grad, but this op has no complex gradient in nbgrad'):
        target.scatter_reduce(0, index, z, 'sum')
    with nbgrad.no_grad():
        target.scatter_reduce(0, index, z, 'sum')
    assert z.grad is None and not target.any()

@pytest.mark.parametrize('case', ['amax', 'max', 'aminmax', 'cummax', 'dropout', 'bernoulli_'])
def test_ops_with_no_complex_kernel_raise_pytorchs_error(case, device):
    """A complex tensor that requires grad meets an op with no complex kernel: the op's own
    error (PyTorch's NotImplementedError), not the autograd refusal."""
    calls = {'amax': lambda lib, z: z.amax(), 'max': lambda lib, z: z.max(),
             'aminmax': lambda lib, z: lib.aminmax(z), 'cummax': lambda lib, z: lib.cummax(z, 0),
             'dropout': lambda lib, z: lib.nn.functional.dropout(z),
             'bernoulli_': lambda lib, z: z.detach().bernoulli_(0.5)}
    check(lambda lib, dev: calls[case](lib, lib.ones(3, dtype=lib.complex64, device=dev,
                                                     requires_grad=True)), device)


MORE_OPS = {   # ops of other files, through complex tensors: a real loss's gradient
    'pixel_shuffle': lambda lib, F, z: F.pixel_shuffle(z.reshape(1, 4, 2, 4), 2),
    'pixel_unshuffle': lambda lib, F, z: F.pixel_unshuffle(z.reshape(1, 2, 4, 4), 2),
    'sinc': lambda lib, F, z: lib.sinc(z),
    'take_along_dim': lambda lib, F, z: lib.take_along_dim(
        z, lib.zeros(2, 4, 1, dtype=lib.long, device=z.device), 2),
    'trace_tril_diag_embed': lambda lib, F, z: z[0].trace() + z.tril().sum()
    + lib.diag_embed(z[0]).sum(),
    'movedim_narrow_roll_rot90': lambda lib, F, z: z.movedim(0, 2).narrow(1, 1, 2).roll(1, 2)
    .rot90(1, (0, 1)),
    'diagonal_scatter': lambda lib, F, z: lib.diagonal_scatter(z[0], z[0].diagonal() * 2),
    'index_copy_fill': lambda lib, F, z: z[0].index_copy(
        0, lib.tensor([0, 2, 1], device=z.device), z[1, :3]).index_fill(
        1, lib.tensor([1], device=z.device), 2j),
    'masked_scatter': lambda lib, F, z: z.masked_scatter(z.real > 0, z * 2),
    'cumprod_diff_trapezoid': lambda lib, F, z: lib.trapezoid(lib.diff(z.cumprod(2))),
    'tanh_softsign_tanhshrink': lambda lib, F, z: F.tanh(z) + F.softsign(z) + F.tanhshrink(z),
    'losses': lambda lib, F, z: F.mse_loss(z, z.detach() * 2) + F.l1_loss(z, z.detach() * 2),
    'cosine_similarity_normalize': lambda lib, F, z: F.cosine_similarity(z[0], z[1]).sum()
    + F.normalize(z).sum(),
    'dist_kron_cross': lambda lib, F, z: lib.dist(z[0], z[1]) + lib.kron(z[0], z[1]).sum()
    + lib.linalg.cross(z[0, :, :3], z[1, :, :3]).sum(),
    'vander_block_diag': lambda lib, F, z: lib.linalg.vander(z[0, 0]).sum()
    + lib.block_diag(z[0], z[1]).sum(),
    'std_mean_addcdiv': lambda lib, F, z: lib.std_mean(z)[0] + lib.addcdiv(z, z, z + 3).sum(),
    'pow_float_power': lambda lib, F, z: lib.pow(2, z) + lib.float_power(z, 2) + z.rsqrt(),
    'as_strided_expand_as': lambda lib, F, z: z.as_strided((2, 2), (1, 2)).sum()
    + z[0:1].expand_as(z).sum(),
}


@pytest.mark.parametrize('case', MORE_OPS)
def test_more_ops_through_complex_tensors(case, device):
    rng = np.random.default_rng(5)
    values = rng.standard_normal((2, 4, 4)) + 1j * rng.standard_normal((2, 4, 4))

    def run(lib, dev):
        z = lib.tensor(values, device=dev, requires_grad=True)
        out = MORE_OPS[case](lib, lib.nn.functional, z)
        loss = out.abs().sum() + (out * (0.5 - 1j)).real.sum() if out.is_complex() else out.sum()
        return lib.autograd.grad(loss, z)[0].resolve_conj()
    check(run, device, rtol=1e-10, atol=1e-10)


def test_writes_through_view_as_complex_of_a_real_tensor(device):
    def run(lib, dev):
        x = lib.tensor([1., 2, 3, 4, 5, 6], dtype=lib.float64, device=dev, requires_grad=True)
        r = x.reshape(3, 2) * 1
        c = lib.view_as_complex(r)
        c.mul_(2j)
        c[1] = lib.tensor(5 - 1j, dtype=c.dtype, device=dev) * x[0]
        return lib.autograd.grad((r ** 2).sum() + r[:, 0].sum(), x)[0]
    check(run, device)


@pytest.mark.parametrize('case', ['real_for_complex', 'complex_for_real'])
def test_a_gradient_of_the_other_kind_is_refused(case, device):
    def run(lib, dev):
        z = lib.ones(2, dtype=lib.complex64, device=dev, requires_grad=True)
        x = lib.ones(2, device=dev, requires_grad=True)
        if case == 'real_for_complex':
            return lib.autograd.grad(z * 2, z, lib.ones(2, device=dev))
        return (x * 2).backward(lib.ones(2, dtype=lib.complex64, device=dev))
    check(run, device)


def test_gradcheck_of_a_function_with_no_gradient(device):
    """Nothing requires grad in the outputs: PyTorch checks the numerical Jacobian is zero."""
    x = nbgrad.ones(2, dtype=nbgrad.float64, device=device, requires_grad=True)
    assert nbgrad.autograd.gradcheck(lambda t: nbgrad.ones(2, dtype=nbgrad.float64), (x,))
    assert nbgrad.autograd.gradgradcheck(nbgrad.angle, (x,))
    from nbgrad.autograd.gradcheck import GradcheckError
    with pytest.raises(GradcheckError,
                       match='Numerical gradient for function expected to be zero'):
        nbgrad.autograd.gradcheck(lambda t: t.detach() * 2, (x,))
