"""The public callables of torch.nn, nn.functional, nn.init, nn.utils (and its rnn,
parametrizations and parametrize modules), torch.optim, optim.lr_scheduler and
utils.checkpoint have PyTorch's signatures in nbgrad: parameter names, order, kinds
(positional / keyword-only / *args) and defaults. Classes are compared by their `__init__`.

PyTorch's C builtins (F.conv2d, F.gelu, ...) have no inspectable signature: theirs is read from
the first line of the docstring, with keyword-only parameters taken from the ATen schema (the
helpers are in tests/_signatures.py, shared with test_signatures_tensor.py). The
boolean-dispatched pooling functions (F.max_pool2d, ...) are compared with their
`return_indices=True` form, whose signature is the public one.

Run as a script (`python tests/test_signatures.py`) for a report of every difference and every
missing name, allowed or not.
"""
import importlib
import inspect
import types
import warnings

import numpy as np
import pytest

import nbgrad
from torch_compare import assert_same, assert_same_error, both

torch = pytest.importorskip('torch')

from _signatures import nbgrad_signature, signature_differences, torch_signature  # noqa: E402


# (torch namespace, nbgrad namespace, what is compared: 'modules' = nn.Module subclasses,
# 'optimizers' = Optimizer subclasses, 'schedulers' = LRScheduler / ReduceLROnPlateau,
# 'functions' = non-class callables, 'own' = callables defined in that torch module)
NAMESPACES = [
    ('torch.nn', 'nbgrad.nn', 'modules'),
    ('torch.nn.functional', 'nbgrad.nn.functional', 'functions'),
    ('torch.nn.init', 'nbgrad.nn.init', 'functions'),
    ('torch.nn.utils', 'nbgrad.nn.utils', 'functions'),
    ('torch.nn.utils.rnn', 'nbgrad.nn.utils.rnn', 'own'),
    ('torch.nn.utils.parametrizations', 'nbgrad.nn.utils.parametrizations', 'own'),
    ('torch.nn.utils.parametrize', 'nbgrad.nn.utils.parametrize', 'own'),
    ('torch.optim', 'nbgrad.optim', 'optimizers'),
    ('torch.optim.lr_scheduler', 'nbgrad.optim.lr_scheduler', 'schedulers'),
    ('torch.utils.checkpoint', 'nbgrad.utils.checkpoint', 'own'),
    ('torch.sparse', 'nbgrad.sparse', 'own'),
    ('torch.hub', 'nbgrad.hub', 'own'),
    ('torch.multiprocessing', 'nbgrad.multiprocessing', 'own'),
    ('torch.multiprocessing.spawn', 'nbgrad.multiprocessing.spawn', 'own'),
    ('torch.utils.tensorboard.writer', 'nbgrad.utils.tensorboard.writer', 'own'),
]

# Public names of those namespaces that nbgrad does not have, each with the reason.
MISSING_ALLOWED = {
    # helpers of PyTorch's own implementation, not API: nn.functional re-exports them
    'torch.nn.functional.boolean_dispatch': 'TorchScript helper of PyTorch internals',
    'torch.nn.functional.assert_int_or_pair': 'internal argument check of fold/unfold',
    'torch.nn.functional.handle_torch_function': '__torch_function__ override machinery',
    'torch.nn.functional.has_torch_function': '__torch_function__ override machinery',
    'torch.nn.functional.has_torch_function_unary': '__torch_function__ override machinery',
    'torch.nn.functional.has_torch_function_variadic': '__torch_function__ override machinery',
    # low-precision matmuls of recent PyTorch (float8 / MX scaling, CUDA-only kernels)
    'torch.nn.functional.grouped_mm': 'grouped GEMM over offsets (CUDA kernels in PyTorch)',
    'torch.nn.functional.scaled_mm': 'float8 / MX scaled matmul',
    'torch.nn.functional.scaled_grouped_mm': 'float8 / MX scaled grouped matmul',
    # torch.sparse: the legacy per-dtype sparse tensor types (torch.sparse.FloatTensor...),
    # deprecated since PyTorch 1.x, and gradcheck's wrapper for sparse inputs
    **{f'torch.sparse.{kind}Tensor': 'legacy sparse tensor type (use sparse_coo_tensor)'
       for kind in ('BFloat16', 'Byte', 'Char', 'Double', 'Float', 'Half', 'Int', 'Long',
                    'Short')},
    # selective activation checkpointing: its policies pick ATen ops through TorchDispatchMode
    'torch.utils.checkpoint.CheckpointPolicy': 'selective checkpointing (ATen dispatch modes)',
    'torch.utils.checkpoint.SelectiveCheckpointContext': 'selective checkpointing',
    'torch.utils.checkpoint.create_selective_checkpoint_contexts': 'selective checkpointing',
    # recompute at most once across backward calls: nbgrad's recomputed data stays on the nodes
    # that have not run yet, so backward calls over disjoint parts already share one rerun
    'torch.utils.checkpoint.GraphExecGroup': 'disjoint backward calls share a rerun already',
}

# Names present in both, whose signatures are allowed to differ, each with the reason.
DIFFERENCE_ALLOWED = {
}


def _is_public_callable(torch_mod, name, obj, kind):
    if name.startswith('_') or isinstance(obj, types.ModuleType) or not callable(obj):
        return False
    module = getattr(obj, '__module__', None) or ''
    if not module.startswith('torch'):
        return False    # re-exported typing / stdlib names (Optional, Callable, Tensor's types)
    if kind == 'modules':
        return inspect.isclass(obj) and issubclass(obj, torch.nn.Module)
    if kind == 'optimizers':
        return inspect.isclass(obj) and issubclass(obj, torch.optim.Optimizer)
    if kind == 'schedulers':
        return inspect.isclass(obj) and issubclass(
            obj, (torch.optim.lr_scheduler.LRScheduler, torch.optim.lr_scheduler.ReduceLROnPlateau))
    if kind == 'functions':
        return not inspect.isclass(obj) and obj is not torch.Tensor
    return module == torch_mod.__name__


def public_names():
    """[(qualified torch name, torch object, nbgrad namespace name, attribute name)]."""
    out = []
    for torch_name, nbgrad_name, kind in NAMESPACES:
        torch_mod = importlib.import_module(torch_name)
        for name in sorted(vars(torch_mod)):
            obj = getattr(torch_mod, name)
            if _is_public_callable(torch_mod, name, obj, kind):
                out.append((f'{torch_name}.{name}', obj, nbgrad_name, name))
    return out


def compare(qualname, torch_obj, nbgrad_ns, attr):
    """('missing' | 'no torch signature' | 'differs' | 'same', details)."""
    module = importlib.import_module(nbgrad_ns)
    if not hasattr(module, attr):
        return 'missing', None
    expected = torch_signature(torch_obj)
    if expected is None:
        return 'no torch signature', None
    differences = signature_differences(expected, nbgrad_signature(getattr(module, attr)))
    return ('differs', differences) if differences else ('same', None)


CASES = public_names()


@pytest.mark.parametrize('qualname,torch_obj,nbgrad_ns,attr', CASES,
                         ids=[case[0] for case in CASES])
def test_signature_matches_pytorch(qualname, torch_obj, nbgrad_ns, attr):
    outcome, details = compare(qualname, torch_obj, nbgrad_ns, attr)
    if outcome == 'missing':
        assert qualname in MISSING_ALLOWED, f'{qualname} is missing from {nbgrad_ns}'
        pytest.skip(f'not in nbgrad: {MISSING_ALLOWED[qualname]}')
    assert qualname not in MISSING_ALLOWED, f'{qualname} exists now: drop it from MISSING_ALLOWED'
    assert outcome != 'no torch signature', f'cannot read PyTorch\'s signature of {qualname}'
    if qualname in DIFFERENCE_ALLOWED:
        assert outcome == 'differs', f'{qualname} matches now: drop it from DIFFERENCE_ALLOWED'
        return
    assert outcome == 'same', f'{qualname}: ' + '; '.join(details)


def test_allow_lists_name_real_pytorch_names():
    names = {case[0] for case in CASES}
    assert set(MISSING_ALLOWED) <= names, set(MISSING_ALLOWED) - names
    assert set(DIFFERENCE_ALLOWED) <= names, set(DIFFERENCE_ALLOWED) - names


# The tensor classes of torch.nn: their constructor is __new__.
TENSOR_CLASSES = ['Parameter', 'Buffer', 'UninitializedParameter', 'UninitializedBuffer']


@pytest.mark.parametrize('name', TENSOR_CLASSES)
def test_tensor_class_signature_matches_pytorch(name):
    expected = inspect.signature(getattr(torch.nn, name).__new__)
    differences = signature_differences(expected, inspect.signature(
        getattr(nbgrad.nn, name).__new__))
    assert not differences, f'torch.nn.{name}: ' + '; '.join(differences)


# ---------------------------------------------------------------------------------------------
# What the signature fixes changed, run against PyTorch
# ---------------------------------------------------------------------------------------------

def test_activation_layers_take_arguments_by_position_and_keyword():
    x = np.linspace(-3, 3, 13).reshape(1, 13)
    for build in (lambda nn: nn.Threshold(0.5, -2.0), lambda nn: nn.Threshold(threshold=0.5,
                                                                               value=-2.0),
                  lambda nn: nn.ELU(0.5), lambda nn: nn.LeakyReLU(0.2, False),
                  lambda nn: nn.GELU('tanh'), lambda nn: nn.GELU(approximate='tanh'),
                  lambda nn: nn.Softplus(2.0, 1.0), lambda nn: nn.Hardshrink(lambd=1.0),
                  lambda nn: nn.GLU(0), lambda nn: nn.Sigmoid()):
        both(lambda lib: build(lib.nn)(lib.tensor(x)))
        both(lambda lib: repr(build(lib.nn)))
    for bad in (lambda nn: nn.ReLU(True, True), lambda nn: nn.GELU(approx='tanh'),
                lambda nn: nn.Sigmoid(1), lambda nn: nn.Threshold(0.5)):
        both(bad)


def test_keyword_only_parameters_of_functionals():
    x = np.linspace(-2, 2, 24).reshape(1, 2, 3, 4)
    both(lambda lib: lib.nn.functional.gelu(lib.tensor(x), approximate='tanh'))
    both(lambda lib: lib.nn.functional.gelu(lib.tensor(x), 'tanh'))     # TypeError in both
    sdpa = (lambda lib, *args, **kwargs: lib.nn.functional.scaled_dot_product_attention(
        *(lib.tensor(x),) * 3, *args, **kwargs))
    both(lambda lib: sdpa(lib, None, 0.0, False, scale=0.5, enable_gqa=False))
    both(lambda lib: sdpa(lib, None, 0.0, False, 0.5))                  # TypeError in both


@pytest.mark.parametrize('name', ['LazyConv1d', 'LazyConv2d', 'LazyConvTranspose1d',
                                  'LazyConvTranspose2d'])
def test_lazy_conv_arguments_by_position(name):
    transposed = 'Transpose' in name
    nd = int(name[-2])
    x = np.linspace(-1, 1, 2 * 4 * 6 ** nd).reshape((2, 4) + (6,) * nd)

    def run(lib):
        lib.manual_seed(0)
        # every parameter positionally, device and dtype included
        rest = (0, 2, False, 1, 'zeros') if transposed else (1, 2, False, 'zeros')
        m = getattr(lib.nn, name)(6, 3, 2, 1, *rest, 'cpu', lib.float64)
        out = m(lib.tensor(x))
        return (out.shape, m.weight.shape, m.bias, m.groups, m.stride, m.padding, m.dilation,
                getattr(m, 'output_padding', None), out.dtype == lib.float64)
    both(run)
    both(lambda lib: getattr(lib.nn, name)(6, 3, 1, 0, *(1,) * 7))      # too many: TypeError
    both(lambda lib: getattr(lib.nn, name)(6, 3, bogus=1))


def test_uninitialized_buffer_persistent_by_position():
    for lib in (torch, nbgrad):
        assert lib.nn.UninitializedBuffer(False, None, None, False).persistent is False


def test_container_is_deprecated_module_of_keyword_modules():
    def run(lib):
        with pytest.warns(FutureWarning, match='nn.Container` is deprecated'):
            c = lib.nn.Container(a=lib.nn.Linear(2, 3), b=lib.nn.ReLU())
        with pytest.warns(FutureWarning, match='nn.Container` is deprecated'):
            class Sub(lib.nn.Container):
                pass
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            Sub()       # making a subclass's instance does not warn
        return repr(c), list(c.state_dict()), [n for n, _ in c.named_children()]
    both(run)


@pytest.mark.parametrize('pad', [0, 1, 2, -1])
def test_conv_tbc_against_pytorch(pad):
    rng = np.random.default_rng(pad + 5)
    x, w, b = rng.standard_normal((7, 2, 3)), rng.standard_normal((3, 3, 4)), \
        rng.standard_normal(4)

    def run(lib):
        leaves = [lib.tensor(a, requires_grad=True) for a in (x, w, b)]
        out = lib.nn.functional.conv_tbc(*leaves, pad)
        (out * lib.tensor(np.arange(out.numel()).reshape(out.shape) / 7.0)).sum().backward()
        return (out, *(t.grad for t in leaves))
    both(lambda lib: run(lib), check=lambda g, e: assert_same(g, e, rtol=1e-10, atol=1e-12))
    both(lambda lib: lib.conv_tbc(*(lib.tensor(a) for a in (x, w, b)), pad=pad))


@pytest.mark.parametrize('case', ['input_2d', 'weight_2d', 'bias_2d', 'channels', 'bias_size',
                                  'too_short', 'no_bias', 'float32_weight'])
def test_conv_tbc_errors(case):
    x, w, b = np.ones((5, 2, 3)), np.ones((3, 3, 4)), np.ones(4)
    args = {'input_2d': lambda t: (t(x[0]), t(w), t(b)),
            'weight_2d': lambda t: (t(x), t(w[0]), t(b)),
            'bias_2d': lambda t: (t(x), t(w), t(b[None])),
            'channels': lambda t: (t(x), t(np.ones((3, 2, 4))), t(b)),
            'bias_size': lambda t: (t(x), t(w), t(np.ones(3))),
            'too_short': lambda t: (t(x), t(np.ones((9, 3, 4))), t(b)),
            'no_bias': lambda t: (t(x), t(w), None),
            'float32_weight': lambda t: (t(x), t(w.astype(np.float32)), t(b))}[case]
    if case in ('no_bias', 'float32_weight'):
        both(lambda lib: lib.nn.functional.conv_tbc(*args(lib.tensor)))
    else:
        assert_same_error(lambda lib: lib.nn.functional.conv_tbc(*args(lib.tensor)))


if __name__ == '__main__':
    for case in CASES:
        outcome, details = compare(*case)
        if outcome != 'same':
            mark = ' (allowed)' if case[0] in MISSING_ALLOWED or case[0] in DIFFERENCE_ALLOWED \
                else ''
            print(f'{case[0]}: {outcome}{mark}')
            for line in details or ():
                print('    ' + line)
            if outcome == 'differs':
                print('    torch: ', torch_signature(case[1]))
                print('    nbgrad:', nbgrad_signature(getattr(
                    importlib.import_module(case[2]), case[3])))
