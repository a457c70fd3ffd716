"""nn.utils against PyTorch: packing and padding of variable-length sequences (values, lengths,
indices, gradients), gradient clipping (returned norm and clipped gradients), and the
parameter <-> vector conversions; errors of PyTorch's kinds; the 'cuda' device."""
import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same, assert_same_value, both, to_np

torch = pytest.importorskip('torch')


def rnn_utils(lib):
    return lib.nn.utils.rnn


def arr(*shape, seed):
    return np.random.default_rng(seed).uniform(-1, 1, size=shape)


def packed_view(p):
    """A PackedSequence as a plain tuple, to compare field by field."""
    return tuple(p)


# ---------------------------------------------------------------------------------------------
# Packing and padding
# ---------------------------------------------------------------------------------------------
PACK_CASES = {
    'sorted': ([5, 3, 2], True, False),
    'unsorted': ([3, 5, 1, 4], False, False),
    'unsorted_batch_first': ([2, 4, 3], False, True),
    'equal_lengths': ([4, 4], True, False),
    'single': ([3], True, True),
    'lengths_as_tensor': ('tensor', False, False),
}


@pytest.mark.parametrize('case', list(PACK_CASES))
def test_pack_pad_round_trip_and_gradients(case):
    lengths, enforce_sorted, batch_first = PACK_CASES[case]
    if lengths == 'tensor':
        lengths = [2, 4, 3]
    seq, batch = max(lengths) + 1, len(lengths)  # one step of padding past the longest

    def run(lib):
        shape = (batch, seq, 2) if batch_first else (seq, batch, 2)
        x = lib.tensor(arr(*shape, seed=1), requires_grad=True)
        given = lib.tensor(lengths) if PACK_CASES[case][0] == 'tensor' else lengths
        packed = rnn_utils(lib).pack_padded_sequence(x, given, batch_first=batch_first,
                                                     enforce_sorted=enforce_sorted)
        padded, out_lengths = rnn_utils(lib).pad_packed_sequence(
            packed, batch_first=batch_first, padding_value=-7.5, total_length=seq + 1)
        (padded * lib.tensor(arr(*padded.shape, seed=2))).sum().backward()
        return to_np([packed_view(packed), padded, out_lengths, x.grad])
    assert_same_value(run(nbgrad), run(torch), rtol=1e-12, atol=0)


def test_packed_sequence_fields_and_types():
    def run(lib):
        seqs = [lib.tensor(arr(n, 3, seed=n)) for n in (2, 4, 1)]
        packed = rnn_utils(lib).pack_sequence(seqs, enforce_sorted=False)
        return (packed.data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices,
                packed.is_cuda, type(packed).__name__, packed._fields)
    both(run)


@pytest.mark.parametrize('enforce_sorted', [True, False])
def test_pack_sequence_and_unpack_sequence(enforce_sorted):
    lengths = [4, 3, 1] if enforce_sorted else [1, 4, 3]

    def run(lib):
        seqs = [lib.tensor(arr(n, 2, 3, seed=n), requires_grad=True) for n in lengths]
        packed = rnn_utils(lib).pack_sequence(seqs, enforce_sorted=enforce_sorted)
        back = rnn_utils(lib).unpack_sequence(packed)
        sum((b * (i + 1)).sum() for i, b in enumerate(back)).backward()
        return to_np([packed_view(packed), back, [s.grad for s in seqs]])
    assert_same_value(run(nbgrad), run(torch), rtol=0, atol=0)


@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('padding_side', ['right', 'left'])
def test_pad_sequence(batch_first, padding_side):
    def run(lib):
        seqs = [lib.tensor(arr(n, 2, seed=n), requires_grad=True) for n in (2, 5, 3)]
        out = rnn_utils(lib).pad_sequence(seqs, batch_first=batch_first, padding_value=9.0,
                                          padding_side=padding_side)
        (out * lib.tensor(arr(*out.shape, seed=0))).sum().backward()
        return to_np([out, [s.grad for s in seqs]])
    assert_same_value(run(nbgrad), run(torch), rtol=0, atol=0)


def test_pad_sequence_inputs():
    """A 2-D tensor is a batch of 1-D sequences; integers pad with an integer; the result takes
    the first sequence's dtype."""
    both(lambda lib: rnn_utils(lib).pad_sequence(lib.tensor(arr(3, 4, seed=0))))
    both(lambda lib: rnn_utils(lib).pad_sequence([lib.tensor([1, 2, 3]), lib.tensor([4])],
                                                 padding_value=-1))
    both(lambda lib: rnn_utils(lib).pad_sequence(
        [lib.tensor(arr(2, seed=0), dtype=lib.float32), lib.tensor(arr(3, seed=1))]))


@pytest.mark.parametrize('batch_first', [False, True])
def test_unpad_sequence(batch_first):
    def run(lib):
        padded = lib.tensor(arr(5, 3, 2, seed=4))
        if batch_first:
            padded = padded.transpose(0, 1)
        pieces = rnn_utils(lib).unpad_sequence(padded, lib.tensor([5, 2, 3]),
                                               batch_first=batch_first)
        return to_np(pieces)
    assert_same_value(run(nbgrad), run(torch), rtol=0, atol=0)


def test_invert_permutation():
    both(lambda lib: rnn_utils(lib).invert_permutation(lib.tensor([2, 0, 3, 1])))
    assert rnn_utils(nbgrad).invert_permutation(None) is None


def test_packed_sequence_to_dtype_and_self():
    def run(lib):
        packed = rnn_utils(lib).pack_sequence([lib.ones(3, 2), lib.ones(2, 2)],
                                              enforce_sorted=False)
        same = packed.to(lib.float32) is packed and packed.cpu() is packed
        doubled = packed.double()
        return (same, str(doubled.data.dtype)[-7:], str(doubled.batch_sizes.dtype)[-5:],
                doubled.unsorted_indices)
    both(run)


PACK_ERRORS = {
    'unsorted_lengths': lambda lib: rnn_utils(lib).pack_padded_sequence(lib.randn(5, 3, 2),
                                                                        [3, 5, 4]),
    'lengths_count': lambda lib: rnn_utils(lib).pack_padded_sequence(lib.randn(5, 3, 2),
                                                                     [5, 3]),
    'zero_length': lambda lib: rnn_utils(lib).pack_padded_sequence(lib.randn(5, 3, 2),
                                                                   [5, 3, 0]),
    'zero_length_unsorted': lambda lib: rnn_utils(lib).pack_padded_sequence(
        lib.randn(5, 3, 2), [3, 5, 0]),
    'lengths_2d': lambda lib: rnn_utils(lib).pack_padded_sequence(lib.randn(5, 3, 2),
                                                                  lib.tensor([[5, 3, 1]])),
    'input_1d': lambda lib: rnn_utils(lib).pack_padded_sequence(lib.randn(5), [5]),
    'total_length_short': lambda lib: rnn_utils(lib).pad_packed_sequence(
        rnn_utils(lib).pack_sequence([lib.randn(3), lib.randn(2)]), total_length=2),
    'pad_empty': lambda lib: rnn_utils(lib).pad_sequence([]),
    'pad_not_iterable': lambda lib: rnn_utils(lib).pad_sequence(5),
    'pad_side': lambda lib: rnn_utils(lib).pad_sequence([lib.ones(2)], padding_side='middle'),
    'pad_trailing_dims': lambda lib: rnn_utils(lib).pad_sequence([lib.ones(2, 3),
                                                                  lib.ones(3, 4)]),
    'pad_0d': lambda lib: rnn_utils(lib).pad_sequence([lib.tensor(1.0), lib.ones(3)]),
    'unpad_count': lambda lib: rnn_utils(lib).unpad_sequence(lib.ones(4, 3), lib.tensor([4, 2]),
                                                             batch_first=True),
}


@pytest.mark.parametrize('case', list(PACK_ERRORS))
def test_packing_errors(case):
    both(PACK_ERRORS[case])


def test_longer_length_than_input_is_refused():
    """PyTorch reads past the end of the input here; nbgrad refuses, naming both lengths."""
    with pytest.raises(RuntimeError, match='6 exceeds .* 5'):
        rnn_utils(nbgrad).pack_padded_sequence(nbgrad.randn(5, 3, 2), [6, 3, 2])


def test_packing_on_device(device):
    def run(lib, dev):
        x = lib.tensor(arr(4, 3, 2, seed=1), device=dev, requires_grad=True)
        packed = rnn_utils(lib).pack_padded_sequence(x, [2, 4, 3], enforce_sorted=False)
        assert packed.batch_sizes.device.type == 'cpu'
        assert packed.sorted_indices.device.type == dev and packed.is_cuda == (dev == 'cuda')
        padded, lengths = rnn_utils(lib).pad_packed_sequence(packed)
        padded.sum().backward()
        moved = packed.cpu()
        assert moved.data.device.type == 'cpu' and moved.unsorted_indices.device.type == 'cpu'
        return to_np([packed.data.cpu(), padded.cpu(), lengths, x.grad.cpu()])
    assert_same_value(run(nbgrad, device), run(torch, 'cpu'), rtol=0, atol=0)


# ---------------------------------------------------------------------------------------------
# Gradient clipping
# ---------------------------------------------------------------------------------------------
SHAPES = [(3, 4), (5,), (2, 2, 2)]


def params_with_grads(lib, dtype=None, scale=1.0, missing=(), device='cpu'):
    dtype = dtype or lib.float32
    params = []
    for i, shape in enumerate(SHAPES):
        p = lib.nn.Parameter(lib.zeros(shape, dtype=dtype, device=device))
        if i not in missing:
            p.grad = lib.tensor(arr(*shape, seed=i) * scale, dtype=dtype, device=device)
        params.append(p)
    return params


@pytest.mark.parametrize('norm_type', [2.0, 1, 3.5, float('inf'), 0.5])
@pytest.mark.parametrize('max_norm', [0.5, 100.0])
def test_clip_grad_norm(norm_type, max_norm):
    def run(lib):
        params = params_with_grads(lib, missing=(1,))
        total = lib.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
        return total, [p.grad for p in params]
    both(run, lambda g, e: assert_same(g, e, rtol=1e-6, atol=1e-7))


def test_clip_grad_norm_float64_generator_and_single_tensor():
    def run(lib):
        params = params_with_grads(lib, dtype=lib.float64, scale=10)
        total = lib.nn.utils.clip_grad_norm_((p for p in params), 1.0)
        single = params_with_grads(lib, dtype=lib.float64)[0]
        total_single = lib.nn.utils.clip_grad_norm_(single, 0.1, norm_type='inf')
        return total, [p.grad for p in params], total_single, single.grad
    both(run, lambda g, e: assert_same(g, e, rtol=1e-12, atol=1e-14))


def test_get_total_norm_and_clip_grads_with_norm():
    def run(lib):
        params = params_with_grads(lib)
        grads = [p.grad for p in params]
        total = lib.nn.utils.get_total_norm(grads, norm_type=3.0)
        lib.nn.utils.clip_grads_with_norm_(params, 0.25, total)
        empty = lib.nn.utils.get_total_norm([])
        return total, [p.grad for p in params], empty
    both(run, lambda g, e: assert_same(g, e, rtol=1e-6, atol=1e-7))


def test_nonfinite_norm():
    def run(lib, error):
        params = params_with_grads(lib)
        params[0].grad[0, 0] = float('nan')
        total = lib.nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=error)
        return total, [p.grad for p in params]
    both(lambda lib: run(lib, False))
    both(lambda lib: run(lib, True))  # RuntimeError from both


def test_clip_grad_norm_edge_cases():
    def run(lib):
        params = params_with_grads(lib, missing=(0, 1, 2))
        return lib.nn.utils.clip_grad_norm_(params, 1.0)
    both(run)
    for lib in (torch, nbgrad):
        with pytest.warns(UserWarning, match='empty generator'):
            lib.nn.utils.clip_grad_norm_((p for p in []), 1.0)
        with pytest.warns(FutureWarning):
            lib.nn.utils.clip_grad_norm(params_with_grads(lib), 1.0)
    # foreach=True: the same numbers (PyTorch has foreach kernels on the CPU too)
    both(lambda lib: (lib.nn.utils.clip_grad_norm_(params_with_grads(lib), 1.0, foreach=True),
                      lib.nn.utils.clip_grad_value_(params_with_grads(lib), 0.2, foreach=True)))


@pytest.mark.parametrize('clip_value', [0.3, 2])
def test_clip_grad_value(clip_value):
    def run(lib):
        params = params_with_grads(lib, scale=2, missing=(2,))
        result = lib.nn.utils.clip_grad_value_(params, clip_value)
        single = params_with_grads(lib)[1]
        lib.nn.utils.clip_grad_value_(single, 0.1)
        return result, [p.grad for p in params], single.grad
    both(run)


def test_clipping_does_not_record_a_graph():
    p = nbgrad.nn.Parameter(nbgrad.ones(3))
    p.grad = nbgrad.tensor([3.0, 4.0, 0.0], requires_grad=True)
    total = nbgrad.nn.utils.clip_grad_norm_([p], 1.0)
    assert total.grad_fn is None and not total.requires_grad
    np.testing.assert_allclose(p.grad.detach().numpy(), np.array([3, 4, 0]) / (5 + 1e-6),
                               rtol=1e-6)


def test_clip_grad_on_device(device):
    def run(lib, dev):
        params = params_with_grads(lib, device=dev)
        total = lib.nn.utils.clip_grad_norm_(params, 0.5, foreach=None)
        lib.nn.utils.clip_grad_value_(params, 0.1)
        assert total.device.type == dev
        return to_np([total.cpu(), [p.grad.cpu() for p in params]])
    assert_same_value(run(nbgrad, device), run(torch, 'cpu'), rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# parameters_to_vector / vector_to_parameters
# ---------------------------------------------------------------------------------------------

def test_parameters_to_vector_and_back():
    def run(lib):
        params = [lib.nn.Parameter(lib.tensor(arr(*s, seed=i))) for i, s in enumerate(SHAPES)]
        vec = lib.nn.utils.parameters_to_vector(params)
        (vec * lib.arange(vec.numel())).sum().backward()
        new = lib.tensor(arr(vec.numel(), seed=9))
        lib.nn.utils.vector_to_parameters(new, params)
        new[0] = 42.0  # the parameters now share the vector's memory, as in PyTorch
        return to_np([vec, [p.grad for p in params], [p.detach() for p in params]])
    assert_same_value(run(nbgrad), run(torch), rtol=0, atol=0)


def test_vector_conversion_errors():
    both(lambda lib: lib.nn.utils.vector_to_parameters([1.0], []))
    both(lambda lib: lib.nn.utils.parameters_to_vector([]))


@pytest.mark.cuda
def test_parameters_on_two_devices(device):
    if device != 'cuda':
        pytest.skip('needs a GPU parameter beside a CPU one')
    params = [nbgrad.nn.Parameter(nbgrad.ones(2)), nbgrad.nn.Parameter(nbgrad.ones(2).cuda())]
    with pytest.raises(TypeError, match='different devices'):
        nbgrad.nn.utils.parameters_to_vector(params)
    on_gpu = [nbgrad.nn.Parameter(nbgrad.ones(2).cuda()) for _ in range(2)]
    assert nbgrad.nn.utils.parameters_to_vector(on_gpu).device.type == 'cuda'


def test_unpad_sequence_transposes_a_time_first_batch_in_place_as_pytorch():
    """PyTorch's unpad_sequence calls transpose_ on a time-first batch: the caller's tensor
    comes back batch-first. Gradients reach every sequence."""
    def run(lib):
        a = lib.arange(1., 7.).reshape(3, 2).requires_grad_()
        padded = rnn_utils(lib).pad_sequence([a * 2, lib.ones(2, 2)])
        pieces = rnn_utils(lib).unpad_sequence(padded, lib.tensor([3, 2]))
        (pieces[0] * lib.arange(1., 7.).reshape(3, 2)).sum().backward()
        return tuple(padded.shape), [p.detach() for p in pieces], a.grad, \
            pieces[0].grad_fn.name()
    both(run)
