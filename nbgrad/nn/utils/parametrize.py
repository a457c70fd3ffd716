"""PyTorch's torch.nn.utils.parametrize: make a module's parameter or buffer a function of others.

register_parametrization(module, 'weight', P) moves module.weight into
module.parametrizations.weight.original (original0, original1... when P.right_inverse returns
several tensors) and swaps the module's class for a subclass 'ParametrizedLinear' (say) with a
`weight` property: reading it computes P(original), assigning to it stores P.right_inverse(value).
The state_dict keys are PyTorch's ('parametrizations.weight.original', ...), so checkpoints
move between the two libraries.
"""
import collections.abc
import copyreg
from contextlib import contextmanager
from copy import deepcopy

import nbgrad
from ..._tensor import Tensor
from ..modules.container import ModuleDict, ModuleList
from ..parameter import Parameter

__all__ = ['cached', 'ParametrizationList', 'register_parametrization', 'is_parametrized',
           'remove_parametrizations', 'type_before_parametrizations',
           'transfer_parametrizations_and_params']

_cache_enabled = 0
_cache = {}


@contextmanager
def cached():
    """Inside this context each parametrized tensor is computed once, on first use, and reused
    (for a weight used several times in one forward, e.g. an RNN's recurrent kernel)."""
    global _cache, _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache = {}


def _register_parameter_or_buffer(module, name, value):
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _maybe_set(dest, src):
    """PyTorch's dest.set_(src): dest takes src's memory and shape but stays the same object, so
    an optimizer holding it keeps working."""
    dest._data = src._data
    dest._vc[0] += 1


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor (module.parametrizations[name]), holding the
    unparametrized tensor(s) as `original` or `original0`, `original1`, ..."""

    def __init__(self, modules, original, unsafe=False):
        if len(modules) == 0:
            raise ValueError('ParametrizationList requires one or more modules.')
        super().__init__(modules)
        self.unsafe = unsafe
        original_shape, original_dtype = original.shape, original.dtype

        with nbgrad.no_grad():
            new = original
            for module in reversed(self):
                if hasattr(module, 'right_inverse'):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass  # taken as the identity, as when there is no right_inverse
        if not isinstance(new, (Tensor, collections.abc.Sequence)):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                             f'(list, tuple...). Got {type(new).__name__}')
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)

        if self.is_tensor:
            if original.dtype != new.dtype:
                raise ValueError('When `right_inverse` outputs one tensor, it may not change the '
                                 f'dtype.\noriginal.dtype: {original.dtype}\n'
                                 f'right_inverse(original).dtype: {new.dtype}')
            if original.device != new.device:
                raise ValueError('When `right_inverse` outputs one tensor, it may not change the '
                                 f'device.\noriginal.device: {original.device}\n'
                                 f'right_inverse(original).device: {new.device}')
            # keep the same tensor object, so that it need not be re-registered in an optimizer
            values_before = original._data
            with nbgrad.no_grad():
                _maybe_set(original, new)
            _register_parameter_or_buffer(self, 'original', original)
        else:
            for i, original_i in enumerate(new):
                if not isinstance(original_i, Tensor):
                    raise ValueError("'right_inverse' must return a Tensor or a Sequence of "
                                     'tensors (list, tuple...). Got element '
                                     f'{i} of the sequence with type {type(original_i).__name__}.')
                # a Parameter's pieces become Parameters, to be added to the optimizer by the user
                if isinstance(original, Parameter):
                    original_i = Parameter(original_i, original.requires_grad)
                original_i.requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f'original{i}', original_i)

        if self.unsafe:
            return
        # forward(right_inverse(original)) must look like the original tensor
        try:
            Z = self()
            if not isinstance(Z, Tensor):
                raise ValueError(f'A parametrization must return a tensor. Got {type(Z).__name__}.')
            _check_same('Registering a parametrization may not change the {} of the tensor, '
                        'unless `unsafe` flag is enabled.\nunparametrized {}: {}\n'
                        'parametrized {}: {}', original_dtype, Z.dtype, original_shape, Z.shape)
        except Exception:
            if self.is_tensor:  # refused: the caller's tensor keeps its values (PyTorch's not)
                original._data = values_before
            raise

    def right_inverse(self, value):
        """Store the tensor(s) whose parametrized value is `value` into original(s), running the
        right_inverse methods in the inverse registration order."""
        with nbgrad.no_grad():
            for module in reversed(self):
                if not hasattr(module, 'right_inverse'):
                    raise RuntimeError(f'parametrization {type(module).__name__} does not '
                                       'implement right_inverse.')
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError('`right_inverse` should return a tensor. Got '
                                     f'{type(value).__name__}')
                if value.dtype != self.original.dtype:
                    raise ValueError(f'The tensor returned by `right_inverse` has dtype '
                                     f'{value.dtype} while `original` has dtype '
                                     f'{self.original.dtype}')
                _maybe_set(self.original, value)
                return
            if not isinstance(value, collections.abc.Sequence):
                raise ValueError("'right_inverse' must return a sequence of tensors. Got "
                                 f'{type(value).__name__}.')
            if len(value) != self.ntensors:
                raise ValueError("'right_inverse' must return a sequence of tensors of length "
                                 f'{self.ntensors}. Got a sequence of length {len(value)}.')
            originals = [getattr(self, f'original{i}') for i in range(self.ntensors)]
            for i, (tensor, original_i) in enumerate(zip(value, originals)):
                if not isinstance(tensor, Tensor):
                    raise ValueError("'right_inverse' must return a sequence of tensors. Got "
                                     f'element {i} of type {type(tensor).__name__}.')
                if original_i.dtype != tensor.dtype:
                    raise ValueError(f'Tensor {i} returned by `right_inverse` has dtype '
                                     f'{tensor.dtype} while `original{i}` has dtype '
                                     f'{original_i.dtype}')
            for tensor, original_i in zip(value, originals):
                _maybe_set(original_i, tensor)

    def forward(self):
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f'original{i}') for i in range(self.ntensors)))
        for i in range(1, len(self)):
            x = self[i](x)
        return x


def _check_same(template, dtype_before, dtype_after, shape_before, shape_after):
    """The ValueError PyTorch raises when a parametrization changes a tensor's dtype or shape."""
    if dtype_after != dtype_before:
        raise ValueError(template.format('dtype', 'dtype', dtype_before, 'dtype', dtype_after))
    if shape_after != shape_before:
        raise ValueError(template.format('shape', 'shape', _size(shape_before), 'shape',
                                         _size(shape_after)))


def _size(shape):
    return f'torch.Size({list(shape)})'


def _default_deepcopy(self, memo):
    """A plain deepcopy, for classes without their own __deepcopy__ (the parametrized class
    forbids pickling, which copy.deepcopy would otherwise go through)."""
    obj = memo.get(id(self))
    if obj is not None:
        return obj
    replica = self.__new__(self.__class__)
    memo[id(self)] = replica
    replica.__dict__ = deepcopy(self.__dict__, memo)
    for slot in copyreg._slotnames(self.__class__):
        if hasattr(self, slot):
            setattr(replica, slot, deepcopy(getattr(self, slot), memo))
    return replica


def _refuse_pickling(self):
    raise RuntimeError('Serialization of parametrized modules is only supported through '
                       'state_dict(). See:\nhttps://pytorch.org/tutorials/beginner/'
                       'saving_loading_models.html#saving-loading-a-general-checkpoint-for-'
                       'inference-and-or-resuming-training')


def _inject_new_class(module):
    """Give this one module its own subclass, so properties can be added without touching the
    class other instances share."""
    cls = module.__class__
    namespace = {'__getstate__': _refuse_pickling}
    if not hasattr(cls, '__deepcopy__'):
        namespace['__deepcopy__'] = _default_deepcopy
    module.__class__ = type(f'Parametrized{cls.__name__}', (cls,), namespace)


def _inject_property(module, tensor_name):
    if hasattr(module, tensor_name):
        raise AssertionError(f"Module already has an attribute named '{tensor_name}'")

    def get_parametrized(self):
        parametrization = self.parametrizations[tensor_name]
        if not _cache_enabled:
            return parametrization()
        key = (id(module), tensor_name)
        tensor = _cache.get(key)
        if tensor is None:
            tensor = _cache[key] = parametrization()
        return tensor

    def set_original(self, value):
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def _check_extra_parametrization(module, tensor_name, parametrization):
    """A parametrization added on top of others must map module.<tensor_name>'s space (shape and
    dtype) to itself, and so must its right_inverse."""
    Y = getattr(module, tensor_name)
    X = parametrization(Y)
    if not isinstance(X, Tensor):
        raise ValueError(f'A parametrization must return a tensor. Got {type(X).__name__}.')
    _check_same('Registering a parametrization may not change the {} of the tensor, unless the '
                f'`unsafe` flag is enabled.\nmodule.{tensor_name}.{{}}: {{}}\n'
                f'parametrization(module.{tensor_name}).{{}}: {{}}', Y.dtype, X.dtype, Y.shape,
                X.shape)
    if not hasattr(parametrization, 'right_inverse'):
        return
    try:
        Z = parametrization.right_inverse(X)
    except NotImplementedError:
        return
    if not isinstance(Z, Tensor):
        raise ValueError('parametrization.right_inverse must return a tensor. Got: '
                         f'{type(Z).__name__}')
    _check_same('The tensor returned by parametrization.right_inverse must have the same {} as '
                f'module.{tensor_name}, unless the `unsafe` flag is enabled.\n'
                f'module.{tensor_name}.{{}}: {{}}\nreturned {{}}: {{}}', Y.dtype, Z.dtype,
                Y.shape, Z.shape)


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make module.<tensor_name> compute parametrization(original) on every access (see the
    module docstring). Registering on an already parametrized name chains the new one last."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            _check_extra_parametrization(module, tensor_name, parametrization)
        chain = module.parametrizations[tensor_name]
        chain.append(parametrization)
        chain.unsafe |= unsafe  # once unsafe, always unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        # made first: its checks must fail before the module is touched
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    return module


def is_parametrized(module, tensor_name=None):
    """Whether module has any parametrization, or one on tensor_name."""
    parametrizations = getattr(module, 'parametrizations', None)
    if parametrizations is None or not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo the parametrizations of tensor_name: it becomes its current parametrized value
    (leave_parametrized=True) or the original tensor again. The tensor object is kept when
    there is one original, so optimizers need no update."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f'Module {module} does not have a parametrization on {tensor_name}')
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with nbgrad.no_grad():
                _maybe_set(original, getattr(module, tensor_name))
    elif leave_parametrized:
        # grad mode on: whether the result requires grad says if it becomes a Parameter
        t = getattr(module, tensor_name)
        original = Parameter(t.detach()) if t.requires_grad else t
    else:
        raise ValueError('Cannot leave unparametrized (`leave_parametrized=False`) a tensor that '
                         'is parametrized in terms of a sequence of tensors.')
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, 'parametrizations')
        module.__class__ = module.__class__.__bases__[0]
    return module


def type_before_parametrizations(module):
    """The module's class as it was before any parametrization was registered."""
    if is_parametrized(module):
        return module.__class__.__bases__[0]
    return type(module)


def transfer_parametrizations_and_params(from_module, to_module, tensor_name=None):
    """Register from_module's parametrizations (of tensor_name, or all) on to_module too, and
    give to_module the same original tensors; missing tensors are created first."""
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        if not hasattr(to_module, name):
            setattr(to_module, name, Parameter(getattr(from_module, name)))
        source = from_module.parametrizations[name]
        for parametrization in source:
            register_parametrization(to_module, name, parametrization)
        target = to_module.parametrizations[name]
        if hasattr(source, 'original'):
            target.original = source.original
        else:
            i = 0
            while hasattr(source, f'original{i}'):
                setattr(target, f'original{i}', getattr(source, f'original{i}'))
                i += 1
    return to_module
