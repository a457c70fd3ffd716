"""torch.backends.mps: Apple's GPUs; nbgrad runs on the CPU and NVIDIA GPUs only."""


def is_available():
    return False


def is_built():
    return False
