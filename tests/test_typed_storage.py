"""Tensor.storage(): PyTorch's TypedStorage, the memory behind a tensor as elements of its dtype
(deprecated in PyTorch 2.x for untyped_storage(), still in older code). Each case runs under
PyTorch and nbgrad and compares."""
import warnings

import pytest

import nbgrad
from torch_compare import assert_same_error, both

pytest.importorskip('torch')


def _storage(t):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')         # (the deprecation warning: test_user_warnings)
        return t.storage()


def test_reads_the_whole_memory_behind_a_view():
    def run(lib):
        x = lib.arange(6.).view(2, 3)
        s = _storage(x[1])
        return (len(s), s.size(), s[1], s[-1], s.tolist(), list(s), s.element_size(),
                s.nbytes(), str(s.dtype).split('.')[-1], str(s.device), s.type(), s.is_cuda,
                s.get_device(), s.is_shared(), s.is_sparse, type(s).__name__)
    both(lambda lib: str(run(lib)).replace('torch', 'nbgrad'))


def test_data_ptr_tells_which_tensors_share_memory():
    def run(lib):
        x = lib.arange(6.).view(2, 3)
        s = _storage(x)
        return (s.data_ptr() == x.data_ptr(), _storage(x[1]).data_ptr() == s.data_ptr(),
                _storage(x.clone()).data_ptr() == s.data_ptr(),
                s.untyped().data_ptr() == x.untyped_storage().data_ptr())
    both(run)


def test_writes_land_in_the_tensors_that_share_it():
    def run(lib):
        x = lib.arange(6.).view(2, 3)
        s = _storage(x.t())
        s[0] = 10
        after_set = x.clone()
        s.fill_(2)
        after_fill = x.clone()
        s.copy_(_storage(lib.arange(6.) * 3))
        c = s.clone()
        c[1] = -1                       # a clone is its own memory
        return after_set, after_fill, x, c.tolist()
    both(run)


@pytest.mark.parametrize('make', ['lib.arange(3)', 'lib.tensor([True, False])',
                                  'lib.arange(4.).half()', 'lib.empty(0)',
                                  'lib.arange(6.).view(2, 3).t().contiguous()',
                                  'lib.zeros(3).expand(2, 3)'])
def test_repr_and_elements_by_dtype(make):
    both(lambda lib: repr(_storage(eval(make))).replace('torch', 'nbgrad'))


@pytest.mark.parametrize('convert', ['double', 'float', 'half', 'long', 'int', 'bool', 'byte'])
def test_dtype_conversions_copy(convert):
    def run(lib):
        s = getattr(_storage(lib.tensor([1.5, -2.0, 0.0])), convert)()
        return str(s.dtype).split('.')[-1], s.tolist()
    both(run)


@pytest.mark.parametrize('index', ['6', '-7', 'slice(1, 2)', "'a'"])
def test_bad_indices_are_refused_as_in_pytorch(index):
    assert_same_error(lambda lib: _storage(lib.arange(6.))[eval(index)])


def test_storage_classes_are_exported():
    x = nbgrad.arange(3.)
    assert isinstance(_storage(x), nbgrad.TypedStorage)
    assert isinstance(x.untyped_storage(), nbgrad.UntypedStorage)
    assert nbgrad.storage.TypedStorage is nbgrad.TypedStorage


def test_set_rebinds_a_tensor_to_other_memory():
    """x.set_(t) / set_(storage, offset, size, stride) / set_(), is_set_to and is_storage,
    with PyTorch's refusals (a leaf that requires grad, another dtype)."""
    def run(lib):
        a = lib.arange(6.)
        b = lib.zeros(2)
        b.set_(a)
        b[0] = 9
        c = lib.zeros(1)
        c.set_(a.untyped_storage(), 2, (2, 2), (2, 1))
        d = lib.zeros(3)
        d.set_()
        version = a._version
        h = lib.zeros(1)
        h.set_(a)
        k = lib.zeros(1)
        k.set_(_storage(a), 1, (3,))
        return (a, b.shape, b.is_set_to(a), a.is_set_to(a[1:]), c, d.shape,
                a._version - version, h._version, k, k.stride(),
                lib.is_storage(a.untyped_storage()), lib.is_storage(a))
    both(run)
    assert_same_error(lambda lib: lib.zeros(3, requires_grad=True).set_(lib.arange(6.)))
    assert_same_error(lambda lib: lib.zeros(2, dtype=lib.long).set_(lib.arange(6.)))
