"""torch.backends.mkl: nbgrad computes with NumPy, whatever BLAS NumPy was built with."""


def is_available():
    return False
