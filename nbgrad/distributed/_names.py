"""The small named things of torch.distributed: ReduceOp (an enum whose members print as
PyTorch's `<RedOpType.SUM: 0>` and equal no plain string), Backend (a str subclass, 'gloo'),
and how each reduce op combines two NumPy arrays."""
import enum

import numpy as np


class RedOpType(enum.Enum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8


class ReduceOp:
    """How a reduction combines the ranks' tensors: ReduceOp.SUM, .PRODUCT, .MIN, .MAX, .AVG
    (floating dtypes), .BAND, .BOR, .BXOR (integer and bool dtypes)."""
    RedOpType = RedOpType
    SUM, AVG, PRODUCT, MIN, MAX = (RedOpType.SUM, RedOpType.AVG, RedOpType.PRODUCT,
                                   RedOpType.MIN, RedOpType.MAX)
    BAND, BOR, BXOR, PREMUL_SUM = (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR,
                                   RedOpType.PREMUL_SUM)

    def __init__(self, op):
        self.op = _op_type(op)

    def __eq__(self, other):
        if isinstance(other, ReduceOp):
            return self.op is other.op
        return self.op is other

    def __hash__(self):
        return hash(self.op)


class reduce_op:
    """Deprecated spelling of ReduceOp (kept as PyTorch keeps it)."""
    SUM, PRODUCT, MIN, MAX = ReduceOp.SUM, ReduceOp.PRODUCT, ReduceOp.MIN, ReduceOp.MAX


def _op_type(op):
    if isinstance(op, RedOpType):
        return op
    if isinstance(op, ReduceOp):
        return op.op
    raise TypeError(f'op: expected a torch.distributed.ReduceOp (e.g. ReduceOp.SUM), got '
                    f'{op!r} of type {type(op).__name__}')


_DTYPE_NAMES = {'int64': 'Long', 'int32': 'Int', 'int16': 'Short', 'int8': 'Char',
                'uint8': 'Byte', 'bool': 'Bool', 'uint16': 'UInt16', 'uint32': 'UInt32',
                'uint64': 'UInt64'}
_BITWISE = {RedOpType.BAND: np.bitwise_and, RedOpType.BOR: np.bitwise_or,
            RedOpType.BXOR: np.bitwise_xor}
_COMBINE = {RedOpType.SUM: np.add, RedOpType.AVG: np.add, RedOpType.PRODUCT: np.multiply,
            RedOpType.MIN: np.minimum, RedOpType.MAX: np.maximum, **_BITWISE}


def check_op_for_dtype(op, dtype):
    """PyTorch's errors, raised before any communication (so every rank raises)."""
    integral = dtype.kind in 'iub'
    if op is RedOpType.AVG and integral:
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_DTYPE_NAMES.get(dtype.name, dtype.name)}")
    if op in _BITWISE and not integral:
        raise RuntimeError(f'Cannot use ReduceOp.{op.name} with non-integral dtype')
    if op is RedOpType.PREMUL_SUM:
        raise RuntimeError('ReduceOp.PREMUL_SUM is not supported by the gloo backend')


def combine(arrays, op, count):
    """The arrays (one per rank, in rank order, so every run gives the same bits) combined."""
    result = arrays[0].copy()
    for other in arrays[1:]:
        _COMBINE[op](result, other, out=result)
    if op is RedOpType.AVG:
        result = (result / count).astype(result.dtype)
    return result


class Backend(str):
    """A backend's name: Backend('gloo') == Backend.GLOO == 'gloo'."""
    UNDEFINED, GLOO, NCCL, UCC, MPI, XCCL, FAKE = ('undefined', 'gloo', 'nccl', 'ucc', 'mpi',
                                                   'xccl', 'fake')

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f'Backend constructor parameter must be string-ish, got '
                             f'{type(name).__name__}')
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        if value == Backend.UNDEFINED:
            value = name.lower()
        return super().__new__(cls, value)
