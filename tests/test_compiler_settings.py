"""The compiler's settings modules scripts touch (torch._dynamo.config, torch._inductor.config,
torch._logging, torch.compiler's helpers), torch.backends' other switches,
set_default_tensor_type and Tensor.type's names, against PyTorch. nbgrad compiles nothing
(torch.compile runs eagerly); what is compared is that the same script runs and reads back the
same values and errors."""
import warnings

import pytest

import nbgrad

torch = pytest.importorskip('torch')
import torch._dynamo  # noqa: E402,F401
import torch._inductor.config  # noqa: E402,F401
import nbgrad._dynamo  # noqa: E402,F401
import nbgrad._inductor.config  # noqa: E402,F401


def _both(fn):
    results = []
    for lib in (torch, nbgrad):
        try:
            results.append(fn(lib))
        except Exception as e:      # (the same exception type, with the same words)
            results.append((type(e).__name__, str(e)))
    assert results[0] == results[1]
    return results[1]


def test_dynamo_config_reads_writes_patches_and_refuses_unknown_names():
    def run(lib):
        config = lib._dynamo.config
        seen = [config.cache_size_limit, config.suppress_errors, config.recompile_limit]
        config.suppress_errors = True
        seen.append(config.suppress_errors)
        config.suppress_errors = False
        with config.patch(suppress_errors=True, cache_size_limit=3):
            seen.append((config.suppress_errors, config.cache_size_limit))

        @config.patch('cache_size_limit', 64)
        def inside():
            return config.cache_size_limit
        seen += [inside(), config.cache_size_limit, config.suppress_errors]
        with pytest.raises(AttributeError) as info:
            config.not_a_setting = 1
        seen.append(str(info.value).replace(lib.__name__, 'LIB'))
        return seen
    _both(run)


def _representable(value):
    """Whether _compiler_config.json holds this default as it is (numbers, strings, and lists,
    tuples, string-keyed dicts and string sets of them)."""
    if isinstance(value, (bool, int, float, str, type(None))):
        return True
    if isinstance(value, (list, tuple)):
        return all(map(_representable, value))
    if isinstance(value, dict):
        return all(isinstance(k, str) and _representable(v) for k, v in value.items())
    if isinstance(value, (set, frozenset)):
        return all(isinstance(v, str) for v in value)
    return False


@pytest.mark.parametrize('section', ['_dynamo', '_inductor'])
def test_every_setting_pytorch_has_exists_with_its_default(section):
    """The names of the PyTorch release _compiler_config.json was made from, and their defaults
    (paths, which PyTorch computes from its install folder, aside)."""
    import os
    theirs = getattr(torch, section).config.get_config_copy()
    ours = getattr(nbgrad, section).config
    for key, default in theirs.items():
        node = ours
        for part in key.split('.'):
            node = getattr(node, part)
        if not (isinstance(default, str) and os.path.isabs(default)) and \
                _representable(default):
            assert node == default and type(node) is type(default), key
    with pytest.raises(AttributeError, match='does not exist'):
        ours.surely_not_a_setting = 1
    if section == '_inductor':      # a dict-valued setting is a value, not a section
        saved = ours.pre_grad_fusion_options
        ours.pre_grad_fusion_options = {'batch_linear': {}}
        assert ours.pre_grad_fusion_options == {'batch_linear': {}}
        ours.pre_grad_fusion_options = saved


def test_dynamo_functions_and_backends():
    def run(lib):
        f = lib.compile(lambda x: x * 2, backend='eager')
        g = lib._dynamo.optimize('inductor')(lambda x: x - 1)
        x = lib.ones(3, 4)
        lib._dynamo.mark_dynamic(x, 0)
        lib._dynamo.reset()
        return [lib._dynamo.list_backends(), lib.compiler.list_backends(),
                f(lib.ones(2)).tolist(), g(lib.ones(1)).tolist(), lib._dynamo.is_compiling(),
                lib._dynamo.disable(lambda: 5)()]
    _both(run)


def test_an_unknown_backend_is_refused():
    def run(lib):
        with pytest.raises(RuntimeError) as info:
            lib.compile(lambda x: x, backend='nonexistent_backend')
        return type(info.value).__name__, str(info.value)
    _both(run)


def test_inductor_config_and_logging_and_compiler_helpers():
    def run(lib):
        config = lib._inductor.config
        seen = [config.fallback_random, config.triton.cudagraphs, config.freezing,
                config.max_autotune]
        config.triton.cudagraphs = True
        seen.append(config.triton.cudagraphs)
        config.triton.cudagraphs = False
        lib._logging.set_logs(graph_breaks=True, recompiles=True)
        with lib.compiler.set_stance('force_eager'):
            seen.append(lib.compile(lambda x: x + 1)(lib.ones(1)).tolist())
        lib.compiler.cudagraph_mark_step_begin()
        seen.append(lib.compiler.wrap_numpy(lambda a: a * 2)(lib.ones(2)).tolist())
        return seen
    _both(run)


def test_set_default_tensor_type_warns_once_and_sets_the_dtype():
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            lib.set_default_tensor_type(lib.DoubleTensor)
            made = lib.ones(1).dtype == lib.float64
            lib.set_default_tensor_type('torch.FloatTensor')
        messages = [str(w.message).split(' (Triggered')[0] for w in caught
                    if 'set_default_tensor_type' in str(w.message)]
        return made, lib.get_default_dtype() == lib.float32, messages[:1]
    _both(run)


def test_other_backend_switches():
    def run(lib):
        b = lib.backends
        seen = [b.opt_einsum.is_available(), b.opt_einsum.enabled, b.opt_einsum.strategy,
                b.mkldnn.enabled]
        b.opt_einsum.strategy = 'greedy'
        seen.append(b.opt_einsum.strategy)
        b.opt_einsum.strategy = None
        with b.mkldnn.flags(enabled=False):
            seen.append(b.mkldnn.enabled)
        seen.append(b.mkldnn.enabled)
        return seen
    _both(run)


@pytest.mark.parametrize('name', ['torch.ComplexFloatTensor', 'torch.ComplexDoubleTensor',
                                  'torch.BoolTensor', 'ShortTensor', 'torch.FooTensor',
                                  'float64', 5])
def test_tensor_type_names(name):
    _both(lambda lib: str(lib.ones(2).type(name).dtype).split('.')[1])
