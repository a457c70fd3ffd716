"""Dropout, embedding, embedding_bag and one_hot against PyTorch.

Dropout draws its mask with the calls PyTorch makes, so on the CPU the seeded results (and the
generator state afterwards) are PyTorch's, compared exactly; on every device the masks are also
checked statistically (zero fractions within binomial bounds, alpha dropout's moments). Lookups
are compared with PyTorch in values and gradients, and gradchecked in float64.
"""
import math
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import arr as _arr, assert_same_value, both as _both, exc_kind

torch = pytest.importorskip('torch')


def both(fn, **kw):
    return _both(fn, quiet=True, **kw)


def arr(*shape, dtype=np.float32, **kw):
    return _arr(*shape, dtype=dtype, **kw)


def host(t):
    if t is None:
        return None
    if t.is_sparse:  # PyTorch's sparse=True gradient; nbgrad's is dense
        t = t.to_dense()
    return t.detach().cpu().numpy().copy()


def dev_of(lib, device):
    return device if lib is nbgrad else 'cpu'


def both_on(device, fn, rtol=0.0, atol=0.0):
    """fn(lib, dev) with PyTorch on the CPU and nbgrad on `device`: equal values, or the same
    kind of exception."""
    try:
        expected = fn(torch, 'cpu')
    except Exception as e:
        with pytest.raises(exc_kind(e)):
            fn(nbgrad, device)
        return
    got = fn(nbgrad, device)
    assert got.device.type == device
    assert_same_value(host(got), host(expected), rtol, atol)


# ---------------------------------------------------------------------------------------------
# Dropout: seeded masks equal PyTorch's
# ---------------------------------------------------------------------------------------------

DROPOUTS = {  # name: (call(F, x, p, inplace), input shape)
    'dropout': (lambda F, x, p, inplace: F.dropout(x, p, True, inplace), (6, 5, 4)),
    'alpha_dropout': (lambda F, x, p, inplace: F.alpha_dropout(x, p, True, inplace), (7, 9)),
    'feature_alpha_dropout': (lambda F, x, p, inplace: F.feature_alpha_dropout(
        x, p, True, inplace), (4, 6, 3)),
    'dropout1d': (lambda F, x, p, inplace: F.dropout1d(x, p, True, inplace), (4, 5, 3)),
    'dropout1d_unbatched': (lambda F, x, p, inplace: F.dropout1d(x, p, True, inplace), (5, 3)),
    'dropout2d': (lambda F, x, p, inplace: F.dropout2d(x, p, True, inplace), (3, 4, 2, 2)),
    'dropout2d_3d_input': (lambda F, x, p, inplace: F.dropout2d(x, p, True, inplace), (3, 4, 2)),
    'dropout3d': (lambda F, x, p, inplace: F.dropout3d(x, p, True, inplace), (2, 3, 2, 2, 2)),
    'dropout3d_unbatched': (lambda F, x, p, inplace: F.dropout3d(x, p, True, inplace),
                            (3, 2, 2, 2)),
}


def _seeded_dropout(lib, name, p, inplace, dtype):
    call, shape = DROPOUTS[name]
    lib.manual_seed(123)
    x = lib.tensor(arr(*shape, dtype=dtype), requires_grad=not inplace)
    source = x if not inplace else x.clone()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        out = call(lib.nn.functional, x if not inplace else source, p, inplace)
    found = [host(out), out is source if inplace else out.grad_fn.name()]
    if not inplace:
        (out * lib.tensor(arr(*shape, seed=5, dtype=dtype))).sum().backward()
        found.append(host(x.grad))
    return found + [host(lib.rand(4))]  # the generator state after the draws


@pytest.mark.parametrize('name', list(DROPOUTS))
@pytest.mark.parametrize('p', [0.2, 0.5, 0.9])
@pytest.mark.parametrize('inplace', [False, True], ids=['out_of_place', 'inplace'])
@pytest.mark.parametrize('dtype', [np.float32, np.float64], ids=['float32', 'float64'])
def test_seeded_dropout_equals_torch(name, p, inplace, dtype):
    expected = _seeded_dropout(torch, name, p, inplace, dtype)
    got = _seeded_dropout(nbgrad, name, p, inplace, dtype)
    assert_same_value(got, expected, 0, 0)


def test_dropout_module_sequence_equals_torch():
    """A model with dropout layers draws the same masks as PyTorch's step after step."""
    def run(lib):
        lib.manual_seed(7)
        model = lib.nn.Sequential(lib.nn.Linear(6, 8), lib.nn.Dropout(0.3),
                                  lib.nn.AlphaDropout(0.2), lib.nn.Linear(8, 4))
        outs = [host(model(lib.ones(5, 6))) for _ in range(3)]
        model.eval()
        return outs + [host(model(lib.ones(5, 6)))]
    assert_same_value(run(nbgrad), run(torch), 1e-6, 1e-7)


@pytest.mark.parametrize('name', list(DROPOUTS))
def test_dropout_is_identity_when_not_training(name, device):
    """training=False, or p=0, gives the input's values on every device (and the input itself
    where PyTorch returns it, checked below)."""
    call, shape = DROPOUTS[name]
    x = nbgrad.randn(*shape, device=device)
    F = nbgrad.nn.functional
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        p_zero = call(F, x, 0.0, False)
        p_half = getattr(F, name.replace('_unbatched', '').replace('_3d_input', ''))(
            x, 0.5, training=False)
    for out in (p_zero, p_half):
        assert out.device.type == device
        assert host(out).tolist() == host(x).tolist()


def test_dropout_eval_returns_the_input_itself():
    both(lambda lib: [f(x, 0.4, False) is x for x in [lib.randn(2, 3, 4)]
                      for f in (lib.nn.functional.dropout, lib.nn.functional.alpha_dropout,
                                lib.nn.functional.feature_alpha_dropout,
                                lib.nn.functional.dropout2d)])
    both(lambda lib: [m.eval()(x) is x for x in [lib.randn(2, 3, 4, 4)]
                      for m in (lib.nn.Dropout(), lib.nn.Dropout2d(), lib.nn.AlphaDropout(),
                                lib.nn.FeatureAlphaDropout())])
    both(lambda lib: lib.nn.functional.dropout(x := lib.randn(3), 0.0) is x)


def test_dropout_p_one_keeps_nan():
    both(lambda lib: lib.nn.functional.dropout(lib.tensor([1.0, float('nan'), -2.0]), 1.0))
    both(lambda lib: lib.nn.functional.alpha_dropout(lib.tensor([1.0, 3.0]), 1.0, True))


def test_inplace_dropout_writes_into_the_input():
    def run(lib):
        lib.manual_seed(3)
        x = lib.ones(4, 5)
        version = x._version
        out = lib.nn.Dropout(0.5, inplace=True)(x)
        return out is x, x._version > version, host(x)
    assert_same_value(run(nbgrad), run(torch), 0, 0)


DROPOUT_ERRORS = {
    'p_above_one': lambda lib: lib.nn.functional.dropout(lib.ones(3), 1.5),
    'p_negative': lambda lib: lib.nn.functional.dropout2d(lib.ones(2, 3, 2), -0.1),
    'module_p': lambda lib: lib.nn.Dropout(2.0),
    'alpha_module_p': lambda lib: lib.nn.AlphaDropout(-1),
    'dropout1d_4d': lambda lib: lib.nn.functional.dropout1d(lib.ones(2, 3, 2, 2)),
    'feature_alpha_1d': lambda lib: lib.nn.functional.feature_alpha_dropout(
        lib.ones(3), 0.5, True),
    'integer_input': lambda lib: lib.nn.functional.dropout(lib.ones(3, dtype=lib.long), 0.5),
}


@pytest.mark.parametrize('name', list(DROPOUT_ERRORS))
def test_dropout_errors(name):
    both(DROPOUT_ERRORS[name])


@pytest.mark.parametrize('call, ndim, message', [
    (lambda F, x: F.dropout2d(x), 3, 'assuming that channel-wise 1D'),
    (lambda F, x: F.dropout2d(x), 5, 'Received a 5-D input to dropout2d'),
    (lambda F, x: F.dropout3d(x), 3, 'Received a 3-D input to dropout3d'),
])
def test_dropout_nd_warnings(call, ndim, message):
    for lib in (torch, nbgrad):
        with pytest.warns(UserWarning, match=message):
            call(lib.nn.functional, lib.ones(*(2,) * ndim))


def test_dropout_module_reprs():
    both(lambda lib: [repr(m) for m in (
        lib.nn.Dropout(), lib.nn.Dropout(0.1, True), lib.nn.Dropout1d(0.3), lib.nn.Dropout2d(),
        lib.nn.Dropout3d(inplace=True), lib.nn.AlphaDropout(0.2), lib.nn.FeatureAlphaDropout())])


# ---------------------------------------------------------------------------------------------
# Dropout statistics, on every device (CUDA's generator is not PyTorch's)
# ---------------------------------------------------------------------------------------------

def _within_binomial(count, n, p, sigmas=5):
    return abs(count - n * p) <= sigmas * math.sqrt(n * p * (1 - p)) + 1


@pytest.mark.parametrize('p', [0.1, 0.5, 0.8])
def test_dropout_statistics(p, device):
    nbgrad.manual_seed(11)
    x = nbgrad.full((200, 100), 2.0, device=device)
    out = host(nbgrad.nn.functional.dropout(x, p))
    assert out.shape == (200, 100)
    dropped = int((out == 0).sum())
    assert _within_binomial(dropped, out.size, p)
    kept = out[out != 0]
    np.testing.assert_allclose(kept, np.float32(2.0) / np.float32(1 - p), rtol=1e-6)


@pytest.mark.parametrize('function, ndim', [('dropout1d', 3), ('dropout2d', 4),
                                            ('dropout3d', 5)])
def test_channel_dropout_statistics(function, ndim, device):
    """Whole channels are dropped together, each with probability p."""
    nbgrad.manual_seed(12)
    p = 0.3
    shape = (100, 40) + (2,) * (ndim - 2)
    out = host(getattr(nbgrad.nn.functional, function)(nbgrad.ones(*shape, device=device), p))
    per_channel = out.reshape(100, 40, -1)
    assert ((per_channel == 0).all(-1) | (per_channel != 0).all(-1)).all()
    assert _within_binomial(int((per_channel[..., 0] == 0).sum()), 4000, p)


@pytest.mark.parametrize('feature', [False, True])
def test_alpha_dropout_keeps_mean_and_variance(feature, device):
    """On standard normal input the output has mean 0 and variance 1 (the point of alpha
    dropout); the tolerances are 5 standard errors for n samples (4 for channels)."""
    nbgrad.manual_seed(13)
    n = 40000
    x = nbgrad.randn(n, 1, device=device) if feature else nbgrad.randn(n, device=device)
    F = nbgrad.nn.functional
    out = host(F.feature_alpha_dropout(x, 0.4, True) if feature else
               F.alpha_dropout(x, 0.4, True)).ravel()
    assert abs(out.mean()) < 5 * out.std() / math.sqrt(n)
    # var of a sample variance: (m4 - s^4) / n
    m4 = ((out - out.mean()) ** 4).mean()
    assert abs(out.var() - 1) < 5 * math.sqrt((m4 - out.var() ** 2) / n)


# ---------------------------------------------------------------------------------------------
# embedding
# ---------------------------------------------------------------------------------------------

def lookup(fn, indices, weight, device='cpu', grad_weight=True, rtol=1e-6, atol=1e-7):
    """fn(lib, indices, weight) with both libraries: output, weight.grad and weight afterwards."""
    results = {}
    for lib in (torch, nbgrad):
        dev = dev_of(lib, device)
        w = lib.tensor(weight, device=dev, requires_grad=grad_weight)
        idx = lib.tensor(indices, device=dev)
        out = fn(lib, idx, w)
        if out.requires_grad:
            (out * lib.tensor(arr(*out.shape, seed=31, dtype=weight.dtype), device=dev)).sum() \
                .backward()
        results[lib] = [host(out), host(w.grad), host(w),
                        out.grad_fn.name() if out.grad_fn else None]
    assert_same_value(results[nbgrad], results[torch], rtol, atol)


INDICES = {'matrix': [[1, 2, 4, 5], [4, 3, 2, 9]], 'vector': [0, 9, 9, 9, 1], 'scalar': 3,
           'empty': np.zeros((0, 2), np.int64), 'int32': np.array([[2, 7], [7, 0]], np.int32)}
EMBEDDING_OPTIONS = {
    'plain': {}, 'padding': {'padding_idx': 9}, 'negative_padding': {'padding_idx': -8},
    'freq': {'scale_grad_by_freq': True}, 'padding_freq': {'padding_idx': 2,
                                                            'scale_grad_by_freq': True},
    'max_norm': {'max_norm': 1.2}, 'max_norm_l1': {'max_norm': 1.5, 'norm_type': 1.0},
    'max_norm_inf': {'max_norm': 0.8, 'norm_type': float('inf')}, 'sparse': {'sparse': False},
}


@pytest.mark.parametrize('indices', list(INDICES))
@pytest.mark.parametrize('options', list(EMBEDDING_OPTIONS))
def test_embedding(indices, options, device):
    kw = EMBEDDING_OPTIONS[options]
    lookup(lambda lib, idx, w: lib.nn.functional.embedding(idx, w, **kw),
           np.array(INDICES[indices]), arr(10, 3, seed=1, low=-1.5, high=1.5), device)


def test_embedding_float64_and_integer_weights():
    lookup(lambda lib, idx, w: lib.nn.functional.embedding(idx, w, padding_idx=0),
           np.array([[0, 2], [1, 1]]), arr(4, 5, dtype=np.float64))
    lookup(lambda lib, idx, w: lib.nn.functional.embedding(idx, w), np.array([3, 0]),
           np.arange(8).reshape(4, 2), grad_weight=False)


@pytest.mark.parametrize('make', [
    lambda lib: lib.nn.Embedding(10, 3),
    lambda lib: lib.nn.Embedding(10, 3, padding_idx=-1, max_norm=1.0, norm_type=1.0,
                                 scale_grad_by_freq=True),
    lambda lib: lib.nn.Embedding(5, 2, padding_idx=0, sparse=True, dtype=lib.float64),
    lambda lib: lib.nn.EmbeddingBag(10, 3),
    lambda lib: lib.nn.EmbeddingBag(10, 3, mode='sum', padding_idx=4, max_norm=2.0),
    lambda lib: lib.nn.EmbeddingBag(10, 3, mode='max', norm_type=3.0),
])
def test_embedding_modules(make, device):
    """Seeded initialisation (normal, padding row zeroed), repr, and a training step."""
    results = {}
    for lib in (torch, nbgrad):
        dev = dev_of(lib, device)
        lib.manual_seed(5)
        m = make(lib).to(dev)
        idx = lib.tensor([[1, 2, 4], [4, 0, 1]], device=dev)
        out = m(idx)
        out.sum().backward()
        results[lib] = [repr(m), host(m.weight), host(out), host(m.weight.grad)]
    assert_same_value(results[nbgrad], results[torch], 1e-6, 1e-7)


@pytest.mark.parametrize('freeze', [True, False])
def test_from_pretrained(freeze):
    def run(lib):
        table = lib.tensor(arr(4, 2))
        emb = lib.nn.Embedding.from_pretrained(table, freeze=freeze, padding_idx=1)
        bag = lib.nn.EmbeddingBag.from_pretrained(table, freeze=freeze, mode='sum')
        out = emb(lib.tensor([1, 3]))
        with lib.no_grad():
            table[3, 0] = 10.0  # the weight shares the given tensor's memory
        return (repr(emb), repr(bag), emb.weight.requires_grad, bag.weight.requires_grad,
                host(out), host(emb.weight), host(bag(lib.tensor([[0, 3]]))))
    assert_same_value(run(nbgrad), run(torch), 0, 0)


def test_embedding_constructor_checks():
    both(lambda lib: lib.nn.Embedding(4, 2, padding_idx=4))
    both(lambda lib: lib.nn.Embedding(4, 2, padding_idx=-5))
    both(lambda lib: lib.nn.Embedding(4, 2, _weight=lib.ones(3, 2)))
    both(lambda lib: lib.nn.Embedding.from_pretrained(lib.ones(3)))
    both(lambda lib: lib.nn.EmbeddingBag(4, 2, padding_idx=7))


def test_max_norm_renormalises_only_used_rows_in_place():
    def run(lib):
        w = lib.tensor(arr(6, 3, low=-2, high=2), requires_grad=True)
        version = w._version
        lib.nn.functional.embedding(lib.tensor([1, 1, 4]), w, max_norm=0.5)
        return host(w), w._version > version, host(w.norm(dim=1))
    got, expected = run(nbgrad), run(torch)
    assert_same_value(got, expected, 1e-6, 1e-7)
    assert got[2][1] <= 0.5 + 1e-6 and got[2][0] > 0.5  # row 0 was not used


# ---------------------------------------------------------------------------------------------
# embedding_bag
# ---------------------------------------------------------------------------------------------

BAGS = {  # name: (indices, offsets, include_last_offset)
    'offsets': ([1, 2, 4, 5, 4, 3, 2, 9, 2], [0, 3, 3, 7], False),
    'csr': ([1, 2, 4, 5, 4, 3, 2, 9, 2], [0, 2, 2, 9], True),
    'one_bag': ([3, 3, 8], [0], False),
    'matrix': ([[1, 2, 0], [4, 4, 3]], None, False),
    'empty_input': (np.zeros(0, np.int64), [0, 0], False),
}


def bag_case(name, mode, padding_idx=None, weighted=False, device='cpu', dtype=np.float32):
    indices, offsets, last = BAGS[name]
    indices = np.array(indices)
    results = {}
    for lib in (torch, nbgrad):
        dev = dev_of(lib, device)
        w = lib.tensor(arr(10, 3, seed=2, low=-2, high=2, dtype=dtype), device=dev,
                       requires_grad=True)
        psw = lib.tensor(arr(*indices.shape, seed=3, dtype=dtype), device=dev,
                         requires_grad=True) if weighted else None
        offs = None if offsets is None else lib.tensor(np.array(offsets), device=dev)
        out = lib.nn.functional.embedding_bag(lib.tensor(indices, device=dev), w, offs,
                                              mode=mode, per_sample_weights=psw,
                                              include_last_offset=last, padding_idx=padding_idx)
        (out * lib.tensor(arr(*out.shape, seed=4, dtype=dtype), device=dev)).sum().backward()
        results[lib] = [host(out), host(w.grad), host(psw.grad) if weighted else None,
                        out.grad_fn.name()]
    assert_same_value(results[nbgrad], results[torch], 1e-6, 1e-6)


@pytest.mark.parametrize('name', list(BAGS))
@pytest.mark.parametrize('mode', ['sum', 'mean', 'max'])
@pytest.mark.parametrize('padding_idx', [None, 2, -1])
def test_embedding_bag(name, mode, padding_idx, device):
    bag_case(name, mode, padding_idx, device=device)


@pytest.mark.parametrize('name', ['offsets', 'csr', 'matrix'])
@pytest.mark.parametrize('padding_idx', [None, 4])
def test_embedding_bag_per_sample_weights(name, padding_idx, device):
    bag_case(name, 'sum', padding_idx, weighted=True, device=device)


@pytest.mark.parametrize('mode', ['sum', 'mean', 'max'])
def test_embedding_bag_without_bags(mode):
    """No offsets: no bags, whatever the input. PyTorch crashes (segfault) on this in max mode
    and in every backward, so the result is checked against the definition: a (0, dim) output
    and no row used."""
    w = nbgrad.ones(10, 3, requires_grad=True)
    out = nbgrad.nn.functional.embedding_bag(nbgrad.tensor([1, 2]), w,
                                             nbgrad.zeros(0, dtype=nbgrad.long), mode=mode)
    (out * 2).sum().backward()
    assert tuple(out.shape) == (0, 3) and out.dtype == nbgrad.float32
    assert host(w.grad).tolist() == [[0.0] * 3] * 10


def test_embedding_bag_max_ties_pick_the_first_row():
    results = []
    for lib in (torch, nbgrad):
        w = lib.tensor([[1.0, 5.0], [1.0, 2.0], [0.0, 5.0]], requires_grad=True)
        out = lib.nn.functional.embedding_bag(lib.tensor([[2, 1, 0]]), w, mode='max')
        out.sum().backward()
        results.append([host(out), host(w.grad)])
    assert_same_value(results[1], results[0], 0, 0)


@pytest.mark.parametrize('mode', ['sum', 'mean'])
def test_embedding_bag_scale_grad_by_freq(mode):
    """Against F.embedding followed by per-bag reductions in PyTorch: PyTorch's own CPU
    embedding_bag scales by the count of the wrong row when the indices repeat (it looks the
    count up by unique-run number instead of by index), while embedding scales correctly."""
    indices, offsets = [1, 2, 4, 5, 4, 3, 2, 9, 2], [0, 3, 3, 7]
    weight, cot = arr(10, 3, seed=2), arr(4, 3, seed=4)
    w = torch.tensor(weight, requires_grad=True)
    rows = torch.nn.functional.embedding(torch.tensor(indices), w, scale_grad_by_freq=True)
    bounds = offsets + [len(indices)]
    reduce = torch.sum if mode == 'sum' else torch.mean
    expected = torch.stack([reduce(rows[a:b], 0) if b > a else torch.zeros(3)
                            for a, b in zip(bounds[:-1], bounds[1:])])
    (expected * torch.tensor(cot)).sum().backward()
    ours_w = nbgrad.tensor(weight, requires_grad=True)
    got = nbgrad.nn.functional.embedding_bag(nbgrad.tensor(indices), ours_w,
                                             nbgrad.tensor(offsets), mode=mode,
                                             scale_grad_by_freq=True)
    (got * nbgrad.tensor(cot)).sum().backward()
    assert_same_value([host(got), host(ours_w.grad)], [host(expected), host(w.grad)], 1e-6,
                      1e-7)


BAG_ERRORS = {
    'index_out_of_range': lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([10]), lib.ones(10, 2), lib.tensor([0])),
    'negative_index': lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([-1, 2]), lib.ones(10, 2), lib.tensor([0])),
    'bad_mode': lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([1]), lib.ones(4, 2), lib.tensor([0]), mode='median'),
    'offsets_with_2d': lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([[1]]), lib.ones(4, 2), lib.tensor([0])),
    'no_offsets_1d': lambda lib: lib.nn.functional.embedding_bag(lib.tensor([1]),
                                                                 lib.ones(4, 2)),
    'offsets_2d': lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([1]), lib.ones(4, 2), lib.tensor([[0]])),
    'input_3d': lambda lib: lib.nn.functional.embedding_bag(lib.tensor([[[1]]]), lib.ones(4, 2)),
    'weight_1d': lambda lib: lib.nn.functional.embedding_bag(lib.tensor([[1]]), lib.ones(4)),
    'weights_not_sum': lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([1, 2]), lib.ones(4, 2), lib.tensor([0]), per_sample_weights=lib.ones(2)),
    'weights_shape': lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([1, 2]), lib.ones(4, 2), lib.tensor([0]), mode='sum',
        per_sample_weights=lib.ones(3)),
    'weights_dtype': lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([1, 2]), lib.ones(4, 2), lib.tensor([0]), mode='sum',
        per_sample_weights=lib.ones(2, dtype=lib.float64)),
    'first_offset': lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([1, 2]), lib.ones(4, 2), lib.tensor([1])),
    'last_offset': lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([1, 2]), lib.ones(4, 2), lib.tensor([0, 5])),
    'max_with_freq': lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([1, 2]), lib.ones(4, 2), lib.tensor([0]), mode='max',
        scale_grad_by_freq=True),
    'float_indices': lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([[1.0]]), lib.ones(4, 2), mode='sum'),
}


@pytest.mark.parametrize('name', list(BAG_ERRORS))
def test_embedding_bag_errors(name):
    both(BAG_ERRORS[name])


# ---------------------------------------------------------------------------------------------
# Errors, gradcheck, one_hot
# ---------------------------------------------------------------------------------------------

EMBEDDING_ERRORS = {  # name: (indices, weight shape, indices dtype, options)
    'index_too_large': ([10], (10, 2), 'long', {}),
    'negative_index': ([[-1]], (10, 2), 'long', {}),
    'float_indices': ([1.0], (4, 2), 'float32', {}),
    'uint8_indices': ([1], (4, 2), 'uint8', {}),
    'weight_1d': ([1], (4,), 'long', {}),
    'weight_3d': ([1], (4, 2, 2), 'long', {}),
    'padding_too_large': ([1], (4, 2), 'long', {'padding_idx': 4}),
    'padding_too_small': ([1], (4, 2), 'long', {'padding_idx': -5}),
    'max_norm_out_of_range': ([5], (4, 2), 'long', {'max_norm': 1.0}),
}


@pytest.mark.parametrize('name', list(EMBEDDING_ERRORS))
def test_embedding_errors(name, device):
    indices, shape, dtype, options = EMBEDDING_ERRORS[name]

    def fn(lib, dev):
        return lib.nn.functional.embedding(
            lib.tensor(indices, dtype=getattr(lib, dtype), device=dev),
            lib.ones(*shape, device=dev), **options)
    with pytest.raises(Exception):
        fn(torch, 'cpu')
    both_on(device, fn)


@pytest.mark.cuda
def test_embedding_out_of_range_on_cuda(device):
    """CuPy would wrap the index around: nbgrad checks the bounds first."""
    w = nbgrad.ones(4, 2, device=device, requires_grad=True)
    for bad in ([4], [-1]):
        with pytest.raises(IndexError, match='out of range'):
            nbgrad.nn.functional.embedding(nbgrad.tensor(bad, device=device), w)
    with pytest.raises(RuntimeError, match='valid range'):
        nbgrad.nn.functional.embedding_bag(nbgrad.tensor([4], device=device), w,
                                           nbgrad.tensor([0], device=device))


def _f64(*shape, seed=0):
    return nbgrad.tensor(_arr(*shape, seed=seed, low=-2, high=2), requires_grad=True)


GRADCHECK = {
    # (padding_idx and scale_grad_by_freq change the gradient on purpose: compared with PyTorch)
    'embedding': (lambda w: nbgrad.nn.functional.embedding(nbgrad.tensor([[0, 2], [2, 3]]), w),
                  [(4, 3)]),
    'bag_sum_weighted': (lambda w, psw: nbgrad.nn.functional.embedding_bag(
        nbgrad.tensor([0, 2, 2, 3, 1]), w, nbgrad.tensor([0, 2, 2]), mode='sum',
        per_sample_weights=psw, padding_idx=1), [(4, 3), (5,)]),
    'bag_mean': (lambda w: nbgrad.nn.functional.embedding_bag(
        nbgrad.tensor([[0, 2, 2], [3, 1, 1]]), w), [(4, 3)]),
    'bag_max': (lambda w: nbgrad.nn.functional.embedding_bag(
        nbgrad.tensor([0, 2, 3, 1]), w, nbgrad.tensor([0, 1, 1]), mode='max'), [(4, 3)]),
}


@pytest.mark.parametrize('name', list(GRADCHECK))
def test_gradcheck(name):
    fn, shapes = GRADCHECK[name]
    leaves = [_f64(*s, seed=i) for i, s in enumerate(shapes)]
    assert nbgrad.autograd.gradcheck(fn, leaves)
    assert nbgrad.autograd.gradgradcheck(fn, leaves)


ONE_HOT = {  # name: (values, dtype, num_classes)
    'default': ([[1, 3], [0, 2]], 'long', -1),
    'num_classes': ([1, 0], 'long', 5),
    'scalar': (2, 'long', -1),
    'empty_with_classes': (np.zeros((0, 2), np.int64), 'long', 3),
    'too_large': ([1, 2], 'long', 2),
    'negative': ([-1, 2], 'long', -1),
    'float': ([1.0], 'float32', -1),
    'int32': ([1], 'int32', -1),
    'empty_infer': (np.zeros(0, np.int64), 'long', -1),
    'classes_below_minus_one': ([1], 'long', -2),
}


@pytest.mark.parametrize('name', list(ONE_HOT))
def test_one_hot(name, device):
    values, dtype, num_classes = ONE_HOT[name]
    both_on(device, lambda lib, dev: lib.nn.functional.one_hot(
        lib.tensor(values, dtype=getattr(lib, dtype), device=dev), num_classes))


@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available() or nbgrad.cuda.device_count() < 2,
                    reason='needs two CUDA devices')
def test_lookups_on_second_gpu():
    """Bounds checks, renormalisation and bag reductions run on the tensors' own GPU."""
    results = {}
    for lib, dev in ((torch, 'cpu'), (nbgrad, 'cuda:1')):
        w = lib.tensor(arr(10, 3, low=-2, high=2), device=dev, requires_grad=True)
        a = lib.nn.functional.embedding(lib.tensor([[1, 4], [4, 0]], device=dev), w,
                                        max_norm=1.0)
        b = lib.nn.functional.embedding_bag(lib.tensor([1, 2, 4, 4], device=dev), w,
                                            lib.tensor([0, 1, 1], device=dev), mode='max')
        c = lib.nn.functional.one_hot(lib.tensor([2, 0], device=dev))
        (a.sum() + b.sum()).backward()
        results[lib] = [host(a), host(b), host(c), host(w.grad), host(w)]
        with pytest.raises(RuntimeError):
            lib.nn.functional.embedding_bag(lib.tensor([1, 2], device=dev), w,
                                            lib.tensor([1], device=dev))
    assert_same_value(results[nbgrad], results[torch], 1e-6, 1e-7)


def test_failed_embedding_bag_leaves_the_weight():
    """Every check runs before max_norm rescales rows (PyTorch rescales, then refuses)."""
    w = nbgrad.tensor(arr(4, 2, low=2, high=3))
    before = host(w)
    for call in (lambda: nbgrad.nn.functional.embedding_bag(
                     nbgrad.tensor([1, 2]), w, nbgrad.tensor([0]), max_norm=1.0,
                     per_sample_weights=nbgrad.ones(2)),
                 lambda: nbgrad.nn.functional.embedding_bag(
                     nbgrad.tensor([1, 2]), w, nbgrad.tensor([1]), max_norm=1.0),
                 lambda: nbgrad.nn.functional.embedding(nbgrad.tensor([1, 7]), w, max_norm=1.0)):
        with pytest.raises((NotImplementedError, RuntimeError, IndexError)):
            call()
        assert host(w).tolist() == before.tolist()
