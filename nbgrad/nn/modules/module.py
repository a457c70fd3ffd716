"""nn.Module: the base class of every layer and model, with PyTorch's semantics.

Assigning a Parameter, a Module or a registered buffer to an attribute routes it into
`_parameters`, `_modules` or `_buffers`; everything that walks a model (parameters(), state_dict(),
to(), train()...) walks those dicts. Calling a module runs forward() with its hooks around it.
"""
import warnings
from collections import OrderedDict

from ..._tensor import Tensor
from ... import _dtype
from ..._device import device as _device_cls
from ...autograd.graph import RemovableHandle, HookDict
from ...autograd.grad_mode import no_grad
from ..parameter import Parameter, Buffer
from . import _state_dict_load
from ._backward_hook import BackwardHook
from ._state_dict_load import _IncompatibleKeys  # noqa: F401 (PyTorch's module has it)

__all__ = ['Module']

_EXTRA_STATE_KEY_SUFFIX = '_extra_state'


def _forward_unimplemented(self, *input):
    """Module.forward until a subclass defines it (PyTorch's name for it)."""
    raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                              f'"forward" function')


def _addindent(text, spaces):
    lines = text.split('\n')
    if len(lines) == 1:
        return text
    return lines[0] + '\n' + '\n'.join(' ' * spaces + line for line in lines[1:])


def _typename(obj):
    if isinstance(obj, Tensor):
        return obj.type()
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module == 'builtins' else f'{module}.{name}'


def _check_name(kind, name, module, registry):
    """PyTorch's checks on the name given to register_parameter/register_buffer/add_module."""
    if not isinstance(name, str):
        raise TypeError(f'{kind} name should be a string. Got {_typename(name)}')
    if '.' in name:
        raise KeyError(f'{kind} name can\'t contain ".", got: {name}' if kind == 'module'
                       else f'{kind} name can\'t contain "."')
    if name == '':
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if hasattr(module, name) and name not in registry:
        raise KeyError(f"attribute '{name}' already exists")


class Module:
    training: bool
    _version = 1
    call_super_init = False
    dump_patches = False

    def __init__(self, *args, **kwargs):
        if kwargs:
            raise TypeError(f'{type(self).__name__}.__init__() got an unexpected keyword '
                            f"argument '{next(iter(kwargs))}'")
        if args:
            raise TypeError(f'{type(self).__name__}.__init__() takes 1 positional argument but '
                            f'{len(args) + 1} were given')
        setattr_ = object.__setattr__
        setattr_(self, 'training', True)
        for name in ('_parameters', '_buffers', '_modules', '_forward_hooks',
                     '_forward_hooks_with_kwargs', '_forward_hooks_always_called',
                     '_forward_pre_hooks', '_forward_pre_hooks_with_kwargs', '_backward_hooks',
                     '_backward_pre_hooks', '_state_dict_hooks', '_state_dict_pre_hooks',
                     '_load_state_dict_pre_hooks', '_load_state_dict_post_hooks'):
            setattr_(self, name, HookDict() if 'hooks' in name else OrderedDict())
        setattr_(self, '_non_persistent_buffers_set', set())
        setattr_(self, '_is_full_backward_hook', None)

    forward = _forward_unimplemented

    # -- attribute routing ----------------------------------------------------------------------
    def __getattr__(self, name):
        d = self.__dict__
        for registry in ('_parameters', '_buffers', '_modules'):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get('_parameters')
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError('cannot assign parameters before Module.__init__() call')
            self._forget(name, keep='_parameters')
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                '(torch.nn.Parameter or None expected)')
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if d.get('_modules') is None:
                raise AttributeError('cannot assign module before Module.__init__() call')
            self._forget(name, keep='_modules')
            d['_modules'][name] = _registered(_global_module_registration_hooks, self, name, value)
        elif d.get('_modules') is not None and name in d['_modules']:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                '(torch.nn.Module or None expected)')
            d['_modules'][name] = _registered(_global_module_registration_hooks, self, name, value)
        elif isinstance(value, Buffer) or (d.get('_buffers') is not None and
                                           name in d['_buffers']):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                '(torch.nn.Buffer, torch.Tensor or None expected)')
            persistent = value.persistent if isinstance(value, Buffer) else \
                name not in self._non_persistent_buffers_set
            if isinstance(value, Buffer):
                value = Tensor._make(value._data, value._requires_grad, None, value._vc)
            self.register_buffer(name, value, persistent)
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep):
        """Remove `name` from every place but `keep` (a name moves between kinds on assignment)."""
        d = self.__dict__
        d.pop(name, None)
        for registry in ('_parameters', '_buffers', '_modules'):
            if registry != keep:
                d[registry].pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = set(dir(type(self))) | set(self.__dict__) | set(self._parameters) | \
            set(self._modules) | set(self._buffers)
        return sorted(k for k in keys if not k[0].isdigit())

    # -- registration -----------------------------------------------------------------------------
    def register_parameter(self, name, param):
        if '_parameters' not in self.__dict__:
            raise AttributeError('cannot assign parameter before Module.__init__() call')
        _check_name('parameter', name, self, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            '(torch.nn.Parameter or None required)')
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             f"parameters must be created explicitly. To express '{name}' as a "
                             'function of another Tensor, compute the value in the forward() '
                             'method.')
        if param is not None:
            param = _registered(_global_parameter_registration_hooks, self, name, param)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        if '_buffers' not in self.__dict__:
            raise AttributeError('cannot assign buffer before Module.__init__() call')
        _check_name('buffer', name, self, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            '(torch Tensor or None required)')
        self._buffers[name] = _registered(_global_buffer_registration_hooks, self, name, tensor)
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f'{_typename(module)} is not a Module subclass')
        _check_name('module', name, self, self._modules)
        self._modules[name] = _registered(_global_module_registration_hooks, self, name, module)

    register_module = add_module

    def _lookup(self, target, kind):
        """get_submodule / get_parameter / get_buffer: a dotted path from this module."""
        if target == '' and kind == 'module':
            return self
        path, _, last = target.rpartition('.') if kind != 'module' else (target, '', None)
        module = self
        for atom in path.split('.') if path else ():
            if not hasattr(module, atom):
                raise AttributeError(f'{module._get_name()} has no attribute `{atom}`')
            module = getattr(module, atom)
            if not isinstance(module, Module):
                raise AttributeError(f'`{atom}` is not an nn.Module')
        if kind == 'module':
            return module
        if not last or not hasattr(module, last):   # '' names no attribute
            raise AttributeError(f'{module._get_name()} has no attribute `{last}`')
        value = getattr(module, last)
        if kind == 'param' and not isinstance(value, Parameter):
            raise AttributeError(f'`{last}` is not an nn.Parameter')
        if kind == 'buffer' and last not in module._buffers:
            raise AttributeError(f'`{last}` is not a buffer')
        return value

    def get_submodule(self, target):
        return self._lookup(target, 'module')

    def get_parameter(self, target):
        return self._lookup(target, 'param')

    def get_buffer(self, target):
        return self._lookup(target, 'buffer')

    def set_submodule(self, target, module, strict=False):
        if target == '':
            raise ValueError('Cannot set the submodule without a target name!')
        if not isinstance(module, Module):
            raise ValueError(f'`module` is not an nn.Module, found {type(module)}')
        parent_path, _, name = target.rpartition('.')
        parent = self.get_submodule(parent_path)
        if strict and not hasattr(parent, name):
            raise AttributeError(f'{parent._get_name()} has no attribute `{name}`')
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f'`{name}` is not an nn.Module')
        setattr(parent, name, module)

    def get_extra_state(self):
        raise RuntimeError('Reached a code path in Module.get_extra_state() that should never be '
                           'called.')

    def set_extra_state(self, state):
        raise RuntimeError('Reached a code path in Module.set_extra_state() that should never be '
                           'called.')

    def _has_extra_state(self):
        return type(self).get_extra_state is not Module.get_extra_state

    # -- walking the tree -----------------------------------------------------------------------
    def named_modules(self, memo=None, prefix='', remove_duplicate=True):
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ('.' if prefix else '') + name,
                                            remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, get_members, prefix='', recurse=True, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in get_members(module):
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield module_prefix + ('.' if module_prefix else '') + name, value

    def named_parameters(self, prefix='', recurse=True, remove_duplicate=True):
        return self._named_members(lambda m: m._parameters.items(), prefix, recurse,
                                   remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix='', recurse=True, remove_duplicate=True):
        return self._named_members(lambda m: m._buffers.items(), prefix, recurse,
                                   remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- modes ----------------------------------------------------------------------------------
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError('training mode is expected to be boolean')
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if p.grad.grad_fn is not None:
                    p.grad.detach_()
                else:
                    p.grad.requires_grad_(False)
                p.grad.zero_()

    def compile(self, *args, **kwargs):
        """Module.compile: torch.compile's arguments and checks, in place, returning None; the
        module keeps running eagerly (nbgrad's compile, compiler.py)."""
        from ... import compiler
        compiler.compile(self, *args, **kwargs)

    def share_memory(self):
        """Move every parameter, gradient and buffer into shared memory, so that processes the
        module is sent to (nbgrad.multiprocessing) update the same weights (Hogwild)."""
        for t in [*self.parameters(), *self.buffers()]:
            t.share_memory_()
            if t.grad is not None:
                t.grad.share_memory_()
        return self

    # -- moving and casting ---------------------------------------------------------------------
    def _replicate_for_data_parallel(self):
        """A shallow copy for nn.parallel.replicate: no parameters of its own (replicate sets
        differentiable copies of the original's as plain attributes), its own buffer and child
        tables."""
        replica = self.__new__(type(self))
        replica.__dict__ = self.__dict__.copy()
        replica._parameters = {}
        replica._buffers = replica._buffers.copy()
        replica._modules = replica._modules.copy()
        replica._is_replica = True
        return replica

    def _apply(self, fn, recurse=True):
        """Replace every parameter's and buffer's values by fn(tensor), keeping the Parameter
        objects (so an optimizer made before .to()/.double() still holds the model's weights)."""
        if recurse:
            for module in self.children():
                module._apply(fn)
        for key, param in self._parameters.items():
            if param is None:
                continue
            with no_grad():
                new = fn(param)
            if new is not param:
                param.data = new
            if param.grad is not None:
                with no_grad():
                    new_grad = fn(param.grad)
                if new_grad is not param.grad:
                    param.grad.data = new_grad
        for key, buf in self._buffers.items():
            if buf is not None:
                self._buffers[key] = fn(buf)
        return self

    def to(self, *args, **kwargs):
        device, dtype, non_blocking, memory_format = _parse_to(args, kwargs)
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError('nn.Module.to only accepts floating point or complex dtypes, but got '
                            f'desired dtype={dtype}')

        def convert(t):
            keep_dtype = dtype is None or not (t.is_floating_point() or t.is_complex())
            # as PyTorch: a memory format applies to the 4-D and 5-D tensors only
            layout = memory_format if memory_format is not None and t.dim() in (4, 5) else None
            return t.to(device=device, dtype=None if keep_dtype else dtype,
                        non_blocking=non_blocking, memory_format=layout)
        return self._apply(convert)

    def cpu(self):
        return self._apply(lambda t: t.cpu())

    def cuda(self, device=None):
        return self._apply(lambda t: t.cuda(device))

    def _cast_floats(self, dtype):
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self):
        return self._cast_floats(_dtype.float32)

    def double(self):
        return self._cast_floats(_dtype.float64)

    def half(self):
        return self._cast_floats(_dtype.float16)

    def bfloat16(self):
        return self._cast_floats(_dtype.bfloat16)

    def type(self, dst_type):
        return self._apply(lambda t: t.type(dst_type))

    def to_empty(self, *, device=None, recurse=True):
        from ..._creation import empty_like
        return self._apply(lambda t: empty_like(t, device=device), recurse=recurse)

    # -- calling --------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):  # (also PyTorch's _call_impl: see below the class)
        if not (self._forward_hooks or self._forward_pre_hooks or self._backward_hooks or
                self._backward_pre_hooks or _global_hooks_present()):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        always_called = set()
        result = None
        try:
            # hooks may remove themselves (a lazy module's does): iterate over snapshots
            for hook_id, hook in [*_global_forward_pre_hooks.items(),
                                  *self._forward_pre_hooks.items()]:
                if hook_id in self._forward_pre_hooks_with_kwargs:
                    out = hook(self, args, kwargs)
                    if out is not None:
                        if not (isinstance(out, tuple) and len(out) == 2):
                            raise RuntimeError('forward pre-hook must return None or a tuple of '
                                               f'(new_args, new_kwargs), but got {out}.')
                        args, kwargs = out
                else:
                    out = hook(self, args)
                    if out is not None:
                        args = out if isinstance(out, tuple) else (out,)
            backward_hook = None
            full_hooks = [*_global_backward_hooks.values(), *self._backward_hooks.values()]
            pre_hooks = [*_global_backward_pre_hooks.values(),
                         *self._backward_pre_hooks.values()]
            if full_hooks or pre_hooks:
                backward_hook = BackwardHook(self, full_hooks, pre_hooks)
                args = backward_hook.setup_input_hook(args)
            result = self.forward(*args, **kwargs)
            for hook_id, hook in [*_global_forward_hooks.items(), *self._forward_hooks.items()]:
                if hook_id in self._forward_hooks_always_called or \
                        hook_id in _global_forward_hooks_always_called:
                    always_called.add(hook_id)
                if hook_id in self._forward_hooks_with_kwargs or \
                        hook_id in _global_forward_hooks_with_kwargs:
                    out = hook(self, args, kwargs, result)
                else:
                    out = hook(self, args, result)
                if out is not None:
                    result = out
            if backward_hook is not None:
                if not isinstance(result, (Tensor, tuple)):
                    warnings.warn('For backward hooks to be called, module output should be a '
                                  f'Tensor or a tuple of Tensors but received {type(result)}',
                                  stacklevel=2)
                else:
                    result = backward_hook.setup_output_hook(result)
            return result
        except Exception:
            for hook_id, hook in [*_global_forward_hooks.items(), *self._forward_hooks.items()]:
                if (hook_id in self._forward_hooks_always_called or
                        hook_id in _global_forward_hooks_always_called) and \
                        hook_id not in always_called:
                    try:
                        out = hook(self, args, kwargs, result) \
                            if hook_id in self._forward_hooks_with_kwargs or \
                            hook_id in _global_forward_hooks_with_kwargs else \
                            hook(self, args, result)
                        if out is not None:
                            result = out
                    except Exception as e:
                        warnings.warn('module forward hook with ``always_call=True`` raised an '
                                      'exception that was silenced as another error was raised '
                                      f'in forward: {e}', stacklevel=2)
            raise

    # -- hooks ----------------------------------------------------------------------------------
    def _add_hook(self, registry, hook, prepend=False, extra=()):
        return _add_hook(registry, hook, prepend, extra)

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        return self._add_hook(self._forward_pre_hooks, hook, prepend,
                              [self._forward_pre_hooks_with_kwargs] if with_kwargs else [])

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        extra = ([self._forward_hooks_with_kwargs] if with_kwargs else []) + \
            ([self._forward_hooks_always_called] if always_call else [])
        return self._add_hook(self._forward_hooks, hook, prepend, extra)

    def register_full_backward_hook(self, hook, prepend=False):
        self._backward_hook_kind(True)
        return self._add_hook(self._backward_hooks, hook, prepend)

    def _backward_hook_kind(self, full):
        """PyTorch's rule: one module takes old-style or full backward hooks, not both."""
        if self._is_full_backward_hook is (not full):
            raise RuntimeError('Cannot use both regular backward hooks and full backward hooks '
                               'on a single Module. Please use only one of them.')
        object.__setattr__(self, '_is_full_backward_hook', full)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        return self._add_hook(self._backward_pre_hooks, hook, prepend)

    def register_backward_hook(self, hook):
        """Deprecated in PyTorch for the full hook; nbgrad gives the full hook's (correct)
        gradients rather than reproducing the old hook's per-last-op behaviour."""
        self._backward_hook_kind(False)
        warnings.warn('register_backward_hook is deprecated; use register_full_backward_hook. '
                      'nbgrad runs it as a full backward hook.', FutureWarning, stacklevel=2)
        return self._add_hook(self._backward_hooks, hook)

    def register_state_dict_post_hook(self, hook):
        """hook(module, state_dict, prefix, local_metadata), which must return None (the
        private _register_state_dict_hook's may return a replacement state_dict)."""
        def must_return_none(*args):
            if hook(*args) is not None:
                raise RuntimeError('state_dict post-hook must return None')
        return self._add_hook(self._state_dict_hooks, must_return_none)

    def _register_state_dict_hook(self, hook):
        return self._add_hook(self._state_dict_hooks, hook)

    def register_state_dict_pre_hook(self, hook):
        return self._add_hook(self._state_dict_pre_hooks, hook)

    def register_load_state_dict_pre_hook(self, hook):
        """hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs), before this module's entries are checked."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        """The older private form: the hook gets the module first only with with_module."""
        if with_module:
            return self._add_hook(self._load_state_dict_pre_hooks,
                                  lambda sd, prefix, *rest, _h=hook: _h(self, sd, prefix, *rest))
        return self._add_hook(self._load_state_dict_pre_hooks, hook)

    def register_load_state_dict_post_hook(self, hook):
        return self._add_hook(self._load_state_dict_post_hooks, hook)

    # -- state dict -----------------------------------------------------------------------------
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if self._has_extra_state():
            destination[prefix + '_extra_state'] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix='', keep_vars=False):
        if args:  # the old positional form state_dict(destination, prefix, keep_vars)
            warnings.warn('Positional args are being deprecated, use kwargs instead. Refer to '
                          'https://pytorch.org/docs/main/generated/torch.nn.Module.html'
                          '#torch.nn.Module.state_dict for details.', FutureWarning,
                          stacklevel=2)
            destination, prefix, keep_vars = (list(args) + [destination, prefix,
                                                             keep_vars][len(args):])[:3]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {'version': self._version}
        if hasattr(destination, '_metadata'):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + '.',
                                  keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            out = hook(self, destination, prefix, local_metadata)
            if out is not None:
                destination = out
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Load this module's own entries (parameters, persistent buffers, extra state) from
        state_dict and note its missing and unexpected keys (_state_dict_load)."""
        _state_dict_load.load_own_entries(self, state_dict, prefix, local_metadata, strict,
                                          missing_keys, unexpected_keys, error_msgs)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """PyTorch's load; one that raises leaves the model as it was (_state_dict_load)."""
        return _state_dict_load.load_state_dict(self, state_dict, strict, assign)

    # -- printing and copying -------------------------------------------------------------------
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        return ''

    def __repr__(self):
        lines = self.extra_repr().split('\n') if self.extra_repr() else []
        for key, module in self._modules.items():
            lines.append(f'({key}): ' + _addindent(repr(module), 2))
        text = self._get_name() + '('
        if lines:
            if len(lines) == 1 and not self._modules:
                text += lines[0]
            else:
                text += '\n  ' + '\n  '.join(lines) + '\n'
        return text + ')'

    def __getstate__(self):
        return self.__dict__.copy()

    def __setstate__(self, state):
        """Also what PyTorch does for modules pickled by older versions: the registries they
        lacked start empty."""
        self.__dict__.update(state)
        for name, fresh in vars(Module()).items():
            if name != 'training':
                self.__dict__.setdefault(name, fresh)


def _parse_to(args, kwargs):
    """Module.to's forms: to(device), to(dtype), to(device, dtype), to(tensor), keywords; any
    other call gets Tensor.to's TypeError, as in PyTorch (both parse their arguments alike)."""
    from ..._tensor_methods import _bad_to_call
    given = dict(kwargs)
    device = kwargs.pop('device', None)
    dtype = kwargs.pop('dtype', None)
    non_blocking = kwargs.pop('non_blocking', False)
    memory_format = kwargs.pop('memory_format', None)
    if kwargs or (dtype is not None and not isinstance(dtype, _dtype.dtype)) or \
            sum(isinstance(a, _dtype.dtype) for a in args) + (dtype is not None) > 1:
        raise _bad_to_call(args, given)
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, _dtype.dtype):
            dtype = arg
        elif isinstance(arg, bool):
            non_blocking = arg
        elif isinstance(arg, (str, _device_cls, int)):
            device = arg
        else:
            raise TypeError(f'to() received an invalid combination of arguments: {arg!r}')
    if device is not None:
        device = _device_cls(device)
    return device, dtype, non_blocking, memory_format


def _add_hook(registry, hook, prepend=False, extra=()):
    """Register hook in registry (first with prepend) with a True flag in each `extra` dict
    (with_kwargs, always_call); the handle removes all of them."""
    handle = RemovableHandle(registry, extra_dict=list(extra))
    registry[handle.id] = hook
    if prepend:
        _move_first(registry, handle.id)
    for flags in extra:
        flags[handle.id] = True
    return handle


def _move_first(registry, key):
    value = registry.pop(key)
    items = list(registry.items())
    registry.clear()
    registry[key] = value
    registry.update(items)


# Global module hooks (nn.modules.module.register_module_forward_hook ...).
_global_forward_pre_hooks = HookDict()
_global_forward_hooks = HookDict()
_global_backward_hooks = HookDict()
_global_backward_pre_hooks = HookDict()
_global_forward_hooks_with_kwargs = OrderedDict()
_global_forward_hooks_always_called = OrderedDict()


# registration hooks: hook(module, name, value) -> None or a replacement value, run when a
# buffer (even None), a parameter (not None) or a submodule (even None) is registered
_global_buffer_registration_hooks = HookDict()
_global_parameter_registration_hooks = HookDict()
_global_module_registration_hooks = HookDict()


def _registered(hooks, module, name, value):
    """value after the registration hooks (each may replace it), as PyTorch runs them."""
    for hook in list(hooks.values()):
        output = hook(module, name, value)
        if output is not None:
            value = output
    return value


def register_module_buffer_registration_hook(hook):
    return _add_hook(_global_buffer_registration_hooks, hook)


def register_module_parameter_registration_hook(hook):
    return _add_hook(_global_parameter_registration_hooks, hook)


def register_module_module_registration_hook(hook):
    return _add_hook(_global_module_registration_hooks, hook)


def _global_hooks_present():
    return bool(_global_forward_pre_hooks or _global_forward_hooks or _global_backward_hooks or
                _global_backward_pre_hooks)


def register_module_forward_pre_hook(hook):
    return _add_hook(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """A forward hook on every module: hook(module, args, output), or with with_kwargs
    hook(module, args, kwargs, output); always_call runs it when forward raises too."""
    return _add_hook(_global_forward_hooks, hook, extra=(
        ([_global_forward_hooks_with_kwargs] if with_kwargs else []) +
        ([_global_forward_hooks_always_called] if always_call else [])))


def register_module_full_backward_hook(hook):
    return _add_hook(_global_backward_hooks, hook)


def register_module_full_backward_pre_hook(hook):
    return _add_hook(_global_backward_pre_hooks, hook)


# PyTorch's names for Module.__call__ (some libraries call them directly)
Module._call_impl = Module._wrapped_call_impl = Module.__call__
