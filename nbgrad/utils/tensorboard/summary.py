"""Summaries as torch.utils.tensorboard.summary builds them (scalar, histogram, image, text),
returned as encoded Summary messages."""
import numpy as np

from . import _png, _proto


def make_np(x):
    """A NumPy array of an nbgrad tensor (any device), a NumPy array or a Python number."""
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.array([x])
    if hasattr(x, 'detach'):
        return x.detach().cpu().numpy()
    raise NotImplementedError(f'Got {type(x)}, but numpy array or nbgrad tensor are expected.')


def scalar(name, tensor):
    tensor = make_np(tensor).squeeze()
    if tensor.ndim != 0:
        raise AssertionError(f'Tensor should contain one element (0 dimensions). Was given size: '
                             f'{tensor.size} and {tensor.ndim} dimensions.')
    return _proto.summary(_proto.value(name, simple_value=float(tensor)))


def histogram(name, values, bins, max_bins=None):
    values = make_np(values).astype(float).reshape(-1)
    if values.size == 0:
        raise ValueError('The input has no element.')
    counts, limits = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        step = len(counts) // max_bins
        if len(counts) % step:
            counts = np.pad(counts, (0, step - len(counts) % step))
        counts = counts.reshape(-1, step).sum(axis=-1)
        limits = np.concatenate([limits[:-1:step], limits[-1:]])
    # keep the buckets from the first to the last non-empty one (with one empty bucket before)
    filled = np.cumsum(counts > 0)
    start, end = np.searchsorted(filled, [0, filled[-1] - 1], side='right')
    start, end = int(start), int(end) + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    if counts.size == 0 or limits.size == 0:
        raise ValueError('The histogram is empty, please file a bug report.')
    histo = _proto.histogram(values.min(), values.max(), len(values), values.sum(),
                             values.dot(values), limits.tolist(), counts.astype(float).tolist())
    return _proto.summary(_proto.value(name, histo=histo))


def convert_to_HWC(tensor, input_format):
    """Height x width x 3 channels from CHW, HWC, HW or a batch (NCHW...: tiled in a grid)."""
    if len(set(input_format)) != len(input_format):
        raise AssertionError(f'You can not use the same dimension shorthand twice. '
                             f'input_format: {input_format}')
    if len(tensor.shape) != len(input_format):
        raise AssertionError(f'size of input tensor and input format are different. tensor '
                             f'shape: {tensor.shape}, input_format: {input_format}')
    input_format = input_format.upper()
    if len(input_format) == 4:
        nchw = tensor.transpose([input_format.find(c) for c in 'NCHW'])
        return make_grid(nchw).transpose(1, 2, 0)
    if len(input_format) == 3:
        hwc = tensor.transpose([input_format.find(c) for c in 'HWC'])
        return np.concatenate([hwc] * 3, 2) if hwc.shape[2] == 1 else hwc
    hw = tensor.transpose([input_format.find(c) for c in 'HW'])
    return np.stack([hw] * 3, 2)


def make_grid(images, ncols=8):
    """A batch of 1- or 3-channel images (NCHW) tiled row by row, ncols per row."""
    if images.shape[1] == 1:
        images = np.concatenate([images] * 3, 1)
    if images.ndim != 4 or images.shape[1] != 3:
        raise AssertionError('Input should be a 4D numpy array with 3 channels')
    n, _, height, width = images.shape
    ncols = min(n, ncols)
    nrows = int(np.ceil(n / ncols))
    canvas = np.zeros((3, height * nrows, width * ncols), images.dtype)
    for i in range(n):
        y, x = divmod(i, ncols)
        canvas[:, y * height:(y + 1) * height, x * width:(x + 1) * width] = images[i]
    return canvas


def image(tag, tensor, dataformats='NCHW'):
    """uint8 images as they are; other dtypes are read as [0, 1] and scaled by 255."""
    tensor = convert_to_HWC(make_np(tensor), dataformats)
    scale = 1 if tensor.dtype == np.uint8 else 255
    pixels = (tensor.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    height, width, channels = pixels.shape
    encoded = _png.encode(np.ascontiguousarray(pixels))
    return _proto.summary(_proto.value(tag, image=_proto.image(height, width, channels,
                                                               encoded)))


def text(tag, text_string):
    return _proto.summary(_proto.value(tag + '/text_summary', metadata=_proto.metadata('text'),
                                       tensor=_proto.string_tensor([text_string.encode()])))


def figure_to_image(figures, close=True):
    """A matplotlib figure (or list) rendered to CHW (or NCHW) uint8 RGB."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def render(figure):
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        data = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8)
        width, height = figure.canvas.get_width_height()
        chw = np.moveaxis(data.reshape(height, width, 4)[:, :, :3], 2, 0)
        if close:
            plt.close(figure)
        return chw
    return np.stack([render(f) for f in figures]) if isinstance(figures, list) else \
        render(figures)
