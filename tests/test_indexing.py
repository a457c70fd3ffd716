"""Indexing against PyTorch: __getitem__ (basic, advanced, boolean, mixed), __setitem__, and the
gather/scatter/index_*/masked_*/take/nonzero family - values, gradients (compared with torch's
.grad) and the exceptions raised for out-of-range or malformed indices."""
import pytest

import nbgrad
from torch_compare import both as _both

torch = pytest.importorskip('torch')


def both(fn):
    """fn(torch) and fn(nbgrad) agree or raise the same kind of exception."""
    _both(fn, quiet=True)  # torch's deprecation warnings (uint8 masks, ...)


def base(lib, requires_grad=False):
    x = lib.arange(24.0).reshape(2, 3, 4) - 10
    return x.requires_grad_() if requires_grad else x


def weighted_sum(lib, out):
    return (out * lib.arange(out.numel(), dtype=out.dtype).reshape(out.shape).sin()).sum()


def T(lib, data, dtype='int64'):
    return lib.tensor(data, dtype=getattr(lib, dtype))


# -- __getitem__ -------------------------------------------------------------------------------

GETITEM = {
    'int': lambda lib: 1, 'neg_int': lambda lib: -1, 'two_ints': lambda lib: (1, -2),
    'three_ints': lambda lib: (0, 2, 3), 'slice': lambda lib: slice(1, None),
    'slice_step': lambda lib: (slice(None), slice(None, None, 2)),
    'slice_neg': lambda lib: (Ellipsis, slice(-3, -1)), 'slice_past_end': lambda lib: slice(1, 10),
    'empty_slice': lambda lib: (slice(None), slice(2, 1)), 'none': lambda lib: None,
    'none_middle': lambda lib: (slice(None), None, 1), 'ellipsis': lambda lib: Ellipsis,
    'ellipsis_int': lambda lib: (Ellipsis, 2), 'none_ellipsis_none': lambda lib: (None, Ellipsis,
                                                                                 None),
    'long_tensor': lambda lib: T(lib, [1, 0, 1]), 'int32_tensor': lambda lib: T(lib, [0, 1],
                                                                                'int32'),
    'neg_tensor': lambda lib: (slice(None), T(lib, [-1, 0])), 'list': lambda lib: [1, 0],
    'list_neg': lambda lib: (0, [-1, -3]), 'nested_list': lambda lib: (T(lib, [[0], [1]]),
                                                                       T(lib, [0, 2])),
    'zero_dim_tensor': lambda lib: T(lib, 1), 'zero_dim_pair': lambda lib: (T(lib, 1), T(lib, 2)),
    'bool_mask': lambda lib: base(lib) > 0, 'bool_mask_2d': lambda lib: T(
        lib, [[True, False, True], [False, True, True]], 'bool'),
    'bool_mask_dim1': lambda lib: (slice(None), T(lib, [True, False, True], 'bool')),
    'bool_list': lambda lib: [True, False], 'bool_scalar_true': lambda lib: True,
    'bool_scalar_false': lambda lib: False, 'bool_0dim': lambda lib: T(lib, True, 'bool'),
    'uint8_mask': lambda lib: T(lib, [1, 0], 'uint8'),
    'adv_then_basic': lambda lib: (T(lib, [1, 0]), slice(1, 3)),
    'basic_then_adv': lambda lib: (slice(None), T(lib, [2, 0, 1])),
    'adv_adv_adjacent': lambda lib: (slice(None), T(lib, [0, 1]), T(lib, [1, 2])),
    'adv_separated': lambda lib: (T(lib, [0, 1]), slice(None), T(lib, [1, 2])),
    'int_and_adv': lambda lib: (0, slice(None), T(lib, [1, 2])),
    'adv_broadcast': lambda lib: (T(lib, [[0], [1]]), T(lib, [[0, 2]])),
    'none_and_adv': lambda lib: (Ellipsis, None, T(lib, [0, 1])),
    'mask_and_int': lambda lib: (T(lib, [True, False], 'bool'), 2),
    'empty_list': lambda lib: T(lib, [], 'int64'), 'repeated': lambda lib: T(lib, [1, 1, 1]),
    'step_slice_and_adv': lambda lib: (slice(None, None, 2), T(lib, [2, 0])),
}
GETITEM_ERRORS = {
    'int_out_of_range': lambda lib: 5, 'neg_out_of_range': lambda lib: -3,
    'dim1_out_of_range': lambda lib: (slice(None), 10),
    'tensor_out_of_range': lambda lib: T(lib, [5]), 'list_out_of_range': lambda lib: (
        [0, 1], [0, 5]), 'too_many': lambda lib: (0, 0, 0, 0), 'float': lambda lib: 1.5,
    'float_tensor': lambda lib: lib.tensor([1.0]), 'string': lambda lib: 'a',
    'mask_wrong_shape': lambda lib: T(lib, [True, False, True], 'bool'),
    'negative_step': lambda lib: slice(None, None, -1), 'zero_step': lambda lib: slice(0, 2, 0),
    'shape_mismatch': lambda lib: (T(lib, [0, 1]), T(lib, [0, 1, 2])),
}


@pytest.mark.parametrize('case', GETITEM)
def test_getitem_values(case):
    both(lambda lib: base(lib)[GETITEM[case](lib)])


@pytest.mark.parametrize('case', GETITEM)
def test_getitem_backward(case):
    def run(lib):
        x = base(lib, requires_grad=True)
        out = x[GETITEM[case](lib)]
        weighted_sum(lib, out).backward()
        return x.grad
    both(run)


@pytest.mark.parametrize('case', GETITEM)
def test_getitem_view_or_copy(case):
    """Basic indexing gives a view (shares memory and version counter), advanced a copy."""
    def run(lib):
        x = base(lib)
        out = x[GETITEM[case](lib)]
        shares = out.numel() > 0 and out.untyped_storage().data_ptr() == \
            x.untyped_storage().data_ptr()
        x.add_(1)
        return shares, out._version, out
    both(run)


@pytest.mark.parametrize('case', GETITEM_ERRORS)
def test_getitem_errors(case):
    both(lambda lib: base(lib)[GETITEM_ERRORS[case](lib)])


def test_out_of_range_messages_name_index_and_size():
    x = nbgrad.arange(6).reshape(2, 3)
    for index, words in (((5,), ('5', '2')), ((slice(None), 7), ('7', '3')),
                         ((nbgrad.tensor([4]),), ('4', '2'))):
        with pytest.raises(IndexError) as info:
            x[index]
        assert all(w in str(info.value) for w in words), str(info.value)


# -- __setitem__ -------------------------------------------------------------------------------

SETITEM = {
    'int_scalar': lambda lib: (1, 5.0), 'slice_scalar': lambda lib: ((slice(None), 1), -1.0),
    'step_slice': lambda lib: ((Ellipsis, slice(None, None, 2)), 3),
    'tensor_value': lambda lib: (0, lib.full((3, 4), 7.0)),
    'broadcast_row': lambda lib: ((slice(None), slice(1, 3)), lib.tensor([1.0, 2.0, 3.0, 4.0])),
    'broadcast_col': lambda lib: (Ellipsis, lib.tensor([[1.0], [2.0], [3.0]])),
    'mask_scalar': lambda lib: (base(lib) > 0, 0.0),
    'mask_tensor': lambda lib: (base(lib) > 5, lib.arange(8.0)),
    'mask_dim0': lambda lib: (T(lib, [False, True], 'bool'), 9.0),
    'adv_scalar': lambda lib: ((T(lib, [0, 1]), T(lib, [2, 0])), 100.0),
    'adv_tensor': lambda lib: ((slice(None), T(lib, [0, 2])), lib.tensor([[1.0], [2.0]])
                               .unsqueeze(-1)),
    'list_index': lambda lib: ([1, 0], lib.zeros(2, 3, 4)), 'none': lambda lib: (None, 1.5),
    'ellipsis_all': lambda lib: (Ellipsis, 2.0), 'neg': lambda lib: ((-1, -1, -1), 42.0),
    'int_value_into_float': lambda lib: (0, 3), 'bool_value': lambda lib: (0, True),
    'float64_value': lambda lib: (1, lib.ones(4, dtype=lib.float64) * 0.1),
    'zero_dim_tensor_value': lambda lib: ((0, 0), lib.tensor(8.0)),
    'zero_dim_index': lambda lib: (T(lib, 1), 0.5),
    'wrong_shape': lambda lib: (0, lib.ones(2, 2)),
    'out_of_range': lambda lib: (3, 1.0), 'adv_out_of_range': lambda lib: (T(lib, [0, 7]), 1.0),
}


@pytest.mark.parametrize('case', SETITEM)
def test_setitem(case):
    def run(lib):
        x = base(lib)
        view = x[1]
        index, value = SETITEM[case](lib)
        x[index] = value
        return x, x._version, view
    both(run)


@pytest.mark.parametrize('dtype', ['int64', 'uint8', 'bool', 'float64'])
def test_setitem_casts_to_target_dtype(dtype):
    def run(lib):
        x = lib.zeros(5, dtype=getattr(lib, dtype))
        x[1] = 3.7
        x[2:4] = lib.tensor([1.2, -0.0])
        x[x.bool()] = 1
        return x
    both(run)


@pytest.mark.parametrize('case', ['adv_scalar', 'mask_tensor', 'broadcast_row', 'adv_tensor',
                                  'tensor_value', 'step_slice'])
def test_setitem_backward(case):
    """Gradients to the target (zero where overwritten) and to the assigned tensor."""
    def run(lib):
        x = base(lib, requires_grad=True)
        y = x * 1
        index, value = SETITEM[case](lib)
        if isinstance(value, lib.Tensor):
            value = value.to(y.dtype).requires_grad_()
        y[index] = value
        weighted_sum(lib, y).backward()
        return x.grad, value.grad if isinstance(value, lib.Tensor) else None
    both(run)


# -- gather / scatter / index_* / masked_* / take / nonzero ------------------------------------

def _idx(lib):
    return T(lib, [[[0, 2], [1, 1], [2, 0]], [[1, 0], [0, 0], [2, 2]]])


FUNCTIONS = {
    'gather_dim2': lambda lib, x: x.gather(2, T(lib, [[[0, 3], [1, 1], [2, 0]],
                                                      [[3, 3], [0, 1], [2, 2]]])),
    'gather_dim1': lambda lib, x: lib.gather(x, 1, _idx(lib).transpose(1, 2)),
    'gather_smaller': lambda lib, x: x.gather(0, T(lib, [[[1]], ])),
    'gather_neg_dim': lambda lib, x: x.gather(-1, T(lib, [[[1, 2, 0, 3]]])),
    'scatter_src': lambda lib, x: x.scatter(1, T(lib, [[[0, 1, 2, 0]], [[2, 2, 1, 0]]]),
                                            lib.arange(40.0).reshape(2, 5, 4)),
    'scatter_value': lambda lib, x: x.scatter(2, T(lib, [[[0], [3], [1]], [[2], [2], [0]]]),
                                              -5.0),
    'scatter_reduce_add': lambda lib, x: x.scatter(2, T(lib, [[[0, 0]]]), lib.ones(1, 1, 2),
                                                   reduce='add'),
    'scatter_add': lambda lib, x: x.scatter_add(2, T(lib, [[[0, 0, 3], [1, 1, 1], [2, 0, 2]],
                                                            [[3, 3, 3], [0, 1, 0], [2, 2, 1]]]),
                                                lib.arange(18.0).reshape(2, 3, 3)),
    'scatter_add_fn': lambda lib, x: lib.scatter_add(x, 0, T(lib, [[[1, 0, 1, 1]]]),
                                                     lib.ones(1, 1, 4)),
    'index_select': lambda lib, x: x.index_select(2, T(lib, [3, 0, 0])),
    'index_select_fn': lambda lib, x: lib.index_select(x, 0, T(lib, [1])),
    'index_select_int32': lambda lib, x: x.index_select(1, T(lib, [2, 1], 'int32')),
    'index_select_0dim_index': lambda lib, x: x.index_select(1, T(lib, 2)),
    'index_add': lambda lib, x: x.index_add(1, T(lib, [0, 2, 0]), lib.ones(2, 3, 4) * 2),
    'index_add_alpha': lambda lib, x: x.index_add(2, T(lib, [1, 1]),
                                                  lib.arange(12.0).reshape(2, 3, 2), alpha=-3),
    'index_copy': lambda lib, x: x.index_copy(2, T(lib, [3, 1]),
                                              lib.arange(12.0).reshape(2, 3, 2)),
    'index_fill': lambda lib, x: x.index_fill(1, T(lib, [0, 2]), -1.5),
    'index_fill_0dim_value': lambda lib, x: x.index_fill(2, T(lib, [1]), lib.tensor(4.0)),
    'masked_fill': lambda lib, x: x.masked_fill(x > 3, 0.5),
    'masked_fill_broadcast': lambda lib, x: x.masked_fill(T(lib, [True, False, False, True],
                                                            'bool'), 9.0),
    'masked_fill_0dim_value': lambda lib, x: x.masked_fill(x < 0, lib.tensor(-1.0)),
    'masked_select': lambda lib, x: x.masked_select(x > 0),
    'masked_select_broadcast': lambda lib, x: lib.masked_select(x, T(lib, [[True], [False],
                                                                           [True]], 'bool')),
    'masked_scatter': lambda lib, x: x.masked_scatter(x > 5, lib.arange(100.0, 124.0)
                                                      .reshape(2, 3, 4)),
    'masked_scatter_short_source': lambda lib, x: x.masked_scatter(x > 10, -lib.arange(5.0)),
    'take': lambda lib, x: x.take(T(lib, [[0, 23], [5, 5]])),
    'take_fn_neg': lambda lib, x: lib.take(x, T(lib, [-1, -24])),
    'take_along_dim': lambda lib, x: lib.take_along_dim(x, T(lib, [[[3, 2, 1, 0], [0, 0, 1, 1],
                                                                     [2, 3, 0, 1]]]), dim=2),
    'take_along_dim_broadcast': lambda lib, x: x.take_along_dim(T(lib, [[[0], [2], [1]]]), 2),
    'take_along_dim_flat': lambda lib, x: lib.take_along_dim(x, T(lib, [3, 0, 7])),
    'index_put': lambda lib, x: x.index_put((T(lib, [0, 1]), T(lib, [2, 2])),
                                            lib.tensor([1.0, 2.0])),
    'index_put_accumulate': lambda lib, x: x.index_put((T(lib, [0, 0, 1]),), lib.ones(3, 4),
                                                       accumulate=True),
}
FUNCTION_ERRORS = {
    'gather_out_of_range': lambda lib, x: x.gather(0, T(lib, [[[3]]])),
    'gather_wrong_ndim': lambda lib, x: x.gather(0, T(lib, [0])),
    'gather_float_index': lambda lib, x: x.gather(0, lib.zeros(1, 1, 1)),
    'gather_int32_index': lambda lib, x: x.gather(0, T(lib, [[[0]]], 'int32')),
    'scatter_out_of_range': lambda lib, x: x.scatter(0, T(lib, [[[5]]]), 1.0),
    'index_select_out_of_range': lambda lib, x: x.index_select(0, T(lib, [3])),
    'index_select_2d_index': lambda lib, x: x.index_select(0, T(lib, [[0]])),
    'index_select_float_index': lambda lib, x: x.index_select(0, lib.tensor([0.0])),
    'index_add_wrong_source': lambda lib, x: x.index_add(0, T(lib, [0]), lib.ones(2, 3, 4)),
    'masked_fill_int_mask': lambda lib, x: x.masked_fill(T(lib, [1, 0, 0, 1]), 0.0),
    'masked_fill_1d_value': lambda lib, x: x.masked_fill(x > 0, lib.tensor([1.0])),
    'masked_select_int_mask': lambda lib, x: x.masked_select(T(lib, [1, 0, 0, 1])),
    'masked_scatter_short': lambda lib, x: x.masked_scatter(x > 0, lib.ones(3)),
    'take_out_of_range': lambda lib, x: x.take(T(lib, [24])),
}
# (name, which arguments get gradients): the source tensors of scatter/index_add/... are
# differentiable too, and their gradients are compared as well.
SOURCE_ARG = {'scatter_src', 'scatter_add', 'scatter_add_fn', 'index_add', 'index_add_alpha',
              'index_copy', 'masked_scatter', 'masked_scatter_short_source', 'index_put',
              'index_put_accumulate'}
NOT_DIFFERENTIABLE_IN_TORCH = {'scatter_reduce_add'}  # torch: derivative not implemented


@pytest.mark.parametrize('case', FUNCTIONS)
def test_indexing_function_values(case):
    both(lambda lib: FUNCTIONS[case](lib, base(lib)))


@pytest.mark.parametrize('case', list(FUNCTION_ERRORS))
def test_indexing_function_errors(case):
    both(lambda lib: FUNCTION_ERRORS[case](lib, base(lib)))


@pytest.mark.parametrize('case', [c for c in FUNCTIONS if c not in NOT_DIFFERENTIABLE_IN_TORCH])
def test_indexing_function_backward(case):
    """Gradient w.r.t. the input and, for ops that write a source tensor, w.r.t. the source."""
    def run(lib):
        x = base(lib, requires_grad=True)
        sources = []
        if case in SOURCE_ARG:
            make_leaf = lib.Tensor.requires_grad_

            def capture(t):
                t = t.detach().clone()
                make_leaf(t)
                sources.append(t)
                return t
            out = FUNCTIONS[case](_SourceCapture(lib, capture), x)
        else:
            out = FUNCTIONS[case](lib, x)
        weighted_sum(lib, out).backward()
        return x.grad, [s.grad for s in sources]
    both(run)


class _SourceCapture:
    """Stands in for the library module so that float tensors created by lib.ones/arange/tensor
    (the source operands) become leaves requiring grad, collected by `capture`."""

    def __init__(self, lib, capture):
        self._lib, self._capture = lib, capture

    def __getattr__(self, name):
        attr = getattr(self._lib, name)
        if name not in ('ones', 'arange', 'tensor', 'zeros'):
            return attr

        def make(*args, **kwargs):
            t = attr(*args, **kwargs)
            return self._capture(t) if t.is_floating_point() else t
        return make


INPLACE_ARGS = {
    'index_add': lambda lib, x: (1, T(lib, [0, 2, 0]), lib.ones(2, 3, 4) * 2),
    'index_copy': lambda lib, x: (2, T(lib, [3, 1]), lib.arange(12.0).reshape(2, 3, 2)),
    'index_fill': lambda lib, x: (1, T(lib, [0, 2]), -1.5),
    'masked_fill': lambda lib, x: (x > 3, 0.5),
    'masked_scatter': lambda lib, x: (x > 5, lib.arange(100.0, 124.0).reshape(2, 3, 4)),
    'scatter': lambda lib, x: (1, T(lib, [[[0, 1, 2, 0]], [[2, 2, 1, 0]]]),
                               lib.arange(40.0).reshape(2, 5, 4)),
    'scatter_add': lambda lib, x: (0, T(lib, [[[1, 0, 1, 1]]]), lib.ones(1, 1, 4)),
    'index_put': lambda lib, x: ((T(lib, [0, 1]), T(lib, [2, 2])), lib.tensor([1.0, 2.0])),
}


@pytest.mark.parametrize('name', INPLACE_ARGS)
def test_inplace_variants(name):
    """x.op_(...) equals x.op(...), returns x itself and bumps its version (and its views') once."""
    def run(lib):
        x = base(lib)
        view = x[0]
        args = INPLACE_ARGS[name](lib, x)
        expected = getattr(x, name)(*args)
        out = getattr(x, name + '_')(*args)
        return out is x, x._version, view._version, x, expected
    both(run)


NONZERO_CASES = {
    '3d': lambda lib: base(lib) % 3 == 0, '1d': lambda lib: lib.tensor([0, 1, 0, 2]),
    'float': lambda lib: lib.tensor([[0.0, 0.5], [-1.0, 0.0]]), 'none': lambda lib: lib.zeros(2, 3),
    'scalar_true': lambda lib: lib.tensor(3), 'scalar_false': lambda lib: lib.tensor(0.0),
    'empty': lambda lib: lib.zeros(0, 2), 'bool': lambda lib: lib.tensor([[True, False, True]]),
}


@pytest.mark.parametrize('as_tuple', [False, True])
@pytest.mark.parametrize('case', NONZERO_CASES)
def test_nonzero(case, as_tuple):
    both(lambda lib: NONZERO_CASES[case](lib).nonzero(as_tuple=as_tuple))
    both(lambda lib: lib.nonzero(NONZERO_CASES[case](lib), as_tuple=as_tuple))


def test_argwhere():
    both(lambda lib: lib.argwhere(base(lib) > 8))


@pytest.mark.parametrize('name', INPLACE_ARGS)
def test_inplace_variants_backward(name):
    """The in-place variants on a non-leaf: the gradient reaching the leaf equals torch's."""
    def run(lib):
        x = base(lib, requires_grad=True)
        y = x * 2
        getattr(y, name + '_')(*INPLACE_ARGS[name](lib, y.detach()))
        weighted_sum(lib, y).backward()
        return x.grad, y.grad_fn.name()
    both(run)


def test_scatter_reduce_argument_with_a_tensor_source_warns_once_as_pytorch():
    """PyTorch deprecates scatter's reduce= with a Tensor src (a one-time UserWarning); a scalar
    value does not warn."""
    import warnings
    import nbgrad.ops.indexing as indexing_ops
    indexing_ops._warned_reduce_with_tensor[0] = False
    index = nbgrad.tensor([[0, 1, 2]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        nbgrad.zeros(3, 3).scatter_(0, index, 2., reduce='add')
        assert not caught
        for _ in range(2):
            nbgrad.zeros(3, 3).scatter_(0, index, nbgrad.ones(1, 3), reduce='add')
    assert [str(w.message)[:48] for w in caught] == [
        'The reduce argument of torch.scatter with Tensor']


@pytest.mark.filterwarnings('ignore:The reduce argument')
@pytest.mark.parametrize('reduce', ['add', 'multiply'])
@pytest.mark.parametrize('src', ['tensor', 'scalar'])
def test_scatter_with_reduce_has_no_derivative_as_in_pytorch(reduce, src):
    """scatter(reduce=) gets PyTorch's NotImplemented grad_fn, whose backward raises (nbgrad
    once gave 'multiply' the gradient of a plain scatter: silently wrong)."""
    from torch_compare import assert_same_error

    def forward(lib):
        x = lib.ones(5, requires_grad=True)
        value = lib.full((3,), 2.0, requires_grad=True) if src == 'tensor' else 2.0
        return x.scatter(0, lib.tensor([0, 1, 0]), value, reduce=reduce)

    def names(lib):
        node = forward(lib).grad_fn
        return node.name(), repr(node).split(' ')[0]
    assert names(nbgrad) == names(torch)
    assert_same_error(lambda lib: forward(lib).sum().backward())


def test_graph_node_names_carry_pytorchs_namespace():
    """AccumulateGrad's name() is 'torch::autograd::AccumulateGrad'; repr drops the namespace."""
    def names(lib):
        x = lib.ones(2, requires_grad=True)
        node = (x * 2).sum().grad_fn.next_functions[0][0].next_functions[0][0]
        return node.name(), repr(node).split(' ')[0]
    assert names(nbgrad) == names(torch)


@pytest.mark.parametrize('call', [
    lambda lib: lib.zeros(3).scatter_(0, lib.tensor([0, 1]), lib.tensor([1, 2])),
    lambda lib: lib.zeros(3).scatter_add(0, lib.tensor([0, 1]), lib.tensor([1., 2.],
                                                                         dtype=lib.float64)),
    lambda lib: lib.zeros(3).scatter(0, lib.tensor([0, 1, 2]), lib.tensor([1.])),
], ids=['int_source', 'float64_source', 'source_shorter_than_index'])
def test_scatter_refuses_a_source_of_another_dtype_or_too_short(call):
    """(nbgrad cast the source, and read past a short one)"""
    from torch_compare import assert_same_error
    assert_same_error(call)
