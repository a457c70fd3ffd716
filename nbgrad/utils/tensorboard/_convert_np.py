"""make_np: what every summary starts from (torch.utils.tensorboard._convert_np)."""
import numpy as np

from ... import _dtype


def make_np(x):
    """A NumPy array of an nbgrad tensor (any device), a NumPy array or a Python number."""
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.array([x])
    if hasattr(x, 'detach'):
        if x.dtype is _dtype.bfloat16:     # (as PyTorch's: numpy() refuses bfloat16; float16
            x = x.to(_dtype.float16)       # holds its values but the smallest and largest)
        return x.detach().cpu().numpy()
    raise NotImplementedError(f'Got {type(x)}, but numpy array or nbgrad tensor are expected.')
