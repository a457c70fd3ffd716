"""PyTorch's refusals of complex inputs for elementwise ops NumPy would compute (or fail on
with its own TypeError), applied to elementwise.py's op tables: each op then checks its
computation dtype on the general path (the fast path skips complex operands)."""
from ._elementwise_op import _dtype_word

# op: (exception, message), a message starting with '"' naming the missing kernel
COMPLEX_REFUSALS = {
    'floor': (NotImplementedError, 'floor is not supported for complex inputs'),
    'ceil': (NotImplementedError, 'ceil is not supported for complex inputs'),
    'trunc': (NotImplementedError, 'trunc is not supported for complex inputs'),
    'frac': (NotImplementedError, '"frac_cpu"'),
    'sign': (NotImplementedError, 'Unlike NumPy, nbgrad.sign is not intended to support complex '
                                  'numbers. Please use nbgrad.sgn instead.'),
    'round': (NotImplementedError, '"round_vml_cpu"'),
    'relu': (NotImplementedError, 'clamp is not supported for complex types'),
    'fmod': (NotImplementedError, '"fmod_cpu"'),
    'remainder': (NotImplementedError, '"remainder_cpu"'),
    'floor_divide': (NotImplementedError, '"div_floor_cpu"'),
    'atan2': (NotImplementedError, '"atan2_cpu"'),
    'copysign': (NotImplementedError, '"copysign_cpu"'),
    'signbit': (NotImplementedError, 'signbit is not implemented for complex tensors.'),
}


def _refuse_complex(op, kind, message):
    check_dtype = op._check_dtype

    def check(self, dt):
        if dt.kind == 'c':
            raise kind(message if not message.startswith('"') else
                       f"{message} not implemented for '{_dtype_word(dt)}'")
        check_dtype(self, dt)
    op._check_dtype = check
    op.fast_kinds = op.fast_kinds.replace('c', '')   # (the checked path, always)


def refuse_complex_inputs(unary, binary):
    for name, (kind, message) in COMPLEX_REFUSALS.items():
        _refuse_complex(unary.get(name) or binary[name], kind, message)
