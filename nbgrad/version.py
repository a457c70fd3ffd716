"""torch.version: what the library was built with. nbgrad is pure Python: it has no CUDA or ROCm
build of its own (`cuda` and `hip` are None, as in a CPU-only PyTorch; on a GPU nbgrad runs
through CuPy, whose version nbgrad.cuda reports), and __version__ is nbgrad's."""
__version__ = '0.1.0.dev0'
cuda = None
hip = None
rocm = None
xpu = None
debug = False
git_version = 'unknown'
