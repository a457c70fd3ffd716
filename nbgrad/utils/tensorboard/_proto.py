"""The few protocol-buffer messages a TensorBoard event file holds, encoded by hand (nbgrad does
not depend on protobuf): Event, Summary, Summary.Value, Summary.Image, HistogramProto,
SummaryMetadata, TensorProto, SessionLog. A message is built as bytes from its fields in field
order, which is how protobuf serializes them; field numbers are TensorFlow's (event.proto,
summary.proto, tensor.proto)."""
from ..._protobuf import (bytes_field, double_field, float_field, message_field, packed_doubles,
                          varint_field)

DT_FLOAT, DT_STRING = 1, 7          # tensorflow.DataType
SESSION_START = 1                   # SessionLog.SessionStatus.START


def event(wall_time, step=None, summary=None, file_version=None, session_log=None):
    return (double_field(1, wall_time) + varint_field(2, step or 0) +
            bytes_field(3, file_version or b'') +
            (message_field(5, summary) if summary is not None else b'') +
            (message_field(7, session_log) if session_log is not None else b''))


def session_log(status):
    return varint_field(1, status)


def summary(*values):
    return b''.join(message_field(1, v) for v in values)


def value(tag, simple_value=None, image=None, histo=None, tensor=None, metadata=None):
    return (bytes_field(1, tag) +
            (float_field(2, simple_value) if simple_value is not None else b'') +
            (message_field(4, image) if image is not None else b'') +
            (message_field(5, histo) if histo is not None else b'') +
            (message_field(8, tensor) if tensor is not None else b'') +
            (message_field(9, metadata) if metadata is not None else b''))


def image(height, width, colorspace, encoded):
    return (varint_field(1, height) + varint_field(2, width) + varint_field(3, colorspace) +
            bytes_field(4, encoded))


def histogram(minimum, maximum, num, total, sum_squares, bucket_limit, bucket):
    return (double_field(1, minimum) + double_field(2, maximum) + double_field(3, num) +
            double_field(4, total) + double_field(5, sum_squares) +
            packed_doubles(6, bucket_limit) + packed_doubles(7, bucket))


def metadata(plugin_name, content=b''):
    plugin_data = bytes_field(1, plugin_name) + bytes_field(2, content)
    return message_field(1, plugin_data)


def string_tensor(strings):
    shape = message_field(2, varint_field(1, len(strings)))      # TensorShapeProto.dim
    return (varint_field(1, DT_STRING) + message_field(2, shape) +
            b''.join(message_field(8, s) for s in strings))
