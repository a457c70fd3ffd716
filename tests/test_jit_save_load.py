"""nbgrad.jit.save / jit.load against torch.jit.save / torch.jit.load: the same model (same seeded
weights) traced or scripted, saved and loaded in both libraries, gives the same outputs, the same
state_dict keys, submodule names and train/eval flags; the errors for missing files, for
TorchScript archives and for torch.save checkpoints are of torch's kind; and the jit names a
porting sweep looked for (ScriptModule, ScriptFunction, RecursiveScriptModule, isinstance,
fork/wait, freeze, optimize_for_inference, the fusion switches, example_kwarg_inputs) answer as
torch's do."""
import io
import json
import typing
import warnings
import zipfile

import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')
from torch_compare import both, exc_kind  # noqa: E402

pytestmark = pytest.mark.filterwarnings('ignore::UserWarning', 'ignore::DeprecationWarning')


def _mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def _cnn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))


def _lstm_head(lib):
    class Head(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = lib.nn.LSTM(3, 5, batch_first=True)
            self.out = lib.nn.Linear(5, 1)
            self.register_buffer('scale', lib.tensor([2.0]), persistent=False)

        def forward(self, x):
            y, _ = self.lstm(x)
            return self.out(y[:, -1]) * self.scale
    return Head()


MODELS = {'mlp': (_mlp, (3, 4), (7, 4)), 'cnn': (_cnn, (2, 1, 8, 8), (5, 1, 8, 8)),
          'lstm': (_lstm_head, (2, 6, 3), (4, 6, 3))}


def _input(lib, shape, seed):
    return lib.tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def _round_trip(lib, obj, path, **load_args):
    lib.jit.save(obj, str(path))
    return lib.jit.load(str(path), **load_args)


@pytest.mark.parametrize('name', MODELS)
def test_a_loaded_trace_gives_the_original_and_torchs_outputs(name, tmp_path):
    make, example_shape, other_shape = MODELS[name]
    results = {}
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        model = make(lib).eval()
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            traced = lib.jit.trace(model, _input(lib, example_shape, 1),
                                   check_inputs=[(_input(lib, other_shape, 3),)])
        loaded = _round_trip(lib, traced, tmp_path / f'{lib.__name__}.pt')
        outputs = []
        for shape, seed in ((example_shape, 2), (other_shape, 4)):
            x = _input(lib, shape, seed)
            outputs.append((loaded(x).detach().numpy(), model(x).detach().numpy()))
        loaded(_input(lib, example_shape, 5)).pow(2).sum().backward()
        # (torch's traces forget that a buffer is not persistent; nbgrad's keep the model's keys)
        kept = model if lib is torch else loaded
        results[lib] = (outputs, [p.grad.numpy() for p in loaded.parameters()],
                        sorted(kept.state_dict()), [n for n, _ in loaded.named_modules()],
                        [n for n, _ in loaded.named_buffers()], loaded.training,
                        loaded.original_name, isinstance(loaded, lib.jit.ScriptModule))
    ours, theirs = results[nbgrad], results[torch]
    for (got, eager), (expected, _) in zip(ours[0], theirs[0]):
        np.testing.assert_array_equal(got, eager)           # the replay is the eager result
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert ours[2:] == theirs[2:]


def test_train_mode_flags_and_submodules_survive(tmp_path):
    flags = {}
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        model = _cnn(lib)                 # train mode: batch statistics, running stats update
        model[1].eval()
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            traced = lib.jit.trace(model, _input(lib, (2, 1, 8, 8), 1), check_trace=False)
        loaded = _round_trip(lib, traced, tmp_path / f'{lib.__name__}.pt')
        flags[lib] = ([(n, m.training) for n, m in loaded.named_modules()],
                      loaded(_input(lib, (2, 1, 8, 8), 2)).detach().numpy(),
                      {k: v.numpy() for k, v in loaded.state_dict().items()})
    assert flags[nbgrad][0] == flags[torch][0]
    np.testing.assert_allclose(flags[nbgrad][1], flags[torch][1], rtol=1e-5, atol=1e-6)
    assert sorted(flags[nbgrad][2]) == sorted(flags[torch][2])
    for key, value in flags[torch][2].items():
        np.testing.assert_allclose(flags[nbgrad][2][key], value, rtol=1e-6)


def test_loaded_parameters_train_and_tied_weights_stay_tied(tmp_path):
    def make(lib):
        model = lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.Tanh(), lib.nn.Linear(3, 3))
        model[2].weight = model[0].weight
        return model
    results = {}
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        traced = lib.jit.trace(make(lib), _input(lib, (2, 3), 1))
        loaded = _round_trip(lib, traced, tmp_path / f'{lib.__name__}.pt')
        optimizer = lib.optim.SGD(loaded.parameters(), lr=0.1)
        loaded(_input(lib, (2, 3), 2)).sum().backward()
        optimizer.step()
        results[lib] = (loaded(_input(lib, (2, 3), 2)).detach().numpy(),
                        loaded._modules['0'].weight is loaded._modules['2'].weight,
                        len(list(loaded.parameters())))
    np.testing.assert_allclose(results[nbgrad][0], results[torch][0], rtol=1e-5, atol=1e-6)
    assert results[nbgrad][1:] == results[torch][1:]


def test_traced_functions_round_trip(tmp_path):
    def f(a, b):
        return a * 2 + b, (a - b).relu()
    results = {}
    for lib in (torch, nbgrad):
        traced = lib.jit.trace(f, (lib.ones(2, 3), lib.ones(2, 3)))
        loaded = _round_trip(lib, traced, tmp_path / f'{lib.__name__}.pt')
        a, b = _input(lib, (2, 3), 1), _input(lib, (2, 3), 2)
        results[lib] = ([t.numpy() for t in loaded(a, b)], loaded.original_name,
                        isinstance(traced, lib.jit.ScriptFunction),
                        isinstance(loaded, lib.jit.ScriptModule), [t.numpy() for t in f(a, b)])
    for got, expected in zip(results[nbgrad][0], results[torch][0]):
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert results[nbgrad][1:4] == results[torch][1:4]
    for got, eager in zip(results[nbgrad][0], results[nbgrad][4]):
        np.testing.assert_array_equal(got, eager)


def test_a_loaded_trace_refuses_shapes_it_has_no_recording_for(tmp_path):
    traced = nbgrad.jit.trace(_mlp(nbgrad).eval(), nbgrad.ones(3, 4))
    loaded = _round_trip(nbgrad, traced, tmp_path / 'm.pt')
    expected = torch.nn.Sequential()(torch.ones(5, 4))      # (torch's replays any batch size)
    with pytest.raises(RuntimeError, match=r'recordings for inputs \(\[3, 4\].*check_inputs'):
        loaded(nbgrad.ones(5, 4))
    assert tuple(expected.shape) == (5, 4)


def test_scripted_nbgrad_modules_round_trip_and_run_any_shape(tmp_path):
    results = {}
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        model = _cnn(lib).eval()
        scripted = lib.jit.script(model)
        scripted.save(str(tmp_path / f'{lib.__name__}.pt'))
        loaded = lib.jit.load(str(tmp_path / f'{lib.__name__}.pt'), map_location='cpu')
        outputs = [loaded(_input(lib, (n, 1, 8, 8), n)).detach().numpy() for n in (1, 6)]
        results[lib] = (outputs, isinstance(scripted, lib.jit.RecursiveScriptModule),
                        isinstance(loaded, lib.jit.RecursiveScriptModule),
                        scripted.original_name, loaded.original_name, loaded.training,
                        sorted(loaded.state_dict()), 'def forward' in scripted.code)
    for got, expected in zip(results[nbgrad][0], results[torch][0]):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert results[nbgrad][1:] == results[torch][1:]


def test_scripted_code_of_the_programs_own_class_is_not_saved_but_its_trace_is(tmp_path):
    outputs = {}
    for lib in (torch, nbgrad):
        lib.manual_seed(0)
        model = _lstm_head(lib).eval()
        if lib is nbgrad:
            with pytest.raises(RuntimeError, match='own class .*Head.*Trace it instead'):
                nbgrad.jit.save(nbgrad.jit.script(model), str(tmp_path / 'scripted.pt'))
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            traced = lib.jit.trace(model, _input(lib, (2, 6, 3), 1))
        loaded = _round_trip(lib, traced, tmp_path / f'{lib.__name__}.pt')
        outputs[lib] = loaded(_input(lib, (2, 6, 3), 2)).detach().numpy()
    np.testing.assert_allclose(outputs[nbgrad], outputs[torch], rtol=1e-5, atol=1e-6)


def test_scripted_functions_run_eagerly_and_give_torchs_results():
    def f(x, y):
        return (x * y).sum(0) if x.shape[0] > 1 else x - y     # control flow, kept
    results = {}
    for lib in (torch, nbgrad):
        scripted = lib.jit.script(f)
        results[lib] = ([scripted(_input(lib, (n, 2), 1), _input(lib, (n, 2), 2)).numpy()
                         for n in (1, 3)], isinstance(scripted, lib.jit.ScriptFunction),
                        lib.jit.script(scripted) is scripted, 'return' in scripted.code)
        if lib is nbgrad:
            with pytest.raises(RuntimeError, match='trace'):
                scripted.save(io.BytesIO())
    for got, expected in zip(results[nbgrad][0], results[torch][0]):
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert results[nbgrad][1:] == results[torch][1:]


# ------------------------------------------------------------------------------------------------
# errors of torch's kind
# ------------------------------------------------------------------------------------------------

def test_missing_files_and_directories_raise_value_error(tmp_path):
    for target in (tmp_path / 'missing.pt', tmp_path):
        kinds = []
        for lib in (torch, nbgrad):
            with pytest.raises(Exception) as info:
                lib.jit.load(str(target))
            kinds.append(exc_kind(info.value))
        assert kinds[0] is kinds[1] is ValueError


def test_torchscript_archives_and_checkpoints_are_refused(tmp_path):
    model = torch.nn.Linear(2, 2)
    torch.jit.save(torch.jit.trace(model, torch.ones(1, 2)), str(tmp_path / 'traced.pt'))
    torch.jit.save(torch.jit.script(model), str(tmp_path / 'scripted.pt'))
    torch.save(model.state_dict(), str(tmp_path / 'weights.pt'))
    (tmp_path / 'garbage.pt').write_bytes(b'not an archive at all')
    for name in ('traced.pt', 'scripted.pt'):
        assert isinstance(torch.jit.load(str(tmp_path / name)), torch.jit.ScriptModule)
        with pytest.raises(RuntimeError, match='TorchScript.*state_dict'):
            nbgrad.jit.load(str(tmp_path / name))
    for name in ('weights.pt', 'garbage.pt'):
        with pytest.raises(Exception) as theirs:
            torch.jit.load(str(tmp_path / name))
        with pytest.raises(Exception) as ours:
            nbgrad.jit.load(str(tmp_path / name))
        assert exc_kind(ours.value) is exc_kind(theirs.value) is RuntimeError
    with pytest.raises(RuntimeError, match='nbgrad.load'):
        nbgrad.jit.load(str(tmp_path / 'weights.pt'))
    # the weights torch saved do load into nbgrad's model, as the message suggests
    ours = nbgrad.nn.Linear(2, 2)
    ours.load_state_dict(nbgrad.load(str(tmp_path / 'weights.pt')))
    np.testing.assert_array_equal(ours.weight.detach().numpy(), model.weight.detach().numpy())


def test_saving_a_plain_module_is_an_attribute_error_as_in_torch():
    both(lambda lib: lib.jit.save(_mlp(lib), io.BytesIO()), quiet=True)


def test_extra_files_round_trip(tmp_path):
    contents = {}
    for lib in (torch, nbgrad):
        traced = lib.jit.trace(lambda x: x + 1, lib.ones(2))
        lib.jit.save(traced, str(tmp_path / f'{lib.__name__}.pt'),
                     _extra_files={'meta.json': '{"v": 1}'})
        extra = {'meta.json': ''}
        lib.jit.load(str(tmp_path / f'{lib.__name__}.pt'), _extra_files=extra)
        contents[lib] = extra
    assert contents[nbgrad] == contents[torch]


def test_archives_that_name_code_outside_nbgrads_allowlist_are_refused(tmp_path):
    traced = nbgrad.jit.trace(lambda x: x.relu() * 2, nbgrad.ones(2))
    nbgrad.jit.save(traced, str(tmp_path / 'ok.pt'))
    with zipfile.ZipFile(tmp_path / 'ok.pt') as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    program = json.loads(entries['nbgrad_jit/program.json'])
    for evil in ('os:system', 'nbgrad.serialization:save', 'nbgrad.nn.modules.linear:Linear'):
        program['function']['recordings'][0]['steps'][0]['op'] = evil
        with zipfile.ZipFile(tmp_path / 'evil.pt', 'w') as archive:
            for n, data in entries.items():
                archive.writestr(n, json.dumps(program) if n.endswith('program.json') else data)
        with pytest.raises(RuntimeError, match='op'):
            nbgrad.jit.load(str(tmp_path / 'evil.pt'))
    # and the untouched archive replays as the function does (numpy as the reference)
    x = np.array([-1.0, 3.0], np.float32)
    np.testing.assert_array_equal(nbgrad.jit.load(str(tmp_path / 'ok.pt'))(nbgrad.tensor(x))
                                  .numpy(), np.maximum(x, 0) * 2)


# ------------------------------------------------------------------------------------------------
# the rest of torch.jit's names
# ------------------------------------------------------------------------------------------------

def _identity(x):
    return x


def test_isinstance_of_script_classes_as_in_torch():
    def kinds(lib):
        model = _mlp(lib).eval()
        objects = [model, lib.jit.trace(model, lib.ones(1, 4)), lib.jit.script(model),
                   lib.jit.trace(lambda x: x * 2, lib.ones(2)), lib.jit.script(_identity)]
        classes = (lib.jit.ScriptModule, lib.jit.ScriptFunction, lib.jit.RecursiveScriptModule,
                   lib.nn.Module)
        return [[isinstance(o, c) for c in classes] for o in objects]
    both(kinds, check=lambda ours, theirs: ours == theirs, quiet=True)


@pytest.mark.parametrize('case', range(14))
def test_jit_isinstance_as_in_torch(case):
    List, Dict, Optional, Tuple, Union = (typing.List, typing.Dict, typing.Optional,
                                          typing.Tuple, typing.Union)

    def check(lib):
        return [
            ([1, 2], List[int]), ([1, 'a'], List[int]), ({'a': lib.ones(1)},
                                                         Dict[str, lib.Tensor]),
            ({'a': [1.0]}, Dict[str, List[int]]), (None, Optional[int]), ((1, 2.0),
                                                                          Tuple[int, float]),
            ((1,), Tuple[int, float]), (3, int), (3, float), (lib.ones(1), lib.Tensor),
            (1, Union[int, str]), ([1], list[int]), ([1], list), (1, 'int'),
        ][case]

    both(lambda lib: lib.jit.isinstance(*check(lib)), check=lambda a, b: a == b, quiet=True)


def test_fork_wait_fusion_switches_and_annotations_as_in_torch():
    def run(lib):
        future = lib.jit.fork(lambda x, k: x * k, lib.ones(2), k=3)
        previous = lib.jit.set_fusion_strategy([('DYNAMIC', 3)])
        restored = lib.jit.set_fusion_strategy(previous)
        return (lib.jit.wait(future).tolist(), previous, restored,
                lib.jit.enable_onednn_fusion(False), lib.jit.Final[int] == typing.Final[int],
                tuple(lib.jit.Attribute(3, int)), lib.jit.annotate(int, 4),
                lib.jit.script_if_tracing(lambda x: x + 1)(1), lib.jit.is_scripting())
    both(run, check=lambda a, b: a == b, quiet=True)
    for bad in ([('SOMETIMES', 1)], 'STATIC'):
        both(lambda lib: lib.jit.set_fusion_strategy(bad), quiet=True)


@pytest.mark.parametrize('how', ['plain', 'training', 'eval'])
def test_freeze_and_optimize_for_inference_check_their_input_as_torch(how):
    def run(lib, fn):
        model = lib.nn.Linear(2, 2)
        if how != 'plain':
            model = lib.jit.script(model.train(how == 'training'))
        result = fn(lib)(model)
        return result(lib.ones(1, 2)).shape == (1, 2)
    for name in ('freeze', 'optimize_for_inference'):
        both(lambda lib: run(lib, lambda lib: getattr(lib.jit, name)),
             check=lambda a, b: a == b, quiet=True)


def test_example_kwarg_inputs_as_in_torch():
    def run(lib):
        traced = lib.jit.trace(lambda x, y: x - 2 * y,
                               example_kwarg_inputs={'y': lib.ones(2), 'x': lib.zeros(2)})
        x, y = _input(lib, (2,), 1), _input(lib, (2,), 2)
        return traced(x, y), traced(x=x, y=y), traced(x, y=y)
    both(run, quiet=True)

    def module(lib):
        class Scale(lib.nn.Module):
            def forward(self, a, b=None):
                return a * b
        traced = lib.jit.trace(Scale(), example_kwarg_inputs={'a': lib.ones(2), 'b': lib.ones(2)})
        return traced(a=_input(lib, (2,), 3), b=_input(lib, (2,), 4))
    both(module, quiet=True)
