"""torch.utils.flop_counter.FlopCounterMode, torch.utils.module_tracker.ModuleTracker and
Variable._execution_engine.queue_callback against PyTorch: the same programs run under both
libraries' modes, and the totals, the per-module per-op counts and the printed tables must be
the same."""
import functools

import pytest

import nbgrad
import nbgrad.utils.flop_counter as nb_flop_counter
import nbgrad.utils.module_tracker as nb_module_tracker

torch = pytest.importorskip('torch')
import torch.utils.flop_counter as torch_flop_counter  # noqa: E402
import torch.utils.module_tracker as torch_module_tracker  # noqa: E402

LIBS = ((torch, torch_flop_counter), (nbgrad, nb_flop_counter))


def _mlp(lib):
    m = lib.nn.Sequential(lib.nn.Linear(8, 16), lib.nn.ReLU(),
                          lib.nn.Sequential(lib.nn.Linear(16, 4)))
    m(lib.randn(3, 8)).sum().backward()


def _cnn(lib):
    m = lib.nn.Sequential(lib.nn.Conv2d(1, 4, 3), lib.nn.ReLU(), lib.nn.Flatten(),
                          lib.nn.Linear(4 * 6 * 6, 10))
    lib.nn.functional.cross_entropy(m(lib.randn(5, 1, 8, 8)),
                                    lib.tensor([1, 2, 3, 4, 5])).backward()


def _reused_layer(lib):
    m, x = lib.nn.Linear(4, 4), lib.randn(2, 4)
    m(m(x)).sum().backward()


def _attention(lib, dims):
    q = lib.randn(*dims, requires_grad=True)
    lib.nn.functional.scaled_dot_product_attention(q, q, q).sum().backward()


def _mha(lib):
    m, x = lib.nn.MultiheadAttention(8, 2), lib.randn(5, 3, 8)
    m(x, x, x)[0].sum().backward()


def _leaf(lib, *shape):
    return lib.randn(*shape, requires_grad=True)


CASES = {
    'mlp': _mlp,
    'cnn': _cnn,
    'reused_layer': _reused_layer,
    'linear_1d': lambda lib: lib.nn.Linear(8, 6)(_leaf(lib, 8)).sum().backward(),
    'linear_1d_no_bias': lambda lib: lib.nn.Linear(8, 6, bias=False)(_leaf(lib, 8)).sum()
    .backward(),
    'linear_3d': lambda lib: lib.nn.Linear(8, 6)(_leaf(lib, 2, 5, 8)).sum().backward(),
    'linear_3d_not_contiguous': lambda lib: lib.nn.Linear(8, 6)(
        lib.randn(5, 2, 8).transpose(0, 1)).sum().backward(),
    'linear_4d_no_bias': lambda lib: lib.nn.Linear(8, 6, bias=False)(
        _leaf(lib, 2, 3, 5, 8)).sum().backward(),
    'mm': lambda lib: (_leaf(lib, 4, 5) @ _leaf(lib, 5, 3)).sum().backward(),
    'mm_one_grad': lambda lib: (lib.randn(4, 5) @ _leaf(lib, 5, 3)).sum().backward(),
    'bmm': lambda lib: lib.bmm(_leaf(lib, 2, 4, 5), _leaf(lib, 2, 5, 3)).sum().backward(),
    'stack_at_matrix': lambda lib: (_leaf(lib, 2, 4, 5) @ _leaf(lib, 5, 3)).sum().backward(),
    'matrix_at_stack': lambda lib: (_leaf(lib, 4, 5) @ _leaf(lib, 2, 5, 3)).sum().backward(),
    'broadcast_batches': lambda lib: (_leaf(lib, 3, 1, 4, 5) @ _leaf(lib, 2, 5, 3)).sum()
    .backward(),
    'vector_at_matrix': lambda lib: (_leaf(lib, 5) @ _leaf(lib, 5, 3)).sum().backward(),
    'matrix_at_vector': lambda lib: (_leaf(lib, 4, 5) @ _leaf(lib, 5)).sum().backward(),
    'addmm': lambda lib: lib.addmm(_leaf(lib, 3), _leaf(lib, 4, 5), _leaf(lib, 5, 3)).sum()
    .backward(),
    'baddbmm': lambda lib: lib.baddbmm(lib.randn(2, 4, 3), _leaf(lib, 2, 4, 5),
                                       _leaf(lib, 2, 5, 3), beta=0.5, alpha=2).sum().backward(),
    'addmv': lambda lib: lib.addmv(lib.randn(4), _leaf(lib, 4, 5), lib.randn(5)).sum()
    .backward(),
    'einsum_bmm': lambda lib: lib.einsum('bij,bjk->bik', _leaf(lib, 2, 4, 5),
                                         _leaf(lib, 2, 5, 3)).sum().backward(),
    'einsum_no_sum': lambda lib: lib.einsum('ij,ij->ij', _leaf(lib, 3, 4),
                                            lib.randn(3, 4)).sum().backward(),
    'conv2d': lambda lib: lib.nn.Conv2d(3, 8, 3, padding=1)(_leaf(lib, 2, 3, 8, 8)).sum()
    .backward(),
    'conv2d_groups_stride': lambda lib: lib.nn.Conv2d(4, 8, 3, groups=2, stride=2)(
        _leaf(lib, 2, 4, 9, 9)).sum().backward(),
    'conv1d_no_input_grad': lambda lib: lib.nn.Conv1d(3, 5, 3)(lib.randn(2, 3, 10)).sum()
    .backward(),
    'conv_transpose2d': lambda lib: lib.nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2)(
        _leaf(lib, 2, 4, 5, 5)).sum().backward(),
    'conv3d': lambda lib: lib.nn.Conv3d(2, 3, 2)(lib.randn(1, 2, 4, 4, 4)).sum().backward(),
    'sdpa_4d_fused': lambda lib: _attention(lib, (2, 4, 16, 8)),
    'sdpa_3d_math': lambda lib: _attention(lib, (4, 16, 8)),
    'multihead_attention': _mha,
    'no_grad_forward_only': lambda lib: lib.nn.Linear(8, 4)(lib.randn(3, 8)).detach(),
    'nothing': lambda lib: None,
    'millions': lambda lib: lib.randn(300, 400) @ lib.randn(400, 500),
}


def _counts(counter):
    return {module: {str(op): n for op, n in ops.items()}
            for module, ops in counter.get_flop_counts().items()}


@pytest.fixture
def tabulate_keeping_whitespace(monkeypatch):
    """PyTorch prints its table with `tabulate`, asking it (through a module flag newer
    tabulates ignore) to keep the modules' indentation; nbgrad draws the same table itself."""
    tabulate = pytest.importorskip('tabulate')
    monkeypatch.setattr(tabulate, 'tabulate',
                        functools.partial(tabulate.tabulate, preserve_whitespace=True))


@pytest.mark.parametrize('case', sorted(CASES))
def test_counts_and_table_match_torch(case, tabulate_keeping_whitespace):
    results = []
    for lib, flop_counter in LIBS:
        lib.manual_seed(0)
        with flop_counter.FlopCounterMode(display=False, depth=3) as counter:
            CASES[case](lib)
        results.append((counter.get_total_flops(), _counts(counter), counter.get_table(),
                        counter.get_table(depth=1)))
    assert results[1] == results[0]


def test_display_prints_the_table_at_exit(capsys, tabulate_keeping_whitespace):
    printed = []
    for lib, flop_counter in LIBS:
        lib.manual_seed(0)
        with flop_counter.FlopCounterMode():
            _mlp(lib)
        printed.append(capsys.readouterr().out)
    assert printed[1] == printed[0] and 'aten.addmm' in printed[0]


def test_keys_are_the_aten_ops_and_custom_mapping_replaces_a_formula():
    results = []
    for lib, flop_counter in LIBS:
        aten = lib.ops.aten
        with flop_counter.FlopCounterMode(display=False, custom_mapping={
                aten.mm: lambda a_shape, b_shape, *args, **kwargs: 7}) as counter:
            lib.randn(4, 5, requires_grad=True).mm(lib.randn(5, 3)).sum().backward()
            lib.addmm(lib.randn(3), lib.randn(4, 5), lib.randn(5, 3))
        counts = counter.get_flop_counts()['Global']
        results.append((counts[aten.mm], counts[aten.addmm], repr(aten.mm), str(aten.addmm),
                        repr(aten.bmm.default), aten.mm(lib.ones(2, 3), lib.ones(3, 1)).tolist()))
    assert results[1] == results[0]


def test_mods_argument_warns_and_counting_stops_at_exit():
    for lib, flop_counter in LIBS:
        model = lib.nn.Linear(3, 3)
        with pytest.warns(UserWarning, match='mods argument is not needed anymore'):
            counter = flop_counter.FlopCounterMode(model, display=False)
        with counter:
            y = model(lib.randn(2, 3))
        before = counter.get_total_flops()
        y.sum().backward()                          # (after the mode: not counted)
        model(lib.randn(2, 3))
        assert counter.get_total_flops() == before == 36


def test_module_tracker_parents_forward_and_backward():
    """Which modules are running, seen from a tensor hook and from inside forward, in both
    libraries; the set is reset when the backward ends."""
    logs = []
    for lib, tracker_module in ((torch, torch_module_tracker), (nbgrad, nb_module_tracker)):
        log = []

        class Probe(lib.nn.Module):
            def forward(self, x):
                log.append(('forward', sorted(tracker.parents), tracker.is_bw))
                return x * 2

        model = lib.nn.Sequential(lib.nn.Linear(3, 4), Probe(), lib.nn.Linear(4, 2))
        with tracker_module.ModuleTracker() as tracker:
            y = model(lib.randn(2, 3))
            hidden = model[0](lib.randn(2, 3))
            hidden.register_hook(lambda g: log.append(('hook', sorted(tracker.parents),
                                                       tracker.is_bw)))
            model[2](model[1](hidden)).sum().backward()
            y.sum().backward()
            log.append(('after', sorted(tracker.parents), tracker.is_bw))
        logs.append(log)
    assert logs[1] == logs[0]


def test_queue_callback_runs_after_the_backward():
    logs = []
    for lib in (torch, nbgrad):
        log = []
        x = lib.ones(2, requires_grad=True)

        def hook(grad):
            lib.autograd.Variable._execution_engine.queue_callback(
                lambda: log.append(('callback', x.grad is not None)))
            log.append('hook')
            return grad

        y = x * 2
        y.register_hook(hook)
        y.sum().backward()
        with pytest.raises(RuntimeError) as info:
            lib.autograd.Variable._execution_engine.queue_callback(print)
        log.append(str(info.value))
        logs.append(log)
    assert logs[1] == logs[0]


@pytest.mark.parametrize('case', ['double_backward', 'grad_of_one_input', 'bilinear',
                                  'matrix_needing_grad_at_stack', 'vector_needing_grad_at_stack',
                                  'strided_stack_at_matrix', 'linear_strided_constant_weight'])
def test_more_counts_match_torch(case):
    def run(lib):
        x, w = lib.randn(2, 3, requires_grad=True), lib.randn(3, 4, requires_grad=True)
        if case == 'double_backward':
            y = (x @ w).pow(2).sum()
            g, = lib.autograd.grad(y, x, create_graph=True)
            g.sum().backward()
        elif case == 'grad_of_one_input':
            lib.autograd.grad((x @ w).sum(), x)
        elif case == 'bilinear':
            lib.nn.Bilinear(3, 4, 5)(x, lib.randn(2, 4)).sum().backward()
        elif case == 'matrix_needing_grad_at_stack':
            (x @ lib.randn(5, 3, 4)).sum().backward()
        elif case == 'vector_needing_grad_at_stack':
            (lib.randn(3, requires_grad=True) @ lib.randn(5, 3, 4)).sum().backward()
        elif case == 'strided_stack_at_matrix':
            lib.randn(5, 2, 3).transpose(0, 1) @ lib.randn(3, 4)
        else:
            lib.nn.functional.linear(lib.randn(5, 2, 3).transpose(0, 1), lib.randn(4, 3),
                                     lib.randn(4))
    results = []
    for lib, flop_counter in LIBS:
        lib.manual_seed(0)
        with flop_counter.FlopCounterMode(display=False) as counter:
            run(lib)
        results.append((counter.get_total_flops(), _counts(counter)))
    assert results[1] == results[0]


def test_custom_mapping_for_another_aten_op_and_aten_names():
    """custom_mapping may give any aten op a formula (its shapes as PyTorch passes them);
    torch.ops.aten.<name> calls nbgrad's function of that name."""
    results = []
    for lib, flop_counter in LIBS:
        x = lib.ones(2, 3)
        seen = []

        def add_flops(a_shape, b_shape, *args, out_shape=None, **kwargs):
            seen.append((tuple(a_shape), tuple(b_shape), tuple(out_shape)))
            return 5
        with flop_counter.FlopCounterMode(display=False,
                                          custom_mapping={lib.ops.aten.add: add_flops}) as c:
            x + x
            x * x
        results.append((c.get_total_flops(), _counts(c), seen,
                        lib.ops.aten.add(x, x).tolist(), lib.ops.aten.add.Tensor(x, x).tolist()))
    assert results[1] == results[0]


def test_a_graph_built_before_the_mode_counts_its_backward():
    results = []
    for lib, flop_counter in LIBS:
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(4, 6), lib.nn.ReLU(), lib.nn.Linear(6, 2))
        conv = lib.nn.Conv2d(2, 3, 3, stride=2, padding=1)
        conv_t = lib.nn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1)
        x = lib.randn(3, 4, requires_grad=True)
        image = lib.randn(2, 2, 7, 7, requires_grad=True)
        loss = m(x).sum() + conv(image).sum() + conv_t(image).sum() + \
            (x @ lib.randn(4, 5)).sum() + \
            lib.einsum('ij,jk->ik', x, lib.randn(4, 3, requires_grad=True)).sum()
        with flop_counter.FlopCounterMode(display=False) as counter:
            loss.backward()
        results.append((counter.get_total_flops(), _counts(counter)))
    assert results[1] == results[0]
