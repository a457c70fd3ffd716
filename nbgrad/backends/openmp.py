"""torch.backends.openmp: nbgrad's own parallel work uses Python threads, not OpenMP."""


def is_available():
    return False
