"""View ops and in-place ops against PyTorch: values, memory sharing in both directions, the shared
version counter, gradients through views (also after in-place writes), the errors for misuse, and
in-place ops' version bumps, dtype/shape checks and all-or-nothing failure."""
import warnings

import pytest

import nbgrad
from torch_compare import both as _both, exc_kind

torch = pytest.importorskip('torch')


def both(fn):
    """fn(torch) and fn(nbgrad) agree or raise the same kind of exception."""
    _both(fn, quiet=True)  # torch's deprecation warnings (x.T on 3-D ...)



# x is arange(24.).reshape(2, 3, 4) (or a non-contiguous tensor of the same shape)
VIEW_OPS = {
    'view': lambda x: x.view(6, 4), 'view_flat': lambda x: x.view(-1),
    'view_infer': lambda x: x.view(2, -1), 'view_tuple': lambda x: x.view((4, 3, 2)),
    'view_size1': lambda x: x.view(2, 1, 3, 4), 'view_as': lambda x: x.view_as(x[0].flatten()
                                                                                .expand(2, 12)),
    'reshape': lambda x: x.reshape(4, 6), 'reshape_flat': lambda x: x.reshape(-1),
    'transpose': lambda x: x.transpose(0, 2), 'transpose_neg': lambda x: x.transpose(-1, -2),
    'swapaxes': lambda x: x.swapaxes(0, 1), 'permute': lambda x: x.permute(2, 0, 1),
    'permute_neg': lambda x: x.permute(-1, 0, 1), 'mT': lambda x: x.mT,
    't': lambda x: x[0].t(), 'T_2d': lambda x: x[0].T,
    'expand': lambda x: x[:, :1].expand(2, 3, 4), 'expand_new_dim': lambda x: x[0, 0].expand(
        3, 4), 'expand_minus1': lambda x: x[:1].expand(5, -1, -1), 'expand_as': lambda x:
    x[:, :, :1].expand_as(x), 'broadcast_to': lambda x: x[0].broadcast_to((2, 3, 4)),
    'narrow': lambda x: x.narrow(2, 1, 2), 'narrow_neg_start': lambda x: x.narrow(-1, -3, 2),
    'slice': lambda x: x[:, 1:, ::2], 'slice_neg': lambda x: x[-1, -2:], 'select': lambda x: x[1],
    'select_dim': lambda x: x.select(2, 1), 'ellipsis': lambda x: x[..., -1],
    'none': lambda x: x[:, None, 1], 'unsqueeze': lambda x: x.unsqueeze(1),
    'unsqueeze_neg': lambda x: x.unsqueeze(-1), 'squeeze_all': lambda x: x[:1, :, 1:2].squeeze(),
    'squeeze_dim': lambda x: x[:1].squeeze(0), 'squeeze_non1': lambda x: x.squeeze(1),
    'squeeze_dims': lambda x: x[:1, :, :1].squeeze((0, 2)), 'flatten': lambda x: x.flatten(),
    'flatten_from': lambda x: x.flatten(1), 'flatten_range': lambda x: x.flatten(0, 1),
    'flatten_same': lambda x: x.flatten(1, 1), 'unflatten': lambda x: x.unflatten(2, (2, 2)),
    'unflatten_infer': lambda x: x.unflatten(1, (-1, 1)), 'movedim': lambda x: x.movedim(0, 2),
    'movedim_multi': lambda x: x.movedim((0, 1), (2, 0)), 'moveaxis': lambda x: x.moveaxis(-1, 0),
    'as_strided': lambda x: x.as_strided((2, 3), (1, 4), 1),
    'as_strided_overlap': lambda x: x.as_strided((4, 3), (1, 1)),
    'unfold': lambda x: x.unfold(2, 2, 1), 'unfold_step': lambda x: x.unfold(1, 2, 2),
    'diagonal': lambda x: x.diagonal(), 'diagonal_offset': lambda x: x.diagonal(1, 1, 2),
    'diagonal_neg': lambda x: x.diagonal(-1, 0, 2), 'diagonal_big_offset': lambda x:
    x.diagonal(5, 1, 2), 'split': lambda x: x.split(3, dim=2), 'split_sizes': lambda x:
    x.split([1, 3], 2), 'split_one_piece': lambda x: x.split(5, dim=2), 'chunk': lambda x:
    x.chunk(3, 1), 'chunk_uneven': lambda x: x.chunk(3, 2), 'chunk_one': lambda x: x.chunk(1),
    'unbind': lambda x: x.unbind(1), 'unbind_one': lambda x: x[:1].unbind(0),
    'tensor_split': lambda x: x.tensor_split(3, dim=2), 'tensor_split_idx': lambda x:
    x.tensor_split([1, 3], dim=2), 'detach': lambda x: x.detach(),
}
ERRORS = {
    'view_bad_size': lambda x: x.view(5, 5), 'view_two_infer': lambda x: x.view(-1, -1),
    'expand_bad': lambda x: x.expand(2, 3, 5), 'expand_fewer_dims': lambda x: x.expand(3, 4),
    'expand_minus1_new_dim': lambda x: x.expand(-1, 2, 3, 4),
    'permute_wrong_count': lambda x: x.permute(0, 1), 'permute_dup': lambda x: x.permute(0, 0, 1),
    'transpose_bad_dim': lambda x: x.transpose(0, 3), 'unsqueeze_bad': lambda x: x.unsqueeze(4),
    'squeeze_bad': lambda x: x.squeeze(3), 'narrow_too_long': lambda x: x.narrow(2, 3, 2),
    'narrow_bad_dim': lambda x: x.narrow(3, 0, 1), 'select_out_of_range': lambda x: x.select(2, 4),
    'split_bad_sizes': lambda x: x.split([1, 2], 2), 'chunk_zero': lambda x: x.chunk(0),
    'diagonal_same_dims': lambda x: x.diagonal(0, 1, 1), 'unfold_too_big': lambda x:
    x.unfold(2, 5, 1), 'unfold_zero_step': lambda x: x.unfold(2, 2, 0),
    'unflatten_bad': lambda x: x.unflatten(2, (3, 2)), 'movedim_mismatch': lambda x:
    x.movedim((0, 1), (2,)), 'as_strided_too_big': lambda x: x.as_strided((5, 5), (5, 1)),
    'flatten_reversed': lambda x: x.flatten(2, 0), 't_3d': lambda x: x.t(),
    'mT_1d': lambda x: x[0, 0].mT, 'reshape_bad': lambda x: x.reshape(7, -1),
    'unbind_bad_dim': lambda x: x.unbind(3), 'index_too_many': lambda x: x[0, 0, 0, 0],
    'index_out_of_range': lambda x: x[2], 'view_dtype_0dim': lambda x: x[0, 0, 0].view(
        torch.int16 if isinstance(x, torch.Tensor) else nbgrad.int16),
}
BASES = {
    'contiguous': lambda lib: lib.arange(24.0).reshape(2, 3, 4),
    'transposed': lambda lib: lib.arange(24.0).reshape(4, 3, 2).permute(2, 1, 0),
    'sliced': lambda lib: lib.arange(48.0).reshape(2, 3, 8)[:, :, 1::2],
}


@pytest.mark.parametrize('base', BASES)
@pytest.mark.parametrize('op', list(VIEW_OPS))
def test_view_values(op, base):
    both(lambda lib: VIEW_OPS[op](BASES[base](lib)))


@pytest.mark.parametrize('base', BASES)
@pytest.mark.parametrize('op', ERRORS)
def test_view_errors(op, base):
    both(lambda lib: ERRORS[op](BASES[base](lib)))


def _first(out):
    return out[0] if isinstance(out, tuple) else out


# In-place writes into views whose elements overlap in memory have no defined result (torch
# applies the op once per alias), so they are left out of the write-through test.
OVERLAPPING = {'as_strided_overlap', 'unfold'}
@pytest.mark.parametrize('op,base', [(op, b) for op in VIEW_OPS if op not in OVERLAPPING
                                     for b in BASES], ids='-'.join)
def test_view_memory_sharing_and_version(op, base):
    """Write through the view, then through the base: both see each other's writes exactly when
    torch's do, and the version counters move as torch's do."""
    def run(lib):
        x = BASES[base](lib)
        v = _first(VIEW_OPS[op](x))
        shares = v.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
        versions = [x._version, v._version]
        try:
            v.mul_(-1)
        except RuntimeError as e:  # expanded/overlapping views refuse in-place writes
            versions.append(type(e).__name__)
        versions += [x._version, v._version]
        x.add_(100)
        versions += [x._version, v._version]
        return shares, versions, x.clone(), v.clone()
    both(run)


@pytest.mark.parametrize('base', BASES)
@pytest.mark.parametrize('op', VIEW_OPS)
def test_view_backward(op, base):
    """Gradient of a weighted sum of the view's elements w.r.t. the base."""
    def run(lib):
        x = BASES[base](lib).requires_grad_()
        outs = VIEW_OPS[op](x)
        outs = outs if isinstance(outs, tuple) else (outs,)
        loss = sum((o * lib.arange(o.numel(), dtype=o.dtype).reshape(o.shape)).sum()
                   for o in outs)
        loss.backward()
        return x.grad
    both(run)


@pytest.mark.parametrize('op', ['view', 'transpose', 'select', 'slice', 'diagonal',
                                'unfold_step', 'as_strided', 'narrow', 'unsqueeze', 'split',
                                'unbind'])
def test_chained_views_write_through_to_base(op):
    def run(lib):
        x = lib.zeros(2, 3, 4)
        v = _first(VIEW_OPS[op](x[:, 1:].transpose(1, 2)[..., None].squeeze(-1)))
        v.fill_(7.0)
        v2 = _first(VIEW_OPS[op](x[:, 1:].transpose(1, 2)))
        v2.add_(1.0)
        return x, x._version
    both(run)


# -- views and autograd after in-place writes --------------------------------------------------

INPLACE_ON_VIEW = {
    'mul_row': lambda y: y[0].mul_(2), 'add_col': lambda y: y[:, 1].add_(y[:, 0]),
    'exp_diag': lambda y: y.diagonal().exp_(), 'setitem_slice': lambda y: y[1:].__setitem__(
        (slice(None),), 0.5), 'copy_transpose': lambda y: y.t()[0].copy_(y[:, 2]),
    'fill_view': lambda y: y.view(-1)[::2].fill_(1.0), 'unbind_zero': lambda y: y.unbind(1)[0]
    .zero_(), 'clamp_split': lambda y: y.split(1, 1)[1].clamp_(min=0),
    'twice': lambda y: (y[0].mul_(3), y[0, 1:].sub_(1)),
    'fill_whole': lambda y: y.fill_(1.0), 'zero_row': lambda y: y[0].zero_(),
    'copy_whole': lambda y: y.copy_(y.detach() * 0 + 5),
}



@pytest.mark.parametrize('case', INPLACE_ON_VIEW)
def test_gradient_through_inplace_on_view(case):
    def run(lib):
        x = lib.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], requires_grad=True)
        y = x * lib.tensor([[1.0, 2.0, 3.0]])
        INPLACE_ON_VIEW[case](y)
        (y * lib.arange(6.0).reshape(2, 3)).sum().backward()
        return x.grad, y.detach(), y._version
    both(run)


@pytest.mark.parametrize('make', [
    lambda lib, x: x[0], lambda lib, x: x.view(-1), lambda lib, x: x.t(), lambda lib, x: x,
    lambda lib, x: x.detach(), lambda lib, x: x.diagonal()], ids=[
    'select', 'view', 't', 'leaf', 'detach', 'diagonal'])
def test_inplace_on_leaf_requiring_grad(make):
    def run(lib):
        x = lib.ones(3, 3, requires_grad=True)
        t = make(lib, x)
        t.add_(1)
        return x.detach(), x._version
    both(run)


# -- in-place ops ------------------------------------------------------------------------------

INPLACE = {
    'add_scalar': lambda lib, x: x.add_(2), 'add_tensor': lambda lib, x: x.add_(lib.ones(3)),
    'add_alpha': lambda lib, x: x.add_(lib.ones(3), alpha=2), 'sub': lambda lib, x: x.sub_(1),
    'sub_alpha': lambda lib, x: x.sub_(lib.ones(1), alpha=3), 'mul': lambda lib, x: x.mul_(3),
    'mul_broadcast': lambda lib, x: x.mul_(lib.tensor([[2], [3]]).to(x.dtype)),
    'div': lambda lib, x: x.div_(2), 'div_floor': lambda lib, x: x.div_(2, rounding_mode='floor'),
    'div_trunc_tensor': lambda lib, x: x.div_(lib.tensor([-2, 3, -4]).to(x.dtype),
                                              rounding_mode='trunc'),
    'zero': lambda lib, x: x.zero_(), 'fill': lambda lib, x: x.fill_(3),
    'fill_float': lambda lib, x: x.fill_(2.5), 'fill_0dim': lambda lib, x: x.fill_(lib.tensor(4)),
    'fill_1dim': lambda lib, x: x.fill_(lib.tensor([4])),
    'copy': lambda lib, x: x.copy_(lib.tensor([7.5, -1.0, 2.0])),
    'copy_int': lambda lib, x: x.copy_(lib.tensor([[1], [2]])),
    'copy_bad_shape': lambda lib, x: x.copy_(lib.ones(4)),
    'clamp': lambda lib, x: x.clamp_(-1, 3), 'clamp_min': lambda lib, x: x.clamp_(min=0),
    'clamp_max_tensor': lambda lib, x: x.clamp_(max=lib.tensor([0, 1, 2]).to(x.dtype)),
    'pow': lambda lib, x: x.pow_(2), 'pow_tensor': lambda lib, x: x.pow_(lib.full((3,), 2,
                                                                                  dtype=x.dtype)),
    'iadd': lambda lib, x: x.__iadd__(1), 'isub': lambda lib, x: x.__isub__(lib.ones(3,
                                                                                  dtype=x.dtype)),
    'imul': lambda lib, x: x.__imul__(2), 'itruediv': lambda lib, x: x.__itruediv__(4),
    'ifloordiv': lambda lib, x: x.__ifloordiv__(lib.full((3,), 2, dtype=x.dtype)),
    'add_float_scalar': lambda lib, x: x.add_(1.5),
    'mul_float_tensor': lambda lib, x: x.mul_(lib.tensor([0.5, 1.0, 2.0])),
    'add_broadcast_grows': lambda lib, x: x.add_(lib.ones(4, 2, 3, dtype=x.dtype)),
    'add_bad_shape': lambda lib, x: x.add_(lib.ones(2, dtype=x.dtype)),
    'neg': lambda lib, x: x.neg_(), 'abs': lambda lib, x: x.abs_(),
    'exp': lambda lib, x: x.exp_(), 'sqrt': lambda lib, x: x.sqrt_(),
    'masked_fill': lambda lib, x: x.masked_fill_(x > 1, 0),
    'setitem': lambda lib, x: x.__setitem__((0, slice(1, None)), 9),
    'setitem_float_into_int': lambda lib, x: x.__setitem__(0, 2.7),
    'chain': lambda lib, x: x.add_(1).mul_(2).sub_(3),
    'normal': lambda lib, x: lib.manual_seed(3) and x.normal_(),
    'uniform': lambda lib, x: lib.manual_seed(4) and x.uniform_(-2, 2),
}
DTYPES = ['float32', 'float64', 'int64', 'int32', 'uint8']


@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('op', INPLACE)
def test_inplace_op(op, dtype):
    """Same result, same version bump, `self` returned - or the same error, with the tensor and
    its version unchanged."""
    def run(lib):
        x = lib.tensor([[1, 2, 3], [4, 5, 6]]).to(getattr(lib, dtype))
        v = x[1]  # a view sharing the version counter
        before = x._version
        try:
            out = INPLACE[op](lib, x)
            outcome = ('returned self' if out is x else 'returned', )
        except Exception as e:
            outcome = ('raised', exc_kind(e).__name__)
        return outcome, x, x._version - before, v._version - before
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # NumPy cast warnings
        both(run)


@pytest.mark.parametrize('op', ['add_float_scalar', 'mul_float_tensor', 'div', 'itruediv'])
@pytest.mark.parametrize('dtype', ['int64', 'int32', 'uint8', 'bool'])
def test_inplace_refuses_dtype_changing_results(op, dtype):
    def run(lib):
        x = lib.tensor([[1, 2, 3], [4, 5, 6]]).to(getattr(lib, dtype))
        with pytest.raises(RuntimeError):
            INPLACE[op](lib, x)
        return x, x._version
    both(run)


@pytest.mark.parametrize('op', ['add_broadcast_grows', 'add_bad_shape', 'copy_bad_shape'])
def test_inplace_refuses_shape_changing_broadcast(op):
    def run(lib):
        x = lib.arange(6.0).reshape(2, 3)
        with pytest.raises(RuntimeError):
            INPLACE[op](lib, x)
        return x, x._version
    both(run)


@pytest.mark.parametrize('op', ['add_scalar', 'mul', 'fill', 'zero', 'copy', 'clamp', 'exp',
                                'normal'])
def test_inplace_on_expanded_tensor(op, device):
    """Writes that overwrite every element (fill_, copy_...) are allowed; the others refuse,
    on CUDA too, where CuPy has no read-only arrays to lean on."""
    if op == 'normal' and device == 'cuda':
        pytest.skip("CUDA random numbers are not PyTorch's (README)")

    def run(lib):
        x = lib.arange(3.0, device=device if lib is nbgrad else 'cpu').expand(2, 3)
        try:
            INPLACE[op](lib, x)
        except RuntimeError:
            return 'raised', x._version
        return 'ok', x.cpu()
    both(run)


@pytest.mark.parametrize('pick', ['row', 'row_of_noncontiguous', 'column'])
def test_inplace_on_a_slice_of_an_expanded_tensor(pick, device):
    """A slice without the repeated dimension is an ordinary view: writes reach the base."""
    picks = {'row': lambda x: x.expand(3, 4)[0],
             'row_of_noncontiguous': lambda x: x[::2].expand(3, 2)[1],
             'column': lambda x: x.expand(3, 4)[:, 1]}

    def run(lib):
        base = lib.arange(4.0, device=device if lib is nbgrad else 'cpu')
        try:
            picks[pick](base).add_(1)
        except RuntimeError:
            return 'raised', base.cpu()
        return 'ok', base.cpu(), base._version
    both(run)


@pytest.mark.parametrize('case', ['bool_add_int', 'bool_mul_bool', 'bool_neg', 'uint8_wrap',
                                  'int8_mul_big', 'float_to_int_copy'])
def test_inplace_dtype_edge_cases(case):
    cases = {
        'bool_add_int': lambda lib: lib.tensor([True, False]).add_(1),
        'bool_mul_bool': lambda lib: lib.tensor([True, False]).mul_(lib.tensor([True, True])),
        'bool_neg': lambda lib: lib.tensor([True, False]).neg_(),
        'uint8_wrap': lambda lib: lib.tensor([250, 3], dtype=lib.uint8).add_(10),
        'int8_mul_big': lambda lib: lib.tensor([100], dtype=lib.int8).mul_(3),
        'float_to_int_copy': lambda lib: lib.zeros(3, dtype=lib.int32).copy_(
            lib.tensor([1.7, -1.7, 2.5])),
    }
    both(cases[case])


@pytest.mark.parametrize('fmt', [None, 'preserve_format', 'contiguous_format', 'channels_last'])
def test_clone_memory_format(fmt):
    """clone keeps a permuted dense layout by default and with preserve_format, makes C order
    with contiguous_format and NHWC strides with channels_last."""
    def run(lib):
        x = lib.arange(24.0).reshape(2, 3, 2, 2).permute(0, 2, 3, 1)
        y = x.clone() if fmt is None else x.clone(memory_format=getattr(lib, fmt))
        return y.tolist(), y.is_contiguous(), y.stride()
    assert run(nbgrad) == run(torch)


@pytest.mark.parametrize('case', ['squeeze spread', 'squeeze tuple', 'squeeze keyword',
                                  'squeeze_ spread', 'count_nonzero spread'])
def test_dim_lists_spread_as_arguments(case):
    """x.squeeze(0, 2) and x.count_nonzero(0, 2) take their dims spread out, as PyTorch's."""
    calls = {
        'squeeze spread': lambda x: x.squeeze(0, 2),
        'squeeze tuple': lambda x: x.squeeze((0, 2)),
        'squeeze keyword': lambda x: x.squeeze(dim=2),
        'squeeze_ spread': lambda x: x.squeeze_(0, 2),
        'count_nonzero spread': lambda x: x.count_nonzero(0, 2),
    }

    def run(lib):
        x = lib.arange(3.0).reshape(1, 3, 1) - 1
        return calls[case](x).tolist()
    assert run(nbgrad) == run(torch)


@pytest.mark.parametrize('seed', range(40))
def test_diagonal_of_random_strided_views(seed):
    """diagonal(offset) of as_strided views (equal strides, overlaps, offsets included) reads
    and writes PyTorch's elements."""
    import numpy as np
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(1, 5, 2))
    strides = tuple(int(s) for s in rng.integers(0, 5, 2))
    start = int(rng.integers(0, 4))
    offset = int(rng.integers(-3, 4))

    def run(lib):
        base = lib.arange(60.0)
        view = base.as_strided(shape, strides, start)
        diag = view.diagonal(offset)
        values = diag.clone()
        diag.mul_(-1)
        return values, base
    both(run)


def test_unbind_of_a_vector_gives_views():
    def run(lib):
        x = lib.arange(4.0)
        pieces = x.unbind()
        pieces[0].add_(100)
        return x, pieces[1]._version if hasattr(pieces[1], '_version') else None, \
            [p.shape for p in pieces]
    both(run)


ADVANCED_INDEX_LAYOUTS = {
    'inner_list': lambda x: x[:, [0, 2]],
    'last_dim_of_3d': lambda x: x.reshape(2, 3, 2)[:, :, [1, 0]],
    'inner_mask': lambda x: x[:, x[0] > 1],
    'repeated': lambda x: x[..., [0, 0]],
    'two_separated': lambda x: x.reshape(2, 3, 2)[[0, 1], :, [1, 0]],
}


@pytest.mark.parametrize('case', ADVANCED_INDEX_LAYOUTS)
def test_advanced_index_results_are_dense(case):
    """PyTorch's advanced-indexing results are laid out densely (so .view works on them)."""
    def run(lib):
        out = ADVANCED_INDEX_LAYOUTS[case](lib.arange(12.0).reshape(3, 4)
                                            if case != 'last_dim_of_3d' and case != 'two_separated'
                                            else lib.arange(12.0))
        return out, out.stride(), out.is_contiguous(), out.view(-1)
    both(run)


SMALL_SEMANTICS = {
    'tensor_of_range': lambda lib: lib.tensor(range(3)),
    'tensor_of_ranges': lambda lib: lib.tensor([range(2), range(2)]),
    'tensor_of_empty_range': lambda lib: lib.tensor(range(0)),
    'empty_list_index': lambda lib: lib.arange(5)[[]],
    'empty_list_index_2d': lambda lib: lib.arange(6).reshape(2, 3)[:, []],
    'chunk_of_an_empty_dim': lambda lib: [c.shape for c in lib.zeros(3, 0).chunk(3, 1)],
    'chunk_of_an_empty_batch': lambda lib: [c.shape for c in lib.zeros(0, 3).chunk(2, 0)],
}


@pytest.mark.parametrize('case', SMALL_SEMANTICS)
def test_small_semantics(case):
    both(SMALL_SEMANTICS[case])


EXPANDED_WRITES = {
    'setitem_row': lambda y: y.__setitem__(0, 5.0),
    'fill_row': lambda y: y[0].fill_(5.0),
    'setitem_column': lambda y: y.__setitem__((slice(None), 0), 5.0),
    'fill_all': lambda y: y.fill_(5.0),
    'add_all': lambda y: y.add_(1.0),
}


@pytest.mark.parametrize('case', EXPANDED_WRITES)
def test_writes_into_an_expanded_tensor(case):
    """A row of zeros(1, 4).expand(3, 4) does not overlap itself, so PyTorch writes it (and
    with it every row); a column or the whole tensor overlaps: PyTorch's error."""
    def run(lib):
        y = lib.zeros(1, 4).expand(3, 4)
        EXPANDED_WRITES[case](y)
        return y.clone()
    both(run)


@pytest.mark.parametrize('shape, sizes', [((2, 3), (4, 2)), ((2, 3), (5, 4, 3)),
                                          ((3, 1), (-1, 2, 2)), ((2, 3), (-1, 2, 3))])
def test_expand_reports_the_mismatch_pytorch_reports(shape, sizes):
    """PyTorch checks the sizes from the last dim: the first mismatch it meets is the one named."""
    from torch_compare import assert_same_error
    assert_same_error(lambda lib: lib.ones(*shape).expand(*sizes))
