"""The projector plugin's files, as torch.utils.tensorboard writes them for add_embedding: under
log_dir/<step, 5 digits>/<tag>/ the points (tensors.tsv), their labels (metadata.tsv) and
thumbnails (sprite.png, one square grid), and log_dir/projector_config.pbtxt listing every
embedding (protobuf text format, written here by hand)."""
import math
import os

import numpy as np

from . import _png
from ._convert_np import make_np
from .summary import make_grid


def encode_tag(tag):
    """The tag as a folder name: %, / and \\ percent-encoded (PyTorch's SummaryWriter._encode)."""
    return tag.replace('%', '%25').replace('/', '%2f').replace('\\', '%5c')


def make_tsv(metadata, save_path, metadata_header=None):
    if not metadata_header:
        lines = [str(x) for x in metadata]
    else:
        if len(metadata_header) != len(metadata[0]):
            raise AssertionError('len of header must be equal to the number of columns in '
                                 'metadata')
        lines = ['\t'.join(str(e) for e in row) for row in [metadata_header] + list(metadata)]
    with open(os.path.join(save_path, 'metadata.tsv'), 'wb') as f:
        f.write(('\n'.join(lines) + '\n').encode('utf-8'))


def make_sprite(label_img, save_path):
    """The thumbnails tiled in a square grid (nrow = ceil(sqrt(N)) per row), values in [0, 1]."""
    images = make_np(label_img)
    nrow = math.ceil(images.shape[0] ** 0.5)
    grid_chw = make_grid(images, ncols=nrow)
    # TensorBoard wants a square sprite: rows of the grid padded with black below
    square = np.zeros((grid_chw.shape[2], grid_chw.shape[2], 3))
    grid_hwc = grid_chw.transpose(1, 2, 0)
    square[:grid_hwc.shape[0], :, :] = grid_hwc
    pixels = np.uint8((square * 255).clip(0, 255))
    with open(os.path.join(save_path, 'sprite.png'), 'wb') as f:
        f.write(_png.encode(np.ascontiguousarray(pixels)))


def make_mat(mat, save_path):
    """One point per line, its coordinates tab-separated (Python's repr of each value)."""
    with open(os.path.join(save_path, 'tensors.tsv'), 'wb') as f:
        for row in mat:
            f.write(('\t'.join(str(v.item()) for v in row) + '\n').encode('utf-8'))


def embedding_info(metadata, label_img, subdir, global_step, tag):
    """EmbeddingInfo's fields, in field-number order, as (name, value or nested fields)."""
    info = [('tensor_name', f'{tag}:{str(global_step).zfill(5)}')]
    if metadata is not None:
        info.append(('metadata_path', os.path.join(subdir, 'metadata.tsv')))
    if label_img is not None:
        shape = label_img.shape
        info.append(('sprite', [('image_path', os.path.join(subdir, 'sprite.png')),
                                ('single_image_dim', int(shape[3])),
                                ('single_image_dim', int(shape[2]))]))
    info.append(('tensor_path', os.path.join(subdir, 'tensors.tsv')))
    return info


# protobuf's text format escapes these in strings (google.protobuf.text_encoding, as_utf8=True)
_TEXT_ESCAPES = {i: '\\%03o' % i for i in list(range(32)) + [127]}
_TEXT_ESCAPES.update({ord('\t'): '\\t', ord('\n'): '\\n', ord('\r'): '\\r', ord('"'): '\\"',
                      ord("'"): "\\'", ord('\\'): '\\\\'})


def _text_fields(fields, indent):
    lines = []
    for name, value in fields:
        if isinstance(value, list):
            lines.append(f'{indent}{name} {{')
            lines.extend(_text_fields(value, indent + '  '))
            lines.append(f'{indent}}}')
        elif isinstance(value, str):
            lines.append(f'{indent}{name}: "{value.translate(_TEXT_ESCAPES)}"')
        else:
            lines.append(f'{indent}{name}: {value}')
    return lines


def projector_config_text(infos):
    """ProjectorConfig{embeddings: infos} in protobuf text format."""
    lines = _text_fields([('embeddings', info) for info in infos], '')
    return ''.join(line + '\n' for line in lines)


def write_pbtxt(log_dir, infos):
    with open(os.path.join(log_dir, 'projector_config.pbtxt'), 'wb') as f:
        f.write(projector_config_text(infos).encode('utf-8'))
