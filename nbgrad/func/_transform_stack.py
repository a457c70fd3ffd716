"""Which torch.func transforms are running now, innermost last.

Two things read it:
- a differentiating transform (grad, vjp, jvp, jacrev...) detaches the results whose graph reaches
  no variable but its own private copies of the inputs (PyTorch's results are plain tensors at the
  top level). Copies made by a transform nested inside it are private to it too: when the inner
  transform ends, its copies join the enclosing one's list. Without that, grad(lambda p:
  grad(lambda a: (a * p).sum())(x).sum())(w) returned a tensor whose graph hung on the inner
  transform's copy of x.
- backward() refuses to run inside a function a transform (vmap included) is calling, as
  PyTorch's (`refuse_backward`, for nbgrad.autograd's backward to call). The transforms' own
  gradient computations run outside that (a reentrant checkpoint's backward may call
  backward() there).
"""
import contextlib

_private_leaves = []    # one list per open differentiating transform, outermost first
_depth = [0]            # functions being called by a transform of any kind now


def transforms_active():
    """Whether a function given to a transform (grad, vjp, jvp, jacrev, jacfwd, hessian,
    vmap) is running."""
    return _depth[0] > 0


@contextlib.contextmanager
def calling_function():
    """A transform calls the function it transforms in this block."""
    _depth[0] += 1
    try:
        yield
    finally:
        _depth[0] -= 1


BACKWARD_INSIDE = ('backward() called inside a functorch transform. This is not supported, '
                   'please use functorch.grad or functorch.vjp instead or call backward() '
                   'outside of functorch transforms.')


def refuse_backward():
    """PyTorch's error for Tensor.backward / autograd.backward inside a transform."""
    if _depth[0] > 0:
        raise RuntimeError(BACKWARD_INSIDE)


@contextlib.contextmanager
def running(private):
    """A differentiating transform runs in this block; `private` (a list) is where it keeps
    its own leaf copies, extended by those of the transforms nested inside it, and handed on to
    the enclosing transform's list at the end."""
    _private_leaves.append(private)
    try:
        yield private
    finally:
        _private_leaves.pop()     # (blocks nest: this one's list is the last)
        if _private_leaves:
            _private_leaves[-1].extend(private)
