"""nbgrad's IPython extension driven through a real InteractiveShell: %load_ext/%unload_ext/
%reload_ext, %%model (namespace effects, summary output, errors), %nbgrad, per-cell profiling and
%%profile. Numbers are checked against PyTorch where it has them (parameter counts, seeded RNG).
"""
import hashlib
import json
import re

import numpy as np
import pytest

pytest.importorskip('IPython')
from IPython.core.error import UsageError  # noqa: E402
from IPython.terminal.interactiveshell import TerminalInteractiveShell  # noqa: E402
from IPython.testing.globalipapp import start_ipython  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

import nbgrad  # noqa: E402

requires_no_cuda = pytest.mark.skipif(nbgrad.cuda.is_available(), reason='CUDA is available')


@pytest.fixture
def ip():
    start_ipython()
    shell = TerminalInteractiveShell.instance()
    before = set(shell.user_ns)
    callbacks = {event: list(shell.events.callbacks[event])
                 for event in ('pre_run_cell', 'post_run_cell')}
    shell.run_line_magic('load_ext', 'nbgrad')
    yield shell
    shell.run_line_magic('unload_ext', 'nbgrad')
    for name in set(shell.user_ns) - before:
        del shell.user_ns[name]
    nbgrad.set_default_device(None)
    nbgrad.set_default_dtype(nbgrad.float32)
    assert {event: shell.events.callbacks[event] for event in callbacks} == callbacks


def namespace(shell):
    """The user's own names and their objects (IPython's history variables aside)."""
    return {k: id(v) for k, v in shell.user_ns.items()
            if not k.startswith('_') and k not in ('In', 'Out')}


def run(shell, source):
    with capture_output() as captured:
        result = shell.run_cell(source, store_history=False)
    return result, captured


def texts(captured):
    return [output.data['text/plain'] for output in captured.outputs]


def nbgrad_callbacks(shell):
    return [cb for event in ('pre_run_cell', 'post_run_cell')
            for cb in shell.events.callbacks[event]
            if getattr(getattr(cb, '__self__', None), '__module__', '').startswith('nbgrad.')]


# -- the extension ----------------------------------------------------------------------------

def test_load_registers_the_magics_and_no_callback(ip):
    manager = ip.magics_manager
    assert manager.magics['cell']['model'].__self__.__class__.__name__ == 'NbgradMagics'
    assert 'profile' in manager.magics['cell'] and 'nbgrad' in manager.magics['line']
    assert nbgrad_callbacks(ip) == []


def test_unload_removes_magics_and_every_callback(ip):
    ip.run_line_magic('nbgrad', 'profile on')
    assert len(nbgrad_callbacks(ip)) == 2
    ip.run_line_magic('unload_ext', 'nbgrad')
    magics = ip.magics_manager.magics
    assert 'model' not in magics['cell'] and 'profile' not in magics['cell']
    assert 'nbgrad' not in magics['line']
    assert 'NbgradMagics' not in ip.magics_manager.registry
    assert nbgrad_callbacks(ip) == []
    # a load/unload cycle leaves IPython's tables exactly as they were
    tables = {kind: dict(table) for kind, table in magics.items()}
    ip.run_line_magic('load_ext', 'nbgrad')
    ip.run_line_magic('unload_ext', 'nbgrad')
    assert {kind: dict(table) for kind, table in magics.items()} == tables
    with pytest.raises(UsageError, match='not found'):
        ip.run_cell_magic('model', 'm', 'ReLU()')


def test_reload_does_not_register_hooks_twice(ip):
    ip.run_line_magic('nbgrad', 'profile on')
    ip.run_line_magic('nbgrad', 'profile on')        # twice: still one pair
    assert len(nbgrad_callbacks(ip)) == 2
    ip.run_line_magic('reload_ext', 'nbgrad')
    assert nbgrad_callbacks(ip) == []                 # profiling is off after a reload
    ip.run_line_magic('nbgrad', 'profile on')
    assert len(nbgrad_callbacks(ip)) == 2
    ip.run_cell_magic('model', 'after_reload', 'Linear(2, 3)')
    assert isinstance(ip.user_ns['after_reload'], nbgrad.nn.Sequential)
    ip.run_line_magic('nbgrad', 'profile off')


def test_reload_keeps_every_engine_function(ip):
    # %reload_ext re-runs nbgrad/__init__.py, whose last lines wrap functions and Tensor methods
    # (NumPy aliases, out=, autocast entries) once: after a reload every public name is the
    # same object as before (not the bare function again, nor a second layer of wrapping)
    before = {name: value for name, value in vars(nbgrad).items() if name[:1] != '_'}
    methods = dict(vars(nbgrad.Tensor))
    for _ in range(2):
        ip.run_line_magic('reload_ext', 'nbgrad')
    changed = [name for name, value in before.items() if getattr(nbgrad, name) is not value
               and getattr(value, '__module__', None) != 'nbgrad']   # (defined in the file)
    assert changed == [] and dict(vars(nbgrad.Tensor)) == methods
    x = nbgrad.ones(2, 3)
    out = nbgrad.empty(2)
    assert nbgrad.sum(x, axis=1, out=out) is out and out.tolist() == [3.0, 3.0]


def test_loading_twice_directly_keeps_one_registration(ip):
    from nbgrad.magics import load_ipython_extension
    ip.run_line_magic('nbgrad', 'profile on')
    load_ipython_extension(ip)
    load_ipython_extension(ip)
    assert nbgrad_callbacks(ip) == []
    assert list(ip.magics_manager.registry).count('NbgradMagics') == 1


def test_help_for_every_magic(ip):
    result, captured = run(ip, '%%model?')
    assert result.success
    assert '%%model [--input SHAPE [SHAPE ...]]' in captured.stdout and '--seed SEED' in captured.stdout
    result, captured = run(ip, '%%profile?')
    assert '%%profile [--sort KEY] [--limit N] [--trace FILE]' in captured.stdout
    result, captured = run(ip, '%nbgrad?')
    assert '%nbgrad' in captured.stdout and 'profile on' in captured.stdout


# -- %%model: list form -------------------------------------------------------------------------

MLP = 'Flatten()\nLinear(784, hidden)\nReLU()\nLinear(hidden, 10)\n'


def test_list_form_binds_a_sequential_using_the_users_names(ip):
    ip.user_ns['hidden'] = 128
    with capture_output() as captured:
        result = ip.run_cell_magic('model', 'mlp', MLP)
    assert result is None
    model = ip.user_ns['mlp']
    assert isinstance(model, nbgrad.nn.Sequential)
    assert [type(m).__name__ for m in model] == ['Flatten', 'Linear', 'ReLU', 'Linear']
    assert model[1].out_features == 128
    assert len(captured.outputs) == 1
    assert 'Total params: 101,770' in texts(captured)[0]


def test_input_shows_the_summary_with_torchs_counts(ip):
    torch = pytest.importorskip('torch')
    ip.user_ns['hidden'] = 128
    with capture_output() as captured:
        ip.run_cell_magic('model', 'mlp --input 32,784', MLP)
    reference = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 128),
                                    torch.nn.ReLU(), torch.nn.Linear(128, 10))
    expected = sum(p.numel() for p in reference.parameters())
    (text,) = texts(captured)
    assert f'Total params: {expected:,}' in text
    assert '├─Linear: 1-2                            [32, 128]                 100,480' in text
    assert reference(torch.zeros(32, 784)).shape == (32, 10)
    assert text.splitlines()[3].startswith('Sequential                               [32, 10]')
    assert 'Input size (MB): 0.10' in text
    html = captured.outputs[0].data['text/html']
    assert html.startswith('<pre') and 'Total params: 101,770' in html


@pytest.mark.parametrize('shape', ['32,784', '"(32, 784)"', '[32,784]', '(32, 784)', '784'])
def test_input_shape_spellings(ip, shape):
    with capture_output() as captured:
        ip.run_cell_magic('model', f'm --input {shape}', 'Linear(784, 3)')
    assert ('[3]' if shape == '784' else '[32, 3]') in texts(captured)[0]


def test_seed_makes_the_weights_reproducible(ip):
    ip.run_cell_magic('model', 'a --seed 3', 'Linear(5, 4)\nTanh()\nLinear(4, 2);')
    nbgrad.manual_seed(3)
    b = nbgrad.nn.Sequential(nbgrad.nn.Linear(5, 4), nbgrad.nn.Tanh(), nbgrad.nn.Linear(4, 2))
    for p, q in zip(ip.user_ns['a'].parameters(), b.parameters()):
        assert nbgrad.equal(p, q)


def test_seeded_weights_equal_pytorchs(ip):
    torch = pytest.importorskip('torch')
    ip.run_cell_magic('model', 'a --seed 7', 'Linear(6, 3);')
    torch.manual_seed(7)
    reference = torch.nn.Linear(6, 3)
    np.testing.assert_array_equal(ip.user_ns['a'][0].weight.detach().numpy(),
                                  reference.weight.detach().numpy())


def test_named_layers(ip):
    ip.run_cell_magic('model', 'net', 'fc1 = Linear(4, 3)\nReLU()\nhead = Linear(3, 1);')
    net = ip.user_ns['net']
    assert [name for name, _ in net.named_children()] == ['fc1', '1', 'head']
    assert net.head.in_features == 3


def test_trailing_semicolon_silences_and_o_returns_the_model(ip):
    with capture_output() as captured:
        result = ip.run_cell_magic('model', 'm', 'Linear(2, 2);')
    assert captured.outputs == [] and captured.stdout == '' and result is None
    with capture_output() as captured:
        result = ip.run_cell_magic('model', 'm2 -o', 'Linear(2, 2)')
    assert result is ip.user_ns['m2'] and len(captured.outputs) == 1
    with capture_output() as captured:
        result = ip.run_cell_magic('model', 'm3 -o', 'Linear(2, 2);')
    assert result is None and captured.outputs == []
    assert isinstance(ip.user_ns['m3'], nbgrad.nn.Module)


def test_semicolon_through_run_cell(ip):
    result, captured = run(ip, '%%model quiet\nReLU();')
    assert result.success and captured.outputs == [] and captured.stdout == ''
    result, captured = run(ip, '%%model shown -o\nReLU()')
    assert result.success and len(captured.outputs) == 1
    assert 'Sequential(' in captured.stdout          # the returned model as the cell's value


def test_dtype_and_device_options(ip):
    with capture_output() as captured:
        ip.run_cell_magic('model', 'm --input 4,3 --dtype float64 --device cpu', 'Linear(3, 2)')
    model = ip.user_ns['m']
    assert model[0].weight.dtype == nbgrad.float64 and model[0].weight.device.type == 'cpu'
    assert 'Input size (MB): 0.00' in texts(captured)[0]
    assert model(nbgrad.zeros(1, 3, dtype=nbgrad.float64)).dtype == nbgrad.float64


def test_input_dtype_for_an_embedding(ip):
    with capture_output() as captured:
        ip.run_cell_magic('model', 'emb --input 2,5 --input-dtype int64',
                          'Embedding(10, 4)\nFlatten()\nLinear(20, 1)')
    assert '[2, 5, 4]' in texts(captured)[0] and '[2, 1]' in texts(captured)[0]


def test_several_inputs_and_user_layers(ip):
    ip.run_cell('''
import nbgrad
class Concat(nbgrad.nn.Module):
    def forward(self, a, b):
        return nbgrad.cat([a, b], dim=1)
''', store_history=False)
    body = ('cat = Concat()\nfc = Linear(15, 2)\n'
            'def forward(self, a, b):\n    return self.fc(self.cat(a, b))\n')
    with capture_output() as captured:
        ip.run_cell_magic('model', 'two --input "(4, 10), (4, 5)"', body)
    text = texts(captured)[0]
    assert '├─Concat: 1-1                            [4, 15]' in text
    assert 'Input size (MB): 0.00' in text


# -- %%model: class form ------------------------------------------------------------------------

CLASS_BODY = '''\
"""Two layers."""
fc1 = Linear(784, hidden)
fc2 = Linear(hidden, 10)

def forward(self, x):
    x = F.relu(self.fc1(x))
    return torch.log_softmax(self.fc2(x), dim=1)
'''


def test_class_form_binds_an_instance_and_its_class(ip):
    ip.user_ns['hidden'] = 32
    ip.run_cell_magic('model', 'mlp --input 8,784', CLASS_BODY + ';')
    mlp, Mlp = ip.user_ns['mlp'], ip.user_ns['Mlp']
    assert type(mlp) is Mlp and issubclass(Mlp, nbgrad.nn.Module)
    assert Mlp.__name__ == Mlp.__qualname__ == 'Mlp' and Mlp.__doc__ == 'Two layers.'
    assert [name for name, _ in mlp.named_children()] == ['fc1', 'fc2']
    out = mlp(nbgrad.randn(3, 784))
    assert out.shape == (3, 10)
    assert nbgrad.allclose(out.exp().sum(dim=1), nbgrad.ones(3))
    other = Mlp()                                   # the class makes fresh layers
    assert other.fc1 is not mlp.fc1 and other.fc1.weight.shape == (32, 784)
    assert 'F' not in ip.user_ns and 'Linear' not in ip.user_ns and 'torch' not in ip.user_ns


def test_class_form_methods_see_the_live_user_namespace(ip):
    ip.user_ns['scale'] = 2.0
    body = 'def forward(self, x):\n    return x * scale\n'
    ip.run_cell_magic('model', 'scaler', body + ';')
    assert ip.user_ns['scaler'](nbgrad.ones(2)).tolist() == [2.0, 2.0]
    ip.user_ns['scale'] = 5.0
    assert ip.user_ns['scaler'](nbgrad.ones(2)).tolist() == [5.0, 5.0]


def test_class_form_attributes_can_use_earlier_ones_and_super(ip):
    body = ('width = 6\nfc = Linear(4, width)\nhead = Linear(width, 1)\n'
            'def forward(self, x):\n    return self.head(self.fc(x))\n'
            'def extra_repr(self):\n    return super().extra_repr() + "custom"\n')
    ip.run_cell_magic('model', 'net', body + ';')
    net = ip.user_ns['net']
    assert net.width == 6 and net.head.in_features == 6
    assert 'custom' in repr(net)
    assert type(net) is ip.user_ns['Net']


def test_capitalised_name_gets_a_distinct_class_name(ip):
    ip.run_cell_magic('model', 'Net', 'fc = Linear(2, 2)\ndef forward(self, x):\n'
                                      '    return self.fc(x)\n;')
    assert type(ip.user_ns['Net']) is ip.user_ns['NetModule']


def test_later_traceback_shows_the_body_line(ip):
    ip.run_cell_magic('model', 'net', 'fc = Linear(2, 2)\ndef forward(self, x):\n'
                                      '    return self.fc(x).view(9)\n;')
    result, captured = run(ip, 'import nbgrad\nnet(nbgrad.zeros(1, 2))')
    assert not result.success
    text = captured.stdout + captured.stderr
    assert 'return self.fc(x).view(9)' in text


# -- %%model: errors ----------------------------------------------------------------------------

ERROR_CASES = [
    pytest.param('mlp --input 32,784', 'Flatten()\nLinear(784, 100)\nLinear(784, 128)\n',
                 '%%model mlp: line 3: Linear(784, 128): mat1 and mat2 shapes cannot be '
                 'multiplied (32x100 and 784x128)', id='shapes'),
    pytest.param('mlp', 'Flatten()\nLinear(784, 100\nReLU()',
                 '%%model mlp: line 2: ', id='syntax'),
    pytest.param('mlp', 'Flatten()\nLinaer(784, 100)',
                 "%%model mlp: line 2: Linaer(784, 100): unknown name 'Linaer' (did you mean "
                 "Linear?)", id='unknown-layer'),
    pytest.param('mlp', 'Linear(2, 2)\nReLU', '%%model mlp: line 2: ReLU: ReLU is a layer '
                                              'class: call it, ReLU(...)', id='uncalled'),
    pytest.param('mlp', 'Linear(2, 2)\n128', 'line 2: 128: not an nn.Module (a int)',
                 id='not-a-module'),
    pytest.param('mlp', 'Linear(2, 2, bogus=1)',
                 "line 1: Linear(2, 2, bogus=1): TypeError:", id='bad-arguments'),
    pytest.param('mlp', 'Linear(2, 2)\nfor i in range(2):\n    ReLU()',
                 'line 2: ', id='statement'),
    pytest.param('net --input 3,5', 'fc1 = Linear(4, 8)\nfc2 = Linear(8, 2)\n'
                                    'def forward(self, x):\n    x = self.fc1(x)\n'
                                    '    return self.fc2(x)\n',
                 '%%model net: line 1: fc1 = Linear(4, 8): mat1 and mat2 shapes cannot be '
                 'multiplied (3x5 and 4x8) (called on line 4)', id='class-shapes'),
    pytest.param('net --input 3,4', 'fc = Linear(4, 8)\ndef forward(self, x):\n'
                                    '    return self.fc(x).view(7, 7)\n',
                 "%%model net: line 3: return self.fc(x).view(7, 7): shape '[7, 7]' is invalid",
                 id='class-forward-code'),
    pytest.param('net', 'fc = Linaer(4, 8)\ndef forward(self, x):\n    return self.fc(x)\n',
                 "%%model net: line 1: fc = Linaer(4, 8): unknown name 'Linaer'",
                 id='class-unknown-layer'),
    pytest.param('net --input 2,3', 'Sequential(Linear(3, 4), Linear(5, 1))',
                 'line 1: Sequential(Linear(3, 4), Linear(5, 1)): in 0.1 (Linear): mat1 and '
                 'mat2 shapes cannot be multiplied (2x4 and 5x1)', id='nested'),
    pytest.param('mlp --bogus 3', 'Linear(2, 2)', '%%model: unrecognized arguments: --bogus',
                 id='unknown-option'),
    pytest.param('mlp --input 32x784', 'Linear(2, 2)', '--input takes a shape like',
                 id='bad-input'),
    pytest.param('mlp --dtype float99', 'Linear(2, 2)', "unknown dtype 'float99'",
                 id='bad-dtype'),
    pytest.param('9lives', 'Linear(2, 2)', 'NAME must be a Python name', id='bad-name'),
    pytest.param('mlp', '\n# nothing\n', 'line 1: the body is empty', id='empty'),
]


@pytest.mark.parametrize('line, body, message', ERROR_CASES)
def test_errors_are_short_and_leave_the_namespace_unchanged(ip, line, body, message):
    ip.user_ns['mlp'] = 'the old mlp'
    ip.user_ns['net'] = 'the old net'
    before = namespace(ip)
    with capture_output() as captured:
        with pytest.raises(UsageError) as info:
            ip.run_cell_magic('model', line, body)
    assert message in str(info.value), str(info.value)
    assert '\n' not in str(info.value)
    assert namespace(ip) == before
    assert ip.user_ns['mlp'] == 'the old mlp' and 'Net' not in ip.user_ns
    assert captured.outputs == []


def test_error_prints_one_line_on_stderr_without_traceback(ip):
    before = namespace(ip)
    result, captured = run(ip, '%%model mlp --input 32,784\nFlatten()\nLinear(784, 100)\n'
                               'Linear(784, 128)\n')
    assert not result.success
    assert captured.stderr.strip() == (
        'UsageError: %%model mlp: line 3: Linear(784, 128): mat1 and mat2 shapes cannot be '
        'multiplied (32x100 and 784x128)')
    assert 'Traceback' not in captured.stdout + captured.stderr
    assert captured.outputs == []
    assert namespace(ip) == before


@requires_no_cuda
def test_model_on_cuda_without_cuda_is_a_clear_error(ip):
    before = namespace(ip)
    with pytest.raises(UsageError, match="CUDA is not available"):
        ip.run_cell_magic('model', 'm --device cuda', 'Linear(2, 2)')
    assert namespace(ip) == before


# -- %nbgrad ------------------------------------------------------------------------------------

def test_status(ip):
    with capture_output() as captured:
        ip.run_line_magic('nbgrad', '')
    (text,) = texts(captured)
    assert text.splitlines()[0] == f'nbgrad {nbgrad.__version__}'
    assert 'default device: cpu' in text and 'default dtype:  nbgrad.float32' in text
    assert 'CUDA:' in text and 'CPU memory:' in text
    with capture_output() as again:
        ip.run_line_magic('nbgrad', 'status')
    assert texts(again)[0].splitlines()[:3] == text.splitlines()[:3]
    assert captured.outputs[0].data['text/html'].startswith('<pre')


@requires_no_cuda
def test_device_cuda_without_cuda_is_a_clear_error(ip):
    with pytest.raises(UsageError, match=r'%nbgrad device: CUDA is not available .*stays cpu'):
        ip.run_line_magic('nbgrad', 'device cuda')
    assert nbgrad.get_default_device().type == 'cpu'


def test_device_and_dtype_settings(ip):
    ip.run_line_magic('nbgrad', 'device cpu')
    assert nbgrad.get_default_device().type == 'cpu'
    with capture_output() as captured:
        ip.run_line_magic('nbgrad', 'device')
    assert captured.stdout == 'default device: cpu\n'
    with pytest.raises(UsageError, match='%nbgrad device: '):
        ip.run_line_magic('nbgrad', 'device tpu')
    ip.run_line_magic('nbgrad', 'dtype float64')
    assert nbgrad.get_default_dtype() == nbgrad.float64
    assert nbgrad.zeros(1).dtype == nbgrad.float64
    with pytest.raises(UsageError, match='%nbgrad dtype: '):
        ip.run_line_magic('nbgrad', 'dtype int64')
    assert nbgrad.get_default_dtype() == nbgrad.float64


def test_seed_equals_pytorchs_manual_seed(ip):
    torch = pytest.importorskip('torch')
    ip.run_line_magic('nbgrad', 'seed 1234')
    ours = nbgrad.randn(5).numpy()
    torch.manual_seed(1234)
    np.testing.assert_array_equal(ours, torch.randn(5).numpy())
    with pytest.raises(UsageError, match='integer seed'):
        ip.run_line_magic('nbgrad', 'seed x')


def test_unknown_command(ip):
    with pytest.raises(UsageError, match='unknown command .*status, device'):
        ip.run_line_magic('nbgrad', 'frobnicate')


def test_rng_shows_seed_and_a_state_fingerprint(ip):
    def rng_text():
        with capture_output() as captured:
            ip.run_line_magic('nbgrad', 'rng')
        return texts(captured)[0]
    ip.run_line_magic('nbgrad', 'seed 42')
    first = rng_text()
    assert first.startswith('RNGView')
    cpu_row = next(line.split() for line in first.splitlines() if line.startswith('cpu '))
    torch = pytest.importorskip('torch')
    torch.manual_seed(42)
    # the fingerprint is a digest of the state bytes, which are PyTorch's after the same seed
    assert cpu_row[:3] == ['cpu', 'mt19937', '42']
    assert cpu_row[4] == hashlib.sha256(torch.get_rng_state().numpy().tobytes()).hexdigest()[:16]
    nbgrad.rand(3)
    moved = rng_text()
    assert moved != first and ' 42 ' in moved
    ip.run_line_magic('nbgrad', 'seed 42')
    assert rng_text() == first
    if not nbgrad.cuda.is_available():
        assert 'cuda generators: none (CUDA is not available)' in first


# -- per-cell profiling and %%profile -----------------------------------------------------------

def test_profile_on_shows_each_cell_that_runs_ops(ip):
    ip.run_cell('import nbgrad', store_history=False)
    result, captured = run(ip, '%nbgrad profile on --limit 5')
    assert captured.outputs == []                  # the cell that turns it on shows nothing
    result, captured = run(ip, 'a = nbgrad.ones(4, 4)\nb = (a @ a).sum()\nprint("done")')
    assert result.success and captured.stdout == 'done\n'
    (text,) = texts(captured)
    assert text.startswith('nbgrad profile of this cell (sorted by self_cpu_time_total, top 5)')
    assert 'aten::mm' in text and 'aten::sum' in text and 'Self CPU time total' in text
    result, captured = run(ip, 'x = 1 + 1')
    assert captured.outputs == []                  # no op: no table
    result, captured = run(ip, '%nbgrad profile off\nc = a @ a')
    assert captured.outputs == []                  # the cell that turns it off shows nothing
    result, captured = run(ip, 'c = a @ a')
    assert captured.outputs == [] and nbgrad_callbacks(ip) == []


def test_profile_on_with_sort_key_and_bad_key(ip):
    with pytest.raises(UsageError, match="unknown sort key 'bogus'"):
        ip.run_line_magic('nbgrad', 'profile on --sort bogus')
    assert nbgrad_callbacks(ip) == []
    with pytest.raises(UsageError, match='takes on or off'):
        ip.run_line_magic('nbgrad', 'profile maybe')
    ip.run_line_magic('nbgrad', 'profile on --sort count')
    result, captured = run(ip, 'import nbgrad\nnbgrad.ones(3).sum()')
    assert 'sorted by count' in texts(captured)[-1]
    ip.run_line_magic('nbgrad', 'profile off')


def test_a_failing_cell_is_still_profiled(ip):
    ip.run_line_magic('nbgrad', 'profile on')
    result, captured = run(ip, 'import nbgrad\ny = nbgrad.ones(2) * 3\n1 / 0')
    assert not result.success
    assert any('aten::mul' in t for t in texts(captured))
    ip.run_line_magic('nbgrad', 'profile off')


def test_profile_cell_magic(ip, tmp_path):
    ip.run_cell('import nbgrad', store_history=False)
    trace = tmp_path / 'trace.json'
    result, captured = run(ip, f'%%profile --sort count --limit 2 --trace {trace}\n'
                               'x = nbgrad.ones(8, 8)\n'
                               'for _ in range(3):\n    x = x @ x\n'
                               'x.sum()')
    assert result.success
    tables = [t for t in texts(captured) if t.startswith('nbgrad profile')]
    assert len(tables) == 1
    assert tables[0].startswith('nbgrad profile (sorted by count, top 2)')
    rows = [line for line in tables[0].splitlines() if 'aten::' in line]
    # 3 calls; the FLOPs column (%%profile counts them): 3 products of 2 * 8^3 = 3.072 KFLOPs
    assert len(rows) == 2 and 'aten::mm' in rows[0] and rows[0].split()[-2:] == ['3', '3.072']
    assert f'Chrome trace written to {trace}' in captured.stdout
    events = json.loads(trace.read_text())['traceEvents']
    assert sum(1 for e in events if e.get('name') == 'aten::mm') == 3
    assert 'x' in ip.user_ns and ip.user_ns['x'].shape == (8, 8)


def test_profile_cell_magic_errors(ip, tmp_path):
    with pytest.raises(UsageError, match="%%profile: unknown sort key 'nope'"):
        ip.run_cell_magic('profile', '--sort nope', 'x = 1')
    with pytest.raises(UsageError, match='--limit takes a positive'):
        ip.run_cell_magic('profile', '--limit 0', 'x = 1')
    result, captured = run(ip, '%%profile\nimport nbgrad\nnbgrad.ones(2).sum()\n'
                               'raise ValueError("boom")')
    assert not result.success
    assert 'ValueError' in captured.stdout + captured.stderr
    assert 'UsageError: %%profile: the cell raised ValueError' in captured.stderr
    assert any('aten::sum' in t for t in texts(captured))
    result, captured = run(ip, '%%profile\nx = 1')
    assert texts(captured) == ['(no nbgrad op ran in this cell)']


def test_profile_cell_magic_while_profile_on_shows_one_table(ip):
    ip.run_line_magic('nbgrad', 'profile on')
    result, captured = run(ip, '%%profile\nimport nbgrad\nnbgrad.ones(3).sum()')
    assert result.success
    assert len([t for t in texts(captured) if 'aten::sum' in t]) == 1
    result, captured = run(ip, 'nbgrad.ones(3).exp()')   # per-cell profiling goes on
    assert any('aten::exp' in t for t in texts(captured))
    ip.run_line_magic('nbgrad', 'profile off')


# -- CUDA (a GPU, or the fake CuPy: NBGRAD_FAKE_CUDA=1 pytest -m cuda) ---------------------------

@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available(), reason='no CUDA device')
def test_cuda_status_device_rng_and_model(ip):
    with capture_output() as captured:
        ip.run_line_magic('nbgrad', 'status')
    text = texts(captured)[0]
    assert 'CUDA:           available, ' in text and 'cuda:0 memory:' in text
    ip.run_line_magic('nbgrad', 'device cuda')
    assert nbgrad.get_default_device().type == 'cuda'
    assert nbgrad.zeros(2).device.type == 'cuda'
    with pytest.raises(UsageError, match='there is no cuda:99'):
        ip.run_line_magic('nbgrad', 'device cuda:99')
    ip.run_line_magic('nbgrad', 'seed 5')
    with capture_output() as captured:
        ip.run_line_magic('nbgrad', 'rng')
    rows = [line.split() for line in texts(captured)[0].splitlines()]
    assert ['cuda:0', 'philox', '5', '0'] in [row[:4] for row in rows]
    ip.run_line_magic('nbgrad', 'device cpu')
    with capture_output() as captured:
        ip.run_cell_magic('model', 'gpu --input 4,3 --device cuda', 'Linear(3, 2)')
    assert ip.user_ns['gpu'][0].weight.device.type == 'cuda'
    assert '[4, 2]' in texts(captured)[0]



# -- nn.Module's notebook display ------------------------------------------------------------
def test_modules_display_pytorchs_repr_with_a_folded_summary(ip):
    ip.run_cell('import nbgrad\nnet = nbgrad.nn.Sequential(nbgrad.nn.Linear(3, 4), '
                'nbgrad.nn.ReLU())', store_history=False)
    net = ip.user_ns['net']
    formatters = ip.display_formatter.formatters
    assert formatters['text/plain'](net) == repr(net)
    html = formatters['text/html'].lookup(net)(net)   # (a terminal shell has html disabled)
    torch = pytest.importorskip('torch')
    twin = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU())
    assert repr(twin) in html.replace('&lt;', '<').replace('&gt;', '>')
    assert '16 parameters (16 trainable)' in html
    ip.run_line_magic('unload_ext', 'nbgrad')
    with pytest.raises(KeyError):
        formatters['text/html'].lookup(net)
    ip.run_line_magic('load_ext', 'nbgrad')


# -- %%model --fit ----------------------------------------------------------------------------
def fit_data(ip, n=48):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    ip.user_ns['x'] = nbgrad.tensor(x)
    ip.user_ns['y'] = nbgrad.tensor((x[:, 0] > x[:, 1]).astype(np.int64))


def test_fit_trains_inline_and_shows_the_training_view(ip, monkeypatch):
    monkeypatch.setenv('NBGRAD_WIDGETS', 'static')
    fit_data(ip)
    _, captured = run(ip, '%%model clf --seed 0 --fit "(x, y)" --val "(x, y)" --epochs 3 '
                          '--batch-size 16 --optim "SGD(lr=0.5)"\nLinear(4, 2)')
    clf = ip.user_ns['clf']
    nbgrad.manual_seed(0)
    untrained = nbgrad.nn.Linear(4, 2)
    assert not nbgrad.equal(clf[0].weight, untrained.weight)     # trained in place
    shown = texts(captured)
    assert 'Sequential' in shown[0] and 'Total params: 10' in shown[0]     # the summary first
    final = shown[-1]                                            # the view's last redraw
    assert 'epoch 3/3' in final and '100%' in final and 'val_accuracy' in final
    assert 'clf: cross_entropy, SGD' in final


def test_fit_errors_leave_the_namespace_unchanged(ip):
    fit_data(ip)
    before = namespace(ip)
    cases = [('--fit "(x, y)" --loss cross_entropi', "'cross_entropi' is neither"),
             ('--fit missing', "--fit missing: NameError: name 'missing' is not defined"),
             ('--fit "(x, y)" --optim "Adam(lr=-1)"', 'Invalid learning rate'),
             ('--graph', '--graph draws one forward pass: give --input SHAPE or --fit DATA')]
    for options, message in cases:
        with pytest.raises(UsageError, match=re.escape(message)):
            ip.run_cell_magic('model', f'clf {options}', 'Linear(4, 2)')
    with pytest.raises(UsageError, match=re.escape('the model fails on a batch of inputs '
                                                   '[32, 4]')):
        ip.run_cell_magic('model', 'clf --fit "(x, y)"', 'Linear(5, 2)')
    assert namespace(ip) == before


def test_an_interrupt_during_fit_keeps_the_model(ip, monkeypatch):
    fit_data(ip)
    from nbgrad.magics import model_fit
    original = model_fit.Trainer.run

    def interrupted_run(self, view):
        class Interrupting:
            def __getattr__(self, name):
                return getattr(view, name)

            def log(self, step=None, epoch=None, **values):
                view.log(step=step, epoch=epoch, **values)
                if step == 2:
                    raise KeyboardInterrupt
        return original(self, Interrupting())
    monkeypatch.setattr(model_fit.Trainer, 'run', interrupted_run)
    result, captured = run(ip, '%%model clf --fit "(x, y)" --batch-size 8 --epochs 5\n'
                               'Linear(4, 2)')
    assert result.success and 'clf' in ip.user_ns
    assert 'Training interrupted: clf keeps the weights trained so far.' in captured.stdout


def test_profile_cell_magic_shows_a_profiler_view_with_modules(ip):
    ip.run_cell('import nbgrad\nnet = nbgrad.nn.Sequential(nbgrad.nn.Linear(4, 4), '
                'nbgrad.nn.ReLU())\nx = nbgrad.ones(2, 4)', store_history=False)
    with capture_output() as captured:
        ip.run_cell_magic('profile', '--modules', 'net(x)')
    shown = [output for output in captured.outputs if 'nbgrad profile' in
             output.data['text/plain']]
    assert len(shown) == 1 and 'text/html' in shown[0].data
    text = shown[0].data['text/plain']
    assert 'aten::linear' in text and 'aten::relu' in text
    modules = text[text.index('aten::relu'):]
    assert 'Linear' in modules and 'ReLU' in modules   # the per-module breakdown under the table


def test_graph_option_shows_the_graph_of_one_forward(ip, monkeypatch):
    monkeypatch.setenv('NBGRAD_WIDGETS', 'static')
    torch = pytest.importorskip('torch')
    _, captured = run(ip, '%%model g --input 4,3 --graph\nLinear(3, 5)\nReLU()\nLinear(5, 2)')
    graph = texts(captured)[-1]
    assert graph.startswith('GraphView')
    twin = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    names = [name for name, _ in twin.named_parameters()]     # PyTorch's parameter names
    assert all(name in graph for name in names)
    assert graph.count('AddmmBackward0') == 2 and 'ReluBackward0' in graph
