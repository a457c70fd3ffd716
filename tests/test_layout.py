"""torch.layout: the names PyTorch has, a tensor's .layout, every factory taking
layout=strided, PyTorch's TypeError for a non-layout, sparse COO from the factories PyTorch makes
it with, and a clear NotImplementedError (never a dense tensor in disguise) for the rest."""
import pickle

import pytest
import torch

import nbgrad

FACTORIES = {
    'zeros': lambda lib, **kw: lib.zeros(2, **kw),
    'ones': lambda lib, **kw: lib.ones(2, **kw),
    'empty': lambda lib, **kw: lib.empty(2, **kw),
    'full': lambda lib, **kw: lib.full((2,), 1.0, **kw),
    'zeros_like': lambda lib, **kw: lib.zeros_like(lib.ones(2), **kw),
    'full_like': lambda lib, **kw: lib.full_like(lib.ones(2), 3.0, **kw),
    'arange': lambda lib, **kw: lib.arange(3, **kw),
    'linspace': lambda lib, **kw: lib.linspace(0, 1, 3, **kw),
    'logspace': lambda lib, **kw: lib.logspace(0, 1, 3, **kw),
    'eye': lambda lib, **kw: lib.eye(2, **kw),
    'scalar_tensor': lambda lib, **kw: lib.scalar_tensor(1.0, **kw),
    'tril_indices': lambda lib, **kw: lib.tril_indices(3, 3, **kw),
    'rand': lambda lib, **kw: lib.rand(2, **kw),
    'randn': lambda lib, **kw: lib.randn(2, **kw),
    'randint': lambda lib, **kw: lib.randint(0, 5, (2,), **kw),
    'randperm': lambda lib, **kw: lib.randperm(4, **kw),
    'rand_like': lambda lib, **kw: lib.rand_like(lib.ones(2), **kw),
    'normal': lambda lib, **kw: lib.normal(0.0, 1.0, (2,), **kw),
    'hann_window': lambda lib, **kw: lib.hann_window(4, **kw),
    'fftfreq': lambda lib, **kw: lib.fft.fftfreq(4, **kw),
    'new_zeros': lambda lib, **kw: lib.ones(2).new_zeros(3, **kw),
    'new_full': lambda lib, **kw: lib.ones(2).new_full((3,), 2.0, **kw),
}


def test_names_match_pytorch():
    ours = sorted(n for n in dir(nbgrad) if isinstance(getattr(nbgrad, n), nbgrad.layout))
    theirs = sorted(n for n in dir(torch) if isinstance(getattr(torch, n), torch.layout)
                    and not n.startswith('_'))
    assert ours == theirs
    assert [repr(getattr(nbgrad, n)).split('.')[1] for n in ours] == \
        [repr(getattr(torch, n)).split('.')[1] for n in theirs]


def test_tensors_are_strided_and_layouts_pickle_as_singletons():
    for lib in (torch, nbgrad):
        assert lib.ones(2, 3).t().layout is lib.strided
        assert pickle.loads(pickle.dumps(lib.sparse_coo)) is lib.sparse_coo


@pytest.mark.parametrize('name', FACTORIES)
def test_factories_take_strided(name):
    got = FACTORIES[name](nbgrad, layout=nbgrad.strided)
    expected = FACTORIES[name](torch, layout=torch.strided)
    assert tuple(got.shape) == tuple(expected.shape) and got.layout is nbgrad.strided


@pytest.mark.parametrize('name', FACTORIES)
def test_a_non_layout_is_a_type_error(name):
    """PyTorch's message where it has one signature; its overloaded factories (arange, eye,
    randn...) list every overload instead, nbgrad names the argument."""
    with pytest.raises(TypeError) as expected:
        FACTORIES[name](torch, layout='strided')
    with pytest.raises(TypeError, match="argument 'layout' must be torch.layout, not str") \
            as got:
        FACTORIES[name](nbgrad, layout='strided')
    if 'invalid combination' not in str(expected.value):
        assert str(got.value) == str(expected.value)


SPARSE_COO_FACTORIES = ('zeros', 'empty', 'zeros_like', 'new_zeros')


@pytest.mark.parametrize('name', FACTORIES)
def test_sparse_coo_layout(name):
    """zeros, empty, zeros_like and new_zeros with layout=sparse_coo make a sparse COO tensor
    with no entries, as PyTorch's do; the other factories refuse it (PyTorch has no sparse
    kernel for them either, except scalar_tensor, which ignores the layout: nbgrad refuses
    rather than hand back a dense tensor in disguise)."""
    if name in SPARSE_COO_FACTORIES:
        got = FACTORIES[name](nbgrad, layout=nbgrad.sparse_coo)
        expected = FACTORIES[name](torch, layout=torch.sparse_coo)
        assert got.layout is nbgrad.sparse_coo and expected.layout is torch.sparse_coo
        assert tuple(got.shape) == tuple(expected.shape) and got._nnz() == expected._nnz() == 0
    else:
        with pytest.raises(NotImplementedError, match='strided'):
            FACTORIES[name](nbgrad, layout=nbgrad.sparse_coo)


@pytest.mark.parametrize('name', FACTORIES)
def test_compressed_layouts_are_refused(name):
    with pytest.raises(NotImplementedError, match='strided'):
        FACTORIES[name](nbgrad, layout=nbgrad.sparse_csr)
