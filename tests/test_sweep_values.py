"""A sweep over PyTorch's namespaces against PyTorch: every public function of torch, nn.functional,
linalg, special and fft, and every Tensor method (in-place ones included), is called on the same
arguments in both libraries: the first of a few argument patterns (tensors of several shapes, an
int) that PyTorch accepts. nbgrad must accept it too and return the same structure, shapes,
dtypes and values. Run for float32, float64, int64, uint8 and bool inputs; and in float64 for
the gradients of every differentiable output (a fixed weighted sum) with respect to every input.

Run the other way round too: every call PyTorch refuses for its input's dtype, nbgrad refuses.

No per-function code: this is a net under the op-by-op tests, and it found six disagreements
when it was written (unsorted and negative tensor_split indices, integer matrix_power, square of
bool, uint8 conditions of where, integer margin_ranking_loss, tensordot's total contraction
under autocast)."""
import warnings

import numpy as np
import pytest
import torch

import nbgrad

# not functions of tensors, or random, or state-changing, or answering about memory
SKIPPED = {
    'manual_seed', 'seed', 'set_default_dtype', 'set_default_device', 'set_printoptions', 'load',
    'save', 'compile', 'use_deterministic_algorithms', 'set_num_threads',
    'set_float32_matmul_precision', 'set_rng_state', 'set_grad_enabled', 'set_anomaly_enabled',
    'set_warn_always', 'set_flush_denormal', 'set_num_interop_threads',
    'set_deterministic_debug_mode', 'set_default_tensor_type', 'backward', 'register_hook',
    'share_memory', 'share_memory_', 'pin_memory', 'cuda', 'to', 'type', 'apply', 'map',
    'record_stream', 'retain_grad', 'set', 'set_', 'storage', 'untyped_storage', 'resize',
    'resize_', 'resize_as_', 'copy', 'copy_', 'detach_', 'requires_grad_', 'empty', 'empty_like',
    'empty_strided', 'new_empty', 'new_empty_strided', 'data_ptr', 'const_data_ptr',
    'get_rng_state',
    'initial_seed', 'rand', 'randn', 'randint', 'randperm', 'rand_like', 'randn_like',
    'randint_like', 'bernoulli', 'bernoulli_', 'multinomial', 'normal', 'normal_', 'poisson',
    'uniform_', 'random_', 'exponential_', 'geometric_', 'cauchy_', 'log_normal_', 'dropout',
    'alpha_dropout', 'feature_alpha_dropout', 'dropout1d', 'dropout2d', 'dropout3d', 'rrelu',
    'rrelu_', 'gumbel_softmax', 'fractional_max_pool2d', 'fractional_max_pool3d',
    'inference_mode', 'vmap', 'cond', 'while_loop', 'is_pinned', 'is_shared',
    'svd_lowrank', 'pca_lowrank',   # (random projections: compared seeded in test_linalg_sweep2)
    'bfloat16'}       # (nbgrad has no bfloat16: README)

# the compressed sparse layouts: nbgrad has 2-d CSR and CSC (the sweep's 2-d values make a
# batched one, which it refuses), and no BSR or BSC
SKIPPED |= {'to_sparse_csr', 'to_sparse_csc', 'to_sparse_bsr', 'to_sparse_bsc',
            'sparse_csr_tensor', 'sparse_csc_tensor'}
# helpers for Python numbers (PyTorch's hand a tensor to its __torch_function__, which returns it)
SKIPPED |= {'sym_int', 'sym_float', 'sym_max', 'sym_min', 'sym_not', 'sym_sqrt', 'sym_ite',
            'sym_sum'}

# Where the two may differ, with the reason; the sweep compares what is named here only.
ONLY = {
    'eig': 'first',        # eigenvectors are unique up to a phase (LAPACK's choice per build)
    'eigh': 'first',       # ... and up to a sign
    'cholesky_ex': 'last',  # L is unspecified past a failed minor; info is not
    'svd': 'second',       # singular vectors are unique up to a sign; the values are not
}
# (function, dtype kind): known differences on inputs no model meets, with the reason
KNOWN = {
    ('kthvalue', 'iu'): 'ties among integers: which index is returned is unspecified',
    ('topk', 'iu'): 'ties among integers: which index is returned is unspecified',
    ('adaptive_avg_pool1d', 'iub'): 'an empty output size on integers: PyTorch returns before '
                                    'its dtype check, nbgrad refuses the dtype',
    ('adaptive_avg_pool2d', 'iub'): 'the same',
    ('kthvalue', 'b'): 'a 0-d bool tensor: PyTorch returns it before its dtype check',
    ('upsample_bilinear', 'u'): 'uint8 bilinear resampling (image code) is not implemented: '
                                'nbgrad says so and asks for a float input',
    ('polygamma', 'iu'): 'poles at non-positive integers: PyTorch gives large finite values, '
                         'nbgrad inf',
}
PATTERNS = (('A',), ('B',), ('C',), ('A', 'A'), ('B', 'B'), ('C', 'C'), ('A', 1), ('B', 1),
            ('B', 0), ('C', 0), ('A', 'A', 'A'), ('B', 'B', 'B'), ('B', 2), ('A', -1))
# the same calls on a non-contiguous view (T: A transposed and strided) and a 0-d tensor (S)
VIEW_PATTERNS = (('T',), ('T', 'T'), ('T', 1), ('T', 0), ('T', 'T', 'T'), ('S',), ('S', 'S'),
                 ('S', 'B'), ('B', 'S'), ('S', 1))
NAMESPACES = {'torch': (torch, nbgrad), 'F': (torch.nn.functional, nbgrad.nn.functional),
              'Tensor': (torch.Tensor, nbgrad.Tensor), 'linalg': (torch.linalg, nbgrad.linalg),
              'special': (torch.special, nbgrad.special), 'fft': (torch.fft, nbgrad.fft)}


def _arrays(dtype):
    def make(seed, shape, positive=False):
        rng = np.random.default_rng(seed)
        if dtype == 'bool':
            return rng.integers(0, 2, shape).astype(bool)
        if dtype in ('int64', 'uint8'):
            low = 1 if positive else (0 if dtype == 'uint8' else -3)
            return rng.integers(low, 5, shape).astype(dtype)
        values = rng.standard_normal(shape).astype(dtype)
        return np.abs(values) + 0.1 if positive else values
    return {'A': make(1, (2, 3, 4, 4)), 'B': make(2, (4, 4)), 'C': make(3, (5,), True)}


def _tensor(lib, name, arrays):
    if name == 'T':
        return lib.tensor(arrays['A']).transpose(1, 3)[:, ::2]
    if name == 'S':
        return lib.tensor(arrays['B'][0, 0])
    return lib.tensor(arrays[name])


def _call(lib, fn, pattern, arrays, device='cpu'):
    return fn(*[_tensor(lib, a, arrays).to(device) if isinstance(a, str) else a
                for a in pattern])


def _leaves(out):
    """The arrays (on the host) and numbers of a result, flattened."""
    if isinstance(out, (tuple, list)):
        return [leaf for item in out for leaf in _leaves(item)]
    if hasattr(out, 'detach') and hasattr(out, 'dtype'):
        if out.is_sparse:    # (to_sparse, sparse_coo_tensor): its value, and whether coalesced
            return [np.asarray(out.detach().cpu().to_dense().numpy()), out.is_coalesced()]
        return [np.asarray(out.detach().cpu().resolve_conj().resolve_neg().numpy())]
    return [out]


def _differences(name, expected, got, kind):
    if ONLY.get(name) == 'first':
        expected, got = expected[:1], got[:1]
    elif ONLY.get(name) == 'last':
        expected, got = expected[-1:], got[-1:]
    elif ONLY.get(name) == 'second':
        expected, got = expected[1:2], got[1:2]
    if len(expected) != len(got):
        return f'{len(got)} results, PyTorch {len(expected)}'
    for want, have in zip(expected, got):
        if isinstance(want, np.ndarray):
            if not isinstance(have, np.ndarray) or want.shape != have.shape or \
                    want.dtype != have.dtype:
                return f'{getattr(have, "shape", have)} {getattr(have, "dtype", "")}, PyTorch ' \
                       f'{want.shape} {want.dtype}'
            close = np.allclose(want, have, rtol=1e-4, atol=1e-5, equal_nan=True) \
                if want.dtype.kind in 'fc' else np.array_equal(want, have)
            if not close:
                return 'values differ'
        elif isinstance(want, (bool, int, float)) and want != have and want == want:
            return f'{have!r}, PyTorch {want!r}'
    return None


def _function_pairs(namespaces, skipped=lambda name: False):
    """(name, PyTorch's function, nbgrad's) for every public function of the namespace pairs
    that both libraries have, but the skipped names."""
    for theirs_ns, ours_ns in namespaces:
        for name in dir(theirs_ns):
            if name.startswith('_') or not name.islower() or name in SKIPPED or skipped(name):
                continue
            theirs, ours = getattr(theirs_ns, name, None), getattr(ours_ns, name, None)
            if ours is not None and callable(theirs) and callable(ours):
                yield name, theirs, ours


def _sweep(namespaces, skipped, patterns, theirs_run, ours_run, compare):
    """Run every public function of the (PyTorch, nbgrad) namespace pairs, but the skipped
    names, on the first argument pattern theirs_run accepts (a result of None: nothing to
    compare for this function); ours_run must accept it too and compare(name, expected, got)
    find nothing. Returns (functions compared, disagreements)."""
    compared, disagreements = 0, []
    for name, theirs, ours in _function_pairs(namespaces, skipped):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            for pattern in patterns:
                try:
                    expected = theirs_run(theirs, pattern)
                except Exception:
                    continue
                if expected is None:
                    break
                try:
                    got = ours_run(ours, pattern)
                except Exception as error:
                    disagreements.append(f'{name}{pattern}: raised {type(error).__name__}: '
                                         f'{str(error)[:100]}')
                    break
                compared += 1
                problem = compare(name, expected, got)
                if problem:
                    disagreements.append(f'{name}{pattern}: {problem}')
                break
    return compared, disagreements


def _known(kind):
    return lambda name: any(key[0] == name and kind in key[1] for key in KNOWN)


@pytest.mark.parametrize('inputs', ['plain', 'views'])
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64', 'uint8', 'bool'])
@pytest.mark.parametrize('namespace', list(NAMESPACES))
def test_every_function_agrees_with_pytorch(namespace, dtype, inputs):
    arrays = _arrays(dtype)
    kind = np.dtype(dtype).kind
    compared, disagreements = _sweep(
        [NAMESPACES[namespace]], _known(kind), PATTERNS if inputs == 'plain' else VIEW_PATTERNS,
        lambda fn, pattern: _call(torch, fn, pattern, arrays),
        lambda fn, pattern: _call(nbgrad, fn, pattern, arrays),
        lambda name, want, have: _differences(name, _leaves(want), _leaves(have), kind))
    assert compared > 0
    assert not disagreements, '\n'.join(disagreements)


# on CUDA, where PyTorch's own CUDA results differ from its CPU ones (the oracle here)
CUDA_DIFFERS = {
    'get_device': 'the device index: -1 on the CPU',
    'lstsq': "CUDA has only the 'gels' driver, whose rank is empty (as PyTorch's on CUDA)",
}


# PyTorch's messages when a kernel has no version for the input's dtype
DTYPE_REFUSALS = ('not implemented for', "can't be cast to the desired output type",
                  'Expected a floating point or complex tensor', 'Expected a long tensor',
                  'Expected dtype int32/int64', 'could not infer output dtype',
                  'must be a torch.dtype')


@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64', 'uint8', 'bool'])
def test_every_dtype_pytorch_refuses_is_refused(dtype):
    """The sweep the other way round: wherever PyTorch refuses a call for its input's dtype (no
    kernel for it, a result the input cannot hold), nbgrad refuses it too, so that code which
    runs on nbgrad runs on PyTorch (tests/test_dtype_refusals.py checks the messages)."""
    arrays = _arrays(dtype)
    accepted = []
    for name, theirs, ours in _function_pairs(NAMESPACES.values()):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            for pattern in PATTERNS + VIEW_PATTERNS:
                try:
                    _call(torch, theirs, pattern, arrays)
                    continue
                except Exception as error:
                    if not any(m in str(error) for m in DTYPE_REFUSALS):
                        continue
                try:
                    _call(nbgrad, ours, pattern, arrays)
                except Exception:
                    continue
                accepted.append(f'{name}{pattern}')
    assert not accepted, '\n'.join(accepted)


@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')
@pytest.mark.parametrize('dtype', ['float32', 'float64', 'int64', 'bool'])
def test_every_function_on_cuda_agrees_with_pytorch_on_the_cpu(dtype):
    """The value sweep with nbgrad's tensors on 'cuda': every CUDA code path (CuPy and the
    hand-written kernels) against PyTorch's CPU results."""
    arrays = _arrays(dtype)
    kind = np.dtype(dtype).kind
    known = _known(kind)
    compared, disagreements = _sweep(
        NAMESPACES.values(),
        lambda name: name in CUDA_DIFFERS or name in ('cpu', 'numpy', 'tolist', 'item') or
        known(name),
        PATTERNS + VIEW_PATTERNS,
        lambda fn, pattern: _call(torch, fn, pattern, arrays),
        lambda fn, pattern: _call(nbgrad, fn, pattern, arrays, 'cuda'),
        lambda name, want, have: _differences(name, _leaves(want), _leaves(have), kind))
    assert compared > 100
    assert not disagreements, '\n'.join(disagreements)


# Gradients: where a function's inputs are outside its domain on the sweep's random tensors
GRADIENT_KNOWN = {
    'cholesky_inverse': 'its input should be triangular; on a full matrix PyTorch\'s gradient '
                        'reads the triangle the forward ignores',
    'cholesky_solve': 'the same, for its second input',
}


def _weights(lib, out):
    """Fixed weights for out's elements (NumPy-made: the same numbers in both libraries)."""
    return lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)),
                      device=out.device).to(out.dtype)


def _weighted_loss(lib, fn, pattern, arrays, device):
    """(input leaves, a fixed weighted sum of fn's differentiable outputs), or None when no
    output is differentiable."""
    leaves = [lib.tensor(arrays[a], device=device, requires_grad=True)
              for a in pattern if isinstance(a, str)]
    given = iter(leaves)
    out = fn(*[next(given) if isinstance(a, str) else a for a in pattern])
    outputs = [o for o in (out if isinstance(out, (tuple, list)) else (out,))
               if hasattr(o, 'requires_grad') and o.requires_grad and o.numel()]
    if not outputs:
        return None
    return leaves, sum((o * _weights(lib, o)).sum() for o in outputs)


def _gradients(lib, fn, pattern, arrays, device='cpu'):
    made = _weighted_loss(lib, fn, pattern, arrays, device)
    if made is None:
        return None
    leaves, loss = made
    return lib.autograd.grad(loss, leaves, allow_unused=True)


def _second_derivatives(lib, fn, pattern, arrays, device):
    """d/d(inputs) of <grad of the weighted sum, fixed directions>: Hessian-vector products,
    through create_graph=True; None when nothing is differentiable, 'constant' when the first
    gradients do not depend on the inputs."""
    made = _weighted_loss(lib, fn, pattern, arrays, device)
    if made is None:
        return None
    leaves, loss = made
    grads = lib.autograd.grad(loss, leaves, create_graph=True, allow_unused=True)
    terms = [(g * lib.tensor(np.cos(np.arange(g.numel())).reshape(tuple(g.shape)),
                             device=g.device)).sum()
             for g in grads if g is not None and g.requires_grad]
    if not terms:
        return 'constant'
    return lib.autograd.grad(sum(terms), leaves, allow_unused=True)


def _nonzero(grads):
    return any(g is not None and np.abs(g.cpu().numpy(force=True)).max() > 1e-12 for g in grads)


def _gradients_differ(name, expected, got, none_if_zero=False):
    """A difference between two tuples of gradients; none_if_zero: a None on one side only
    stands for zeros (a second derivative whose graph one library did not build)."""
    for want, have in zip(expected, got):
        if (want is None) != (have is None):
            if not none_if_zero or _nonzero([want if have is None else have]):
                return 'gradient None in one only'
        elif want is not None and not np.allclose(
                want.numpy(force=True), have.cpu().numpy(force=True), rtol=1e-6, atol=1e-8,
                equal_nan=True):
            return 'gradients differ'
    return None


def _skipped_for_gradients(device):
    return lambda name: name.endswith('_') or name in GRADIENT_KNOWN or name in ONLY or \
        (device != 'cpu' and name in CUDA_DIFFERS)


@pytest.mark.parametrize('namespace', list(NAMESPACES))
def test_every_gradient_agrees_with_pytorch(namespace, device):
    """The same sweep in float64, comparing the gradients of a fixed weighted sum of every
    differentiable output with respect to every input (on 'cuda': nbgrad's on the GPU against
    PyTorch's on the CPU)."""
    arrays = _arrays('float64')
    compared, disagreements = _sweep(
        [NAMESPACES[namespace]], _skipped_for_gradients(device), PATTERNS,
        lambda fn, pattern: _gradients(torch, fn, pattern, arrays),
        lambda fn, pattern: _gradients(nbgrad, fn, pattern, arrays, device),
        _gradients_differ)
    assert compared > 0
    assert not disagreements, '\n'.join(disagreements)


def _second_derivatives_differ(name, expected, got):
    if 'constant' in (expected, got):
        # one side built no graph for constant gradients: the other's must be zero
        other = got if expected == 'constant' else expected
        if other != 'constant' and _nonzero(other):
            return 'second derivative zero in one library only'
        return None
    return _gradients_differ(name, expected, got, none_if_zero=True)


@pytest.mark.parametrize('namespace', list(NAMESPACES))
def test_every_second_derivative_agrees_with_pytorch(namespace, device):
    """The gradient sweep once more, differentiating the gradients (create_graph=True): nbgrad's
    backward formulas are Tensor ops, and this checks their own derivatives against
    PyTorch's double backward."""
    arrays = _arrays('float64')
    compared, disagreements = _sweep(
        [NAMESPACES[namespace]], _skipped_for_gradients(device), PATTERNS,
        lambda fn, pattern: _second_derivatives(torch, fn, pattern, arrays, 'cpu'),
        lambda fn, pattern: _second_derivatives(nbgrad, fn, pattern, arrays, device),
        _second_derivatives_differ)
    assert compared > 0
    assert not disagreements, '\n'.join(disagreements)
