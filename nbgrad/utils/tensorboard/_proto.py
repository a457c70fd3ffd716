"""The protocol-buffer messages a TensorBoard event file holds, encoded by hand (nbgrad does not
depend on protobuf): Event, Summary, Summary.Value, Summary.Image, Summary.Audio, HistogramProto,
SummaryMetadata, TensorProto, SessionLog, TaggedRunMetadata. A message is built as bytes from its fields in field
order, which is how protobuf serializes them; field numbers are TensorFlow's (event.proto,
summary.proto, tensor.proto)."""
import struct

from ..._protobuf import (bytes_field, double_field, float_field, key, message_field,
                          packed_doubles, packed_int64s, varint, varint_field)

DT_FLOAT, DT_DOUBLE, DT_STRING = 1, 2, 7        # tensorflow.DataType
SESSION_START = 1                   # SessionLog.SessionStatus.START


def event(wall_time, step=None, summary=None, file_version=None, session_log=None,
          graph_def=None, tagged_run_metadata=None):
    return (double_field(1, wall_time) + varint_field(2, step or 0) +
            bytes_field(3, file_version or b'') +
            (message_field(4, graph_def) if graph_def is not None else b'') +
            (message_field(5, summary) if summary is not None else b'') +
            (message_field(7, session_log) if session_log is not None else b'') +
            (message_field(8, tagged_run_metadata) if tagged_run_metadata is not None else b''))


def tagged_run_metadata(tag, run_metadata):
    return bytes_field(1, tag) + message_field(2, run_metadata)


def session_log(status):
    return varint_field(1, status)


def summary(*values):
    return b''.join(message_field(1, v) for v in values)


def value(tag, simple_value=None, image=None, histo=None, tensor=None, metadata=None,
          audio=None):
    return (bytes_field(1, tag) +
            (float_field(2, simple_value) if simple_value is not None else b'') +
            (message_field(4, image) if image is not None else b'') +
            (message_field(5, histo) if histo is not None else b'') +
            (message_field(6, audio) if audio is not None else b'') +
            (message_field(8, tensor) if tensor is not None else b'') +
            (message_field(9, metadata) if metadata is not None else b''))


def image(height, width, colorspace, encoded):
    return (varint_field(1, height) + varint_field(2, width) + varint_field(3, colorspace) +
            bytes_field(4, encoded))


def audio(sample_rate, num_channels, length_frames, encoded, content_type):
    return (float_field(1, sample_rate) + varint_field(2, num_channels) +
            varint_field(3, length_frames) + bytes_field(4, encoded) +
            bytes_field(5, content_type))


def histogram(minimum, maximum, num, total, sum_squares, bucket_limit, bucket):
    return (double_field(1, minimum) + double_field(2, maximum) + double_field(3, num) +
            double_field(4, total) + double_field(5, sum_squares) +
            packed_doubles(6, bucket_limit) + packed_doubles(7, bucket))


def metadata(plugin_name, content=b''):
    plugin_data = bytes_field(1, plugin_name) + bytes_field(2, content)
    return message_field(1, plugin_data)


def tensor_shape(sizes):
    """TensorShapeProto: one dim message per size ([] is a scalar's shape)."""
    return b''.join(message_field(2, varint_field(1, size)) for size in sizes)


def tensor(dtype, shape=None, values=b''):
    """TensorProto: its dtype, its shape (None leaves the field unset, as PyTorch does for
    scalars; [] sets an empty shape), then the value field, already encoded (see *_values)."""
    return (varint_field(1, dtype) +
            (message_field(2, tensor_shape(shape)) if shape is not None else b'') + values)


def float_values(values):
    """TensorProto.float_val (packed float32s)."""
    return bytes_field(5, struct.pack(f'<{len(values)}f', *values))


def double_values(values):
    """TensorProto.double_val (packed float64s)."""
    return packed_doubles(6, values)


def int_values(values, field=7):
    """TensorProto.int_val (7), int64_val (10), bool_val (11), half_val (13) or uint32_val (16):
    packed varints."""
    return packed_int64s(field, values)


def string_values(strings):
    """TensorProto.string_val: one entry per string, empty ones included."""
    return b''.join(message_field(8, s) for s in strings)


def string_tensor(strings, shape=None):
    return tensor(DT_STRING, [len(strings)] if shape is None else shape,
                  string_values(strings))


# proto3 leaves out a field at its default value, except a member of a oneof, which is written
# whenever it is set (a google.protobuf.Value holding 0.0 still says it holds a number), and an
# entry of a repeated field (an empty string in a list is still an entry)
def always_double(number, value):
    return key(number, 1) + struct.pack('<d', value)


def always_bytes(number, value):
    if isinstance(value, str):
        value = value.encode('utf-8')
    return key(number, 2) + varint(len(value)) + value
