"""make_np: what every summary starts from (torch.utils.tensorboard._convert_np)."""
import numpy as np


def make_np(x):
    """A NumPy array of an nbgrad tensor (any device), a NumPy array or a Python number."""
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.array([x])
    if hasattr(x, 'detach'):
        return x.detach().cpu().numpy()
    raise NotImplementedError(f'Got {type(x)}, but numpy array or nbgrad tensor are expected.')
