"""Differences the end-to-end porting sweep found (pytorch/examples-style programs run under
both libraries), each fixed and checked here against PyTorch itself."""
import pytest

from torch_compare import assert_same, both

torch = pytest.importorskip('torch')


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('align_corners', [False, True])
@pytest.mark.parametrize('size', [(3, 1, 7, 9), (2, 1, 3, 5, 4)], ids=['2d', '3d'])
def test_affine_grid_is_pytorchs_to_the_bit(size, align_corners, dtype):
    def run(lib):
        lib.manual_seed(0)
        theta = lib.randn(size[0], len(size) - 2, len(size) - 1, dtype=getattr(lib, dtype))
        return lib.nn.functional.affine_grid(theta, size, align_corners=align_corners)
    both(run, check=lambda got, want: assert_same(got, want, bitwise=True))


def test_nearest_grid_sample_of_an_affine_grid_picks_pytorchs_pixels():
    """A coordinate an ulp below .5 in PyTorch landed on .5 in nbgrad, and nearest rounding
    then took the next pixel (a spatial transformer's output changed)."""
    def run(lib):
        theta = lib.tensor([[[0.9, 0.2, 0.1], [-0.1, 1.1, 0.05]]])
        grid = lib.nn.functional.affine_grid(theta, (1, 1, 4, 6), align_corners=False)
        image = lib.arange(25.).view(1, 1, 5, 5)
        return [lib.nn.functional.grid_sample(image, grid, mode='nearest', padding_mode=mode,
                                              align_corners=False)
                for mode in ('zeros', 'border', 'reflection')]
    both(run)
