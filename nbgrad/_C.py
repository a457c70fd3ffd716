"""nbgrad._C: the few names of PyTorch's torch._C that Python code written for PyTorch uses
directly. Tensor subclasses and modes are written with them: `__torch_function__ =
torch._C._disabled_torch_function_impl` opts a subclass out of subclass dispatch (its ops return
plain tensors, as Parameter's), and `with torch._C.DisableTorchFunctionSubclass():` runs code
on subclasses as on plain tensors. The rest of torch._C is PyTorch's C++ binding and has no
counterpart here."""
from ._tensor_subclass import DisableTorchFunctionSubclass, _disabled_torch_function_impl

__all__ = ['DisableTorchFunction', 'DisableTorchFunctionSubclass',
           '_disabled_torch_function_impl', '_is_torch_function_enabled',
           '_is_torch_function_mode_enabled', '_len_torch_function_stack', '_has_torch_function',
           '_has_torch_function_unary', '_has_torch_function_variadic']


class DisableTorchFunction:
    """`with torch._C.DisableTorchFunction():` neither subclasses' __torch_function__ nor
    modes are consulted inside the block."""

    def __enter__(self):
        from ._function_dispatch import mode_stack
        self._modes = mode_stack.modes
        _set_aside.append(self._modes)     # (still on the stack, not consulted)
        mode_stack.modes = ()
        self._subclasses = DisableTorchFunctionSubclass()
        self._subclasses.__enter__()
        _disabled[0] += 1
        return self

    def __exit__(self, *exc):
        from ._function_dispatch import mode_stack
        _disabled[0] -= 1
        _set_aside.pop()
        self._subclasses.__exit__(*exc)
        mode_stack.modes = self._modes
        return False


_disabled = [0]
_set_aside = []


def _is_torch_function_enabled():
    return not _disabled[0]


def _is_torch_function_mode_enabled():
    from ._function_dispatch import mode_stack
    return bool(mode_stack.modes)


def _len_torch_function_stack():
    from ._function_dispatch import mode_stack
    return len(mode_stack.modes) + sum(len(modes) for modes in _set_aside)


def _has_torch_function(args):
    from .overrides import has_torch_function
    return has_torch_function(args)


def _has_torch_function_unary(arg):
    from .overrides import has_torch_function_unary
    return has_torch_function_unary(arg)


def _has_torch_function_variadic(*args):
    from .overrides import has_torch_function_variadic
    return has_torch_function_variadic(*args)
