"""nbgrad.profiler / nbgrad.autograd.profiler against PyTorch's profiler and hand counts.

The same code is profiled with torch and with nbgrad. Where nbgrad runs the same ops, the aten
names and call counts must agree; where it runs fewer (nbgrad fuses or computes on raw arrays),
the difference is spelled out in the test. Times are never compared, only the structure: names,
counts, nesting, table layout, shapes, bytes.
"""
import json
import re
from collections import Counter

import numpy as np
import pytest
import torch

import nbgrad
from nbgrad import _dispatch
from nbgrad.autograd.graph import AccumulateGrad, Node

EVAL = 'autograd::engine::evaluate_function: '
ACCUMULATE = 'torch::autograd::AccumulateGrad'


def _linear_step(lib, profile_kwargs=None):
    """Linear forward + backward + SGD step under lib.profiler.profile; returns the profile."""
    lib.manual_seed(0)
    model = lib.nn.Linear(4, 3)
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    x = lib.randn(2, 4)
    with lib.profiler.profile(**(profile_kwargs or {})) as prof:
        loss = model(x).sum()
        loss.backward()
        opt.step()
        opt.zero_grad()
    return prof


def _counts(prof):
    return Counter({e.key: e.count for e in prof.key_averages()})


# -- what is recorded -----------------------------------------------------------------------------

def test_linear_step_ops_and_counts_match_pytorch():
    ours = _counts(_linear_step(nbgrad))
    theirs = _counts(_linear_step(torch))
    # Hand count of nbgrad's run: linear and sum forward; the engine runs SumBackward0,
    # AddmmBackward0 and two AccumulateGrad nodes (weight, bias), each inside PyTorch's
    # evaluate_function range; SumBackward0 expands its gradient; then the optimizer's step
    # and zero_grad.
    expected = {'aten::linear': 1, 'aten::sum': 1, 'aten::expand': 1,
                EVAL + 'SumBackward0': 1, 'SumBackward0': 1,
                EVAL + 'AddmmBackward0': 1, 'AddmmBackward0': 1,
                EVAL + ACCUMULATE: 2, ACCUMULATE: 2,
                'Optimizer.step#SGD.step': 1, 'Optimizer.zero_grad#SGD.zero_grad': 1}
    assert dict(ours) == expected
    # Same names and counts as PyTorch, except (documented differences):
    #  - PyTorch's AddmmBackward0 sums the bias gradient with one more aten::sum, and its addmm
    #    expands the bias with one more aten::expand; nbgrad's Linear op and node compute on
    #    arrays (no op dispatched);
    #  - PyTorch's linear is t + addmm (+ a TBackward0 node); nbgrad's is one op;
    #  - PyTorch's view/as_strided/copy_/detach/resolve_conj helpers and SGD's aten::add_
    #    have no nbgrad counterpart (SGD updates the arrays in place).
    only_in_pytorch = {'aten::sum': 1, 'aten::expand': 1}
    for name, count in ours.items():
        assert name in theirs, name
        assert theirs[name] == count + only_in_pytorch.get(name, 0), name
    assert theirs[EVAL + 'TBackward0'] == 1 and EVAL + 'TBackward0' not in ours


def test_ops_named_as_pytorch_names_them():
    def run(lib):
        a = lib.ones(2, 3)
        b = lib.ones(3, 4)
        with lib.profiler.profile() as prof:
            c = lib.mm(a, b)
            d = c.relu()
            d.add_(1.0)
            lib.exp(d)
            d.mul(2)
        return [e.name for e in prof.events() if e.cpu_parent is None]
    assert run(nbgrad) == run(torch) == ['aten::mm', 'aten::relu', 'aten::add_', 'aten::exp',
                                         'aten::mul']


def test_backward_nodes_nest_their_ops():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        y = (x * x).sum()
        with lib.profiler.profile() as prof:
            y.backward()
        return {e.name: (e.cpu_parent.name if e.cpu_parent else None) for e in prof.events()}
    ours, theirs = run(nbgrad), run(torch)
    for name in ('SumBackward0', 'MulBackward0', ACCUMULATE):
        assert ours[name] == theirs[name] == EVAL + name
        assert ours[EVAL + name] is None
    # MulBackward0 multiplies the incoming gradient by the other factor: aten::mul inside it
    muls = [e for e in run_events(nbgrad) if e.name == 'aten::mul']
    assert muls and all(e.cpu_parent.name == 'MulBackward0' for e in muls)


def test_custom_function_ranges_match_pytorch():
    def run(lib):
        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2
        x = lib.ones(3, requires_grad=True)
        with lib.autograd.profiler.profile() as prof:
            Double.apply(x).sum().backward()
        return [(e.name, e.cpu_parent.name if e.cpu_parent else None)
                for e in prof.function_events if 'Double' in e.name or e.name == 'aten::mul']
    assert run(nbgrad) == run(torch) == [
        ('Double', None), ('aten::mul', 'Double'), (EVAL + 'DoubleBackward', None),
        ('DoubleBackward', EVAL + 'DoubleBackward'), ('aten::mul', 'DoubleBackward')]


def run_events(lib):
    x = lib.ones(3, requires_grad=True)
    y = (x * x).sum()
    with lib.profiler.profile() as prof:
        y.backward()
    return prof.events()


def test_record_function_nesting_matches_pytorch():
    def run(lib):
        x = lib.ones(2, 2)
        with lib.profiler.profile() as prof:
            with lib.profiler.record_function('outer'):
                with lib.profiler.record_function('inner'):
                    x + x
                x * x
        chains = {}
        for e in prof.events():
            chain, p = [], e.cpu_parent
            while p is not None:
                chain.append(p.name)
                p = p.cpu_parent
            chains[e.name] = chain
        return chains, {e.name: e.is_user_annotation for e in prof.events()}
    ours, ours_user = run(nbgrad)
    theirs, theirs_user = run(torch)
    for name in ('outer', 'inner', 'aten::add', 'aten::mul'):
        assert ours[name] == theirs[name], name
        assert ours_user[name] == theirs_user[name], name
    assert ours['aten::add'] == ['inner', 'outer']


def test_record_function_decorator_and_profile_decorator():
    def run(lib):
        @lib.profiler.record_function('my_fn')
        def f(x):
            return x + 1
        x = lib.ones(2)
        with lib.profiler.profile() as prof:
            f(x)
            f(x)
        return _counts(prof)
    assert run(nbgrad)['my_fn'] == run(torch)['my_fn'] == 2
    assert run(nbgrad)['aten::add'] == 2

    prof = nbgrad.profiler.profile()   # nbgrad's profile also decorates (PyTorch's does not)

    @prof
    def g():
        return nbgrad.ones(3).exp()
    g()
    assert _counts(prof)['aten::exp'] == 1


def test_self_time_is_total_minus_children():
    prof = _linear_step(nbgrad)
    events = prof.events()
    assert len(events) == 13     # the hand count of test_linear_step_ops_and_counts_match_pytorch
    for e in events:
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total
        children = sum(c.cpu_time_total for c in e.cpu_children)
        assert e.self_cpu_time_total == pytest.approx(e.cpu_time_total - children)
    # the footer total is the sum of self times: every nanosecond is counted once
    top = sum(e.cpu_time_total for e in events if e.cpu_parent is None)
    assert prof.key_averages().self_cpu_time_total == pytest.approx(top)


def test_input_shapes_with_record_shapes():
    def run(lib, **kwargs):
        a, b = lib.ones(2, 3), lib.ones(3, 4)
        with lib.profiler.profile(**kwargs) as prof:
            lib.mm(a, b)
            lib.mm(b.t(), a.t())
        return [e.input_shapes for e in prof.events() if e.name == 'aten::mm']
    assert run(nbgrad, record_shapes=True) == run(torch, record_shapes=True) == \
        [[[2, 3], [3, 4]], [[4, 3], [3, 2]]]
    assert run(nbgrad) == [[], []]


def test_group_by_input_shape():
    def run(lib, group):
        a, b = lib.ones(2, 3), lib.ones(3, 4)
        with lib.profiler.profile(record_shapes=True) as prof:
            lib.mm(a, b)
            lib.mm(a, b)
            lib.mm(b.t(), a.t())
        rows = prof.key_averages(group_by_input_shape=group)
        return sorted((e.count, str(e.input_shapes)) for e in rows if e.key == 'aten::mm')
    assert run(nbgrad, True) == run(torch, True) == \
        [(1, '[[4, 3], [3, 2]]'), (2, '[[2, 3], [3, 4]]')]
    assert run(nbgrad, False) == run(torch, False) == [(3, '')]


def test_memory_with_profile_memory():
    def run(lib):
        a, b = lib.ones(4, 4), lib.ones(4, 8)
        with lib.profiler.profile(profile_memory=True) as prof:
            with lib.profiler.record_function('block'):
                c = lib.mm(a, b)      # 4 x 8 float32: 128 bytes
                d = a + a             # 4 x 4 float32: 64 bytes
        del c, d
        return {e.name: (e.cpu_memory_usage, e.self_cpu_memory_usage) for e in prof.events()
                if e.name in ('aten::mm', 'aten::add', 'block')}
    ours, theirs = run(nbgrad), run(torch)
    assert ours == theirs == {'aten::mm': (128, 128), 'aten::add': (64, 64),
                              'block': (192, 0)}


_FLOP_CASES = {   # (PyTorch's op the count is on, nbgrad's op, the call)
    'conv2d': ('aten::conv2d', 'aten::convolution', lambda lib, F: F.conv2d(
        lib.ones(2, 4, 9, 7), lib.ones(6, 2, 3, 2), stride=(2, 1), padding=1, dilation=(1, 2),
        groups=2)),
    'linear': ('aten::addmm', 'aten::linear', lambda lib, F: F.linear(
        lib.ones(5, 7), lib.ones(3, 7), lib.ones(3))),
    'linear_3d': ('aten::mm', 'aten::linear', lambda lib, F: F.linear(
        lib.ones(2, 5, 7), lib.ones(3, 7))),
    'mm': ('aten::mm', 'aten::mm', lambda lib, F: lib.mm(lib.ones(4, 6), lib.ones(6, 3))),
    'bmm': ('aten::bmm', 'aten::bmm', lambda lib, F: lib.bmm(lib.ones(2, 4, 6),
                                                             lib.ones(2, 6, 3))),
    'matmul_batched': ('aten::bmm', 'aten::bmm', lambda lib, F: lib.ones(3, 4, 6)
                       @ lib.ones(3, 6, 5)),
    'addmm': ('aten::addmm', 'aten::addmm', lambda lib, F: lib.addmm(
        lib.ones(3), lib.ones(4, 6), lib.ones(6, 3), beta=2, alpha=0.5)),
    'baddbmm': ('aten::baddbmm', 'aten::baddbmm', lambda lib, F: lib.baddbmm(
        lib.ones(2, 4, 3), lib.ones(2, 4, 6), lib.ones(2, 6, 3))),
    'mul_add': (('aten::mul', 'aten::add'), ('aten::mul', 'aten::add'),
                lambda lib, F: lib.ones(4, 5) * 2 + lib.ones(5)),
}


@pytest.mark.parametrize('case', _FLOP_CASES)
def test_flops_counted_as_pytorch_counts_them(case):
    """with_flops=True: PyTorch's counts (the same number, where nbgrad's op is the composite
    one row above PyTorch's counted one); without it, none."""
    theirs_name, ours_name, call = _FLOP_CASES[case]

    def run(lib):
        with lib.profiler.profile(with_flops=True) as prof:
            call(lib, lib.nn.functional)
        return {e.key: e.flops for e in prof.key_averages() if e.flops}
    names = (theirs_name,) if isinstance(theirs_name, str) else theirs_name
    theirs = run(torch)
    ours = run(nbgrad)
    assert sum(theirs[n] for n in names) == sum(ours.values()) > 0
    assert set(ours) == set((ours_name,) if isinstance(ours_name, str) else ours_name)
    with nbgrad.profiler.profile() as prof:
        call(nbgrad, nbgrad.nn.functional)
    assert not any(e.flops for e in prof.key_averages())


_FLOP_TOTALS = {   # the profile's FLOPs, summed (nbgrad's ops differ from PyTorch's here)
    'scalar_first': lambda lib: (2 * lib.ones(3, 4), 1 + lib.ones(3, 4)),
    'vector_matrix': lambda lib: (lib.ones(4) @ lib.ones(4, 5), lib.ones(4) @ lib.ones(2, 4, 5)),
    'einsum_bmm': lambda lib: lib.einsum('bij,bjk->bik', lib.ones(2, 3, 4), lib.ones(2, 4, 5)),
    'einsum_outer': lambda lib: lib.einsum('i,j->ij', lib.ones(2), lib.ones(3)),
    'einsum_chain': lambda lib: lib.einsum('ij,jk,kl->il', lib.ones(3, 4), lib.ones(4, 5),
                                           lib.ones(5, 2)),
    'einsum_rowwise': lambda lib: lib.einsum('ij,ij->i', lib.ones(3, 4), lib.ones(3, 4)),
    'einsum_attention': lambda lib: lib.einsum('bhqd,bhkd->bhqk', lib.ones(2, 2, 3, 4),
                                               lib.ones(2, 2, 5, 4)),
    'sdpa_math_path': lambda lib: lib.nn.functional.scaled_dot_product_attention(
        *(lib.ones(2, 3, 4),) * 3),
    'sdpa_fused': lambda lib: lib.nn.functional.scaled_dot_product_attention(
        *(lib.ones(2, 2, 3, 4),) * 3, is_causal=True),
    'multihead_attention': lambda lib: lib.nn.MultiheadAttention(8, 2, batch_first=True)(
        *(lib.ones(2, 3, 8),) * 3, need_weights=False),
    'encoder_layer': lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True,
                                                                dropout=0.0)(lib.ones(2, 3, 8)),
}


@pytest.mark.parametrize('case', _FLOP_TOTALS)
def test_flop_totals_as_pytorchs(case):
    def run(lib):
        with lib.profiler.profile(with_flops=True) as prof:
            _FLOP_TOTALS[case](lib)
        return sum(e.flops for e in prof.key_averages())
    assert run(nbgrad) == run(torch)


_BACKWARD_FLOPS = {   # graphs whose backward runs products (PyTorch counts its aten::mm/bmm)
    'mlp': lambda lib: lib.nn.Sequential(lib.nn.Linear(8, 16), lib.nn.ReLU(), lib.nn.Linear(
        16, 4))(lib.ones(32, 8)).sum(),
    'mm_twice': lambda lib: (lib.ones(5, 3, requires_grad=True) @ lib.ones(3, 4)).sum(),
    'bmm': lambda lib: (lib.ones(4, 5, 6, requires_grad=True) @ lib.ones(4, 6, 3,
                                                                         requires_grad=True)).sum(),
    'conv': lambda lib: lib.nn.functional.conv2d(lib.ones(1, 2, 6, 6, requires_grad=True),
                                                 lib.ones(3, 2, 3, 3)).sum(),
    'mul': lambda lib: (lib.ones(32, 8, requires_grad=True) * lib.ones(8, requires_grad=True)
                        ).sum(),
}


@pytest.mark.parametrize('case', _BACKWARD_FLOPS)
def test_backward_flops_as_pytorchs(case):
    """A backward's products count as PyTorch's profiler counts them (on the node's own row in
    nbgrad, whose backward runs no separate aten::mm)."""
    def run(lib):
        loss = _BACKWARD_FLOPS[case](lib)
        with lib.profiler.profile(with_flops=True) as prof:
            loss.backward()
        return sum(e.flops for e in prof.key_averages())
    assert run(nbgrad) == run(torch)


def test_composite_calls_are_one_op_of_pytorchs_name():
    """torch.addmm, addcmul...: nbgrad composes them from several ops; the profile shows
    PyTorch's op (with its input shapes), the ops it is made of nested in it."""
    def run(lib):
        with lib.profiler.profile(record_shapes=True) as prof:
            lib.addmm(lib.ones(3), lib.ones(4, 6), lib.ones(6, 3))
            lib.addcmul(lib.ones(3), lib.ones(3), lib.ones(3), value=2)
        return {e.name: e for e in prof.events() if e.name in ('aten::addmm', 'aten::addcmul')}
    ours, theirs = run(nbgrad), run(torch)
    assert set(ours) == set(theirs) == {'aten::addmm', 'aten::addcmul'}
    for name, event in ours.items():
        shapes = [s for s in theirs[name].input_shapes if s]
        assert [s for s in event.input_shapes if s] == shapes
        assert event.cpu_children and event.cpu_parent is None
    assert {c.name for c in ours['aten::addmm'].cpu_children} >= {'aten::mm'}


_FACTORIES = {
    'zeros': lambda lib: lib.zeros(3, 4), 'ones_like': lambda lib: lib.ones_like(lib.empty(2)),
    'full': lambda lib: lib.full((2, 3), 7.0), 'arange': lambda lib: lib.arange(10),
    'linspace': lambda lib: lib.linspace(0, 1, 5), 'eye': lambda lib: lib.eye(3),
    'randn': lambda lib: lib.randn(4, 5), 'rand_like': lambda lib: lib.rand_like(lib.empty(3)),
    'randint': lambda lib: lib.randint(0, 5, (3,)), 'randperm': lambda lib: lib.randperm(6),
    'normal': lambda lib: lib.normal(0.0, 1.0, (3,)),
    'new_zeros': lambda lib: lib.empty(1).new_zeros(4),
}


@pytest.mark.parametrize('case', _FACTORIES)
def test_factories_are_ops_with_their_memory(case):
    """torch.zeros, randn...: one op of PyTorch's name at the top of the profile, its output's
    bytes its memory."""
    def run(lib):
        with lib.profiler.profile(profile_memory=True) as prof:
            out = _FACTORIES[case](lib)
        top = [e for e in prof.events() if e.cpu_parent is None and e.name != '[memory]']
        return [e.name for e in top], top[-1].cpu_memory_usage, out.nbytes
    (ours, ours_bytes, size), (theirs, theirs_bytes, _) = run(nbgrad), run(torch)
    assert ours[-1] == theirs[-1] == 'aten::' + case
    assert ours_bytes == theirs_bytes == size


def test_flops_column_as_pytorchs_table():
    def lines(lib):
        with lib.profiler.profile(with_flops=True) as prof:
            lib.mm(lib.ones(40, 60), lib.ones(60, 30))
        table = prof.key_averages().table(sort_by='flops')
        return [line for line in table.splitlines() if 'FLOPs' in line or 'aten::mm' in line]
    ours, theirs = lines(nbgrad), lines(torch)
    assert [line.split()[-1] for line in ours] == [line.split()[-1] for line in theirs]
    assert ours[0].split()[-2:] == theirs[0].split()[-2:] == ['Total', 'KFLOPs']


# -- the table ------------------------------------------------------------------------------------

def _table_lines(prof, **kwargs):
    return prof.key_averages().table(**kwargs).rstrip('\n').split('\n')


@pytest.mark.parametrize('kwargs', [{}, {'profile_memory': True}])
def test_table_header_and_footer_identical_to_pytorch(kwargs):
    # both runs contain the 66-character AccumulateGrad range name, so the name column is at
    # its 55-character maximum in both, and the header lines can be compared character for
    # character
    ours = _table_lines(_linear_step(nbgrad, kwargs), sort_by='cpu_time_total')
    theirs = _table_lines(_linear_step(torch, kwargs), sort_by='cpu_time_total')
    assert ours[:3] == theirs[:3]
    assert ours[-2] == theirs[-2] == ours[0]
    footer = re.compile(r'^Self CPU time total: \d+\.\d{3}(us|ms|s)$')
    assert footer.match(ours[-1]) and footer.match(theirs[-1])


def _row_pattern(separator, memory=False, shapes=False):
    """A regex for a data row from a table's separator line (column widths) and contents."""
    widths = [len(c) for c in separator.split('  ') if c]
    time = r'\d+\.\d{3}(us|ms|s)'
    percent = r'(\d+\.\d{2}%|NaN)'
    fields = [r'.+', percent, time, percent, time, time]
    if memory:
        fields += [r'-?\d+(\.\d{2} [KMG])? ?B', r'-?\d+(\.\d{2} [KMG])? ?B']
    fields.append(r'\d+')
    if shapes:
        fields.append(r'\[.*\]')
    assert len(fields) == len(widths)
    cells = [rf'(?=.{{{w}}}  ) *{f}  ' for w, f in zip(widths, fields)]
    return re.compile('^' + ''.join(cells) + '$')


@pytest.mark.parametrize('memory,shapes', [(False, False), (True, False), (True, True)])
def test_table_rows_have_pytorch_layout(memory, shapes):
    kwargs = {'profile_memory': memory, 'record_shapes': shapes}
    for lib in (torch, nbgrad):   # the pattern is checked on PyTorch's rows too
        prof = _linear_step(lib, kwargs)
        lines = prof.key_averages(group_by_input_shape=shapes).table().split('\n')
        pattern = _row_pattern(lines[0], memory, shapes)
        rows = lines[3:-3]
        assert rows and all(pattern.match(r) for r in rows), (lib.__name__, rows)
        if shapes:
            assert lines[1].rstrip().endswith('# of Calls      Input Shapes') or \
                lines[1].rstrip().endswith('Input Shapes')


def test_table_time_and_memory_formats():
    from nbgrad.autograd.profiler_util import _format_memory, _format_time
    from torch.autograd.profiler_util import _format_memory as t_memory
    from torch.autograd.profiler_util import _format_time as t_time
    for us in (0.0, 0.5, 56.0, 999.9994, 1234.0, 2.5e6):
        assert _format_time(us) == t_time(us)
    for nbytes in (0, 12, 1023, 1024, 5000, 3 * 1024 ** 2, -2048, 5 * 1024 ** 3):
        assert _format_memory(nbytes) == t_memory(nbytes)


def test_sort_by_and_row_limit():
    prof = _linear_step(nbgrad)
    lines = _table_lines(prof, sort_by='count', row_limit=3)
    rows = lines[3:-2]
    assert len(rows) == 3
    # hand count: only the AccumulateGrad ranges run twice; they lead, in recording order
    assert rows[0].split()[-1] == rows[1].split()[-1] == '2'
    assert rows[0].strip().startswith('autograd::engine::evaluate_function: torch::auto')
    assert rows[1].strip().startswith(ACCUMULATE)
    for key in ('cpu_time_total', 'self_cpu_time_total', 'cpu_memory_usage',
                'cuda_time_total', 'self_cpu_memory_usage'):
        averages = prof.key_averages()
        lines = _table_lines(prof, sort_by=key, max_name_column_width=None)
        width = len(lines[0].split('  ')[0])
        names = [row[:width].strip() for row in lines[3:-2]]
        attribute = key.replace('cuda', 'device')
        expected = [e.key for e in sorted(averages, key=lambda e: getattr(e, attribute),
                                          reverse=True)]
        assert names == expected


def test_header_argument_and_top_level_events_only():
    prof = _linear_step(nbgrad)
    lines = _table_lines(prof, header='MY HEADER', top_level_events_only=True)
    assert lines[0] == '=' * len(lines[2]) and lines[1] == 'MY HEADER'
    assert lines[3] == 'This report only display top-level ops statistics'
    assert lines[4] == lines[6] == lines[-2]
    names = {r[:55].strip() for r in lines[7:-2]}
    # names of 52 characters or more are cut to 52 and '...' (PyTorch's rule)
    assert names == {'aten::linear', 'aten::sum', EVAL + 'SumBackward0',
                     EVAL + 'AddmmBackward0', (EVAL + ACCUMULATE)[:52] + '...',
                     'Optimizer.step#SGD.step', 'Optimizer.zero_grad#SGD.zero_grad'}


# -- schedule and step ---------------------------------------------------------------------------

def _scheduled_run(lib, **schedule_args):
    cycles = []

    def ready(prof):
        cycles.append(sorted(e.trace_name for e in prof.events()
                             if e.trace_name.startswith('ProfilerStep')))
    sched = lib.profiler.schedule(**schedule_args)
    x = lib.ones(2)
    with lib.profiler.profile(schedule=sched, on_trace_ready=ready) as prof:
        for _ in range(9):
            x + 1
            prof.step()
    return cycles, [sched(i).name for i in range(9)]


@pytest.mark.parametrize('args', [dict(wait=1, warmup=1, active=2),
                                  dict(wait=1, warmup=1, active=2, repeat=1),
                                  dict(wait=0, warmup=1, active=1, skip_first=2),
                                  dict(wait=2, warmup=1, active=1, skip_first=1,
                                       skip_first_wait=1)])
def test_schedule_and_step_match_pytorch(args):
    ours, theirs = _scheduled_run(nbgrad, **args), _scheduled_run(torch, **args)
    assert ours == theirs
    assert ours[0]    # at least one cycle was recorded


def test_profiler_step_grouped_as_pytorch():
    def run(lib):
        x = lib.ones(2)
        sched = lib.profiler.schedule(wait=0, warmup=1, active=3, repeat=1)
        with lib.profiler.profile(schedule=sched) as prof:
            for _ in range(5):
                x + 1
                prof.step()
        return sorted((e.key, e.count) for e in prof.key_averages()
                      if e.key in ('ProfilerStep*', 'aten::add'))
    assert run(nbgrad) == run(torch) == [('ProfilerStep*', 3), ('aten::add', 3)]


def test_schedule_argument_errors_match_pytorch():
    for bad in (dict(wait=-1, warmup=1, active=1), dict(wait=0, warmup=1, active=0)):
        with pytest.raises(AssertionError) as ours:
            nbgrad.profiler.schedule(**bad)
        with pytest.raises(AssertionError) as theirs:
            torch.profiler.schedule(**bad)
        assert str(ours.value) == str(theirs.value)


# -- chrome trace ---------------------------------------------------------------------------------

def test_chrome_trace_is_valid_and_nested(tmp_path):
    prof = _linear_step(nbgrad, {'record_shapes': True})
    path = tmp_path / 'trace.json'
    prof.export_chrome_trace(str(path))
    data = json.loads(path.read_text())
    spans = [e for e in data['traceEvents'] if e['ph'] == 'X']
    assert sorted(e['name'] for e in spans) == sorted(e.trace_name for e in prof.events())
    for e in spans:
        assert {'name', 'ph', 'ts', 'dur', 'pid', 'tid', 'args'} <= set(e)
        assert e['dur'] >= 0
    by_thread = {}
    for e in spans:
        by_thread.setdefault(e['tid'], []).append((e['ts'], e['ts'] + e['dur']))
    for intervals in by_thread.values():   # any two spans of a track: disjoint or nested
        for a0, a1 in intervals:
            for b0, b1 in intervals:
                assert a1 <= b0 or b1 <= a0 or (a0 <= b0 and b1 <= a1) or \
                    (b0 <= a0 and a1 <= b1)
    linear = next(e for e in spans if e['name'] == 'aten::linear')
    assert linear['args']['Input Dims'] == [[2, 4], [3, 4], [3]]
    assert not list(tmp_path.glob('.trace-*'))   # written atomically: no temporary left


def test_results_before_the_profile_ends_are_empty(tmp_path):
    """Inside the block the session is still recording: PyTorch's profile has no events yet
    (an empty list) and no trace to export (AttributeError)."""
    for lib in (torch, nbgrad):
        with lib.autograd.profiler.profile() as prof:
            assert list(prof.key_averages()) == []
            with pytest.raises(AttributeError):
                prof.export_chrome_trace(str(tmp_path / 't.json'))
    never = nbgrad.profiler.profile()
    with pytest.raises(AssertionError) as ours:
        never.export_chrome_trace(str(tmp_path / 't.json'))
    with pytest.raises(AssertionError) as theirs:
        torch.profiler.profile().export_chrome_trace(str(tmp_path / 't.json'))
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(AssertionError) as ours:
        never.key_averages()
    with pytest.raises(AssertionError) as theirs:
        torch.profiler.profile().key_averages()
    assert str(ours.value) == str(theirs.value)


def test_a_nested_profile_takes_the_session_over_as_in_pytorch():
    """PyTorch keeps one recording session: an inner profile takes it over (and records its
    own ops), the outer one ends with nothing; a profile is still not reentrant."""
    names = {}
    for lib in (torch, nbgrad):
        with lib.profiler.profile() as outer:
            lib.ones(2) + 1
            with lib.profiler.profile() as inner:
                lib.ones(3) * 2
        names[lib] = ([e.name for e in outer.events()],
                      'aten::mul' in {e.name for e in inner.events()})
    assert names[nbgrad] == names[torch] == ([], True)
    prof = nbgrad.autograd.profiler.profile()
    with prof:
        with pytest.raises(RuntimeError, match='Profiler context manager is not reentrant'):
            prof.__enter__()


def test_nothing_stays_installed_after_profiling():
    apply_before = {cls: cls.__dict__['_apply_backward'] for cls in (Node, AccumulateGrad)}
    _linear_step(nbgrad, {'with_modules': True})
    assert _dispatch._observers == []
    assert Node._direct is True
    assert {cls: cls.__dict__['_apply_backward'] for cls in apply_before} == apply_before
    from nbgrad.nn.modules import module
    assert not module._global_hooks_present()


# -- modules ---------------------------------------------------------------------------------------

def test_module_ranges_with_modules():
    net = nbgrad.nn.Sequential(nbgrad.nn.Linear(4, 8), nbgrad.nn.ReLU(), nbgrad.nn.Linear(8, 2))
    x = nbgrad.randn(3, 4)
    with nbgrad.profiler.profile(with_modules=True) as prof:
        net(x).sum().backward()
    parents = {e.name: e.cpu_parent.name if e.cpu_parent else None for e in prof.events()
               if e.name.startswith('nn.Module') or e.name in ('aten::linear', 'aten::relu')}
    assert parents['nn.Module: Sequential_0'] is None
    assert parents['nn.Module: Linear_0'] == 'nn.Module: Sequential_0'
    assert parents['nn.Module: ReLU_1'] == 'nn.Module: Sequential_0'
    assert parents['aten::relu'] == 'nn.Module: ReLU_1'
    backward = [e for e in prof.events() if e.name.endswith('(backward)')]
    assert sorted(e.name for e in backward) == [
        'nn.Module: Linear_0 (backward)', 'nn.Module: Linear_2 (backward)',
        'nn.Module: ReLU_1 (backward)', 'nn.Module: Sequential_0 (backward)']
    assert all(e.is_async for e in backward)
    # without with_modules (PyTorch's default) no module ranges
    with nbgrad.profiler.profile() as prof:
        net(x)
    assert not any(e.name.startswith('nn.Module') for e in prof.events())


def test_with_modules_leaves_the_graph_as_it_is():
    """Module ranges need no backward hooks: an in-place op on a module's output
    (ReLU(inplace=True)) works and grad_fns are the usual ones, as in PyTorch; each module
    call still gets its backward range, spanning its ops' backward nodes."""
    def run(lib):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(inplace=True),
                                lib.nn.Linear(8, 2))
        with lib.profiler.profile(with_modules=True) as prof:
            y = net(lib.randn(3, 4))
            name = type(y.grad_fn).__name__
            y.sum().backward()
        return name, net[0].weight.grad, prof
    name, grad, prof = run(nbgrad)
    torch_name, torch_grad, _ = run(torch)
    assert name == torch_name == 'AddmmBackward0'
    np.testing.assert_allclose(grad.numpy(), torch_grad.numpy(), rtol=1e-6)
    backward = {e.name: e for e in prof.events() if e.name.endswith('(backward)')}
    assert sorted(backward) == ['nn.Module: Linear_0 (backward)', 'nn.Module: Linear_2 (backward)',
                                'nn.Module: ReLU_1 (backward)', 'nn.Module: Sequential_0 (backward)']
    nodes = [e for e in prof.events() if e.name == 'AddmmBackward0']
    whole = backward['nn.Module: Sequential_0 (backward)']
    assert all(whole.time_range.start <= n.time_range.start and
               n.time_range.end <= whole.time_range.end for n in nodes)


def test_flops_of_events_are_numbers():
    with nbgrad.profiler.profile(with_flops=True) as prof:
        nbgrad.ones(2, 3) @ nbgrad.ones(3, 4)
        nbgrad.ones(2).sum()
    assert sum(e.flops for e in prof.events()) == 2 * 2 * 3 * 4
    assert 'aten::mm' in prof.events().table(sort_by='flops')


def test_a_module_called_from_its_grandparent_is_named_by_its_path():
    class Net(nbgrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.block = nbgrad.nn.Sequential(nbgrad.nn.Linear(4, 4), nbgrad.nn.Tanh())

        def forward(self, x):
            return self.block[1](self.block[0](x))      # the grandchildren, directly
    net = Net()
    with nbgrad.profiler.profile(with_modules=True) as prof:
        net(nbgrad.randn(2, 4))
    names = {e.name for e in prof.events() if e.name.startswith('nn.Module')}
    # the paths are those of net.named_modules()
    assert names == {'nn.Module: Net_0', 'nn.Module: Linear_block.0', 'nn.Module: Tanh_block.1'}
    assert {path for path, _ in net.named_modules()} == {'', 'block', 'block.0', 'block.1'}


# -- CUDA -----------------------------------------------------------------------------------------

def test_device_time_columns(device):
    model = nbgrad.nn.Linear(4, 3).to(device)
    x = nbgrad.randn(2, 4, device=device)
    with nbgrad.profiler.profile(profile_memory=True) as prof:
        model(x).relu().sum().backward()
    header = _table_lines(prof)[1].split('  ')
    header = [h.strip() for h in header if h.strip()]
    if device == 'cpu':
        assert 'Self CUDA' not in header
        return
    # PyTorch's column order when device time is present (torch.autograd.profiler_util)
    assert header == ['Name', 'Self CPU %', 'Self CPU', 'CPU total %', 'CPU total',
                      'CPU time avg', 'Self CUDA', 'Self CUDA %', 'CUDA total',
                      'CUDA time avg', 'CPU Mem', 'Self CPU Mem', 'CUDA Mem', 'Self CUDA Mem',
                      '# of Calls']
    averages = {e.key: e for e in prof.key_averages()}
    for op in ('aten::linear', 'aten::relu', 'aten::sum'):
        assert averages[op].device_time_total > 0
        assert averages[op].self_device_time_total == averages[op].device_time_total
    node = averages['ReluBackward0']        # a node's device time is its ops'
    assert node.self_device_time_total == 0 and node.device_time_total > 0
    assert averages['aten::linear'].device_memory_usage == 2 * 3 * 4
    assert _table_lines(prof)[-1].startswith('Self CUDA time total: ')


def test_chrome_trace_has_a_gpu_track(device, tmp_path):
    if device != 'cuda':
        pytest.skip('GPU track only on CUDA')
    x = nbgrad.ones(8, 8, device=device)
    with nbgrad.profiler.profile() as prof:
        (x @ x).relu()
    prof.export_chrome_trace(str(tmp_path / 't.json'))
    spans = [e for e in json.loads((tmp_path / 't.json').read_text())['traceEvents']
             if e['ph'] == 'X']
    kernels = [e['name'] for e in spans if e.get('cat') == 'kernel']
    assert kernels == ['aten::mm', 'aten::relu']     # (nbgrad's @ of two matrices is one mm)
