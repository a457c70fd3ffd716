"""torch-level spellings PyTorch has besides the usual ones: the in-place forms of Tensor methods
(torch.abs_(x)), the view copies (torch.permute_copy), the sym_* functions on plain numbers,
torch.mps/xpu/mtia of a build without those backends, set_warn_always, and a few aliases; each
compared with PyTorch."""
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import both

torch = pytest.importorskip('torch')


def _x(lib, dtype='float64'):
    values = np.array([[-1.5, 0.25, 0.75], [2.0, -0.5, 0.5]])
    return lib.tensor(values, dtype=getattr(lib, dtype))


# name -> (extra arguments, the input's dtype)
IN_PLACE = {
    'abs_': (), 'acos_': (), 'acosh_': (), 'arccos_': (), 'arccosh_': (), 'arcsin_': (),
    'arcsinh_': (), 'arctan_': (), 'arctanh_': (), 'asin_': (), 'asinh_': (), 'atan_': (),
    'atanh_': (), 'ceil_': (), 'cos_': (), 'cosh_': (), 'deg2rad_': (), 'erf_': (),
    'erfc_': (), 'exp2_': (), 'exp_': (), 'expm1_': (), 'fix_': (), 'floor_': (), 'frac_': (),
    'i0_': (), 'log10_': (), 'log1p_': (), 'log2_': (), 'log_': (), 'neg_': (),
    'negative_': (), 'rad2deg_': (), 'reciprocal_': (), 'round_': (), 'rsqrt_': (),
    'sigmoid_': (), 'sin_': (), 'sinc_': (), 'sinh_': (), 'sqrt_': (), 'square_': (),
    'tan_': (), 'tanh_': (), 'trunc_': (), 'zero_': (), 'detach_': (), 'nan_to_num_': (),
    'clamp_': ((-0.5, 0.5), {}), 'clip_': ((), {'min': 0.0}), 'clamp_min_': ((0.1,), {}),
    'clamp_max_': ((0.1,), {}), 'fill_': ((3.0,), {}), 'logit_': ((0.1,), {}),
    'ldexp_': (('t', [[1.0, 2.0, 3.0]]), {}), 'xlogy_': (('t', [[1.0, 2.0, 3.0]]), {}),
}


def _arguments(lib, spec):
    if spec == ():
        return (), {}
    args, kwargs = spec
    if args and args[0] == 't':
        args = (lib.tensor(args[1], dtype=lib.float64),)
    return args, kwargs


@pytest.mark.parametrize('name', sorted(IN_PLACE))
def test_in_place_form_is_the_method(name):
    def run(lib):
        x = _x(lib)
        args, kwargs = _arguments(lib, IN_PLACE[name])
        result = getattr(lib, name)(x, *args, **kwargs)
        return result is x, x
    both(run)


@pytest.mark.parametrize('name, args', [
    ('gcd_', ()), ('lcm_', ()), ('addmv_', ('mv',)), ('index_put_', ('index',)),
    ('as_strided_', ((2, 2), (1, 2))), ('resize_as_', ('small',))])
def test_in_place_forms_with_their_own_operands(name, args):
    def run(lib):
        if name in ('gcd_', 'lcm_'):
            x = lib.tensor([12, 18, 7])
            extra = (lib.tensor([8, 4, 21]),)
        elif args == ('mv',):
            x = lib.ones(2, dtype=lib.float64)
            extra = (lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64),
                     lib.tensor([0.5, -1.0], dtype=lib.float64))
        elif args == ('index',):
            x = lib.zeros(4)
            extra = ((lib.tensor([0, 2]),), lib.tensor([5.0, 6.0]))
        elif args == ('small',):
            x = lib.arange(6.0)
            extra = (lib.zeros(2, 2),)
        else:
            x = lib.arange(6.0)
            extra = args
        result = getattr(lib, name)(x, *extra)
        return result is x, x.shape, x if name != 'resize_as_' else x.numel()
    both(run)


def test_in_place_form_refuses_a_non_tensor():
    both(lambda lib: lib.abs_([1.0, -2.0]))


def test_in_place_form_on_a_leaf_that_requires_grad_raises():
    both(lambda lib: lib.sigmoid_(lib.ones(2, requires_grad=True)))


VIEW_COPIES = {
    'alias_copy': (), 'detach_copy': (), 't_copy': (), 'permute_copy': ((1, 0),),
    'transpose_copy': (0, 1), 'diagonal_copy': (), 'select_copy': (1, 2),
    'squeeze_copy': (), 'unsqueeze_copy': (1,), 'view_copy': ((3, 2),),
    'expand_copy': ((2, 2, 3),), 'unfold_copy': (1, 2, 1), 'as_strided_copy': ((2, 2), (1, 3)),
    'slice_copy': (1, 0, 3, 2),
}


@pytest.mark.parametrize('name', sorted(VIEW_COPIES))
def test_view_copy_is_the_view_in_new_memory(name):
    def run(lib):
        x = _x(lib).requires_grad_()
        y = getattr(lib, name)(x, *VIEW_COPIES[name])
        shared = y.numel() and y.data_ptr() == x.data_ptr()
        y.sum().backward()
        return y, y.is_contiguous(), bool(shared), x.grad
    both(run)


@pytest.mark.parametrize('name, args', [('split_copy', (2,)), ('unbind_copy', (1,)),
                                        ('split_with_sizes_copy', ([1, 2], 1))])
def test_split_copies_and_their_out(name, args):
    def run(lib):
        x = lib.arange(12.0).reshape(3, 4)
        parts = getattr(lib, name)(x, *args)
        outs = [lib.empty(p.shape) for p in parts]
        returned = getattr(lib, name)(x, *args, out=outs)
        return parts, returned, outs
    both(run)
    both(lambda lib: getattr(lib, name)(lib.arange(12.0).reshape(3, 4), *args,
                                        out=[lib.empty(0)]))


def test_view_copy_out():
    def run(lib):
        out = lib.empty(3, 2)
        result = lib.t_copy(lib.arange(6.0).reshape(2, 3), out=out)
        return result is out, out
    both(run)


@pytest.mark.parametrize('call', [
    lambda lib: lib.sym_int(-3.7), lambda lib: lib.sym_int(5), lambda lib: lib.sym_float(2),
    lambda lib: lib.sym_max(2, 5.5), lambda lib: lib.sym_min(2, 5.5), lambda lib: lib.sym_min(2, 5),
    lambda lib: lib.sym_not(True), lambda lib: lib.sym_sqrt(4),
    lambda lib: lib.sym_ite(False, 'a', 'b'), lambda lib: lib.sym_sum([1, 2, 3.5])])
def test_sym_functions_on_plain_numbers(call):
    expected, got = call(torch), call(nbgrad)
    assert type(got) is type(expected) and got == expected


@pytest.mark.parametrize('kind', ['mps', 'xpu', 'mtia'])
def test_absent_backends_answer_as_a_build_without_them(kind):
    """Every name nbgrad's module has exists in PyTorch's; the answers PyTorch's CPU-only build
    gives without a device are nbgrad's, and where PyTorch's raises, nbgrad's raises too."""
    ours, theirs = getattr(nbgrad, kind), getattr(torch, kind)
    names = [n for n in dir(ours) if not n.startswith('_')]
    assert names and all(hasattr(theirs, n) for n in names)
    checked = 0
    for name in names:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                expected = getattr(theirs, name)(*(() if name not in (
                    'manual_seed', 'manual_seed_all') else (0,)))
        except TypeError:           # (arguments missing: nbgrad's refuses too)
            with pytest.raises((TypeError, RuntimeError)):
                getattr(ours, name)()
            continue
        except (RuntimeError, AssertionError, AttributeError):
            with pytest.raises(RuntimeError, match=f'no {kind.upper()}.* backend.*'
                                                    'is_available'):
                getattr(ours, name)()
            continue
        if isinstance(expected, (type(None), bool, int, list, dict)):
            got = getattr(ours, name)(*(() if name not in ('manual_seed', 'manual_seed_all')
                                        else (0,)))
            assert got == expected and type(got) is type(expected), name
            checked += 1
    assert checked >= 3
    with pytest.raises(AttributeError):
        getattr(nbgrad, kind).no_such_function


def test_warn_always_repeats_warn_once_warnings():
    def warnings_from_two_calls(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            for _ in range(2):      # an even kernel with padding='same': a TORCH_WARN_ONCE
                lib.nn.functional.conv1d(lib.ones(1, 1, 5), lib.ones(1, 1, 4), padding='same')
        return len(caught)
    for lib in (torch, nbgrad):
        assert lib.is_warn_always_enabled() is False
        lib.set_warn_always(True)
        try:
            assert lib.is_warn_always_enabled() is True
            assert warnings_from_two_calls(lib) == 2
        finally:
            lib.set_warn_always(False)


def test_aliases():
    assert nbgrad.GradScaler is nbgrad.amp.GradScaler and torch.GradScaler is torch.amp.GradScaler
    t = nbgrad.arange(3.0)
    assert nbgrad.from_dlpack(nbgrad.to_dlpack(t)).tolist() == [0.0, 1.0, 2.0]
    with nbgrad.inference_mode():
        inferred = nbgrad.ones(2)
    assert nbgrad.is_inference(inferred) and not nbgrad.is_inference(t)


@pytest.mark.parametrize('args', [(5, 1), (-3, 1), (1, 0, 4, -1), (-1, 1, 3)],
                         ids=['dim_high', 'dim_low', 'negative_step', 'negative_dim'])
def test_slice_copy_checks(args):
    both(lambda lib: lib.slice_copy(lib.arange(12.0).view(3, 4), *args))


def test_sym_sum_takes_a_list_or_numbers():
    assert nbgrad.sym_sum(1, 2, 3) == torch.sym_sum(1, 2, 3) == 6
    assert nbgrad.sym_sum([1, 2.5]) == torch.sym_sum([1, 2.5]) == 3.5


def test_split_copy_out_casts_as_copy_does():
    def run(lib):
        outs = [lib.empty(2, dtype=lib.long), lib.empty(2, dtype=lib.long)]
        lib.split_copy(lib.arange(4.0), 2, out=outs)
        return outs
    both(run)
