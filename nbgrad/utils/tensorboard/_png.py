"""A minimal PNG encoder (8-bit RGB or RGBA, no filtering, zlib-compressed): TensorBoard's images
without a dependency on Pillow."""
import struct
import zlib

import numpy as np


def _chunk(kind, data):
    body = kind + data
    return struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body) & 0xFFFFFFFF)


def encode(pixels):
    """PNG bytes of a (height, width, channels) uint8 array, channels 3 (RGB) or 4 (RGBA)."""
    height, width, channels = pixels.shape
    color_type = {3: 2, 4: 6}[channels]
    rows = np.zeros((height, 1 + width * channels), np.uint8)   # filter byte 0 (none) per row
    rows[:, 1:] = pixels.reshape(height, width * channels)
    header = struct.pack('>IIBBBBB', width, height, 8, color_type, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + _chunk(b'IHDR', header) +
            _chunk(b'IDAT', zlib.compress(rows.tobytes(), 6)) + _chunk(b'IEND', b''))
