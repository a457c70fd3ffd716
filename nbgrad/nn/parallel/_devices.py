"""Device indices as DataParallel takes them: ints, 'cuda:1' or device objects."""
from ... import cuda
from ..._device import to_device


def device_index(device):
    """The CUDA device index of an int, a string or a device ('cuda' alone: the current one)."""
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    device = to_device(device)
    if device.type != 'cuda':
        raise ValueError(f'Expected a cuda device, but got: {device}')
    return cuda.current_device() if device.index is None else device.index


def all_device_indices():
    """Every CUDA device, or None when there is none (DataParallel then runs on the CPU)."""
    return list(range(cuda.device_count())) if cuda.is_available() else None
