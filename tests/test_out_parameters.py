"""PyTorch's out= on the torch.* functions that take it: nbgrad's list agrees with PyTorch's stubs,
every function on it takes out=, and for a broad sample the result written into out (and
returned as out itself), casts into a wider out dtype, the refused narrowing cast, the resize
warning and the autograd refusal match PyTorch's."""
import inspect
import warnings

import numpy as np
import pytest
import torch

import nbgrad
from nbgrad._out import LINALG_OUT_FUNCTIONS, OUT_FUNCTIONS

import _signatures


def _takes_out_in_pytorch(module, ours):
    """The public functions of a torch module that take out= (by PyTorch's stubs, schemas or
    docstrings) and that nbgrad's module `ours` has."""
    names = set()
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith('_') or not callable(obj) or isinstance(obj, type) or \
                not hasattr(ours, name):
            continue
        try:
            overloads = _signatures.torch_overloads(obj, name)
        except Exception:
            continue
        if overloads and any('out' in sig.parameters for sig in overloads):
            names.add(name)
    return names


# out= in PyTorch's stubs that PyTorch itself refuses (checked below)
STUB_ONLY = {'special': {'softmax', 'log_softmax'}}


@pytest.mark.parametrize('module, listed', [('', OUT_FUNCTIONS),
                                            ('linalg', LINALG_OUT_FUNCTIONS),
                                            ('special', ()), ('fft', ())])
def test_every_function_pytorch_gives_out_takes_it(module, listed):
    theirs = getattr(torch, module) if module else torch
    ours = getattr(nbgrad, module) if module else nbgrad
    names = _takes_out_in_pytorch(theirs, ours) - STUB_ONLY.get(module, set())
    assert sorted(names - set(listed) - {n for n in names if _has_out(getattr(ours, n))}) == []
    for name in listed:
        assert _has_out(getattr(ours, name)), f'{module}.{name}'


def _has_out(fn):
    fn = getattr(fn, '_nbgrad_dispatches', fn)  # (__torch_function__ dispatch: the function)
    fn = getattr(fn, '_autocast_target', fn)    # autocast's entry points pass out= through
    try:
        return 'out' in inspect.signature(fn, follow_wrapped=False).parameters
    except (TypeError, ValueError):
        return False


def _x(lib, *shape, seed=0, dtype='float32'):
    values = np.random.default_rng(seed).uniform(0.1, 2.0, shape)
    return lib.tensor(values, dtype=getattr(lib, dtype))


CALLS = {
    'add': lambda lib, f: f(_x(lib, 3, 4), _x(lib, 4, seed=1), alpha=2),
    'sub': lambda lib, f: f(_x(lib, 3, 4), 1.5),
    'mul': lambda lib, f: f(_x(lib, 3, 4), _x(lib, 3, 4, seed=1)),
    'div': lambda lib, f: f(_x(lib, 5), _x(lib, 5, seed=1), rounding_mode='floor'),
    'pow': lambda lib, f: f(_x(lib, 5), 3),
    'exp': lambda lib, f: f(_x(lib, 2, 3)),
    'log': lambda lib, f: f(_x(lib, 2, 3)),
    'sqrt': lambda lib, f: f(_x(lib, 4)),
    'tanh': lambda lib, f: f(_x(lib, 4)),
    'sigmoid': lambda lib, f: f(_x(lib, 4)),
    'clamp': lambda lib, f: f(_x(lib, 6), 0.5, 1.5),
    'where': lambda lib, f: f(_x(lib, 4) > 1, _x(lib, 4), _x(lib, 4, seed=2)),
    'maximum': lambda lib, f: f(_x(lib, 4), _x(lib, 4, seed=1)),
    'eq': lambda lib, f: f(_x(lib, 4), _x(lib, 4)),
    'logical_and': lambda lib, f: f(_x(lib, 4) > 1, _x(lib, 4, seed=1) > 1),
    'sum': lambda lib, f: f(_x(lib, 3, 4), 1),
    'mean': lambda lib, f: f(_x(lib, 3, 4), 0, keepdim=True),
    'prod': lambda lib, f: f(_x(lib, 3, 4), 1),
    'std': lambda lib, f: f(_x(lib, 3, 4), 1),
    'logsumexp': lambda lib, f: f(_x(lib, 3, 4), 1),
    'argmax': lambda lib, f: f(_x(lib, 3, 4), 1),
    'cumsum': lambda lib, f: f(_x(lib, 3, 4), 1),
    'matmul': lambda lib, f: f(_x(lib, 3, 4), _x(lib, 4, 2, seed=1)),
    'mm': lambda lib, f: f(_x(lib, 3, 4), _x(lib, 4, 2, seed=1)),
    'bmm': lambda lib, f: f(_x(lib, 2, 3, 4), _x(lib, 2, 4, 2, seed=1)),
    'addmm': lambda lib, f: f(_x(lib, 3, 2), _x(lib, 3, 4), _x(lib, 4, 2, seed=1)),
    'dot': lambda lib, f: f(_x(lib, 4), _x(lib, 4, seed=1)),
    'outer': lambda lib, f: f(_x(lib, 3), _x(lib, 2, seed=1)),
    'gather': lambda lib, f: f(_x(lib, 3, 4), 1, lib.tensor([[0, 1], [2, 3], [1, 1]])),
    'index_select': lambda lib, f: f(_x(lib, 3, 4), 0, lib.tensor([2, 0])),
    'masked_select': lambda lib, f: f(_x(lib, 3, 4), _x(lib, 3, 4) > 1),
    'tril': lambda lib, f: f(_x(lib, 4, 4), -1),
    'softmax': lambda lib, f: f(_x(lib, 3, 4), 1),
    'nonzero': lambda lib, f: f(_x(lib, 3, 4) > 1),
    'lerp': lambda lib, f: f(_x(lib, 4), _x(lib, 4, seed=1), 0.3),
    'addcmul': lambda lib, f: f(_x(lib, 4), _x(lib, 4, seed=1), _x(lib, 4, seed=2)),
    'vstack': lambda lib, f: f([_x(lib, 2, 3), _x(lib, 1, 3)]),
    'kron': lambda lib, f: f(_x(lib, 2, 2), _x(lib, 2, 3)),
    'sort': lambda lib, f: f(_x(lib, 3, 4), 1, descending=True),
    'topk': lambda lib, f: f(_x(lib, 3, 5), 2),
    'kthvalue': lambda lib, f: f(_x(lib, 3, 5), 2, 1),
    'cummax': lambda lib, f: f(_x(lib, 3, 5), 1),
    'aminmax': lambda lib, f: f(_x(lib, 3, 5), dim=0),
    'linalg.inv': lambda lib, f: f(_x(lib, 3, 3) + 3 * lib.eye(3)),
    'linalg.vector_norm': lambda lib, f: f(_x(lib, 3, 4), 3, dim=1),
    'linalg.matrix_norm': lambda lib, f: f(_x(lib, 2, 3, 4), 'nuc'),
    'linalg.solve': lambda lib, f: f(_x(lib, 3, 3) + 3 * lib.eye(3), _x(lib, 3, 2, seed=1)),
    'linalg.qr': lambda lib, f: f(_x(lib, 4, 3)),
    'linalg.slogdet': lambda lib, f: f(_x(lib, 3, 3) + 3 * lib.eye(3)),
    'linalg.svdvals': lambda lib, f: f(_x(lib, 4, 3)),
}


@pytest.mark.parametrize('name', sorted(STUB_ONLY['special']))
def test_stub_only_out_is_refused_by_pytorch_too(name):
    for lib in (torch, nbgrad):
        with pytest.raises(TypeError, match='out'):
            getattr(lib.special, name)(lib.ones(2, 3), 1, out=lib.empty(2, 3))


def _empty_like(lib, result):
    if isinstance(result, tuple):
        return tuple(lib.empty(0, dtype=r.dtype) for r in result)
    return lib.empty(0, dtype=result.dtype)


@pytest.mark.parametrize('name', CALLS)
def test_results_written_into_out_match_pytorch(name):
    def run(lib):
        fn = lib
        for part in name.split('.'):
            fn = getattr(fn, part)
        plain = CALLS[name](lib, fn)
        out = _empty_like(lib, plain)
        returned = CALLS[name](lib, lambda *args, **kwargs: fn(*args, **kwargs, out=out))
        outs = out if isinstance(out, tuple) else (out,)
        got = returned if isinstance(returned, tuple) else (returned,)
        assert all(g is o for g, o in zip(got, outs))
        plains = plain if isinstance(plain, tuple) else (plain,)
        return [o.numpy() for o in outs], [p.numpy() for p in plains]
    (got_out, got_plain), (expected_out, _) = run(nbgrad), run(torch)
    for g, p, e in zip(got_out, got_plain, expected_out):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(g, p)


def test_casts_resizes_and_refusals_match_pytorch():
    outcomes = []
    for lib in (torch, nbgrad):
        x = _x(lib, 4)
        wide = lib.empty(4, dtype=lib.float64)
        lib.exp(x, out=wide)
        with pytest.raises(RuntimeError) as narrowing:
            lib.exp(x, out=lib.empty(4, dtype=lib.int64))
        with pytest.warns(UserWarning, match='resized'):
            lib.add(x, x, out=lib.empty(2))
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            resized = lib.add(x, x, out=lib.empty(0))
        leaf = _x(lib, 4).requires_grad_()
        with pytest.raises(RuntimeError) as autograd:
            lib.mul(leaf, 2, out=lib.empty(4))
        outcomes.append((wide.numpy().dtype.name, np.round(wide.numpy(), 5).tolist(),
                         str(narrowing.value), tuple(resized.shape),
                         str(autograd.value).replace('nbgrad', 'torch')))
    assert outcomes[1] == outcomes[0]
