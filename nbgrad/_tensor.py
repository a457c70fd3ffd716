"""nbgrad.Tensor: one NumPy or CuPy array plus autograd state.

The math methods (add, sum, view, ...) are attached from the op modules by nbgrad/_tensor_methods.py;
this file holds what a tensor *is*: its array, its place in the graph, its version counter (shared
with its views), conversions, and the autograd entry points (backward, hooks, retain_grad).
"""
import threading
import weakref
import warnings

import numpy as np

from . import _dtype
from ._arrays import MetaArray, NO_DATA
from ._device import device_of_array, to_device, CPU
from ._grad_fn_class import presented
from ._memory_format import contiguous_format, is_contiguous_as
from ._sparse_coo import SparseCOO

_new = object.__new__


def is_legacy_data(args):
    """Whether the legacy constructors' arguments (Tensor(...), FloatTensor(...)) are data to
    copy rather than a size: one argument that is neither an int nor a Size."""
    return len(args) == 1 and not isinstance(args[0], (int, Size))


def _size_item(s, i):
    index = getattr(s, '__index__', None)
    if index is None:
        raise TypeError(f"nbgrad.Size() takes an iterable of 'int' (item {i} is "
                        f"'{type(s).__name__}')")
    return index()


class Size(tuple):
    """A tensor's shape: a tuple that prints as nbgrad.Size([2, 3])."""
    __slots__ = ()

    def __repr__(self):
        return f'nbgrad.Size({list(self)})'

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, key):
        result = tuple.__getitem__(self, key)
        return Size(result) if isinstance(key, slice) else result

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __mul__(self, times):
        return Size(tuple.__mul__(self, times))

    __rmul__ = __mul__

    def __new__(cls, sizes=()):
        # (the elements as ints: Size(tensor([2, 3])) holds 2 and 3, not 0-dim tensors)
        return tuple.__new__(cls, (s if s.__class__ is int else _size_item(s, i)
                                   for i, s in enumerate(sizes)))


class _ThreadModes(threading.local):
    """Autograd's modes, per thread as in PyTorch (a thread's no_grad leaves the others
    recording; a new thread starts with grad mode on):
    grad_enabled: whether ops record a graph (read by every op in _dispatch);
    inference_depth: how many inference_mode blocks are open (autograd/grad_mode.py). Every
      tensor made inside one is an inference tensor, which autograd may not save or update in
      place once outside (PyTorch's rules);
    grad_shadowed: grad mode was turned on (enable_grad, set_grad_enabled(True)) inside an
      inference_mode block, where nothing records: is_grad_enabled() says True, grad_enabled
      stays False (as in PyTorch)."""
    grad_enabled = True
    inference_depth = 0
    grad_shadowed = False


_modes = _ThreadModes()

_INFERENCE_SAVED = ('Inference tensors cannot be saved for backward. Please do not use Tensors '
                    'created in inference mode in computation tracked by autograd. To work around '
                    'this, you can make a clone to get a normal tensor and use it in autograd, or '
                    'use `nbgrad.no_grad()` instead of `nbgrad.inference_mode()`.')
_INFERENCE_INPLACE = ('Inplace update to inference tensor outside InferenceMode is not allowed.'
                      'You can make a clone to get a normal tensor before doing inplace update.'
                      'See https://github.com/pytorch/rfcs/pull/17 for more details.')



def _size_one_strides(shape, strides):
    """PyTorch's strides for the size-1 dims NumPy gives stride 0 (x[None], unsqueeze, expand's
    new dims): the next dim's size * stride, or 1 for the last dim, as unsqueeze computes
    them. A size-1 dim's stride never moves through memory, so only what stride() reports
    changes."""
    out, inner = list(strides), 1
    for d in range(len(shape) - 1, -1, -1):
        if shape[d] == 1 and out[d] == 0:
            out[d] = inner
        inner = shape[d] * out[d]
    return tuple(out)


# > 0 while jit.trace records (jit/_tracing.py counts here): a tensor turned into a Python
# value is then baked into the recording as a constant, which PyTorch's tracer warns about
tracing_depth = [0]


def _warn_trace_constant(kind):
    from .jit._trace import TracerWarning, quiet
    from ._user_warning import warn_at_caller
    if quiet[0]:
        return
    warn_at_caller(f"Converting a tensor to a Python {kind} might cause the trace to be "
                   f"incorrect. We can't record the data flow of Python values, so this value "
                   f"will be treated as a constant in the future. This means that the trace might "
                   f"not generalize to other inputs!", TracerWarning)

class Tensor:
    __module__ = 'nbgrad'      # (printed <class 'nbgrad.Tensor'>, as PyTorch's is torch.Tensor)
    # Hot attributes live in slots; rarely used ones fall back to the class defaults below until a
    # tensor sets its own (in its __dict__), which keeps making a tensor cheap.
    __slots__ = ('_data', '_requires_grad', '_grad_fn', '_vc', '_base', '__dict__', '__weakref__')
    _output_nr = 0
    _grad = None
    _hooks = None                  # {handle_id: fn} for leaves (non-leaf hooks live on grad_fn)
    _post_accumulate_hooks = None
    _grad_acc = None               # a weakref to this leaf's AccumulateGrad (_grad_accumulator)
    _retains_grad = False
    _view_src = None               # (parent tensor, view op) for views
    _view_stamp = 0                # base version when this view's grad_fn was last derived
    _is_param = False
    _inference = False             # made inside inference_mode (is_inference())
    _no_grad_view = False          # a view made in no_grad mode of a tensor that requires grad
    _grad_dtype = _dtype.SAME_AS_DATA   # .grad's dtype (grad_dtype): the tensor's, or set
    # NumPy defers binary operators to us (ndarray * t is t.__rmul__), and NumPy functions of a
    # tensor (np.exp(t)) compute on its array and come back as a tensor (__array_wrap__)
    __array_priority__ = 1000

    @staticmethod
    def _make(data, requires_grad=False, grad_fn=None, vc=None):
        t = _new(Tensor)
        t._data = data
        t._requires_grad = requires_grad
        t._grad_fn = grad_fn
        t._vc = [0] if vc is None else vc
        t._base = None
        if _modes.inference_depth:
            t._inference = True
        return t

    def __new__(cls, *args, device=None):
        """Legacy constructor: Tensor(2, 3) and Tensor(x.size()) are uninitialised (zeros here),
        Tensor([1, 2]) copies data, Tensor() is empty, and Tensor(t) is an alias of the tensor t
        (its memory, dtype and history: AliasBackward0), as in PyTorch. It builds the tensor in
        __new__, as PyTorch's does, so a subclass's __init__ may call super().__init__() and its
        __new__ super().__new__(cls, data)."""
        from ._creation import tensor as _tensor_fn, empty
        self = _new(cls)
        if len(args) == 1 and isinstance(args[0], Tensor) and device is None:
            alias = args[0][...]
            self._data, self._requires_grad, self._grad_fn, self._vc, self._base = (
                alias._data, alias._requires_grad, alias._grad_fn, alias._vc, alias._base)
            self.__dict__.update(alias.__dict__)     # (its view bookkeeping)
            return self
        if is_legacy_data(args):
            if args[0] is None or isinstance(args[0], (float, complex, bool)):
                raise TypeError(f'new(): data must be a sequence (got {type(args[0]).__name__})')
            made = _tensor_fn(args[0], dtype=_dtype.get_default_dtype(), device=device)
        else:
            made = empty(*(args or (0,)), device=device)
        self._data = made._data
        self._requires_grad = False
        self._grad_fn = None
        self._vc = [0]
        self._base = None
        return self

    def __init__(self, *args, **kwargs):
        pass    # (everything happens in __new__, as in PyTorch)

    # -- what the tensor is ---------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        if not self._data.ndim:
            raise IndexError(f'Dimension specified as {dim} but tensor has no dimensions')
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self):
        return _dtype.from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        return device_of_array(self._data)

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    @property
    def is_cuda(self):
        kind = self._data.__class__
        return kind is not np.ndarray and kind is not MetaArray and (
            kind is not SparseCOO or self._data.values.__class__ is not np.ndarray)

    @property
    def is_meta(self):
        return self._data.__class__ is MetaArray

    @property
    def is_cpu(self):
        kind = self._data.__class__
        return kind is np.ndarray or (kind is SparseCOO and
                                      self._data.values.__class__ is np.ndarray)

    is_sparse = False
    is_quantized = False
    # devices and layouts nbgrad has none of (PyTorch's predicates, for code that asks)
    is_mps = is_xpu = is_xla = is_ipu = is_mkldnn = is_vulkan = is_maia = is_mtia = False
    is_nested = False
    layout = 'strided'

    def is_floating_point(self):
        return _dtype.is_floating(self._data.dtype)

    def is_complex(self):
        return self._data.dtype.kind == 'c'

    def get_device(self):
        return -1 if self.is_cpu or self.is_meta else self._data.device.id

    # -- memory layout --------------------------------------------------------------------------
    def stride(self, dim=None):
        a = self._data
        if a.size == 0:  # NumPy reports zero strides for empty arrays; PyTorch contiguous ones
            strides, step = [], 1
            for size in reversed(a.shape):
                strides.append(step)
                step *= max(size, 1)
            strides = tuple(reversed(strides))
        else:
            itemsize = a.itemsize
            strides = tuple(s // itemsize for s in a.strides)
            if 0 in strides and 1 in a.shape:
                strides = _size_one_strides(a.shape, strides)
        if dim is None:
            return strides
        return strides[_wrap_dim(dim, self._data.ndim)]

    def is_contiguous(self, *, memory_format=contiguous_format):
        if (memory_format is contiguous_format or memory_format is None) and \
                self._data.flags.c_contiguous:
            return True
        return is_contiguous_as(self._data.shape, self.stride(), memory_format)

    def untyped_storage(self):
        from ._storage import UntypedStorage
        return UntypedStorage._of(self)

    def _is_view(self):
        """Whether this tensor is a view of another one (its _base)."""
        return self._base is not None

    def storage(self):
        """The memory as elements of this tensor's dtype (PyTorch deprecates it for
        untyped_storage(), and warns once)."""
        from .storage import TypedStorage
        return TypedStorage._of(self)

    def storage_offset(self):
        from ._storage import storage_offset
        return storage_offset(self)

    def data_ptr(self):
        a = self._data
        if a.__class__ is MetaArray:
            return 0
        if a.__class__ is np.ndarray:
            return a.__array_interface__['data'][0]
        return a.data.ptr

    # -- autograd state -------------------------------------------------------------------------
    @property
    def requires_grad(self):
        if self._base is not None:
            self._refresh_view()
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if value.__class__ is not bool:
            raise RuntimeError('requires_grad must be a bool')
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        if requires_grad.__class__ is not bool:
            from .ops._args import type_name as _type_name
            raise TypeError("requires_grad_(): argument 'requires_grad' (position 1) must be "
                            f'bool, not {_type_name(requires_grad)}')
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use "
                    "a computed variable in a subgraph that doesn't require differentiation use "
                    "var_no_grad = var.detach().")
            return self
        if requires_grad and self._inference and not _modes.inference_depth:
            raise RuntimeError('Setting requires_grad=True on inference tensor outside '
                               'InferenceMode is not allowed.')
        if requires_grad and self._data.dtype.kind not in _dtype.INEXACT_KINDS:
            raise RuntimeError(f'only Tensors of floating point and complex dtype can require '
                               f'gradients (got {self.dtype}). Convert first, e.g. '
                               f'x.float().requires_grad_()')
        self._requires_grad = requires_grad
        return self

    @property
    def grad_fn(self):
        if self._base is not None:
            self._refresh_view()
        return presented(self._grad_fn)

    @property
    def is_leaf(self):
        if self._base is not None:
            self._refresh_view()
        return self._grad_fn is None

    @property
    def output_nr(self):
        return self._output_nr

    @property
    def _version(self):
        if self._inference:
            raise RuntimeError('Inference tensors do not track version counter.')
        return self._vc[0]

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed want "
                "the .grad field to be populated for a non-leaf Tensor, use .retain_grad() on the "
                "non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you "
                "access the leaf Tensor instead.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f'assigned grad expected to be a Tensor or None but got '
                                f'{type(value).__name__}')
            if value._data.shape != self._data.shape:
                raise RuntimeError(f'assigned grad has data of a different size: got shape '
                                   f'{list(value.shape)}, expected {list(self.shape)}')
            wanted = self._grad_dtype
            if wanted is _dtype.SAME_AS_DATA:
                wanted = self.dtype
            if wanted is not None and value.dtype != wanted:
                from ._dispatch import _type_word
                from ._out import _C_TYPES
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype "
                    f"'{_C_TYPES.get(value._data.dtype.name, value._data.dtype.name)}' to a "
                    f"tensor with grad_dtype '{_type_word(wanted.np)}'. The gradient must match "
                    "the tensor's grad_dtype (defaults to the tensor's dtype). You can set the "
                    "tensor's grad_dtype attribute with a specific dtype, or None to allow any "
                    'dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and '
                    'its gradient may break downstream systems that assume they match.')
            if value.device != self.device:
                raise RuntimeError(f'assigned grad has data located on a different device: got '
                                   f'{value.device}, expected {self.device}')
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def grad_dtype(self):
        """The dtype .grad must have (the tensor's own by default); None allows any. Incoming
        gradients are cast to it. Leaf tensors only."""
        if self._grad_fn is not None:
            raise RuntimeError('grad_dtype can only be accessed on leaf tensors.')
        return self.dtype if self._grad_dtype is _dtype.SAME_AS_DATA else self._grad_dtype

    @grad_dtype.setter
    def grad_dtype(self, value):
        if self._grad_fn is not None:
            raise RuntimeError('grad_dtype can only be set on leaf tensors.')
        if value is not None and not isinstance(value, _dtype.dtype):
            raise RuntimeError(f'grad_dtype must be a torch.dtype or None, but got '
                               f'{type(value).__name__}')
        self._grad_dtype = value

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        """Keep .grad for this non-leaf tensor after backward (a no-op on leaves)."""
        if self._grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        import weakref
        fn = self.grad_fn
        if fn._retained is None:
            fn._retained = {}
        fn._retained[self._output_nr] = weakref.ref(self)
        fn._hooked, fn._direct = True, False
        self._retains_grad = True

    def _grad_accumulator(self):
        """This leaf's AccumulateGrad node, shared by every edge into the leaf while some graph
        holds it.

        As in PyTorch, the node holds the leaf and the leaf refers to its node weakly (no
        reference cycle): a graph keeps its leaves alive, and once no graph needs the node a
        new one is made."""
        ref = self._grad_acc
        node = ref() if ref is not None else None
        if node is None:
            node = _accumulate_grad_class()(self)
            self._grad_acc = weakref.ref(node)
        return node

    def _refresh_view(self):
        from ._dispatch import refresh_view
        refresh_view(self)

    def register_hook(self, hook):
        """hook(grad) -> Tensor or None, run when the gradient w.r.t. this tensor is computed."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        fn = self.grad_fn
        if fn is not None:
            return fn._register_tensor_hook(self._output_nr, hook)
        from .autograd.graph import RemovableHandle, HookDict
        if self._hooks is None:
            self._hooks = HookDict()
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = hook
        return handle

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor) runs after the gradient has been accumulated into this leaf's .grad."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError('post accumulate grad hooks cannot be registered on non-leaf '
                               'tensors')
        from .autograd.graph import RemovableHandle, HookDict
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = HookDict()
        handle = RemovableHandle(self._post_accumulate_hooks)
        self._post_accumulate_hooks[handle.id] = hook
        return handle

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into the .grad of every leaf that requires grad."""
        _autograd_backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        """A tensor sharing this one's memory and version counter, outside the graph (an
        inference tensor's detach is one too)."""
        t = Tensor._make(self._data, False, None, self._vc)
        if self._inference:
            t._inference = True
        return t

    def detach_(self):
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        """This tensor's values without autograd (and, as in PyTorch, a separate version counter)."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f'Variable data has to be a tensor, but got {type(value).__name__}')
        if self.requires_grad and value._data.dtype.kind not in _dtype.INEXACT_KINDS:
            raise RuntimeError('data set to a tensor that requires gradients must be floating '
                               'point or complex dtype')
        self._data = value._data

    # -- conversions ----------------------------------------------------------------------------
    def item(self):
        if tracing_depth[0]:
            _warn_trace_constant('number')
        return self._item()

    def _item(self):
        a = self._data
        if a.__class__ is MetaArray:
            raise RuntimeError('Tensor.item() cannot be called on meta tensors')
        if a.size != 1:
            raise RuntimeError(f'a Tensor with {a.size} elements cannot be converted to Scalar')
        return a.reshape(()).item() if a.__class__ is np.ndarray else a.reshape(()).get().item()

    def tolist(self):
        if tracing_depth[0]:
            _warn_trace_constant('list')
        a = self._data
        if a.__class__ is MetaArray:
            raise NotImplementedError(NO_DATA)
        return (a if a.__class__ is np.ndarray else a.get()).tolist()

    def numpy(self, *, force=False):
        if not force:
            if self._requires_grad and _modes.grad_enabled:   # (under no_grad PyTorch allows it)
                raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                                   "tensor.detach().numpy() instead.")
            if not self.is_cpu:
                raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use "
                                f"Tensor.cpu() to copy the tensor to host memory first.")
            if self._data.dtype.kind == 'V':
                # (PyTorch's refusal: NumPy has no bfloat16 of its own; nbgrad's arrays are
                # ml_dtypes', which plain NumPy code would not expect)
                raise TypeError('Got unsupported ScalarType BFloat16')
            return self._data
        a = self._data
        return a if a.__class__ is np.ndarray else a.get()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def __array_wrap__(self, array, context=None, return_scalar=False):
        """A NumPy function's result as a tensor (PyTorch's: booleans as uint8)."""
        if array.dtype == np.bool_:
            array = array.astype(np.uint8)
        from ._creation import from_numpy
        return from_numpy(np.asarray(array))

    def __dlpack__(self, stream=None, **kwargs):
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        a = self._data
        if a.size and 0 in a.strides and 1 in a.shape:   # export the strides stride() reports
            from .ops._util import xp_of
            a = xp_of(a).lib.stride_tricks.as_strided(
                a, strides=tuple(s * a.itemsize for s in self.stride()))
        from ._dlpack_capsule import export
        return export(a, dict(kwargs, **({'stream': stream} if stream is not None else {})))

    def __dlpack_device__(self):
        from ._dlpack_capsule import DLDeviceType
        kind, index = self._data.__dlpack_device__()
        return DLDeviceType(kind), index

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError('len() of a 0-d tensor')
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError('iteration over a 0-d tensor')
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError('Boolean value of Tensor with '
                               f'{"no values" if self._data.size == 0 else "more than one value"}'
                               ' is ambiguous')
        if tracing_depth[0]:
            _warn_trace_constant('boolean')
        return bool(self._item())

    def __float__(self):
        self._check_single('Python scalars')
        self._warn_if_requires_grad()
        if tracing_depth[0]:
            _warn_trace_constant('float')
        return float(self._real_item('double'))

    def __int__(self):
        self._check_single('Python scalars')
        if tracing_depth[0]:
            _warn_trace_constant('integer')
        return int(self._real_item('int64_t'))

    def _warn_if_requires_grad(self):
        # (PyTorch warns for float() and complex() with grad mode on; not for int() or item())
        from . import _dispatch
        if self.requires_grad and _dispatch._modes.grad_enabled:
            warnings.warn('Converting a tensor with requires_grad=True to a scalar may lead to '
                          'unexpected behavior.\nConsider using tensor.detach() first.',
                          UserWarning, stacklevel=3)

    def _real_item(self, target):
        value = self._item()
        if isinstance(value, complex):
            if value.imag == 0:     # (PyTorch converts a complex number with no imaginary part)
                return value.real
            raise RuntimeError(f'value cannot be converted to type {target} without overflow '
                               f'(it is complex; take .real or abs() first)')
        return value

    def __complex__(self):
        self._check_single('Python scalars')
        self._warn_if_requires_grad()
        return complex(self.item())

    def __index__(self):
        if self._data.size != 1 or self._data.dtype.kind not in 'iub':
            raise TypeError('only integer tensors of a single element can be converted to an index')
        return int(self.item())

    def _check_single(self, what):
        if self._data.size != 1:
            raise ValueError(f'only one element tensors can be converted to {what}')

    def __hash__(self):
        return id(self)      # (PyTorch's: identity, as for any object, and hash(t) == id(t))

    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import format_tensor
        a = self._data
        prefix = _repr_prefix(type(self))
        fn = self._grad_fn if self._base is None else self.grad_fn
        # (a CuPy array as it is: format_tensor copies it to the host, except for the summary
        # profile, whose statistics are computed on the device)
        text = format_tensor(
            a, dtype_name=a.dtype.name,
            default_dtype_name=_dtype.get_default_dtype().name, device_str=str(self.device),
            requires_grad=self._requires_grad,
            grad_fn_name=fn.type_name() if fn is not None else None,
            is_parameter=self._is_param and prefix == 'tensor(',
            tensor_contents=tensor_contents, prefix=prefix)
        # (a user's subclass made a parameter: PyTorch's Parameter(MyTensor(...)))
        return text if prefix == 'tensor(' or not self._is_param else f'Parameter({text})'

    def __format__(self, spec):
        # PyTorch: a plain 0-d tensor formats as its Python number, whatever the spec (so
        # f'loss={loss}' prints loss=0.5); anything else as object.__format__ (its str, and a
        # TypeError for a non-empty spec)
        if self._data.ndim == 0 and type(self) is Tensor:
            return self.item().__format__(spec)
        if spec:
            raise TypeError(f'unsupported format string passed to {type(self).__name__}'
                            f'.__format__')
        return str(self)

    def __reduce_ex__(self, protocol):
        # Pickling (multiprocessing, copy.deepcopy) keeps values, dtype, device, requires_grad
        # and the attributes a user set on the tensor (t.foo = ...), as PyTorch's.
        # A user's Tensor subclass comes back as itself (the class pickled by reference).
        cls = type(self)
        user_class = cls if cls.__module__.partition('.')[0] != __name__.partition('.')[0] \
            else None
        return (_rebuild, (self.numpy(force=True), str(self.device), self._requires_grad,
                           self._is_param, _user_attributes(self), user_class))

    def __copy__(self):
        """copy.copy(t): a new leaf over the same memory (PyTorch's shallow copy), with t's
        requires_grad and attributes."""
        t = _new(type(self)) if type(self) is Tensor else type(self).__new__(type(self))
        t._data, t._requires_grad, t._grad_fn, t._vc, t._base = \
            self._data, self._requires_grad and not self.is_sparse, None, [0], None  # (PyTorch's
        # sparse copy drops requires_grad)
        t.__dict__.update(_user_attributes(self))
        return t

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError('Only Tensors created explicitly by the user (graph leaves) support '
                               'the deepcopy protocol at the moment. If you were attempting to '
                               'deepcopy a module, this may be because of a torch.nn.utils.'
                               'weight_norm usage, see https://github.com/pytorch/pytorch/pull/103001')
        if id(self) in memo:
            return memo[id(self)]
        t = type(self).__new__(type(self)) if type(self) is not Tensor else _new(Tensor)
        t._data = _deepcopied_data(self._data, memo)
        t._requires_grad = self._requires_grad
        t._grad_fn = None
        t._vc = [0]
        t._base = None
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        extra = {k: v for k, v in getattr(self, '__dict__', {}).items()
                 if not k.startswith('_')}
        if extra:
            import copy
            t.__dict__.update(copy.deepcopy(extra, memo))
        memo[id(self)] = t
        return t


def _deepcopied_data(a, memo):
    """a copied as PyTorch's deepcopy copies a tensor: its storage once per deepcopy call (two
    views of one storage still share one afterwards) and the same strides and offset."""
    from ._storage import element_offset, root_array
    if a.__class__ is not np.ndarray or a.dtype.kind not in 'biufcV':
        return a.copy()
    root = root_array(a)
    if root.dtype != a.dtype or not root.flags.c_contiguous:
        return a.copy()
    key = ('nbgrad storage', id(root))      # (memo's own keys are ints: no clash)
    copied = memo.get(key)
    if copied is None:
        copied = memo[key] = root.copy()
        memo.setdefault(id(memo), []).append(root)  # (deepcopy's keep-alive list)
    flat = copied.reshape(-1)
    return np.lib.stride_tricks.as_strided(flat[element_offset(a, root):], a.shape, a.strides)


def _accumulate_grad_class():
    """autograd.graph.AccumulateGrad, bound on first use (nbgrad.autograd imports this module;
    an import statement on every new leaf node would cost more than the node)."""
    global _accumulate_grad_class
    from .autograd.graph import AccumulateGrad
    _accumulate_grad_class = lambda: AccumulateGrad  # noqa: E731
    return AccumulateGrad


def _autograd_backward(*args, **kwargs):
    """autograd.backward, bound on first use (nbgrad.autograd imports this module)."""
    global _autograd_backward
    from .autograd.api import backward
    _autograd_backward = backward
    return backward(*args, **kwargs)


def _rebuild(array, device_str, requires_grad, is_param, attributes=None, user_class=None):
    from ._creation import tensor as _tensor_fn
    t = _tensor_fn(array, device=device_str)
    if is_param:
        from .nn.parameter import Parameter  # pragma: no cover - arrives with nbgrad.nn
        t = Parameter.__new__(user_class or Parameter, t, requires_grad)
    else:
        if user_class is not None:
            from ._tensor_subclass import give_class
            t = give_class(t, user_class)
        if requires_grad:
            t.requires_grad_()
    if attributes:
        t.__dict__.update(attributes)
    return t


def _repr_prefix(cls):
    """'tensor(', or a user's Tensor subclass's name, as PyTorch's repr opens (nbgrad's own
    Parameter and Buffer print as tensors)."""
    if cls is Tensor or cls.__module__.partition('.')[0] == __name__.partition('.')[0]:
        return 'tensor('
    return cls.__name__ + '('


def _user_attributes(t):
    """The attributes set on a tensor from outside (nbgrad's own start with '_')."""
    return {k: v for k, v in getattr(t, '__dict__', {}).items() if not k.startswith('_')}


def _wrap_dim(dim, ndim):
    """PyTorch's dim wrapping: negative dims count from the end; 0-dim tensors accept 0 and -1."""
    if dim.__class__ is not int:
        try:
            dim = dim.__index__()
        except AttributeError:
            raise TypeError(f'dim must be an int, got {type(dim).__name__}') from None
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f'Dimension out of range (expected to be in range of [{-n}, {n - 1}], '
                         f'but got {dim})')
    return dim + n if dim < 0 else dim


def is_tensor(obj, /):
    return isinstance(obj, Tensor)


__all__ = ['Tensor', 'Size', 'is_tensor', 'CPU', 'to_device']
