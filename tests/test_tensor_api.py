"""The Tensor object's API against PyTorch: attributes, memory layout (strides, storage,
contiguity), conversions (item, tolist, numpy, __array__, DLPack, to/type/float/...), autograd state
(is_leaf, requires_grad_, detach, version counter), repr and grad_fn names, Python protocol errors,
new_* constructors and NumPy interoperability. Each check runs the same code with torch and
nbgrad."""
import operator
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import both as _both, dname, each_lib, marked

torch = pytest.importorskip('torch')


def normalise(value):
    """Make torch and nbgrad results comparable: tensors to (dtype, shape, values), sizes and
    dtypes to plain tuples and names."""
    if isinstance(value, (torch.Tensor, nbgrad.Tensor)):
        return ('tensor', dname(value.dtype), tuple(value.shape),
                value.detach().numpy().tolist())
    if isinstance(value, (torch.dtype, nbgrad.dtype)):
        return ('dtype', dname(value))
    if isinstance(value, (torch.device, nbgrad.device)):
        return ('device', str(value))
    if isinstance(value, (torch.Size, nbgrad.Size)):
        return ('size', tuple(value))
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [normalise(v) for v in value]
    if isinstance(value, str):
        return value.replace('torch.', 'nbgrad.')
    return value


def assert_same_normalised(got, expected):
    assert normalise(got) == normalise(expected)
    assert type(got).__name__ == type(expected).__name__ or isinstance(expected, torch.Tensor)


def both(fn):
    """fn(torch) and fn(nbgrad) give equal results (after normalise) or the same exception kind;
    returns nbgrad's result (None where torch raised)."""
    return _both(fn, assert_same_normalised)


def base(lib, dtype='float32'):
    return lib.arange(24, dtype=getattr(lib, dtype)).reshape(2, 3, 4)


# Tensors of various layouts, each made the same way in both libraries.
LAYOUTS = {
    'contiguous': lambda lib: base(lib),
    'scalar': lambda lib: lib.tensor(3.5),
    'empty': lambda lib: lib.zeros(0, 3),
    'transposed': lambda lib: base(lib).transpose(0, 2),
    'sliced': lambda lib: base(lib)[:, 1:, ::2],
    'offset': lambda lib: base(lib)[1, 2:],
    'expanded': lambda lib: lib.arange(3.0).expand(4, 3),
    'unsqueezed': lambda lib: base(lib)[:, :1].unsqueeze(0),
    'unsqueezed_transposed': lambda lib: base(lib).transpose(0, 2).unsqueeze(3),
    'new_axes': lambda lib: base(lib).transpose(0, 2)[None, :, None, ..., None],
    'expanded_new_dims': lambda lib: lib.arange(3.0).expand(2, 1, 3),
    'size1_dims': lambda lib: lib.arange(4.0).reshape(1, 4, 1),
    'permuted': lambda lib: base(lib).permute(1, 2, 0),
    'column': lambda lib: base(lib)[0, :, 1:2],
    'diagonal': lambda lib: base(lib)[0].diagonal(),
    'narrowed_size1': lambda lib: base(lib)[:, 1:2, :],
    'int64': lambda lib: base(lib, 'int64').mT,
    'bool': lambda lib: base(lib) > 5,
}


# -- attributes --------------------------------------------------------------------------------

ATTRIBUTES = {
    'shape': lambda x: x.shape, 'size': lambda x: x.size(), 'size0': lambda x: x.size(0),
    'size_neg': lambda x: x.size(-1), 'dim': lambda x: x.dim(), 'ndim': lambda x: x.ndim,
    'numel': lambda x: x.numel(), 'nelement': lambda x: x.nelement(), 'dtype': lambda x: x.dtype,
    'device': lambda x: x.device, 'T': lambda x: x.T, 'mT': lambda x: x.mT,
    'stride': lambda x: x.stride(), 'stride0': lambda x: x.stride(0),
    'stride_neg': lambda x: x.stride(-1), 'storage_offset': lambda x: x.storage_offset(),
    'is_contiguous': lambda x: x.is_contiguous(), 'element_size': lambda x: x.element_size(),
    'itemsize': lambda x: x.itemsize, 'nbytes': lambda x: x.nbytes,
    'is_floating_point': lambda x: x.is_floating_point(), 'is_complex': lambda x: x.is_complex(),
    'is_leaf': lambda x: x.is_leaf, 'requires_grad': lambda x: x.requires_grad,
    'is_cuda': lambda x: x.is_cuda, 'is_cpu': lambda x: x.is_cpu,
    'get_device': lambda x: x.get_device(), 'tolist': lambda x: x.tolist(),
    'len': lambda x: len(x), 'size_out_of_range': lambda x: x.size(3),
    'stride_out_of_range': lambda x: x.stride(-4), 'item': lambda x: x.item(),
    'contiguous_values': lambda x: x.contiguous(),
    'contiguous_strides': lambda x: x.contiguous().stride(),
    'clone_strides': lambda x: x.clone().stride(),
    'shape_index': lambda x: x.shape[-1], 'shape_slice': lambda x: x.shape[1:],
    'shape_numel': lambda x: x.shape.numel(), 'shape_eq_tuple': lambda x: x.shape == x.size(),
}


# A copy's strides for size-1 dims are NumPy's (the outermost stride), where PyTorch's
# preserve_format copies the input's; they never address memory, and only these layouts show it
_SIZE_ONE_COPY_STRIDES = {('clone_strides', 'unsqueezed_transposed'), ('clone_strides', 'new_axes')}


@pytest.mark.parametrize('attr,layout', [(a, layout) for a in ATTRIBUTES for layout in LAYOUTS
                                         if (a, layout) not in _SIZE_ONE_COPY_STRIDES])
def test_attribute_matches_torch(layout, attr):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # torch warns about .T on non-2-D tensors
        both(lambda lib: ATTRIBUTES[attr](LAYOUTS[layout](lib)))


@each_lib
def test_contiguous_returns_self_only_when_contiguous(lib):
    x = base(lib)
    assert x.contiguous() is x
    size1 = lib.arange(4.0).reshape(1, 4, 1).permute(2, 1, 0)  # only size-1 dims moved
    assert size1.is_contiguous() and size1.contiguous() is size1
    t = x.transpose(0, 1)
    c = t.contiguous()
    assert c is not t and c.is_contiguous() and not t.is_contiguous()
    assert c.untyped_storage().data_ptr() != t.untyped_storage().data_ptr()


VIEWS = {
    'slice': lambda x: x[1:], 'select': lambda x: x[1], 'transpose': lambda x: x.t(),
    'view': lambda x: x.view(-1), 'diagonal': lambda x: x.diagonal(),
    'expand': lambda x: x[:1].expand(5, 4), 'detach': lambda x: x.detach(),
    'unsqueeze': lambda x: x.unsqueeze(1), 'narrow': lambda x: x.narrow(1, 2, 2),
    'as_strided': lambda x: x.as_strided((2, 2), (1, 4), 3),
}


@pytest.mark.parametrize('view', VIEWS)
@each_lib
def test_views_share_storage_pointer(lib, view):
    x = lib.arange(20.0).reshape(5, 4)
    v = VIEWS[view](x)
    assert v.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    assert v.data_ptr() == x.data_ptr() + v.storage_offset() * v.element_size()
    assert lib.ones(2).untyped_storage().data_ptr() != x.untyped_storage().data_ptr()


@each_lib
def test_untyped_storage_size(lib):
    x = lib.arange(20.0).reshape(5, 4)
    assert x.untyped_storage().nbytes() == 80
    assert x[1:, 2:].untyped_storage().nbytes() == 80
    assert x.clone()[1:].untyped_storage().nbytes() == 80


# -- conversions -------------------------------------------------------------------------------

SCALARS = {'float': lambda lib: lib.tensor(2.5), 'int': lambda lib: lib.tensor([7]),
           'bool': lambda lib: lib.tensor([[True]]), 'neg_float': lambda lib: lib.tensor(-1.75),
           'float64': lambda lib: lib.tensor(0.1, dtype=lib.float64),
           'float16': lambda lib: lib.tensor(0.1, dtype=lib.float16),
           'uint8': lambda lib: lib.tensor(255, dtype=lib.uint8),
           'complex': lambda lib: lib.tensor(1 - 2j), 'multi': lambda lib: lib.ones(2),
           'empty': lambda lib: lib.ones(0), 'int_0dim': lambda lib: lib.tensor(-3)}
CONVERSIONS = {'item': lambda t: t.item(), 'float': float, 'int': int, 'bool': bool,
               'complex': complex, 'index': operator.index, 'tolist': lambda t: t.tolist(),
               'list_index': lambda t: [10, 11, 12, 13][t] if t.numel() else None,
               'format': lambda t: f'{t:.3f}' if t.dim() == 0 else None,
               'len': len, 'iter': lambda t: [v.item() for v in t]}



@pytest.mark.parametrize('make', SCALARS)
@pytest.mark.parametrize('conv', CONVERSIONS)
def test_python_conversions_and_their_errors(make, conv):
    def run(lib):
        return CONVERSIONS[conv](SCALARS[make](lib))
    got = both(run)
    if got is not None and conv in ('item', 'tolist'):  # Python types, not NumPy scalars
        assert type(got) is type(run(torch))


@each_lib
def test_numpy_refuses_requires_grad_with_detach_hint(lib):
    x = lib.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r'detach\(\)\.numpy\(\)'):
        x.numpy()
    np.testing.assert_array_equal(x.detach().numpy(), np.ones(2, np.float32))
    with pytest.raises(RuntimeError):
        np.asarray(x)


@each_lib
@pytest.mark.parametrize('layout', LAYOUTS)
def test_numpy_shares_memory(lib, layout):
    x = LAYOUTS[layout](lib)
    a = x.numpy()
    assert a.dtype.name == dname(x.dtype) and a.shape == tuple(x.shape)
    assert np.shares_memory(a, x.numpy()) or x.numel() == 0
    if x.numel() and a.flags.writeable and layout != 'expanded':
        a.flat[0] = 1
        assert x.reshape(-1)[0].item() == 1


@pytest.mark.parametrize('layout', LAYOUTS)
@pytest.mark.parametrize('dtype', [None, 'float64', 'int32'])
def test_array_protocol(layout, dtype):
    def run(lib):
        x = LAYOUTS[layout](lib)
        a = np.asarray(x) if dtype is None else np.asarray(x, dtype=dtype)
        return a.dtype.name, a.shape, a.tolist()
    both(run)


@each_lib
def test_array_protocol_shares_memory(lib):
    x = lib.zeros(3)
    np.asarray(x)[1] = 5.0
    assert x[1].item() == 5.0
    c = np.array(x, copy=True)
    c[0] = 9.0
    assert x[0].item() == 0.0


@pytest.mark.parametrize('layout', LAYOUTS)
def test_dlpack_round_trip_with_torch_and_numpy(layout):
    """torch.from_dlpack(nbgrad tensor), nbgrad.from_dlpack(torch tensor) and
    np.from_dlpack(nbgrad tensor) keep dtype, shape, strides and values, and share memory."""
    nb = LAYOUTS[layout](nbgrad)
    th = torch.from_dlpack(nb)
    # (an empty tensor's strides are whatever the exporter wrote: NumPy writes zeros)
    same_strides = nb.numel() == 0 or th.stride() == nb.stride()
    assert normalise(th) == normalise(nb) and same_strides
    back = nbgrad.from_dlpack(th)
    assert normalise(back) == normalise(nb) and (nb.numel() == 0 or back.stride() == nb.stride())
    if nb.numel():  # torch gives empty tensors a null data pointer
        assert th.data_ptr() == nb.data_ptr() == back.data_ptr()
    a = np.from_dlpack(nb)
    np.testing.assert_array_equal(a, nb.numpy())
    assert np.shares_memory(a, nb.numpy()) or nb.numel() == 0


@each_lib
def test_dlpack_from_torch_shares_memory(lib):
    src = torch.zeros(4)
    t = lib.from_dlpack(src)
    src[2] = 3.0
    assert t[2].item() == 3.0
    t[0] = -1.0
    assert src[0].item() == -1.0


@pytest.mark.parametrize('layout', ['contiguous', 'transposed', 'sliced', 'empty'])
def test_dlpack_bfloat16_both_ways_with_torch(layout):
    """bfloat16 crosses DLPack in both directions (NumPy has no code for it), keeping values,
    strides and memory."""
    nb = LAYOUTS[layout](nbgrad).to(nbgrad.bfloat16)
    th = torch.from_dlpack(nb)
    assert th.dtype == torch.bfloat16 and th.shape == nb.shape
    assert th.float().tolist() == nb.float().tolist()
    assert nb.numel() == 0 or th.stride() == nb.stride()
    back = nbgrad.from_dlpack(th)
    assert back.dtype == nbgrad.bfloat16 and back.float().tolist() == nb.float().tolist()
    if nb.numel():
        th.fill_(2.5)                      # writes reach all three
        assert nb.float().unique().tolist() == back.float().unique().tolist() == [2.5]


@each_lib
def test_dlpack_legacy_capsule_is_writable(lib):
    """A to_dlpack capsule (unversioned DLPack) imports as a tensor that writes through, in
    both directions between the libraries (NumPy alone would import it read-only)."""
    src = torch.arange(4.0)
    imported = lib.utils.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(src))
    imported[1] = -5.0
    assert src.tolist() == [0.0, -5.0, 2.0, 3.0]
    own = lib.zeros(3)
    again = lib.from_dlpack(lib.utils.dlpack.to_dlpack(own))     # the top-level name takes it
    again.add_(1.0)
    assert own.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match='consumed only once'):
        capsule = lib.utils.dlpack.to_dlpack(own)
        lib.from_dlpack(capsule)
        lib.from_dlpack(capsule)


def test_dlpack_device_is_the_enum():
    assert nbgrad.ones(1).__dlpack_device__() == torch.ones(1).__dlpack_device__()
    kind, index = nbgrad.ones(1).__dlpack_device__()
    assert repr(kind) == repr(torch.ones(1).__dlpack_device__()[0]) and index == 0
    assert {m.name: m.value for m in nbgrad.utils.dlpack.DLDeviceType} == \
        {m.name: m.value for m in torch.utils.dlpack.DLDeviceType}


def test_dlpack_refuses_requires_grad():
    both(lambda lib: lib.ones(2, requires_grad=True).__dlpack__())


TO_CALLS = {
    'to_dtype': lambda lib, x: x.to(lib.float64),
    'to_int': lambda lib, x: x.to(lib.int32),
    'to_device_str': lambda lib, x: x.to('cpu'),
    'to_device_obj': lambda lib, x: x.to(lib.device('cpu')),
    'to_device_and_dtype': lambda lib, x: x.to('cpu', lib.float16),
    'to_kwargs': lambda lib, x: x.to(device='cpu', dtype=lib.int64),
    'to_other_tensor': lambda lib, x: x.to(lib.zeros(1, dtype=lib.int16)),
    'to_python_float': lambda lib, x: x.to(float),
    'type_name': lambda lib, x: x.type(),
    'type_int_name': lambda lib, x: x.long().type(),
    'type_dtype': lambda lib, x: x.type(lib.float64),
    'type_string': lambda lib, x: x.type('torch.IntTensor'),
    'type_as': lambda lib, x: x.type_as(lib.zeros(1, dtype=lib.uint8)),
    'float': lambda lib, x: x.float(), 'double': lambda lib, x: x.double(),
    'half': lambda lib, x: x.half(), 'long': lambda lib, x: x.long(),
    'int': lambda lib, x: x.int(), 'short': lambda lib, x: x.short(),
    'char': lambda lib, x: x.char(), 'byte': lambda lib, x: x.byte(),
    'bool': lambda lib, x: x.bool(), 'cfloat': lambda lib, x: x.cfloat(),
    'cpu': lambda lib, x: x.cpu(), 'to_bad': lambda lib, x: x.to('nope'),
}


@pytest.mark.parametrize('call', TO_CALLS)
@pytest.mark.parametrize('src', ['float32', 'int64', 'bool'])
def test_conversions(call, src):
    def run(lib):
        x = lib.tensor([[-1.5, 0.0, 2.7], [3.2, -0.4, 300.0]])
        return TO_CALLS[call](lib, x.to(getattr(lib, src)))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # float -> uint8/int8 overflow casts
        both(run)


@each_lib
def test_to_returns_self_when_nothing_changes(lib):
    x = lib.ones(2, 3)
    assert x.to('cpu') is x and x.to(lib.float32) is x and x.to(x) is x and x.cpu() is x
    assert x.to(lib.float64) is not x and x.float() is x


@each_lib
def test_to_copy_true_copies(lib):
    x = lib.ones(2, 3)
    y = x.to(lib.float32, copy=True)
    y[0, 0] = 5.0
    assert x[0, 0].item() == 1.0


@each_lib
def test_to_is_differentiable(lib):
    x = lib.tensor([1.5, -2.0], requires_grad=True)
    y = x.to(lib.float64)
    assert y.grad_fn.name() == 'ToCopyBackward0'
    (y * y).sum().backward()
    assert x.grad.dtype == lib.float32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -4.0])


NEW = {
    'new_zeros': lambda lib, x: x.new_zeros(2, 3),
    'new_zeros_tuple': lambda lib, x: x.new_zeros((2,)),
    'new_ones': lambda lib, x: x.new_ones((1, 2)),
    'new_full': lambda lib, x: x.new_full((2, 2), 7),
    'new_full_float': lambda lib, x: x.new_full((2,), 2.5),
    'new_empty_shape': lambda lib, x: x.new_empty(4, 2).shape,
    'new_tensor': lambda lib, x: x.new_tensor([1, 2, 3]),
    'new_tensor_float': lambda lib, x: x.new_tensor([1.5, 2.5]),
    'new_tensor_dtype': lambda lib, x: x.new_tensor([1, 0], dtype=lib.bool),
    'new_zeros_dtype': lambda lib, x: x.new_zeros(2, dtype=lib.float64),
    'new_ones_requires_grad': lambda lib, x: x.new_ones(2, dtype=lib.float32,
                                                        requires_grad=True).requires_grad,
}


@pytest.mark.parametrize('call', NEW)
@pytest.mark.parametrize('src', ['float64', 'int32', 'bool', 'float16'])
def test_new_constructors(call, src):
    both(lambda lib: NEW[call](lib, lib.zeros(3, dtype=getattr(lib, src))))


@each_lib
def test_new_tensor_copies_and_detaches(lib):
    src = lib.ones(2, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # torch warns that new_tensor(tensor) copies
        out = lib.zeros(1).new_tensor(src)
    assert not out.requires_grad and out.is_leaf
    out[0] = 5.0
    assert src[0].item() == 1.0


# -- autograd state: leaves, requires_grad_, detach, clone, _version ---------------------------

@each_lib
def test_is_leaf_and_requires_grad(lib):
    a = lib.ones(2)
    b = lib.ones(2, requires_grad=True)
    c = b * 2
    assert a.is_leaf and b.is_leaf and not c.is_leaf
    assert not a.requires_grad and b.requires_grad and c.requires_grad
    assert a.requires_grad_() is a and a.requires_grad
    assert a.requires_grad_(False) is a and not a.requires_grad
    assert c.requires_grad_(True) is c
    with pytest.raises(RuntimeError):
        c.requires_grad_(False)
    with pytest.raises(RuntimeError):
        lib.ones(2, dtype=lib.int64).requires_grad_()
    with lib.no_grad():
        d = b * 2
    assert d.is_leaf and not d.requires_grad


@each_lib
def test_requires_grad_setter(lib):
    x = lib.zeros(3)
    x.requires_grad = True
    assert x.requires_grad and x.grad_fn is None
    with pytest.raises(RuntimeError):
        (x + 1).requires_grad = False


@each_lib
def test_detach_shares_memory_and_version_counter(lib):
    x = lib.arange(4.0, requires_grad=True)
    y = x * 1
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    assert d.data_ptr() == y.data_ptr()
    v = y._version
    d.add_(1)
    assert y._version == v + 1 == d._version
    np.testing.assert_array_equal(y.detach().numpy(), [1, 2, 3, 4])
    y.mul_(2)
    assert d._version == v + 2
    np.testing.assert_array_equal(d.numpy(), [2, 4, 6, 8])


@each_lib
def test_data_shares_memory_but_not_version(lib):
    x = lib.arange(3.0, requires_grad=True)
    d = x.data
    assert not d.requires_grad and d.data_ptr() == x.data_ptr()
    d.add_(1)
    assert x._version == 0
    np.testing.assert_array_equal(x.detach().numpy(), [1, 2, 3])


@each_lib
def test_clone_copies_and_is_differentiable(lib):
    x = lib.arange(6.0).reshape(2, 3).t().requires_grad_()
    c = x.clone()
    assert c.data_ptr() != x.data_ptr()
    assert c.grad_fn.name() == 'CloneBackward0'
    c.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 2)))
    assert lib.ones(2).clone()._version == 0


@each_lib
def test_detach_inplace(lib):
    y = lib.ones(2, requires_grad=True) * 3
    assert y.detach_() is y and y.is_leaf and not y.requires_grad
    v = lib.ones(2, requires_grad=True).clone()[:1]
    with pytest.raises(RuntimeError):
        v.detach_()


# -- repr and grad_fn names --------------------------------------------------------------------

GRAD_FN_OPS = {
    'add': lambda lib, x: x + 1, 'rsub': lambda lib, x: 2 - x, 'sub': lambda lib, x: x - x,
    'mul': lambda lib, x: x * 2, 'div_scalar': lambda lib, x: x / 2, 'rdiv': lambda lib, x: 2 / x,
    'neg': lambda lib, x: -x, 'abs': lambda lib, x: abs(x), 'exp': lambda lib, x: x.exp(),
    'pow_scalar': lambda lib, x: x ** 2, 'pow_tensor': lambda lib, x: x ** x,
    'matmul': lambda lib, x: x @ x.t(), 'sum': lambda lib, x: x.sum(),
    'sum_dim': lambda lib, x: x.sum(0), 'mean': lambda lib, x: x.mean(),
    'max': lambda lib, x: x.max(), 'max_dim': lambda lib, x: x.max(0).values,
    'relu': lambda lib, x: lib.relu(x), 'sigmoid': lambda lib, x: x.sigmoid(),
    'tanh': lambda lib, x: x.tanh(), 'to': lambda lib, x: x.double(),
    'view': lambda lib, x: x.view(-1), 'flatten': lambda lib, x: x.flatten(),
    'reshape_copy': lambda lib, x: x.t().reshape(6), 'transpose': lambda lib, x: x.transpose(0, 1),
    'T': lambda lib, x: x.T, 'mT': lambda lib, x: x.mT, 't': lambda lib, x: x.t(),
    'permute': lambda lib, x: x.permute(1, 0), 'unsqueeze': lambda lib, x: x.unsqueeze(0),
    'squeeze_dim': lambda lib, x: x.unsqueeze(0).squeeze(0), 'expand': lambda lib, x:
    x[:1].expand(4, 3), 'select': lambda lib, x: x[0], 'select_dim': lambda lib, x: x.select(1, 0),
    'slice': lambda lib, x: x[1:], 'slice_step': lambda lib, x: x[:, ::2],
    'ellipsis': lambda lib, x: x[..., 0], 'none': lambda lib, x: x[None],
    'index': lambda lib, x: x[[0, 1]], 'mask': lambda lib, x: x[x > 0],
    'narrow': lambda lib, x: x.narrow(1, 0, 2), 'diagonal': lambda lib, x: x.diagonal(),
    'chunk': lambda lib, x: x.chunk(2)[0], 'unbind': lambda lib, x: x.unbind()[0],
    'cat': lambda lib, x: lib.cat([x, x]), 'stack': lambda lib, x: lib.stack([x, x]),
    'where': lambda lib, x: lib.where(x > 0, x, 0.0),
    'masked_fill': lambda lib, x: x.masked_fill(x > 0, 1.0),
    'gather': lambda lib, x: x.gather(1, lib.tensor([[0], [1]])),
    'contiguous': lambda lib, x: x.t().contiguous(), 'clone': lambda lib, x: x.clone(),
    'inplace_exp': lambda lib, x: x.clone().exp_(),
    'inplace_on_view': lambda lib, x: x.clone()[0].mul_(2),
    'sibling_view_after_inplace': lambda lib, x: (lambda a: (lambda v, w: (v.mul_(2), w)[1])(
        a[0], a.t()))(x.clone()),
    'view_after_base_inplace': lambda lib, x: (lambda a: (lambda v: (a.mul_(2), v)[1])(
        a.view(6)))(x.clone()),
    'expand_before_inplace': lambda lib, x: x.clone().expand(2, 2, 3),
}


GRAD_FN_BUGS = {}


@pytest.mark.parametrize('op', marked(GRAD_FN_OPS, GRAD_FN_BUGS))
def test_grad_fn_names_match_torch(op):
    def run(lib):
        x = lib.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return GRAD_FN_OPS[op](lib, x).grad_fn.name()
    both(run)


REPRS = {
    'leaf': lambda lib: lib.tensor([1.0, 2.0], requires_grad=True),
    'add': lambda lib: lib.tensor([1.0, 2.0], requires_grad=True) + 1,
    'sum': lambda lib: lib.tensor([1.0, 2.0], requires_grad=True).sum(),
    'view': lambda lib: lib.ones(2, 2, requires_grad=True)[0],
    'float64_leaf': lambda lib: lib.zeros(2, dtype=lib.float64, requires_grad=True),
    'float64_mul': lambda lib: lib.zeros(2, dtype=lib.float64, requires_grad=True) * 2,
    'detached': lambda lib: (lib.ones(2, requires_grad=True) * 2).detach(),
    'int': lambda lib: lib.tensor([1, 2]),
    'no_grad': lambda lib: lib.ones(2, requires_grad=True).sum().detach().requires_grad_(),
}


@pytest.mark.parametrize('case', REPRS)
def test_repr_matches_torch(case):
    both(lambda lib: repr(REPRS[case](lib)))


# -- Python protocol ---------------------------------------------------------------------------

PROTOCOL = {
    'bool_multi': lambda lib: bool(lib.ones(2)), 'bool_empty': lambda lib: bool(lib.ones(0)),
    'bool_single': lambda lib: bool(lib.zeros(1, 1)), 'len_0d': lambda lib: len(lib.tensor(1)),
    'iter_0d': lambda lib: iter(lib.tensor(1.0)),
    'iter_rows': lambda lib: [r for r in lib.arange(6).reshape(3, 2)],
    'contains': lambda lib: 2 in lib.tensor([1, 2]),
    'not_contains': lambda lib: 5 in lib.tensor([1, 2]),
    'index_float': lambda lib: operator.index(lib.tensor(1.0)),
    'index_multi': lambda lib: operator.index(lib.tensor([1, 2])),
    'index_bool': lambda lib: operator.index(lib.tensor(True)),
    'range_tensor': lambda lib: list(range(lib.tensor(3))),
    'float_multi': lambda lib: float(lib.ones(2)), 'int_multi': lambda lib: int(lib.ones(3)),
    'item_multi': lambda lib: lib.ones(2).item(), 'item_empty': lambda lib: lib.ones(0).item(),
    'mT_1d': lambda lib: lib.ones(3).mT, 'T_1d': lambda lib: lib.ones(3).T,
    'reversed': lambda lib: reversed(lib.arange(4)), 'hashable': lambda lib: len({lib.ones(1),
                                                                                  lib.ones(1)}),
    'eq_is_elementwise': lambda lib: lib.ones(2) == lib.ones(2),
    'pos': lambda lib: +lib.tensor([-1.0]), 'invert_bool': lambda lib: ~lib.tensor([True, False]),
    'invert_int': lambda lib: ~lib.tensor([0, 5]), 'invert_float': lambda lib: ~lib.tensor([1.0]),
    'is_tensor': lambda lib: (lib.is_tensor(lib.ones(1)), lib.is_tensor([1])),
    'numel_fn': lambda lib: lib.numel(lib.ones(2, 3)),
    'is_floating_point_fn': lambda lib: lib.is_floating_point(lib.ones(1, dtype=lib.int8)),
}


@pytest.mark.parametrize('case', PROTOCOL)
def test_python_protocol(case):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        both(PROTOCOL[case])


# -- NumPy interoperability --------------------------------------------------------------------

NUMPY_OPERATORS = {'add': operator.add, 'sub': operator.sub, 'mul': operator.mul,
                   'truediv': operator.truediv, 'lt': operator.lt, 'eq': operator.eq,
                   'pow': operator.pow}



@pytest.mark.parametrize('np_dtype', ['float64', 'float32', 'int32', 'int64'])
@pytest.mark.parametrize('op', NUMPY_OPERATORS)
@pytest.mark.parametrize('order', ['array_first', 'tensor_first'])
def test_ndarray_operator_tensor_returns_tensor(op, np_dtype, order):
    """ndarray <op> Tensor and Tensor <op> ndarray are Tensors. Tensor <arithmetic> ndarray has
    PyTorch's own result: its operator declines the array and NumPy computes it, with NumPy's
    promotion (float32 tensor + int32 array is float64). Where torch 2.13 with NumPy 2 raises
    TypeError (most ndarray-first operators, comparisons), the oracle is torch on tensors."""
    fn = NUMPY_OPERATORS[op]
    a = np.array([1, 2, 4], dtype=np_dtype)

    def run(lib, lhs):
        t = lib.tensor([0.5, 2.0, 3.0])
        return fn(lhs, t) if order == 'array_first' else fn(t, lhs)
    got = run(nbgrad, a)
    assert isinstance(got, nbgrad.Tensor)
    if order == 'tensor_first' and op not in ('lt', 'eq'):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')     # (PyTorch's __array_wrap__ deprecation)
            expected = run(torch, a)
    else:
        expected = run(torch, torch.as_tensor(a))
    assert normalise(got) == normalise(expected)


@pytest.mark.parametrize('scalar', [np.float64(2.5), np.int64(3), np.float32(0.5), np.int8(-2)],
                         ids=repr)
@pytest.mark.parametrize('order', ['tensor_first', 'scalar_first'])
def test_numpy_scalars_are_python_numbers(scalar, order):
    def run(lib):
        x = lib.tensor([1, 2, 3], dtype=lib.int32)
        return x * scalar if order == 'tensor_first' else scalar * x
    both(run)


@each_lib
def test_numpy_ufunc_on_tensor(lib):
    x = lib.tensor([1.0, 4.0])
    np.testing.assert_allclose(np.sqrt(np.asarray(x)), [1.0, 2.0])


@each_lib
def test_to_dlpack_takes_a_tensor_that_requires_grad(lib):
    capsule = lib.utils.dlpack.to_dlpack(lib.ones(2, requires_grad=True))
    assert lib.from_dlpack(capsule).tolist() == [1.0, 1.0]


@each_lib
def test_from_dlpack_copy_and_device(lib):
    source = lib.ones(2)
    copied = lib.from_dlpack(source, copy=True)
    copied[0] = 5.0
    moved = lib.from_dlpack(source, device='cpu')
    moved[1] = 7.0
    assert source.tolist() == [1.0, 7.0] and copied.tolist() == [5.0, 1.0]
