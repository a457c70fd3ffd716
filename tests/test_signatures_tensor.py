"""The public functions of the torch namespace (and of torch.linalg, special, fft, random,
autograd, autograd.functional, autograd.graph, autograd.forward_ad) and the public methods and
properties of torch.Tensor have PyTorch's signatures in nbgrad: parameter names, order, kinds
(positional / keyword-only / *args) and defaults.

PyTorch's builtins are mostly overloaded; their overloads are read from PyTorch's type stubs or
ATen schemas (tests/_signatures.py), and nbgrad's one Python signature must accept each of them
by the same names (overload_differences). Where the stubs disagree with what PyTorch's argument
parser really accepts, STUB_CORRECTIONS says so, and test_stub_corrections_match_pytorch checks
the correction by calling PyTorch. A torch `out=` that nbgrad lacks is not a difference here
(most nbgrad functions have none; the script's report lists them).

Run as a script (`python tests/test_signatures_tensor.py`) for a report of every difference and
every missing name, allowed or not.
"""
import importlib
import inspect
import re
import types
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same, both

torch = pytest.importorskip('torch')

from _signatures import (nbgrad_signature, overload_differences,  # noqa: E402
                         torch_overloads)

_KW = inspect.Parameter.KEYWORD_ONLY

# (torch namespace, nbgrad namespace, whether classes are compared too (by __init__))
NAMESPACES = [
    ('torch', 'nbgrad', False),
    ('torch.linalg', 'nbgrad.linalg', False),
    ('torch.special', 'nbgrad.special', False),
    ('torch.fft', 'nbgrad.fft', False),
    ('torch.random', 'nbgrad.random', False),
    ('torch.autograd', 'nbgrad.autograd', True),
    ('torch.autograd.functional', 'nbgrad.autograd.functional', True),
    ('torch.autograd.graph', 'nbgrad.autograd.graph', True),
    ('torch.autograd.forward_ad', 'nbgrad.autograd.forward_ad', True),
]


# ---------------------------------------------------------------------------------------------
# Where PyTorch's stubs are not what its argument parser accepts (each checked against torch in
# test_stub_corrections_match_pytorch)
# ---------------------------------------------------------------------------------------------

def _keyword_only_after(first):
    """Every parameter after the first `first` ones keyword-only."""
    def fix(sig):
        params = list(sig.parameters.values())
        return sig.replace(parameters=params[:first] + [
            p.replace(kind=_KW) if p.kind != inspect.Parameter.VAR_POSITIONAL else p
            for p in params[first:]])
    return fix


def _keyword_only(*names):
    def fix(sig):
        params = [p.replace(kind=_KW) if p.name in names else p for p in sig.parameters.values()]
        return sig.replace(parameters=sorted(params, key=lambda p: p.kind))
    return fix


def _memory_format_only(sig):
    return inspect.Signature([inspect.Parameter('memory_format', _KW,
                                                default=torch.preserve_format)])


def _rename(old, new):
    return lambda sig: sig.replace(parameters=[
        p.replace(name=new) if p.name == old else p for p in sig.parameters.values()])


def _without_overloads(predicate):
    return lambda overloads: [o for o in overloads if not predicate(o)]


# qualified name -> fix of each overload (or, for 'overloads', of the list), and the calls that
# show it: (code run with torch as `torch` and x = torch.ones(3), 'ok' | 'TypeError')
STUB_CORRECTIONS = {
    'torch.tensor': (_keyword_only_after(1), [
        ('torch.tensor([1.], dtype=torch.float64)', 'ok'),
        ('torch.tensor([1.], torch.float64)', 'TypeError')]),
    'torch.Tensor.new_tensor': (lambda sig: _keyword_only_after(1)(sig.replace(parameters=[
        p for p in sig.parameters.values() if p.name != 'pin_memory'])), [
        ('x.new_tensor([1.], torch.float64)', 'TypeError'),
        ('x.new_tensor([1.], pin_memory=False)', 'TypeError'),
        ('x.new_tensor([1.], dtype=None, device=None, requires_grad=False)', 'ok')]),
    'torch.Tensor.new_ones': (_keyword_only_after(1), [
        ('x.new_ones((2,), torch.float64)', 'TypeError'),
        ('x.new_ones(2, 3, dtype=torch.float64, pin_memory=False)', 'ok')]),
    'torch.Tensor.new_zeros': (_keyword_only_after(1), [
        ('x.new_zeros((2,), torch.float64)', 'TypeError')]),
    'torch.Tensor.new_empty': (_keyword_only_after(1), [
        ('x.new_empty((2,), torch.float64)', 'TypeError')]),
    'torch.Tensor.requires_grad_': (_rename('mode', 'requires_grad'), [
        ('x.clone().requires_grad_(requires_grad=True)', 'ok'),
        ('x.clone().requires_grad_(mode=True)', 'TypeError')]),
    'torch.Tensor.apply_': (lambda sig: sig.replace(parameters=[
        p.replace(kind=inspect.Parameter.POSITIONAL_ONLY) for p in sig.parameters.values()]), [
        ('x.clone().apply_(callable=abs)', 'TypeError')]),
    'torch.Tensor.contiguous': (_keyword_only('memory_format'), [
        ('x.contiguous(torch.contiguous_format)', 'TypeError'),
        ('x.contiguous(memory_format=torch.contiguous_format)', 'ok')]),
    'torch.Tensor.is_contiguous': (_keyword_only('memory_format'), [
        ('x.is_contiguous(torch.contiguous_format)', 'TypeError')]),
    'torch.Tensor.cpu': (_keyword_only('memory_format'), [
        ('x.cpu(torch.preserve_format)', 'TypeError'),
        ('x.cpu(memory_format=torch.preserve_format)', 'ok')]),
    'torch.Tensor.cuda': (_keyword_only('memory_format'), [
        ('x.cuda(None, False, torch.preserve_format)', 'TypeError')]),
    'torch.rsub': (_keyword_only('alpha'), [('torch.rsub(x, x, 2)', 'TypeError'),
                                            ('torch.rsub(x, x, alpha=2)', 'ok')]),
    'torch.subtract': (_keyword_only('alpha'), [('torch.subtract(x, x, 2)', 'TypeError')]),
    'torch.Tensor.subtract': (_keyword_only('alpha'), [('x.subtract(x, 2)', 'TypeError')]),
    'torch.Tensor.subtract_': (_keyword_only('alpha'), [('x.clone().subtract_(x, 2)',
                                                         'TypeError')]),
    # overloads the parser does not have: linspace / logspace with a default `steps`
    'torch.linspace': ('overloads', _without_overloads(
        lambda o: o.parameters['steps'].default is not inspect.Parameter.empty), [
        ('torch.linspace(0, 1)', 'TypeError')]),
    'torch.logspace': ('overloads', _without_overloads(
        lambda o: o.parameters['steps'].default is not inspect.Parameter.empty), [
        ('torch.logspace(0, 1)', 'TypeError')]),
}
# x.float(memory_format=...) and the like: the stubs show no parameter at all
for _name in ('float', 'double', 'half', 'int', 'long', 'short', 'char', 'byte', 'bool',
              'bfloat16', 'cfloat', 'cdouble'):
    STUB_CORRECTIONS[f'torch.Tensor.{_name}'] = ('replace', _memory_format_only, [
        (f'x.{_name}(memory_format=torch.preserve_format)', 'ok'),
        (f'x.{_name}(torch.preserve_format)', 'TypeError')])


def _corrected(qualname, overloads):
    if qualname not in STUB_CORRECTIONS:
        return overloads
    entry = STUB_CORRECTIONS[qualname]
    if entry[0] == 'overloads':
        return entry[1](overloads)
    if entry[0] == 'replace':
        return [entry[1](None)]
    return [entry[0](o) for o in overloads]


# ---------------------------------------------------------------------------------------------
# Allowed: missing names and signature differences, with the reasons
# ---------------------------------------------------------------------------------------------

# Whole families of PyTorch names nbgrad leaves out: (reason, regex on the qualified name)
MISSING_FAMILIES = [
    ('torch-level in-place forms (torch.exp_(x), torch.zero_(x)...): undocumented ATen '
     'functions; the Tensor methods x.exp_() exist',
     r'torch\.[a-z0-9_]+[a-z0-9]_$'),
    ('view_copy operators (torch.view_copy, t_copy, ...): for functionalization / export',
     r'torch\.\w+_copy$'),
    ('backend kernels (cuDNN, MIOpen, oneDNN, FBGEMM) and quantized tensors',
     r'torch(\.Tensor)?\.(cudnn_|miopen_|mkldnn_|fbgemm_|quantize|quantized_|q_|fake_quantize|'
     r'fused_moving_avg|choose_qparams|int_repr|dequantize|qscheme|to_mkldnn|is_mkldnn)\w*'),
    ('sparse layouts (COO, CSR, CSC, BSR, BSC) and their operations: nbgrad tensors are strided',
     r'torch(\.Tensor)?\.(sparse_|to_sparse|to_dense|\w*smm$|spmm|hspmm|sspaddmm|saddmm|'
     r'coalesce|is_coalesced|crow_indices|col_indices|ccol_indices|row_indices|indices$|values$|'
     r'dense_dim|sparse_dim|sparse_mask|is_sparse_csr|resize_as_sparse_|to_padded_tensor|'
     r'is_nested)\w*'),
    ('autocast (mixed precision) state', r'torch\.(\w*autocast\w*)$'),
    ('TorchScript / torch.compile / symbolic shapes / control flow',
     r'torch\.(sym_\w+|parse_ir|parse_schema|parse_type_comment|import_ir_module\w*|fork|wait|'
     r'merge_type_from_type_comment|unify_type_list|compile|cond|while_loop)$'),
    ('aten forms of nn ops (use torch.nn.functional): batch norm internals, embeddings, RNN '
     'cells, losses with integer reductions, grid samplers',
     r'torch\.(batch_norm\w*|native_\w+|instance_norm|embedding\w*|grid_sampler\w*|'
     r'affine_grid_generator|convolution|constant_pad_nd|ctc_loss|kl_div|\w+_loss|lstm\w*|'
     r'gru\w*|rnn_\w+|binary_cross_entropy_with_logits|feature_dropout|norm_except_dim|'
     r'frobenius_norm|nuclear_norm)$'),
    ('other devices (XPU, IPU, MTIA, MAIA, MPS, XLA, Vulkan) and distributed tensors',
     r'torch(\.Tensor)?\.(xpu|ipu|mtia|is_xpu|is_ipu|is_mtia|is_maia|is_mps|is_xla|is_vulkan|'
     r'is_vulkan_available|is_distributed|record_stream)$'),
    ('named tensors (Tensor.name) and legacy Variable API (volatile, reinforce)',
     r'torch\.Tensor\.(name|volatile|reinforce)$'),
    ('removed from PyTorch long ago (the names raise in PyTorch itself)',
     r'torch\.Tensor\.(eig|symeig|lstsq|solve)$'),
    ('unsafe_* variants (no view tracking)', r'torch(\.Tensor)?\.unsafe_\w+$'),
    ('torch.autograd.graph\'s allow_mutation_on_saved_tensors, activation-memory budgets and '
     'CUDA-stream switches, and torch.autograd.forward_ad (forward-mode AD): not implemented '
     'in nbgrad',
     r'torch\.autograd\.(graph\.(allow_mutation_on_saved_tensors|'
     r'region_activation_memory_budget|set_override_stale_capture_stream|'
     r'set_warn_on_accumulate_grad_stream_mismatch)|forward_ad\.\w+)$'),
]

# Single names missing from nbgrad, each with the reason (drop a name when it is implemented).
MISSING_ALLOWED = {
    # internals / process state
    'torch.init_num_threads': 'ATen thread-pool setup',
    'torch.get_device_module': 'accelerator module lookup (only torch.cuda in nbgrad)',
    'torch.autograd.enforce_grad_layout_policy': 'grad layout policy of the C++ engine',
    'torch.set_anomaly_enabled': 'use autograd.set_detect_anomaly',
    'torch.Tensor.storage_type': 'TypedStorage (deprecated)',
    'torch.from_file': 'memory-mapped file storage',
    'torch.hash_tensor': 'new in 2.13 (hash reduction)',
    'torch.Tensor.hash_tensor': 'new in 2.13 (hash reduction)',
    'torch.Tensor.module_load': '__torch_function__ hook of Module.load_state_dict',
    'torch.Tensor.resize': 'deprecated out-of-place resize', 'torch.Tensor.resize_as': 'same',
    # math / linalg not implemented yet (sizes: S < 30 lines, M < 100, L more)
    'torch.Tensor.index': 'not a documented method of torch.Tensor (aten index)',
    'torch.slice_inverse': 'export helper',
    'torch.Tensor.slice_inverse': 'export helper',
    'torch.lobpcg': 'sparse eigensolver (L)', 'torch.empty_quantized': 'quantized tensors',
    'torch.Tensor.chalf': 'complex32 (nbgrad has no complex32 dtype)',
}

# Names present in both whose signatures may differ, each with the reason.
DIFFERENCE_ALLOWED = {
    'torch.sparse_coo_tensor': "values defaults to None: PyTorch's parser also takes "
                               'sparse_coo_tensor(size), an empty tensor, which its stub omits',
    'torch.is_autocast_enabled': 'its two overloads, () and (device_type), as one signature',
    'torch.addmm': 'out_dtype overload (low-precision accumulation) not implemented',
    'torch.baddbmm': 'out_dtype overload not implemented',
    'torch.bmm': 'out_dtype overload not implemented',
    'torch.mm': 'out_dtype overload not implemented',
    'torch.arange': 'arange(end) is arange(start) positionally; arange(end=5) unsupported',
    'torch.randint': 'randint(high, size): same positionally; high=/size= by keyword unsupported',
    'torch.randint_like': 'randint_like(input, high): same positionally, not high= by keyword',
    'torch.range': 'start and end have defaults in nbgrad (range(5) is allowed, deprecated)',
    'torch.repeat_interleave': 'torch.repeat_interleave(repeats) (one tensor) not supported',
    'torch.result_type': 'the scalar overloads name their parameters scalar/scalar1/scalar2',
    'torch.hsplit': 'nbgrad names the parameter indices_or_sections (the docs\' name); '
                    'PyTorch names it per overload (sections / indices)',
    'torch.vsplit': 'as hsplit', 'torch.dsplit': 'as hsplit', 'torch.tensor_split': 'as hsplit',
    'torch.Tensor.tensor_split': 'as hsplit', 'torch.Tensor.hsplit': 'as hsplit',
    'torch.Tensor.vsplit': 'as hsplit', 'torch.Tensor.dsplit': 'as hsplit',
    'torch.isin': 'scalar overloads name their parameters element / test_element',
    'torch.max': 'max(input, other) taken positionally only (nbgrad\'s dim slot)',
    'torch.min': 'as max', 'torch.Tensor.max': 'as max; the method also takes out=',
    'torch.Tensor.min': 'as max; the method also takes out=',
    'torch.roll': 'dims=None where PyTorch has () (same meaning)',
    'torch.Tensor.roll': 'dims=None where PyTorch has () (same meaning)',
    'torch.scatter': 'the value overload: value by keyword, or as src positionally',
    'torch.Tensor.scatter': 'as torch.scatter', 'torch.Tensor.scatter_': 'as torch.scatter',
    'torch.std': 'std(input, unbiased) taken in the dim slot (a bool dim means unbiased)',
    'torch.var': 'as std', 'torch.std_mean': 'as std', 'torch.var_mean': 'as std',
    'torch.Tensor.std': 'as std', 'torch.Tensor.var': 'as std',
    'torch.einsum': 'PyTorch\'s is einsum(*args) (also the sublist form, which nbgrad lacks)',
    'torch.unique_consecutive': 'PyTorch\'s is a (*args, **kwargs) dispatcher',
    'torch.save': 'pickle_module=None stands for the pickle module',
    'torch.asarray': 'requires_grad=False where the stub says None (PyTorch documents False)',
    'torch.set_num_threads': 'PyTorch takes the count positionally only (its docs name it int)',
    'torch.set_num_interop_threads': 'as set_num_threads',
    'torch.linalg.vector_norm': 'nbgrad names it x (the docs\' name); PyTorch takes input= too',
    'torch.autograd.no_grad': 'PyTorch\'s orig_func is on __new__, nbgrad\'s on __init__',
    'torch.autograd.enable_grad': 'as no_grad',
    'torch.autograd.variable': 'PyTorch\'s deprecated function alias; nbgrad has a module',
    'torch.Tensor.bernoulli': 'the method is torch.bernoulli itself (takes out= too)',
    'torch.Tensor.multinomial': 'the method is torch.multinomial itself (takes out= too)',
    'torch.Tensor.frexp': 'the method is torch.frexp itself (takes out= too)',
    'torch.Tensor.ldexp': 'the method is torch.ldexp itself (takes out= too)',
    'torch.Tensor.count_nonzero': 'x.count_nonzero(0, 1) (dims as *args) unsupported',
    'torch.Tensor.expand': 'implicit= (a tracing flag) not taken',
    'torch.Tensor.repeat_interleave': 'repeats has a default (None) in nbgrad',
}

# Builtins whose signature cannot be read (no stub, schema or docstring signature).
UNVERIFIABLE = {
    'torch.is_anomaly_enabled': 'a C builtin with no stub, schema or docstring signature',
    'torch.Tensor.const_data_ptr': 'a C builtin whose docstring signature names no parameters',
    'torch.is_anomaly_check_nan_enabled': 'a C builtin with no stub, schema or docstring '
                                          'signature',
}
# autocast's state functions: C builtins with no readable signature; test_autocast calls them as
# PyTorch does
UNVERIFIABLE.update(dict.fromkeys(
    (f'torch.{name}' for name in (
        'autocast_decrement_nesting autocast_increment_nesting clear_autocast_cache '
        'get_autocast_cpu_dtype get_autocast_gpu_dtype is_autocast_cache_enabled '
        'set_autocast_cache_enabled set_autocast_cpu_dtype set_autocast_cpu_enabled '
        'set_autocast_dtype set_autocast_enabled set_autocast_gpu_dtype').split()),
    'autocast state, a C builtin with no readable signature (test_autocast calls it)'))


def _family(qualname):
    return next((reason for reason, pattern in MISSING_FAMILIES
                 if re.fullmatch(pattern, qualname)), None)


# ---------------------------------------------------------------------------------------------
# The names compared
# ---------------------------------------------------------------------------------------------

def _public(torch_mod, name, obj, classes):
    if name.startswith('_') or isinstance(obj, types.ModuleType) or not callable(obj):
        return False
    if inspect.isclass(obj) and not classes:
        return False
    all_ = getattr(torch_mod, '__all__', None)
    if all_ is not None:
        return name in all_
    return (getattr(obj, '__module__', None) or 'torch').startswith('torch')


def public_names():
    """[(qualified torch name, torch object, nbgrad namespace name, attribute name)]."""
    out = []
    for torch_name, nbgrad_name, classes in NAMESPACES:
        torch_mod = importlib.import_module(torch_name)
        for name in sorted(vars(torch_mod)):
            obj = getattr(torch_mod, name)
            if _public(torch_mod, name, obj, classes):
                out.append((f'{torch_name}.{name}', obj, nbgrad_name, name))
    return out


def tensor_names():
    """[(qualified name, torch attribute, 'method' | 'property')] of torch.Tensor's public API."""
    out = []
    for name in sorted(dir(torch.Tensor)):
        if name.startswith('_'):
            continue
        obj = inspect.getattr_static(torch.Tensor, name)
        if isinstance(obj, (property, types.GetSetDescriptorType, types.MemberDescriptorType)):
            out.append((f'torch.Tensor.{name}', obj, 'property'))
        elif callable(getattr(torch.Tensor, name)):
            out.append((f'torch.Tensor.{name}', getattr(torch.Tensor, name), 'method'))
    return out


def _nbgrad_module(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def compare(qualname, torch_obj, nbgrad_ns, attr):
    """('missing' | 'no torch signature' | 'differs' | 'same', details)."""
    module = _nbgrad_module(nbgrad_ns)
    if module is None or not hasattr(module, attr):
        return 'missing', None
    ours = getattr(module, attr)
    if not callable(ours):
        return 'differs', [f'not callable in nbgrad: {ours!r}']
    if inspect.isclass(torch_obj):
        overloads = [inspect.signature(torch_obj.__init__)]
        if not inspect.isclass(ours):
            return 'differs', ['a class in PyTorch, not in nbgrad']
    else:
        overloads = torch_overloads(torch_obj, attr, stubs=nbgrad_ns == 'nbgrad')
    if overloads is None:
        return 'no torch signature', None
    differences = overload_differences(_corrected(qualname, overloads),
                                       nbgrad_signature(ours))
    return ('differs', differences) if differences else ('same', None)


def compare_tensor(qualname, torch_obj, kind):
    name = qualname.rsplit('.', 1)[1]
    ours = inspect.getattr_static(nbgrad.Tensor, name, None)
    if ours is None:
        return 'missing', None
    if kind == 'property':
        if callable(getattr(nbgrad.Tensor, name)) and not isinstance(
                ours, (property, types.GetSetDescriptorType, types.MemberDescriptorType)):
            return 'differs', ['a property in PyTorch, a method in nbgrad']
        return 'same', None
    method = getattr(nbgrad.Tensor, name)
    if isinstance(ours, property) or not callable(method):
        return 'differs', ['a method in PyTorch, not callable in nbgrad']
    overloads = torch_overloads(torch_obj, name, method=True)
    if overloads is None and qualname in STUB_CORRECTIONS:
        overloads = [inspect.Signature()]
    if overloads is None:
        return 'no torch signature', None
    sig = inspect.signature(method)
    if not isinstance(ours, (staticmethod, classmethod)) and sig.parameters and next(
            iter(sig.parameters.values())).kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                    inspect.Parameter.POSITIONAL_OR_KEYWORD):
        sig = sig.replace(parameters=list(sig.parameters.values())[1:])   # self
    differences = overload_differences(_corrected(qualname, overloads), sig)
    return ('differs', differences) if differences else ('same', None)


CASES = public_names()
TENSOR_CASES = tensor_names()


def _check(qualname, outcome, details):
    if outcome == 'missing':
        reason = MISSING_ALLOWED.get(qualname) or _family(qualname)
        assert reason, f'{qualname} is missing from nbgrad'
        pytest.skip(f'not in nbgrad: {reason}')
    assert qualname not in MISSING_ALLOWED, f'{qualname} exists now: drop it from MISSING_ALLOWED'
    if outcome == 'no torch signature':
        assert qualname in UNVERIFIABLE, f'cannot read PyTorch\'s signature of {qualname}'
        pytest.skip(UNVERIFIABLE[qualname])
    if qualname in DIFFERENCE_ALLOWED:
        assert outcome == 'differs', f'{qualname} matches now: drop it from DIFFERENCE_ALLOWED'
        return
    assert outcome == 'same', f'{qualname}: ' + '; '.join(details)


@pytest.mark.parametrize('qualname,torch_obj,nbgrad_ns,attr', CASES,
                         ids=[case[0] for case in CASES])
def test_signature_matches_pytorch(qualname, torch_obj, nbgrad_ns, attr):
    _check(qualname, *compare(qualname, torch_obj, nbgrad_ns, attr))


@pytest.mark.parametrize('qualname,torch_obj,kind', TENSOR_CASES,
                         ids=[case[0] for case in TENSOR_CASES])
def test_tensor_method_signature_matches_pytorch(qualname, torch_obj, kind):
    _check(qualname, *compare_tensor(qualname, torch_obj, kind))


def test_allow_lists_name_real_pytorch_names():
    names = {case[0] for case in CASES} | {case[0] for case in TENSOR_CASES}
    for table in (MISSING_ALLOWED, DIFFERENCE_ALLOWED, UNVERIFIABLE, STUB_CORRECTIONS):
        assert set(table) <= names, set(table) - names


@pytest.mark.parametrize('qualname', sorted(STUB_CORRECTIONS))
def test_stub_corrections_match_pytorch(qualname):
    """Each correction of PyTorch's stubs is what PyTorch's parser does."""
    for code, expected in STUB_CORRECTIONS[qualname][-1]:
        x = torch.ones(3)
        try:
            eval(code, {'torch': torch, 'x': x})   # noqa: S307 (the table above)
            outcome = 'ok'
        except TypeError:
            outcome = 'TypeError'
        except (RuntimeError, AssertionError):   # parsed, then failed (cuda() without CUDA)
            outcome = 'ok'
        assert outcome == expected, f'{code}: {outcome}'


# ---------------------------------------------------------------------------------------------
# What the signature fixes changed and what was added, against PyTorch
# ---------------------------------------------------------------------------------------------

X = np.array([[0.5, -1.25, 3.0], [2.0, 0.0, -0.75]])


def t(lib, a=X, **kw):
    return lib.tensor(a, **kw)


@pytest.mark.parametrize('call', [
    lambda lib: lib.reshape(t(lib), shape=(3, 2)),
    lambda lib: lib.reshape(t(lib), (3, 2)),
    lambda lib: lib.reshape(t(lib), 3, 2),                       # TypeError in both
    lambda lib: lib.permute(t(lib), dims=(1, 0)),
    lambda lib: lib.permute(t(lib), 1, 0),                       # TypeError in both
    lambda lib: lib.flip(t(lib), dims=(0,)),
    lambda lib: lib.flip(t(lib), 0, 1),                          # TypeError in both
    lambda lib: t(lib).reshape(3, 2), lambda lib: t(lib).permute(1, 0),
    lambda lib: t(lib).flip(0, 1),
    lambda lib: lib.broadcast_to(t(lib, [1., 2.]), size=(2, 2)),
    lambda lib: t(lib, [1., 2.]).broadcast_to(3, 2),
    lambda lib: t(lib, [1., 2.]).broadcast_to((3, 2)),
    lambda lib: lib.dot(t(lib, [1., 2.]), tensor=t(lib, [3., 4.])),
    lambda lib: t(lib, [1., 2.]).dot(tensor=t(lib, [3., 4.])),
    lambda lib: lib.swapaxes(t(lib), axis0=0, axis1=1),
    lambda lib: t(lib).swapaxes(axis0=1, axis1=0),
    lambda lib: t(lib).clone().swapaxes_(0, 1), lambda lib: t(lib).clone().swapdims_(1, 0),
    lambda lib: str(lib.result_type(tensor=t(lib), other=t(lib, [1, 2], dtype=lib.int64)))[-7:],
    lambda lib: str(lib.promote_types(type1=lib.int32, type2=lib.float16))[-7:],
    lambda lib: lib.scalar_tensor(s=2.5, dtype=lib.float64, pin_memory=False),
    lambda lib: lib.is_tensor(obj=t(lib)),                      # TypeError in both
    lambda lib: lib.nan_to_num(t(lib, [np.nan, np.inf, -np.inf, 1.0]), nan=None),
    lambda lib: lib.nan_to_num(t(lib, [np.nan, np.inf, 1.0]), 2.0, 9.0),
    lambda lib: t(lib, [np.nan, -np.inf]).nan_to_num(None, neginf=-3.0),
    lambda lib: t(lib, [np.nan, -np.inf]).clone().nan_to_num_(nan=None),
    lambda lib: lib.sort(t(lib), dim=0, descending=True, stable=True),
    lambda lib: lib.sort(t(lib), 0, False, True),                # TypeError in both
    lambda lib: t(lib).sort(0, False, True),                     # TypeError in both
    lambda lib: lib.argsort(t(lib), dim=1, stable=True),
    lambda lib: lib.index_copy(t(lib), 0, t(lib, [1]), source=t(lib, [[9., 8., 7.]])),
    lambda lib: lib.index_copy(t(lib), 0, t(lib, [1]), t(lib, [[9., 8., 7.]]), alpha=2),
    lambda lib: lib.index_fill(t(lib), 1, t(lib, [0, 2]), value=-5.0),
    lambda lib: t(lib).index_fill(1, t(lib, [0, 2]), source=1.0),   # TypeError in both
    lambda lib: t(lib).clone().index_fill_(1, t(lib, [1]), value=4.0),
    lambda lib: lib.index_add(t(lib), 0, t(lib, [1]), t(lib, [[1., 1., 1.]]), alpha=2),
    lambda lib: lib.cholesky_solve(t(lib, [[1.], [2.]]), input2=t(lib, [[2., 0.], [1., 3.]])),
    lambda lib: t(lib, [[1.], [2.]]).cholesky_solve(t(lib, [[2., 0.], [1., 3.]]), upper=False),
    lambda lib: lib.linalg.cholesky(input=t(lib, [[4., 2.], [2., 3.]])),
    lambda lib: lib.linalg.eigvalsh(input=t(lib, [[4., 2.], [2., 3.]]), UPLO='U'),
    lambda lib: lib.linalg.matrix_norm(input=t(lib), ord=1),
    lambda lib: lib.linalg.norm(input=t(lib)),
    lambda lib: lib.linalg.matrix_power(input=t(lib, [[1., 1.], [0., 1.]]), n=3),
    lambda lib: lib.linalg.pinv(input=t(lib)),
    lambda lib: lib.linalg.matrix_rank(input=t(lib)),
    lambda lib: lib.linalg.lstsq(t(lib, [[1., 0.], [1., 1.], [1., 2.]]),
                                 b=t(lib, [[1.], [2.], [2.]])).solution,
    lambda lib: lib.linalg.solve_triangular(input=t(lib, [[2., 0.], [1., 1.]]),
                                            B=t(lib, [[2.], [3.]]), upper=False),
    lambda lib: lib.round(t(lib, [1.2345, -2.5, 0.5]), decimals=2),
    lambda lib: lib.round(t(lib, [1.5, -2.5, 0.5])),
    lambda lib: t(lib, [1.2345, 2.5]).round(decimals=1),
    lambda lib: t(lib, [1.2345, 2.5]).clone().round_(decimals=1),
    lambda lib: lib.logit(t(lib, [0.0, 0.25, 1.0]), eps=0.1),
    lambda lib: lib.logit(t(lib, [0.0, 0.25, 1.0])),
    lambda lib: t(lib, [0.0, 0.25]).logit(0.2),
    lambda lib: t(lib, [0.0, 0.25]).clone().logit_(eps=0.2),
    lambda lib: t(lib).true_divide(2.0),
    lambda lib: t(lib).true_divide(2.0, rounding_mode='floor'),   # TypeError in both
    lambda lib: t(lib).split(split_size=1),
    lambda lib: t(lib).tile(2, 1), lambda lib: t(lib).tile((2,)),
    lambda lib: t(lib).softmax(0, lib.float32), lambda lib: t(lib).log_softmax(dim=1),
    lambda lib: lib.softmax(t(lib), 1, dtype=lib.float32),
    lambda lib: lib.log_softmax(t(lib), dim=0),
    lambda lib: t(lib).clone().addcmul_(tensor1=t(lib), tensor2=t(lib), value=0.5),
    lambda lib: t(lib).clone().addcdiv_(t(lib), tensor2=t(lib) + 5, value=2),
    lambda lib: t(lib).clone().copy_(other=t(lib) * 2),
    lambda lib: t(lib).contiguous(memory_format=lib.contiguous_format),
    lambda lib: t(lib).t().is_contiguous(memory_format=lib.contiguous_format),
    lambda lib: t(lib).cpu(memory_format=lib.preserve_format),
    lambda lib: t(lib).float(memory_format=lib.preserve_format),
    lambda lib: t(lib).new_ones(2, 3, dtype=lib.float64, layout=None, pin_memory=False),
    lambda lib: t(lib).new_full((2,), 3.0, layout=None, pin_memory=False),
    lambda lib: t(lib).new_zeros((2,), bogus=1),                # TypeError in both
    lambda lib: t(lib).new_tensor([1, 2], pin_memory=False),   # TypeError in both
    lambda lib: t(lib).new_tensor([1, 2], dtype=lib.float64, requires_grad=True),
    lambda lib: lib.arange(3, pin_memory=False), lambda lib: lib.eye(2, pin_memory=False),
    lambda lib: lib.linspace(0, 1, 3, pin_memory=False),
    lambda lib: lib.logspace(0, 1, 3, pin_memory=False),
    lambda lib: lib.zeros_like(t(lib), pin_memory=False),
    lambda lib: lib.full_like(t(lib), 2.0, pin_memory=False),
    lambda lib: lib.fft.fftfreq(4, pin_memory=None),
])
def test_fixed_signatures_against_pytorch(call):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')     # (torch.range's deprecation and the like)
        both(call)


def test_set_default_device_by_keyword():
    for lib in (torch, nbgrad):
        lib.set_default_device(device='cpu')
        assert lib.zeros(1).device.type == 'cpu'
        lib.set_default_device(device=None)


def test_random_fill_methods_by_keyword():
    def run(lib, method, kwargs):
        lib.manual_seed(3)
        x = lib.empty(5, dtype=lib.float64)
        g = lib.Generator().manual_seed(7)
        a = getattr(x.clone(), method)(**kwargs)
        b = getattr(x.clone(), method)(generator=g, **kwargs)
        return a, b
    for method, kwargs in (('uniform_', {'to': 3.0}), ('normal_', {'mean': 1.0, 'std': 0.5}),
                           ('exponential_', {'lambd': 2.0}), ('geometric_', {'p': 0.3}),
                           ('cauchy_', {'median': 1.0, 'sigma': 2.0}),
                           ('log_normal_', {'mean': 0.5, 'std': 0.25})):
        both(lambda lib: run(lib, method, kwargs),
             check=lambda g, e: assert_same(g, e, rtol=1e-12, atol=1e-12))
    both(lambda lib: lib.empty(2).uniform_(0, 1, None))          # TypeError in both
    both(lambda lib: lib.empty(2).normal_(mean=0, stdd=1))      # TypeError in both


def test_random_like_generator():
    def run(lib):
        g = lib.Generator().manual_seed(5)
        x = lib.zeros(2, 3)
        return (lib.rand_like(x, generator=g), lib.randn_like(x, generator=g),
                lib.randint_like(x, 2, 9, generator=g), lib.randint_like(x, 4, generator=g))
    both(run, check=lambda g, e: assert_same(g, e, rtol=1e-6, atol=1e-7))


def test_fork_rng_device_type():
    for lib in (torch, nbgrad):
        with lib.random.fork_rng(device_type=None):
            lib.rand(1)
    with pytest.raises(NotImplementedError, match='device_type'):
        with nbgrad.random.fork_rng(device_type='mps'):
            pass


@pytest.mark.parametrize('call', [
    lambda lib: lib.dropout(t(lib), 0.0, train=False),
    lambda lib: lib.dropout(t(lib), 1.0, True),
    lambda lib: lib.alpha_dropout(t(lib), 0.5, train=False),
    lambda lib: lib.feature_alpha_dropout(t(lib), 0.5, False),
    lambda lib: lib.dropout(t(lib), p=0.5, training=False),      # TypeError in both
    lambda lib: lib.celu(t(lib), alpha=0.5), lambda lib: lib.selu(t(lib)),
    lambda lib: lib.selu(t(lib), inplace=True),                  # TypeError in both
    lambda lib: lib.threshold(t(lib), 0.6, -1.0),
    lambda lib: lib.rrelu(t(lib), 0.1, 0.3, False),
    lambda lib: lib.max_pool1d(t(lib)[None], 2),
    lambda lib: lib.max_pool1d(t(lib)[None], 2, 1, return_indices=True),   # TypeError in both
    lambda lib: lib.max_pool2d(t(lib)[None, None], 2, stride=1),
    lambda lib: lib.max_pool1d_with_indices(t(lib)[None], 2),
    lambda lib: lib.adaptive_max_pool1d(t(lib)[None], 2),
    lambda lib: lib.avg_pool1d(t(lib)[None], 2),
    lambda lib: lib.layer_norm(t(lib), (3,), cudnn_enable=False),
    lambda lib: lib.group_norm(t(lib)[None], 2, eps=1e-3, cudnn_enabled=True),
])
def test_torch_level_nn_ops(call):
    both(call, check=lambda g, e: assert_same(g, e, rtol=1e-6, atol=1e-7))


def test_rrelu_generator_is_not_ignored():
    with pytest.raises(NotImplementedError, match='generator'):
        nbgrad.rrelu(nbgrad.ones(2), training=True, generator=nbgrad.Generator())


def test_layout_of_new_factories_is_checked():
    """new_zeros/new_empty make sparse COO tensors (test_layout); the rest is refused."""
    with pytest.raises(NotImplementedError, match='layout'):
        nbgrad.ones(2).new_ones(2, layout=nbgrad.sparse_coo)
    with pytest.raises(NotImplementedError, match='layout'):
        nbgrad.ones(2).new_zeros(2, layout=nbgrad.sparse_csr)


INT = np.array([[12, -18, 7], [0, 5, -9]])
F = np.array([[0.0, np.inf, -np.inf, np.nan], [1.0, -2.0, 0.0, 3.0]])


@pytest.mark.parametrize('call', [
    lambda lib: lib.deg2rad(t(lib)), lambda lib: t(lib).deg2rad(),
    lambda lib: lib.deg2rad(t(lib, INT)), lambda lib: t(lib).clone().deg2rad_(),
    lambda lib: lib.rad2deg(t(lib)), lambda lib: t(lib).rad2deg(),
    lambda lib: lib.rad2deg(t(lib, INT)), lambda lib: t(lib).clone().rad2deg_(),
    lambda lib: lib.gcd(t(lib, INT), t(lib, [4, 6, 14])),
    lambda lib: t(lib, INT).lcm(t(lib, [4, 6, 14])),
    lambda lib: t(lib, INT).clone().gcd_(t(lib, [4, 6, 14])),
    lambda lib: t(lib, INT).clone().lcm_(t(lib, [3, 3, 3])),
    lambda lib: lib.gcd(t(lib, INT, dtype=lib.int32), t(lib, [4, 6, 14])),
    lambda lib: lib.gcd(t(lib), t(lib)),                           # error in both
    lambda lib: lib.heaviside(t(lib, F), t(lib, [0.5, 0.5, 0.5, 0.5])),
    lambda lib: t(lib, F).heaviside(t(lib, [2.0])),
    lambda lib: t(lib, F).clone().heaviside_(t(lib, [2.0])),
    lambda lib: lib.heaviside(t(lib, INT), t(lib, [7])),
    lambda lib: lib.logaddexp2(t(lib, F), t(lib, [1.0, -np.inf, -np.inf, 2.0])),
    lambda lib: t(lib).logaddexp2(t(lib) * 3),
    lambda lib: (lib.isneginf(t(lib, F)), lib.isposinf(t(lib, F)), t(lib, F).isneginf(),
                 t(lib, F).isposinf(), lib.isposinf(t(lib, INT))),
    lambda lib: (lib.isreal(t(lib, F)), t(lib, [1 + 0j, 2 + 1j]).isreal(),
                 lib.isreal(t(lib, INT))),
    lambda lib: (lib.ravel(t(lib).t()), t(lib).ravel()),
    lambda lib: (lib.trace(t(lib)), t(lib, INT).trace(), lib.trace(t(lib, np.ones((2, 2, 2))))),
    lambda lib: (lib.dist(t(lib), t(lib) * 2), t(lib).dist(t(lib, [1.0, 2.0, 3.0]), 1),
                 lib.dist(t(lib), t(lib) + 1, p=float('inf')), lib.dist(t(lib), t(lib) * 3, 0)),
    lambda lib: (lib.hsplit(t(lib), 3), lib.hsplit(t(lib), [1]), lib.hsplit(t(lib, [1., 2.]), 2),
                 t(lib).hsplit([1, 2])),
    lambda lib: lib.hsplit(t(lib), 2),                             # error in both
    lambda lib: (lib.vsplit(t(lib), 2), t(lib).vsplit([1])),
    lambda lib: lib.vsplit(t(lib, [1., 2.]), 2),                   # error in both
    lambda lib: (lib.dsplit(t(lib, np.ones((1, 2, 4))), 2), t(lib, np.ones((1, 1, 3))).dsplit([2])),
    lambda lib: lib.dsplit(t(lib), 1),                             # error in both
    lambda lib: (lib.is_nonzero(t(lib, [0.0])), t(lib, [2]).is_nonzero()),
    lambda lib: lib.is_nonzero(t(lib, [1.0, 2.0])),                # error in both
    lambda lib: lib.is_nonzero(t(lib, np.zeros(0))),              # error in both
    lambda lib: (lib.is_same_size(t(lib), t(lib)), t(lib).is_same_size(t(lib, [1.0]))),
    lambda lib: (lib.is_signed(t(lib)), t(lib, INT).is_signed(),
                 t(lib, [1], dtype=lib.uint8).is_signed(), lib.is_signed(t(lib, [True]))),
    lambda lib: (lib.positive(t(lib)), lib.adjoint(t(lib)), lib.detach(t(lib))),
    lambda lib: lib.positive(t(lib, [True])),                      # error in both
    lambda lib: (t(lib).equal(t(lib)), t(lib).allclose(t(lib) + 1e-9),
                 t(lib).isclose(t(lib) + 1e-3, atol=1e-2)),
    lambda lib: t(lib).clone().cumsum_(1), lambda lib: t(lib).clone().cumprod_(0),
    lambda lib: t(lib, INT).clone().cumsum_(0, dtype=lib.int64),
    lambda lib: t(lib).clone().greater_(0.0), lambda lib: t(lib).clone().less_equal_(0.5),
    lambda lib: t(lib).clone().not_equal_(0.0), lambda lib: t(lib, [True, False]).logical_not_(),
    lambda lib: t(lib, np.ones((2, 2))).addmm_(t(lib), t(lib).t(), beta=0.5, alpha=2),
    lambda lib: t(lib, np.ones((2, 2))).addbmm_(t(lib)[None], t(lib).t()[None]),
    lambda lib: t(lib, np.ones((1, 2, 2))).baddbmm_(t(lib)[None], t(lib).t()[None], alpha=3),
    lambda lib: t(lib, np.ones((2, 3))).addr_(t(lib, [1., 2.]), t(lib, [1., 0., 2.]), beta=2),
    lambda lib: (t(lib).sum_to_size(1, 3), t(lib).sum_to_size((2, 1)), t(lib).sum_to_size(3),
                 t(lib).sum_to_size(2, 3)),
    lambda lib: t(lib).sum_to_size(2),                             # error in both
    lambda lib: t(lib).is_inference(),
])
def test_added_functions_against_pytorch(call):
    both(call, check=lambda g, e: assert_same(g, e, rtol=1e-6, atol=1e-9))


def test_added_functions_gradients():
    def run(lib):
        x = t(lib, requires_grad=True)
        y = t(lib, X[::-1].copy(), requires_grad=True)
        out = (lib.deg2rad(x).sum() + lib.rad2deg(x).sum() + lib.logaddexp2(x, y).sum()
               + lib.trace(x[:, :2]) + lib.dist(x, y) + lib.ravel(x).sum()
               + x.sum_to_size(1, 3).pow(2).sum())
        out.backward()
        return x.grad, y.grad
    both(run, check=lambda g, e: assert_same(g, e, rtol=1e-6, atol=1e-9))


if __name__ == '__main__':
    for case in CASES:
        outcome, details = compare(*case)
        allowed = case[0] in MISSING_ALLOWED or case[0] in DIFFERENCE_ALLOWED or \
            case[0] in UNVERIFIABLE or _family(case[0]) is not None
        if outcome != 'same':
            print(f'{case[0]}: {outcome}' + (' (allowed)' if allowed else ''))
            for line in details or ():
                print('    ' + line)
    for case in TENSOR_CASES:
        outcome, details = compare_tensor(*case)
        allowed = case[0] in MISSING_ALLOWED or case[0] in DIFFERENCE_ALLOWED or \
            _family(case[0]) is not None
        if outcome != 'same':
            print(f'{case[0]}: {outcome}' + (' (allowed)' if allowed else ''))
            for line in details or ():
                print('    ' + line)
    no_out = [case[0] for case in CASES if case[2] == 'nbgrad' and compare(*case)[0] == 'same'
              and any('out' in o.parameters for o in (torch_overloads(case[1], case[3]) or []))
              and 'out' not in nbgrad_signature(getattr(nbgrad, case[3])).parameters]
    print(f'\n{len(no_out)} torch functions whose out= nbgrad lacks:', ' '.join(no_out))
