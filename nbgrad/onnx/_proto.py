"""The ONNX messages an exported model needs (onnx.proto's field numbers), encoded with
nbgrad's protobuf primitives: ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
ValueInfoProto."""
import struct

import numpy as np

from .._protobuf import bytes_field, message_field, varint_field, key, varint

# The lowest IR version each opset needs (onnx/helper.py's VERSION_TABLE): what older runtimes load
_IR_FOR_OPSET = {13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10, 22: 10, 23: 11}
# TensorProto.DataType
ELEMENT_TYPES = {np.dtype(np.float32): 1, np.dtype(np.uint8): 2, np.dtype(np.int8): 3,
                 np.dtype(np.int16): 5, np.dtype(np.int32): 6, np.dtype(np.int64): 7,
                 np.dtype(np.bool_): 9, np.dtype(np.float16): 10, np.dtype(np.float64): 11}
_ATTR_FLOAT, _ATTR_INT, _ATTR_STRING, _ATTR_FLOATS, _ATTR_INTS = 1, 2, 3, 6, 7


def element_type(np_dtype):
    kind = ELEMENT_TYPES.get(np.dtype(np_dtype))
    if kind is None:
        raise RuntimeError(f'nbgrad.onnx cannot export tensors of dtype {np.dtype(np_dtype)}')
    return kind


def tensor(name, array):
    array = np.asarray(array, order='C')    # (not ascontiguousarray: it makes 0-d arrays 1-d)
    return (b''.join(varint_field(1, d) if d else key(1, 0) + varint(0) for d in array.shape) +
            key(2, 0) + varint(element_type(array.dtype)) + bytes_field(8, name) +
            bytes_field(9, array.astype(array.dtype.newbyteorder('<'), copy=False).tobytes()))


def attribute(name, value):
    """An attribute from a Python value: int, float, str, or a list of ints or floats."""
    head = bytes_field(1, name)
    if isinstance(value, bool) or isinstance(value, (int, np.integer)):
        return head + key(3, 0) + varint(int(value)) + varint_field(20, _ATTR_INT)
    if isinstance(value, float):
        return head + key(2, 5) + struct.pack('<f', value) + varint_field(20, _ATTR_FLOAT)
    if isinstance(value, str):
        return head + bytes_field(4, value) + varint_field(20, _ATTR_STRING)
    values = list(value)
    if values and isinstance(values[0], float):
        body = b''.join(key(7, 5) + struct.pack('<f', v) for v in values)
        return head + body + varint_field(20, _ATTR_FLOATS)
    body = b''.join(key(8, 0) + varint(int(v)) for v in values)
    return head + body + varint_field(20, _ATTR_INTS)


def node(op_type, inputs, outputs, name, **attributes):
    """A NodeProto; node_outputs() reads back its output names."""
    return _Node(op_type, outputs, (b''.join(_repeated_string(1, i) for i in inputs) +
            b''.join(bytes_field(2, o) for o in outputs) + bytes_field(3, name) +
            bytes_field(4, op_type) +
            b''.join(message_field(5, attribute(k, v)) for k, v in attributes.items())))


def _repeated_string(number, value):
    """One element of a repeated string field: written even when empty, since a node's ''
    input stands for an omitted optional input and keeps the later inputs in place."""
    value = value.encode('utf-8')
    return key(number, 2) + varint(len(value)) + value


class _Node(bytes):
    """A NodeProto's bytes that remember the node's outputs."""

    def __new__(cls, op_type, outputs, data):
        self = super().__new__(cls, data)
        self.outputs = list(outputs)
        return self


def node_outputs(node_bytes):
    return node_bytes.outputs


def _dimension(size):
    """A TensorShapeProto.Dimension: dim_value for a size, dim_param for a dynamic axis' name."""
    if isinstance(size, str):
        return bytes_field(2, size)
    return key(1, 0) + varint(int(size))


def value_info(name, np_dtype, shape):
    """shape: sizes, or names (str) for the axes that are dynamic."""
    dims = b''.join(message_field(1, _dimension(d)) for d in shape)
    tensor_type = varint_field(1, element_type(np_dtype)) + message_field(2, dims)
    return bytes_field(1, name) + message_field(2, message_field(1, tensor_type))


def graph(nodes, name, initializers, inputs, outputs):
    return (b''.join(message_field(1, n) for n in nodes) + bytes_field(2, name) +
            b''.join(message_field(5, t) for t in initializers) +
            b''.join(message_field(11, i) for i in inputs) +
            b''.join(message_field(12, o) for o in outputs))


def model(graph_bytes, opset, producer_version):
    opset_import = bytes_field(1, '') + varint_field(2, opset)
    return (varint_field(1, _IR_FOR_OPSET[opset]) + bytes_field(2, 'nbgrad') +
            bytes_field(3, producer_version) + message_field(7, graph_bytes) +
            message_field(8, opset_import))
