"""torch.backends.cpu."""


def get_cpu_capability():
    """The SIMD level NumPy's kernels use here ('DEFAULT' when NumPy does not say), in PyTorch's
    words: 'AVX512', 'AVX2' or 'DEFAULT'."""
    try:   # (a NumPy 2 internal; older NumPy had it in numpy.core)
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:
        return 'DEFAULT'
    if features.get('AVX512F') and features.get('AVX512BW'):
        return 'AVX512'
    if features.get('AVX2'):
        return 'AVX2'
    return 'DEFAULT'
