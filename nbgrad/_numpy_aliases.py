"""NumPy's argument names where PyTorch's C++ argument parser takes them: `axis` for `dim` and
`keepdims` for `keepdim` (x.sum(axis=1, keepdims=True), torch.cat(ts, axis=0)). install() wraps
every torch-level function and Tensor method that has such a parameter; giving both names is
PyTorch's TypeError. (PyTorch's Python-level functions, nn.functional's among them, take no
aliases; nbgrad does not add them there.)"""
import functools
import inspect

_ALIASES = (('dim', 'axis'), ('keepdim', 'keepdims'))


def _parameters(fn):
    """fn's parameter names, a *dim (Tensor.squeeze(*dim, **kwargs)) included."""
    code = getattr(inspect.unwrap(fn), '__code__', None)
    if code is None:
        return ()
    count = code.co_argcount + code.co_kwonlyargcount
    return code.co_varnames[:count + bool(code.co_flags & inspect.CO_VARARGS)]


def _with_aliases(fn, aliases):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if kwargs:
            for name, alias in aliases:
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{fn.__name__}() got an unexpected keyword argument "
                                        f"'{alias}'")
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)
    wrapper._numpy_aliases = True
    if 'out' in _parameters(fn):
        # a function with its own out= is not wrapped again by _out (whose wrapper shows its
        # own signature): show fn's to readers of the outermost signature
        wrapper.__signature__ = inspect.signature(fn)
    return wrapper


def _aliased(fn):
    """fn wrapped to take the aliases of the parameters it has, or None (nothing to alias)."""
    if getattr(fn, '_numpy_aliases', False):
        return None
    params = _parameters(fn)
    aliases = tuple((name, alias) for name, alias in _ALIASES
                    if name in params and alias not in params)
    return _with_aliases(fn, aliases) if aliases else None


def install(namespace, tensor_class):
    """Wrap the public functions of namespace (a module) and the methods of tensor_class."""
    for name, value in list(vars(namespace).items()):
        if not name.startswith('_') and callable(value) and not isinstance(value, type) \
                and getattr(value, '__module__', '').startswith('nbgrad'):
            wrapped = _aliased(value)
            if wrapped is not None:
                setattr(namespace, name, wrapped)
    for name, value in list(vars(tensor_class).items()):
        if not name.startswith('_') and value.__class__.__name__ == 'function':
            wrapped = _aliased(value)
            if wrapped is not None:
                setattr(tensor_class, name, wrapped)
