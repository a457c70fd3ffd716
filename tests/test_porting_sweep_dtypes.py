"""Differences in dtype handling that the second dtype porting sweep found (the same PyTorch
code run under both libraries), each fixed and checked here against PyTorch itself."""
import pytest

from torch_compare import both

torch = pytest.importorskip('torch')


@pytest.mark.parametrize('weight', [
    lambda lib: lib.tensor(0.3, dtype=lib.float64), lambda lib: lib.tensor(1),
    lambda lib: lib.tensor(0.3, dtype=lib.float16), lambda lib: lib.tensor(True),
    lambda lib: lib.tensor([0.3, 0.2], dtype=lib.float64), lambda lib: 0.25,
], ids=['f64-0d', 'int-0d', 'f16-0d', 'bool-0d', 'f64-1d', 'number'])
@pytest.mark.parametrize('in_place', [False, True])
def test_lerp_converts_a_0_dim_weight_of_another_dtype(weight, in_place):
    """PyTorch converts a 0-dim weight tensor to input's dtype; a 1-d one must match."""
    def run(lib):
        a, b = lib.tensor([1., 2.]), lib.tensor([3., 5.])
        return a.clone().lerp_(b, weight(lib)) if in_place else lib.lerp(a, b, weight(lib))
    both(run)


@pytest.mark.parametrize('in_place', [False, True])
def test_lerp_end_must_match_even_when_0_dim(in_place):
    def run(lib):
        a = lib.tensor([1., 2.])
        end = lib.tensor(3., dtype=lib.float64)
        return a.lerp_(end, 0.5) if in_place else lib.lerp(a, end, 0.5)
    both(run)
