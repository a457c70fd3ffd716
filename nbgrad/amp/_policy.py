"""Which ops autocast casts, and how: PyTorch's cast policies per device type, applied by a thin
wrapper around each public entry point of those ops.

PyTorch lists its autocast ops by ATen name (aten/src/ATen/autocast_mode.h and .cpp: the CUDA
lists are AT_FORALL_LOWER_PRECISION_FP, AT_FORALL_FP32, AT_FORALL_FP32_SET_OPT_DTYPE and
AT_FORALL_PROMOTE; the CPU lists are AutocastCPU's registrations). The tables below give the
same ops by the names a Python caller uses: `mm` is nbgrad.mm and Tensor.mm, `F.linear` is
nn.functional.linear, `linalg.` and `fft.` name those namespaces, and `_rnn_kernels.run_layers`
is the recurrence of nn.LSTM/GRU/RNN. Composite ops that PyTorch does not list but that reach a
listed op inside (einsum, multi_dot, cross_entropy) are listed too where nbgrad's versions
compute on arrays; nbgrad's composites that call listed functions (attention, the Transformer
layers) reach them through the same wrappers (see _rebind_internal_names).

The policies, as PyTorch's:
  lower     floating inputs other than float64 are cast to the region's dtype (float16);
  fp32      floating inputs other than float64 are cast to float32 (also the set_opt_dtype ops:
            sum, softmax, ... , unless the caller passes dtype=);
  promote   floating inputs other than float64 are cast to the widest of their dtypes;
  banned    RuntimeError (binary_cross_entropy on CUDA, as PyTorch);
  fp32 padding   fp32 for F.pad's reflect and replicate modes (PyTorch's CPU list names
            reflection_pad and replication_pad), none for the others;
  lower but GRU  lower for the recurrences of nn.LSTM and nn.RNN on the CPU, none for nn.GRU's;
  as is     no casts, and autocast off inside: an op PyTorch does not list and computes in one
            kernel, which nbgrad builds from listed ops (found by comparing 361 torch.* and F.*
            functions under CPU autocast with PyTorch's).
An op autocast runs with autocast off inside, so its own inner ops are not cast again. In-place
ops and calls with out= are not autocast (PyTorch registers only the out-of-place forms)."""
import functools
import sys
import warnings

from .. import _dtype
from . import _state

_CONVOLUTIONS = ('conv1d conv2d conv3d conv_tbc conv_transpose1d conv_transpose2d '
                 'conv_transpose3d F.conv1d F.conv2d F.conv3d F.conv_tbc F.conv_transpose1d '
                 'F.conv_transpose2d F.conv_transpose3d prelu F.prelu')
_PRODUCTS = 'mm bmm addmm baddbmm addbmm matmul linalg.vecdot F.linear'
_FFT = ' '.join('fft.' + name for name in (
    'fft ifft fft2 ifft2 fftn ifftn rfft irfft rfft2 irfft2 rfftn irfftn hfft ihfft').split())
_LOSSES = ('F.mse_loss F.cosine_embedding_loss F.nll_loss F.hinge_embedding_loss '
           'F.poisson_nll_loss F.smooth_l1_loss F.cross_entropy F.l1_loss F.huber_loss '
           'F.margin_ranking_loss F.soft_margin_loss F.triplet_margin_loss F.multi_margin_loss '
           'F.kl_div F.multilabel_margin_loss F.binary_cross_entropy_with_logits')

CPU = {
    'lower': ' '.join((_CONVOLUTIONS, _PRODUCTS, 'F.scaled_dot_product_attention',
                       # composites whose products PyTorch's CPU kernels compute with mm/bmm
                       # (chain_matmul through multi_dot: one matrix stays as it is)
                       'einsum linalg.multi_dot')),
    'fp32': ' '.join((_LOSSES, _FFT, 'F.ctc_loss F.binary_cross_entropy F.avg_pool3d '
                      'F.grid_sample polar prod quantile nanquantile stft cdist trace '
                      'view_as_complex cholesky cholesky_inverse cholesky_solve inverse '
                      'pinverse F.max_pool3d F.max_unpool2d F.max_unpool3d '
                      'F.adaptive_avg_pool3d F.adaptive_max_pool3d F.fractional_max_pool2d '
                      'F.fractional_max_pool3d qr svd triangular_solve geqrf '
                      'linalg.cond linalg.matrix_rank linalg.solve linalg.cholesky '
                      'linalg.cholesky_ex linalg.svdvals linalg.svd linalg.eigvals linalg.eig '
                      'linalg.eigvalsh linalg.eigh linalg.inv linalg.inv_ex linalg.qr '
                      'linalg.lstsq linalg.householder_product linalg.tensorinv '
                      'linalg.tensorsolve')),
    'promote': 'cat concat concatenate stack index_copy',
    'fp32 padding': 'F.pad',
    # nn.LSTM is mkldnn_rnn_layer (listed) and nn.RNN's steps are linear layers (listed) on
    # PyTorch's CPU, so both run in the region's dtype; nn.GRU's CPU kernel stays in float32
    'lower but GRU': '_rnn_kernels.run_layers',
    # unlisted, and one kernel in PyTorch (_trilinear), but a composite of listed ops in nbgrad
    'as is': 'F.bilinear',
}

CUDA = {
    'lower': ' '.join((_CONVOLUTIONS, _PRODUCTS, 'addmv addr mv einsum chain_matmul '
                       'linalg.multi_dot F.scaled_dot_product_attention lstm_cell gru_cell '
                       'rnn_tanh_cell rnn_relu_cell '
                       # nn.LSTM/GRU/RNN: PyTorch casts input, states and weights for cuDNN
                       '_rnn_kernels.run_layers')),
    'fp32': ' '.join((_LOSSES, 'acos asin cosh erfinv exp expm1 log log10 log2 log1p '
                      'reciprocal rsqrt sinh tan pow F.softplus F.layer_norm F.group_norm '
                      'cosine_similarity F.cosine_similarity F.pdist dist cdist renorm logsumexp '
                      'F.interpolate F.upsample F.upsample_nearest F.upsample_bilinear norm '
                      # the set_opt_dtype ops (see the module docstring)
                      'prod sum cumsum cumprod softmax log_softmax F.softmax F.log_softmax '
                      'linalg.vector_norm linalg.matrix_norm')),
    'promote': ('addcdiv addcmul atan2 F.bilinear cross dot vdot F.grid_sample index_put '
                'tensordot scatter_add'),
    'banned': 'F.binary_cross_entropy',
}

# Tensor methods that are operators of a listed op
_OPERATORS = {'matmul': ('__matmul__', '__rmatmul__'), 'pow': ('__pow__', '__rpow__'),
              'reciprocal': ('__rtruediv__',)}

_BANNED_MESSAGE = (
    'torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n'
    'Many models use a sigmoid layer right before the binary cross entropy layer.\n'
    'In this case, combine the two layers using '
    'torch.nn.functional.binary_cross_entropy_with_logits\n'
    'or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n'
    'safe to autocast.')


def policies():
    """{entry name: {device type: policy}} from the tables."""
    table = {}
    for device, lists in (('cpu', CPU), ('cuda', CUDA)):
        for policy, names in lists.items():
            for name in names.split():
                table.setdefault(name, {})[device] = policy
    return table


def _targets(nbgrad, name):
    """[(owner, attribute)] that the entry name stands for: the function in its namespace and,
    for a torch.* name, the Tensor method and operators of the same op."""
    from .._tensor import Tensor
    namespaces = {'F': nbgrad.nn.functional, 'linalg': nbgrad.linalg, 'fft': nbgrad.fft,
                  '_rnn_kernels': nbgrad.nn.modules._rnn_kernels}
    prefix, _, attr = name.rpartition('.')
    if prefix:
        return [(namespaces[prefix], attr)]
    found = [(nbgrad, attr)] if hasattr(nbgrad, attr) else []
    for method in (attr,) + _OPERATORS.get(attr, ()):
        if method in vars(Tensor) or hasattr(Tensor, method):
            found.append((Tensor, method))
    return found


def install(nbgrad):
    """Wraps every listed entry point of the nbgrad package (run once, at the end of its
    import), one wrapper per function however many names it has. Returns the names that matched
    nothing (PyTorch ops nbgrad lacks: the tests check that they are PyTorch's)."""
    wrappers = {}   # id(function) -> its wrapper
    unmatched = []
    for name, by_device in policies().items():
        targets = [(owner, attr) for owner, attr in _targets(nbgrad, name)
                   if hasattr(owner, attr)]
        if not targets:
            unmatched.append(name)
        for owner, attr in targets:
            fn = getattr(owner, attr)
            wrapper = wrappers.get(id(fn))
            if wrapper is None:
                wrapper = wrappers[id(fn)] = _autocast_entry(fn, by_device)
            setattr(owner, attr, wrapper)
    _rebind_internal_names(list(wrappers.values()))
    _see_warnings_through_entries()
    return unmatched


def _rebind_internal_names(wrappers):
    """Point nbgrad's own imports of the wrapped functions at the wrappers. nbgrad's composites
    (multi_head_attention_forward, the Transformer layers, losses built from other ops) call
    them by the names they imported; PyTorch's dispatcher autocasts the ops inside its
    composites, and now nbgrad does too. Inside an op that is itself autocast, the inner calls
    find autocast off and pass straight through."""
    by_original = {id(w._autocast_target): w for w in wrappers}
    for module_name, module in list(sys.modules.items()):
        if module is None or not (module_name == 'nbgrad' or module_name.startswith('nbgrad.')):
            continue
        namespace = vars(module)
        for attr, value in list(namespace.items()):
            wrapper = by_original.get(id(value))
            if wrapper is not None and wrapper._autocast_target is value:
                namespace[attr] = wrapper


class _WarningsSeeingThroughEntries:
    """The warnings module as nbgrad's own modules see it: warn() counts its stacklevel without
    the autocast entry frames (and the other wrappers in SEE_THROUGH) in between, so a warning still names the caller's line (the entry
    points wrap the functions that warn, and without this every such warning would point into
    this file). Everything else is the warnings module's."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        return getattr(self._module, name)

    def warn(self, message, category=None, stacklevel=1, source=None):
        frame, level, extra = sys._getframe(1), stacklevel, 0
        while frame is not None and level > 1:
            frame = frame.f_back
            if frame is not None and frame.f_code in SEE_THROUGH:
                extra += 1
            else:
                level -= 1
        self._module.warn(message, category, stacklevel + extra + 1, source)


def _see_warnings_through_entries():
    """Give nbgrad's modules that import warnings the view above."""
    view = _WarningsSeeingThroughEntries(warnings)
    for module_name, module in list(sys.modules.items()):
        if module is not None and module_name.startswith('nbgrad') and \
                getattr(module, 'warnings', None) is warnings:
            module.warnings = view


def _autocast_entry(fn, by_device):
    active = _state.active      # a closure cell: the one lookup outside autocast regions

    @functools.wraps(fn)
    def entry(*args, **kwargs):
        if not active[0] or kwargs.get('out') is not None:
            return fn(*args, **kwargs)
        device = _device_type(args, kwargs.values())
        policy = by_device.get(device) if device and _state.enabled[device] else None
        if policy == 'fp32 padding':
            mode = kwargs.get('mode', args[2] if len(args) > 2 else 'constant')
            policy = 'fp32' if mode in ('reflect', 'replicate') else None
        elif policy == 'lower but GRU':
            policy = None if (kwargs.get('mode', args[0] if args else None)) == 'GRU' \
                else 'lower'
        if policy is None:
            return fn(*args, **kwargs)
        if policy == 'banned':
            raise RuntimeError(_BANNED_MESSAGE)
        if policy == 'as is' or (policy == 'fp32' and kwargs.get('dtype') is not None):
            target = None     # (a set_opt_dtype op given its dtype runs as asked)
        elif policy == 'promote':
            target = _widest(device, args, kwargs.values())
        else:
            target = _state.dtypes[device] if policy == 'lower' else _dtype.float32
        if target is not None:
            args = tuple(_cast(a, device, target) for a in args)
            kwargs = {k: _cast(v, device, target) for k, v in kwargs.items()}
        with _state.suspended((device,)):
            return fn(*args, **kwargs)
    entry._autocast_policies = by_device
    entry._autocast_target = fn     # (inspect.signature follows __wrapped__ to fn's signature)
    return entry


# the code of every entry point (one per function, all sharing it): the frames warn() skips
_ENTRY_CODE = _autocast_entry(lambda: None, {}).__code__
# the wrapper frames a warning's stacklevel does not count: autocast's entries, and the
# __torch_function__ dispatch wrappers (_function_dispatch.py adds its own)
SEE_THROUGH = {_ENTRY_CODE}


def _tensors(values):
    """The tensors among values, also inside (nested) lists and tuples."""
    from .._tensor import Tensor
    for v in values:
        if isinstance(v, Tensor):
            yield v
        elif type(v) in (list, tuple):
            yield from _tensors(v)


def _device_type(args, kwargs):
    for t in _tensors(args):
        return t.device.type
    for t in _tensors(kwargs):
        return t.device.type
    return None


def _eligible(t, device):
    return t.is_floating_point() and t.dtype is not _dtype.float64 and t.device.type == device


def _widest(device, args, kwargs):
    widest = _state.dtypes[device]
    for values in (args, kwargs):
        for t in _tensors(values):
            if _eligible(t, device) and t.dtype.itemsize > widest.itemsize:
                widest = t.dtype
    return widest


def _to(t, dtype):
    return t.to(dtype)


def _cast(value, device, dtype):
    from .._tensor import Tensor
    if isinstance(value, Tensor):
        if not _eligible(value, device) or value.dtype is dtype:
            return value
        if value.dtype is _dtype.float32 and dtype is _state.dtypes[device] and \
                value.requires_grad and value.is_leaf and value._base is None:
            return _state.cached_cast(value, dtype, _to)
        return value.to(dtype)
    if type(value) in (list, tuple):
        return type(value)(_cast(v, device, dtype) for v in value)
    return value
