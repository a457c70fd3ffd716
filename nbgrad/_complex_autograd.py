"""Complex autograd: PyTorch's convention, and what the engine checks.

For a real loss L of a complex tensor z = x + iy, the gradient autograd delivers is
dL/dx + i dL/dy (twice the conjugate Wirtinger derivative dL/dz*), so a gradient step
z - lr * z.grad lowers L as on two real tensors. A node's backward then maps the gradient g of
its output w to  g * conj(dw/dz)  for an op holomorphic in z (exp, mul, matmul, fft...), and by
its own formula for the others (abs, angle, real, imag, conj, sgn). A real input of a complex
result gets the real part of that (the engine takes it centrally, graph._conform).

Only ops whose backward follows this are allowed to record complex tensors
(Node.complex_autograd); any other op refuses where a complex tensor that requires grad would
enter its node or its complex result would leave it, so a real-only formula never gives a
silently wrong gradient.
"""


def conj(value):
    """The conjugate of a saved operand: a tensor (real ones come back as they are) or a Python
    number; None stays None."""
    if value is None or value.__class__ in (int, float, bool):
        return value
    if value.__class__ is complex:
        return value.conjugate()
    return value.conj() if value._data.dtype.kind == 'c' else value


def refusal(op, where):
    """The error for an op with no complex backward (where: which side is complex)."""
    name = op.name().replace('Backward0', '').replace('Backward1', '')
    return RuntimeError(
        f'{name}: {where} and requires grad, but this op has no complex gradient in nbgrad yet. '
        f'Compute it without grad (under nbgrad.no_grad(), or on .detach()ed tensors), or '
        f'write it with real tensors (z.real and z.imag, or nbgrad.view_as_real(z)).')
