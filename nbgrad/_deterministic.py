"""use_deterministic_algorithms: PyTorch's switch asking every op for an algorithm that gives the
same bits for the same input on the same machine, and an error (or, with warn_only, a warning)
from those that have none.

nbgrad's CPU ops are deterministic. On CUDA, the ops that accumulate with atomic adds (in an
order that varies from run to run) call `alert` with their name: the index accumulations done
with CuPy's scatter_add (index_add, scatter_add, index_put_ with accumulate=True, embedding's and
x[index]'s gradients) and grid_sample's backward. PyTorch has deterministic versions of some of
these (index_put_, scatter_add_); nbgrad does not yet, so there it raises where PyTorch would not.
"""
import builtins
import warnings

_mode = {'enabled': False, 'warn_only': False}


def use_deterministic_algorithms(mode, *, warn_only=False):
    for name, value in (('mode', mode), ('warn_only', warn_only)):
        if type(value) is not builtins.bool:
            raise TypeError(f"use_deterministic_algorithms(): argument '{name}' must be bool, "
                            f"not {type(value).__name__}")
    _mode['enabled'], _mode['warn_only'] = mode, warn_only


def are_deterministic_algorithms_enabled():
    return _mode['enabled']


def is_deterministic_algorithms_warn_only_enabled():
    return _mode['warn_only']


def set_deterministic_debug_mode(debug_mode):
    """0 / 'default', 1 / 'warn', 2 / 'error', as in PyTorch."""
    names = {'default': 0, 'warn': 1, 'error': 2}
    if isinstance(debug_mode, str):
        if debug_mode not in names:
            raise RuntimeError(f'invalid value of debug_mode, expected one of `default`, `warn`, '
                               f'`error`, but got {debug_mode}')
        debug_mode = names[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f'invalid value of debug_mode, expected 0, 1, or 2, but got '
                           f'{debug_mode}')
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    return 0 if not _mode['enabled'] else 1 if _mode['warn_only'] else 2


def alert(op):
    """Called by an op about to run a nondeterministic algorithm: an error, or a warning with
    warn_only, when deterministic algorithms were asked for."""
    if not _mode['enabled']:
        return
    message = (f"{op} does not have a deterministic implementation, but you set "
               f"'nbgrad.use_deterministic_algorithms(True)'. You can turn off determinism just "
               f"for this operation, or you can use the 'warn_only=True' option, if that's "
               f"acceptable for your application.")
    if _mode['warn_only']:
        warnings.warn(message, UserWarning, stacklevel=3)
    else:
        raise RuntimeError(message)
