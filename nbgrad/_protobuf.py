"""Protocol-buffer wire format, written by hand: the few primitives that TensorBoard's event
files (utils/tensorboard) and ONNX models (onnx) need, so nbgrad depends on no protobuf
library. A message is the concatenation of its fields in field-number order, as protobuf
serializes them."""
import struct


def varint(n):
    n &= (1 << 64) - 1              # negative int64s take ten bytes, as protobuf writes them
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def key(number, wire_type):
    return varint(number << 3 | wire_type)


def varint_field(number, value):
    return key(number, 0) + varint(int(value)) if value else b''


def double_field(number, value):
    return key(number, 1) + struct.pack('<d', value) if value else b''


def float_field(number, value):
    return key(number, 5) + struct.pack('<f', value)


def bytes_field(number, value):
    """A string, bytes or embedded message (omitted when empty, as proto3 omits defaults)."""
    if isinstance(value, str):
        value = value.encode('utf-8')
    return key(number, 2) + varint(len(value)) + value if value else b''


def message_field(number, value):
    """An embedded message, written even when it has no fields set (its presence matters)."""
    return key(number, 2) + varint(len(value)) + value


def packed_doubles(number, values):
    data = struct.pack(f'<{len(values)}d', *values)
    return bytes_field(number, data)


def packed_int64s(number, values):
    return bytes_field(number, b''.join(varint(int(v)) for v in values))
