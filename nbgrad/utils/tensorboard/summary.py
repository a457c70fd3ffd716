"""Summaries as torch.utils.tensorboard.summary builds them (scalar, tensor, histogram, image,
image with boxes, video, audio, text), returned as encoded Summary messages. The plugins' own
summaries (hparams, pr_curve, custom_scalars, mesh) are in _plugin_summaries."""
import struct

import numpy as np

from . import _png, _proto
from ._convert_np import make_np
from ._plugin_summaries import (compute_curve, custom_scalars, hparams, mesh, pr_curve,
                                pr_curve_raw)

__all__ = ['make_np', 'hparams', 'scalar', 'tensor_proto', 'histogram_raw', 'histogram', 'image',
           'image_boxes', 'video', 'audio', 'custom_scalars', 'text', 'pr_curve_raw', 'pr_curve',
           'compute_curve', 'mesh', 'convert_to_HWC', 'make_grid', 'figure_to_image']


def scalar(name, tensor, collections=None, new_style=False, double_precision=False):
    """Old style: Summary.Value.simple_value (float32). New style: a scalar TensorProto under the
    scalars plugin, float32 or, with double_precision, float64."""
    tensor = make_np(tensor).squeeze()
    if tensor.ndim != 0:
        raise AssertionError(f'Tensor should contain one element (0 dimensions). Was given size: '
                             f'{tensor.size} and {tensor.ndim} dimensions.')
    value = float(tensor)
    if not new_style:
        return _proto.summary(_proto.value(name, simple_value=value))
    if double_precision:
        proto = _proto.tensor(_proto.DT_DOUBLE, values=_proto.double_values([value]))
    else:
        proto = _proto.tensor(_proto.DT_FLOAT, values=_proto.float_values([value]))
    return _proto.summary(_proto.value(name, tensor=proto, metadata=_proto.metadata('scalars')))


def _float_bits(values):
    # PyTorch stores half and bfloat16 values as the bits of their float32 value (half_to_int)
    return [struct.unpack('<i', struct.pack('<f', v))[0] for v in values]


# numpy dtype -> (tensorflow.DataType, how TensorProto holds the values), as PyTorch maps them
_TENSOR_TYPES = {
    'float16': (19, lambda v: _proto.int_values(_float_bits(v), 13)),
    'float32': (_proto.DT_FLOAT, _proto.float_values),
    'float64': (_proto.DT_DOUBLE, _proto.double_values),
    'int8': (6, _proto.int_values),
    'uint8': (4, lambda v: _proto.int_values(v, 16)),
    'int16': (5, _proto.int_values),
    'int32': (3, _proto.int_values),
    'int64': (9, lambda v: _proto.int_values(v, 10)),
    'bool': (10, lambda v: _proto.int_values(v, 11)),
    'complex64': (8, lambda v: _proto.bytes_field(9, struct.pack(f'<{len(v)}f', *v))),
    'complex128': (18, lambda v: _proto.packed_doubles(12, v)),
}


def tensor_proto(tag, tensor):
    """A whole tensor under the 'tensor' plugin (add_tensor)."""
    array = make_np(tensor)
    if array.nbytes >= 1 << 31:
        raise ValueError("tensor is bigger than protocol buffer's hard limit of 2GB in size")
    kind = _TENSOR_TYPES.get(array.dtype.name)
    if kind is None:
        raise ValueError(f'{tag} has unsupported tensor dtype {array.dtype}')
    dtype, encode = kind
    flat = array.reshape(-1)
    if array.dtype.kind == 'c':
        flat = np.stack([flat.real, flat.imag], -1).reshape(-1)
    proto = _proto.tensor(dtype, list(array.shape), encode(flat.tolist()))
    return _proto.summary(_proto.value(tag, tensor=proto, metadata=_proto.metadata('tensor')))


def histogram_raw(name, min, max, num, sum, sum_squares, bucket_limits, bucket_counts):
    def floats(values):
        return np.asarray(make_np(values) if hasattr(values, 'detach') else values,
                          dtype=float).reshape(-1).tolist()
    histo = _proto.histogram(min, max, num, sum, sum_squares, floats(bucket_limits),
                             floats(bucket_counts))
    return _proto.summary(_proto.value(name, histo=histo))


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


def image_boxes(tag, tensor_image, tensor_boxes, rescale=1, dataformats='CHW', labels=None):
    """An image with boxes (xmin, ymin, xmax, ymax) drawn in red, and their labels, drawn by
    Pillow as PyTorch draws them (so the pixels match); the image is then resized by rescale,
    and the message keeps the size before resizing, as PyTorch's does."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError as error:
        raise ImportError('add_image_with_boxes draws the boxes with Pillow, which is not '
                          'installed: pip install pillow') from error
    pixels = convert_to_HWC(make_np(tensor_image), dataformats)
    scale = 1 if pixels.dtype == np.uint8 else 255
    pixels = (pixels.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    boxes = make_np(tensor_boxes)
    height, width, channels = pixels.shape
    picture = Image.fromarray(pixels)
    draw, font = ImageDraw.Draw(picture), ImageFont.load_default()
    for i in range(boxes.shape[0]):
        left, top, right, bottom = boxes[i, 0], boxes[i, 1], boxes[i, 2], boxes[i, 3]
        draw.line([(left, top), (left, bottom), (right, bottom), (right, top), (left, top)],
                  width=2, fill='Red')
        label = None if labels is None else labels[i]
        if label:
            x0, y0, x1, y1 = font.getbbox(label)
            text_width, text_height = x1 - x0, y1 - y0
            margin = np.ceil(0.05 * text_height)
            draw.rectangle([(left, bottom - text_height - 2 * margin),
                            (left + text_width, bottom)], fill='Red')
            draw.text((left + margin, bottom - text_height - margin), label, fill='black',
                      font=font)
    picture = picture.resize((int(width * rescale), int(height * rescale)),
                             Image.Resampling.LANCZOS)
    encoded = _png.encode(np.ascontiguousarray(np.asarray(picture)))
    return _proto.summary(_proto.value(tag, image=_proto.image(height, width, channels,
                                                               encoded)))


def _prepare_video(frames):
    """(batch, time, channels, height, width) -> (time, height', width', channels): the batch
    tiled in a grid, padded to a power of two of videos (PyTorch's layout)."""
    b, t, c, h, w = frames.shape
    if frames.dtype == np.uint8:
        frames = np.float32(frames) / 255.0
    if b & (b - 1):
        frames = np.concatenate([frames, np.zeros((2 ** b.bit_length() - b, t, c, h, w))])
    n_rows = 2 ** ((b.bit_length() - 1) // 2)
    n_cols = frames.shape[0] // n_rows
    frames = frames.reshape(n_rows, n_cols, t, c, h, w).transpose(2, 0, 4, 1, 5, 3)
    return frames.reshape(t, n_rows * h, n_cols * w, c)


def _gif(frames, fps):
    """The frames as a GIF through moviepy, as PyTorch makes it; None (with PyTorch's message)
    when moviepy cannot be used."""
    import importlib
    try:
        importlib.import_module('moviepy')
    except ImportError:
        print('add_video needs package moviepy')
        return None
    try:
        from moviepy import editor as mpy
    except ImportError:
        print("moviepy is installed, but can't import moviepy.editor.",
              'Some packages could be missing [imageio, requests]')
        return None
    import tempfile
    clip = mpy.ImageSequenceClip(list(frames), fps=fps)
    with tempfile.NamedTemporaryFile(suffix='.gif') as f:
        try:        # moviepy's keyword for silence changed across versions
            clip.write_gif(f.name, verbose=False, logger=None)
        except TypeError:
            try:
                clip.write_gif(f.name, verbose=False, progress_bar=False)
            except TypeError:
                clip.write_gif(f.name, verbose=False)
        f.seek(0)
        return f.read()


def video(tag, tensor, fps=4):
    """Frames (N, T, C, H, W) as an animated GIF image. Without moviepy, PyTorch prints why and
    still writes the value, with its tag only: so does nbgrad."""
    frames = _prepare_video(make_np(tensor))
    scale = 1 if frames.dtype == np.uint8 else 255
    frames = (frames.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    encoded = _gif(frames, fps)
    if encoded is None:
        return _proto.summary(_proto.value(tag))
    _, height, width, channels = frames.shape
    return _proto.summary(_proto.value(tag, image=_proto.image(height, width, channels,
                                                               encoded)))


def audio(tag, tensor, sample_rate=44100):
    """Mono samples in [-1, 1] (clipped, with a warning, outside it) as a 16-bit WAV."""
    import io
    import wave
    array = make_np(tensor).squeeze()
    if abs(array).max() > 1:
        print('warning: audio amplitude out of range, auto clipped.')
        array = array.clip(-1, 1)
    if array.ndim != 1:
        raise AssertionError('input tensor should be 1 dimensional.')
    samples = (array * np.iinfo(np.int16).max).astype('<i2')
    with io.BytesIO() as buffer:
        with wave.open(buffer, 'wb') as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(samples.data)
        encoded = buffer.getvalue()
    sound = _proto.audio(sample_rate, 1, samples.shape[-1], encoded, 'audio/wav')
    return _proto.summary(_proto.value(tag, audio=sound))


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
