"""Ops PyTorch refuses for some dtypes refuse them in nbgrad too, with PyTorch's exception type and
message (found by the sweep of tests/test_sweep_values.py run the other way round: calls PyTorch
rejects and nbgrad computed), so code learned on nbgrad behaves the same on PyTorch."""
import pytest
import torch

import nbgrad


def _bools(lib):
    return lib.tensor([True, False])


def _ints(lib):
    return lib.tensor([1, 2])


def _bytes(lib):
    return lib.tensor([1, 0], dtype=lib.uint8)


def _floats(lib):
    return lib.tensor([1.5, 2.5])


CALLS = {
    'ceil of bool': lambda lib: _bools(lib).ceil(),
    'floor of bool': lambda lib: lib.floor(_bools(lib)),
    'round of bool': lambda lib: _bools(lib).round(),
    'trunc of bool': lambda lib: _bools(lib).trunc(),
    'fix of bool': lambda lib: lib.fix(_bools(lib)),
    'nanmean of int': lambda lib: _ints(lib).nanmean(),
    'nanmean of bool with dtype': lambda lib: _bools(lib).nanmean(dtype=lib.float32),
    'trace of bool': lambda lib: lib.ones(2, 2, dtype=lib.bool).trace(),
    'vecdot of int': lambda lib: lib.linalg.vecdot(_ints(lib), _ints(lib)),
    'logaddexp2 of int': lambda lib: lib.logaddexp2(_ints(lib), _ints(lib)),
    'argmax of bool': lambda lib: _bools(lib).argmax(),
    'argmin of bool': lambda lib: lib.argmin(_bools(lib), dim=0),
    # a uint8 or bool index would otherwise select as a mask: another answer, silently
    'take with a uint8 index': lambda lib: lib.take(_floats(lib), _bytes(lib)),
    'take with a bool index': lambda lib: lib.take(_floats(lib), _bools(lib)),
    'take with an int32 index': lambda lib: lib.take(_floats(lib), _ints(lib).int()),
    'take_along_dim with a uint8 index': lambda lib: lib.take_along_dim(_floats(lib), _bytes(lib)),
    'take_along_dim with a bool index': lambda lib: _floats(lib).take_along_dim(_bools(lib)),
    'repeat_interleave of float counts': lambda lib: lib.repeat_interleave(_floats(lib)),
    'repeat_interleave of bool counts': lambda lib: lib.repeat_interleave(_bools(lib)),
    'repeat_interleave by float repeats': lambda lib: _floats(lib).repeat_interleave(_floats(lib)),
    # in-place forms whose float result an integer tensor cannot hold
    'deg2rad_ of int': lambda lib: _ints(lib).deg2rad_(),
    'rad2deg_ of uint8': lambda lib: _bytes(lib).rad2deg_(),
    'logit_ of int': lambda lib: _ints(lib).logit_(),
    'cumsum_ of bool': lambda lib: _bools(lib).cumsum_(0),
    'cumprod_ of bool': lambda lib: _bools(lib).cumprod_(0),
    # no bool (or no integer) kernel
    'lerp of int': lambda lib: lib.lerp(_ints(lib), _ints(lib), 0.5),
    'lerp of int, tensor weight': lambda lib: _ints(lib).lerp(_ints(lib), _ints(lib)),
    'pow of bools': lambda lib: lib.pow(_bools(lib), _bools(lib)),
    'pow of True by bools': lambda lib: lib.pow(True, _bools(lib)),
    'fmod of bools': lambda lib: lib.fmod(_bools(lib), _bools(lib)),
    'fmod of bool by True': lambda lib: lib.fmod(_bools(lib), True),
    'remainder of bools': lambda lib: _bools(lib) % _bools(lib),
    'floor_divide of bools': lambda lib: _bools(lib) // _bools(lib),
    'left shift of bools': lambda lib: _bools(lib) << _bools(lib),
    'right shift of bools': lambda lib: lib.bitwise_right_shift(_bools(lib), _bools(lib)),
    'addcmul of bools': lambda lib: lib.addcmul(_bools(lib), _bools(lib), _bools(lib)),
    'addcmul_ of bools': lambda lib: _bools(lib).addcmul_(_bools(lib), _bools(lib)),
    'searchsorted of bools': lambda lib: lib.searchsorted(_bools(lib), _bools(lib)),
    'bucketize of bools': lambda lib: lib.bucketize(_bools(lib), _bools(lib)),
    'matmul of bool matrices': lambda lib: lib.ones(2, 2, dtype=lib.bool) @ lib.ones(
        2, 2, dtype=lib.bool),
    'bmm of bools': lambda lib: lib.bmm(lib.ones(1, 2, 2, dtype=lib.bool),
                                        lib.ones(1, 2, 2, dtype=lib.bool)),
    'mv of bools': lambda lib: lib.mv(lib.ones(2, 2, dtype=lib.bool), _bools(lib)),
    'dot of bools': lambda lib: lib.matmul(_bools(lib), _bools(lib)),
    'linear of bools': lambda lib: lib.nn.functional.linear(lib.ones(2, 2, dtype=lib.bool),
                                                            lib.ones(2, 2, dtype=lib.bool)),
    'conv1d of bools': lambda lib: lib.conv1d(lib.ones(1, 1, 3, dtype=lib.bool),
                                              lib.ones(1, 1, 2, dtype=lib.bool)),
    'conv3d of bools': lambda lib: lib.conv3d(lib.ones(1, 1, 3, 3, 3, dtype=lib.bool),
                                              lib.ones(1, 1, 2, 2, 2, dtype=lib.bool)),
    'conv_transpose2d of bools': lambda lib: lib.conv_transpose2d(
        lib.ones(1, 1, 3, 3, dtype=lib.bool), lib.ones(1, 1, 2, 2, dtype=lib.bool)),
    'conv_transpose2d of uint8': lambda lib: lib.conv_transpose2d(
        lib.ones(1, 1, 3, 3, dtype=lib.uint8), lib.ones(1, 1, 2, 2, dtype=lib.uint8)),
    'conv_transpose1d of int32': lambda lib: lib.conv_transpose1d(
        lib.ones(1, 1, 3, dtype=lib.int32), lib.ones(1, 1, 2, dtype=lib.int32)),
    'conv_transpose3d of bools': lambda lib: lib.conv_transpose3d(
        lib.ones(1, 1, 3, 3, 3, dtype=lib.bool), lib.ones(1, 1, 2, 2, 2, dtype=lib.bool)),
    'avg_pool1d of uint8': lambda lib: lib.nn.functional.avg_pool1d(
        lib.ones(1, 1, 4, dtype=lib.uint8), 2),
    'avg_pool3d of uint8': lambda lib: lib.nn.functional.avg_pool3d(
        lib.ones(1, 1, 2, 2, 2, dtype=lib.uint8), 2),
    'avg_pool3d of bool': lambda lib: lib.nn.functional.avg_pool3d(
        lib.ones(1, 1, 2, 2, 2, dtype=lib.bool), 2),
    'unfold of int': lambda lib: lib.nn.functional.unfold(lib.ones(1, 1, 4, 4, dtype=lib.int64),
                                                          2),
    'fold of uint8': lambda lib: lib.nn.functional.fold(lib.ones(1, 4, 4, dtype=lib.uint8),
                                                        (3, 3), 2),
    'local_response_norm of uint8': lambda lib: lib.nn.functional.local_response_norm(
        lib.ones(1, 2, 4, dtype=lib.uint8), 2),
    'local_response_norm of 4-d bool': lambda lib: lib.nn.functional.local_response_norm(
        lib.ones(1, 2, 4, 4, dtype=lib.bool), 2),
    'multilabel_margin_loss of int': lambda lib: lib.nn.functional.multilabel_margin_loss(
        lib.ones(2, 3, dtype=lib.int64), lib.ones(2, 3, dtype=lib.int64)),
    'soft_margin_loss of int': lambda lib: lib.nn.functional.soft_margin_loss(_ints(lib),
                                                                              _ints(lib)),
    'hinge_embedding_loss mean of uint8': lambda lib: lib.nn.functional.hinge_embedding_loss(
        _bytes(lib), _bytes(lib)),
    'linalg.matrix_norm of int': lambda lib: lib.linalg.matrix_norm(
        lib.ones(2, 2, dtype=lib.int64)),
    'linalg.norm of an int matrix': lambda lib: lib.linalg.norm(lib.ones(2, 2, dtype=lib.int64)),
    'linalg.vector_norm of int': lambda lib: lib.linalg.vector_norm(_ints(lib)),
    'clamp of bools by bool bounds': lambda lib: lib.clamp(_bools(lib), _bools(lib), _bools(lib)),
    'clamp_ of bools by bool bounds': lambda lib: _bools(lib).clamp_(_bools(lib), _bools(lib)),
    'clamp of bools by True': lambda lib: lib.clamp(_bools(lib), True),
    'clamp of bools by max=True': lambda lib: lib.clip(_bools(lib), max=True),
    'clamp of bools by True, True': lambda lib: lib.clamp(_bools(lib), True, True),
    # a dtype setting that is not a dtype
    'set_autocast_dtype of a tensor': lambda lib: lib.set_autocast_dtype('cpu', _floats(lib)),
    'set_autocast_cpu_dtype of a tensor': lambda lib: lib.set_autocast_cpu_dtype(_floats(lib)),
    'set_autocast_gpu_dtype of an int': lambda lib: lib.set_autocast_gpu_dtype(3),
}


def _assert_refused_alike(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(Exception) as got:
        call(nbgrad)
    assert type(got.value) is type(expected.value)
    # nbgrad may add how to fix it after PyTorch's message; PyTorch's meshgrid message goes on
    # to print the tensor its own way, so the comparison stops at 'got: '
    message = str(expected.value).splitlines()[0].split('got: ')[0]
    assert str(got.value).startswith(message)


@pytest.mark.parametrize('name', list(CALLS))
def test_refused_as_pytorch_refuses(name):
    _assert_refused_alike(CALLS[name])


@pytest.mark.parametrize('call', [
    lambda lib: lib.tensor([1, 2]).floor(),
    lambda lib: lib.tensor([1.5, -2.5]).round(),
    lambda lib: lib.tensor([1., 2.]).nanmean(),
    lambda lib: lib.tensor([3, 1]).argmax(),
    # the neighbours of the refusals above, which PyTorch computes
    lambda lib: lib.pow(_bools(lib), True), lambda lib: lib.pow(_bools(lib), False),
    lambda lib: lib.pow(_bools(lib), _ints(lib)), lambda lib: lib.fmod(_bools(lib), 2),
    lambda lib: _bools(lib) << 1, lambda lib: lib.floor_divide(_bools(lib), _ints(lib)),
    lambda lib: lib.addcmul(_ints(lib), _bools(lib), _bools(lib)),
    lambda lib: lib.take(_floats(lib), _ints(lib) - 1),
    lambda lib: lib.clamp(_bools(lib), min=_bools(lib)), lambda lib: lib.clamp(_bools(lib), 0, 1),
    lambda lib: lib.take_along_dim(_floats(lib), _ints(lib).int() - 1),
    lambda lib: lib.repeat_interleave(_ints(lib).int()),
    lambda lib: lib.searchsorted(lib.tensor([0, 1]), _bools(lib)),
    lambda lib: _ints(lib).cumsum_(0), lambda lib: _bytes(lib).cumsum_(0),
    lambda lib: lib.nn.functional.hinge_embedding_loss(lib.tensor([3, -2]), lib.tensor([1, -1]),
                                                       reduction='none'),
    lambda lib: lib.nn.functional.hinge_embedding_loss(lib.tensor([3, -2]), lib.tensor([1, -1]),
                                                       margin=2.5, reduction='sum'),
    lambda lib: lib.nn.functional.avg_pool2d(lib.arange(16).reshape(1, 1, 4, 4), 2),
    lambda lib: lib.nn.functional.unfold(lib.ones(1, 1, 3, 3, dtype=lib.bool), 2),
    lambda lib: lib.conv2d(lib.ones(1, 1, 3, 3, dtype=lib.int64),
                           lib.ones(1, 1, 2, 2, dtype=lib.int64)),
    lambda lib: lib.nn.functional.linear(lib.ones(2, 2, dtype=lib.int64),
                                         lib.ones(2, 2, dtype=lib.int64)),
    lambda lib: lib.conv_transpose2d(lib.ones(1, 1, 3, 3, dtype=lib.int64),
                                     lib.ones(1, 1, 2, 2, dtype=lib.int64)),
    lambda lib: lib.conv2d(lib.ones(1, 1, 3, 3, dtype=lib.uint8),
                           lib.ones(1, 1, 2, 2, dtype=lib.uint8))])
def test_the_dtypes_pytorch_takes_still_work(call):
    got, expected = call(nbgrad), call(torch)
    assert str(got.dtype).split('.')[-1] == str(expected.dtype).split('.')[-1]
    assert got.tolist() == expected.tolist()


# Calls PyTorch refuses for their arguments' shapes or settings, which nbgrad used to answer
# (most of them with another computation than the one asked for: flattened grids and outer
# products, a wrapped negative index, a tensor read as a shape)
SHAPE_REFUSALS = {
    'outer of a matrix': lambda lib: lib.outer(_floats(lib), lib.ones(2, 2)),
    'ger of a 4-d tensor': lambda lib: lib.ones(2, 3, 4, 4).ger(lib.ones(2, 3, 4, 4)),
    'meshgrid of a matrix': lambda lib: lib.meshgrid(_floats(lib), lib.ones(2, 2), indexing='ij'),
    'cartesian_prod of matrices': lambda lib: lib.cartesian_prod(lib.ones(4, 4), lib.ones(4, 4)),
    'take_along_dim with a negative index': lambda lib: lib.take_along_dim(
        _floats(lib), lib.tensor([-1])),
    'dsplit into -1 sections': lambda lib: lib.ones(2, 3, 4, 4).dsplit(-1),
    'tensor_split into 0 sections': lambda lib: lib.tensor_split(_floats(lib), 0),
    'rot90 of a vector': lambda lib: _floats(lib).rot90(),
    'broadcast_shapes of tensors': lambda lib: lib.broadcast_shapes(_floats(lib), _floats(lib)),
    'positive of bool': lambda lib: _bools(lib).positive(),
    'a post-accumulate hook without grad':
        lambda lib: _floats(lib).register_post_accumulate_grad_hook(lambda t: None),
}


@pytest.mark.parametrize('name', list(SHAPE_REFUSALS))
def test_refused_for_shapes_as_pytorch_refuses(name):
    _assert_refused_alike(SHAPE_REFUSALS[name])
