"""nbgrad.save / nbgrad.load against PyTorch: files go both ways (nbgrad -> torch.load and
torch.save -> nbgrad.load) for every dtype, 0-dim, empty, non-contiguous and memory-sharing
tensors, Parameters and nested containers, and a real nn.Linear state_dict; plus weights-only
safety, atomic writes, damaged files and map_location (CUDA cases on the `device` fixture)."""
import collections
import contextlib
import io
import os
import pickle
import stat
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import nbgrad
import nbgrad.serialization as serialization
from torch_compare import exc_kind

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason='PyTorch (the oracle) is not installed')
LIBS = [pytest.param(torch, id='torch', marks=needs_torch), pytest.param(nbgrad, id='nbgrad')]


def saved(lib, obj, **kwargs):
    buf = io.BytesIO()
    lib.save(obj, buf, **kwargs)
    buf.seek(0)
    return buf


def loaded(lib, buf, **kwargs):
    buf.seek(0)
    kwargs.setdefault('weights_only', True)  # (torch's default since 2.6, said explicitly)
    return lib.load(buf, **kwargs)


# ------------------------------------------------------------------------------------------------
# What a loaded object is, in library-neutral terms
# ------------------------------------------------------------------------------------------------

def describe(obj, storages=None):
    """Everything a load should reproduce: structure, types, and for tensors dtype, shape, strides,
    storage offset, requires_grad, exact bytes and which tensors share a storage."""
    storages = {} if storages is None else storages
    if isinstance(obj, (nbgrad.Tensor,) + ((torch.Tensor,) if torch else ())):
        is_torch = torch is not None and isinstance(obj, torch.Tensor)
        values = (obj.detach().resolve_conj().resolve_neg() if is_torch else obj.detach()).numpy()
        storage = obj.untyped_storage()  # (torch gives every empty storage the address 0)
        group = storages.setdefault(storage.data_ptr(), len(storages)) if storage.nbytes() else None
        return ('Parameter' if type(obj).__name__ == 'Parameter' else 'Tensor',
                str(obj.dtype).split('.')[-1], tuple(obj.shape), obj.stride(),
                obj.storage_offset(), obj.requires_grad, np.ascontiguousarray(values).tobytes(),
                group)
    if isinstance(obj, dict):
        attributes = vars(obj) if hasattr(obj, '__dict__') else {}  # a state_dict's _metadata
        return (type(obj).__name__, [(k, describe(v, storages)) for k, v in obj.items()],
                [(k, describe(v, storages)) for k, v in attributes.items()])
    if type(obj).__name__ == 'Size':
        return ('Size', tuple(obj))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [describe(v, storages) for v in obj])
    if type(obj).__name__ in ('dtype', 'device'):
        return (type(obj).__name__, str(obj).split('.')[-1])
    return (type(obj).__name__, obj)


# Samples, built identically by either library from NumPy data
INTERESTING = {
    'float16': [0.0, -0.0, 1.5, np.inf, -np.inf, np.nan, 6e-8, 65504.0],
    'float32': [0.0, -0.0, 1.5, np.inf, -np.inf, np.nan, 1e-45, 3.4e38],
    'float64': [0.0, -0.0, 1.5, np.inf, -np.inf, np.nan, 5e-324, 1.7e308],
    'int8': [-128, -1, 0, 127], 'int16': [-32768, -1, 0, 32767],
    'int32': [-2 ** 31, -1, 0, 2 ** 31 - 1], 'int64': [-2 ** 63, -1, 0, 2 ** 63 - 1],
    'uint8': [0, 1, 128, 255], 'bool': [True, False, False, True],
    'complex64': [0j, 1 - 2.5j, complex(np.inf, np.nan), -0.0 + 3j],
    'complex128': [0j, 1 - 2.5j, complex(np.inf, np.nan), 1e-310 + 1e300j],
}
DTYPES = list(INTERESTING)


def make(lib, values, dtype=None, **kwargs):
    return lib.tensor(np.asarray(values, dtype=dtype), **kwargs)


def sample(name, lib):
    x = make(lib, np.arange(12.0).reshape(3, 4), 'float32')
    if name in INTERESTING:
        t = make(lib, INTERESTING[name], name)
        return {'flat': t, 'matrix': t.reshape(2, -1), 'tail': t[1:]}  # views: one storage
    if name == 'zero_dim':
        return [make(lib, 3.5, 'float64'), make(lib, 7, 'int64'), make(lib, True, 'bool')]
    if name == 'empty':
        return [lib.zeros(0), lib.zeros(0, 3, dtype=lib.int32), lib.zeros(2, 0, 4)]
    if name == 'non_contiguous':
        return {'t': x.t(), 'step': x[:, ::2], 'corner': x[1:, 1:], 'col': x[:, 2],
                'expanded': x[:, :1].expand(3, 5), 'permuted': x.reshape(2, 3, 2).permute(2, 0, 1),
                'fortran': lib.from_numpy(np.asfortranarray(np.arange(6).reshape(2, 3)))}
    if name == 'shared_views':
        y = make(lib, [1, 2, 3], 'int64')
        return [x, x.t(), x[1], x.view(-1)[2:5], x[:, 1:], y, y[1:], x]
    if name == 'parameters':
        return {'weight': lib.nn.Parameter(x), 'frozen': lib.nn.Parameter(x[0], False),
                'counts': lib.nn.Parameter(make(lib, [1, 2], 'int64'), requires_grad=False)}
    if name == 'requires_grad':
        leaf = make(lib, [1.0, 2.0], 'float64', requires_grad=True)
        return {'leaf': leaf, 'computed': leaf * 2, 'plain': make(lib, [1.0], 'float64')}
    if name == 'nested':
        od = collections.OrderedDict([('b', x[0]), ('a', [x, (x[1], 'deep')])])
        return {'list': [1, 2.5, 'text', None, True, False], 'tuple': (x, (make(lib, [1], 'int8'),
                'x')), 'od': od, 'dtype': lib.float16, 'dtypes': [lib.int8, lib.complex128,
                lib.bool], 'device': lib.device('cpu'), 'size': lib.Size([2, 3]),
                'bytes': b'\x00\xff', 'bytearray': bytearray(b'ab'), 'complex': 1 - 2j,
                'set': {1, 2}, 'big': 2 ** 70, 'neg': -5, 'float': 1e-300,
                'counter': collections.Counter('aab'), 1: 'int key', (1, 2): 'tuple key'}
    raise KeyError(name)


SAMPLES = [f'{d}' for d in DTYPES] + ['zero_dim', 'empty', 'non_contiguous', 'shared_views',
                                       'parameters', 'requires_grad', 'nested']


@needs_torch
@pytest.mark.parametrize('name', SAMPLES)
def test_files_go_both_ways(name):
    """Every (writer, reader) pair reproduces what torch.load gives for a torch.save file."""
    expected = describe(loaded(torch, saved(torch, sample(name, torch))))
    for writer in (torch, nbgrad):
        file = saved(writer, sample(name, writer))
        for reader in (torch, nbgrad):
            got = describe(loaded(reader, file))
            assert got == expected, f'{writer.__name__}.save -> {reader.__name__}.load'


@needs_torch
def test_the_archive_has_torchs_records_and_alignment(tmp_path):
    torch.save({'w': torch.ones(3), 'b': torch.zeros(2, dtype=torch.int64)}, tmp_path / 't.ckpt.pt')
    nbgrad.save({'w': nbgrad.ones(3), 'b': nbgrad.zeros(2, dtype=nbgrad.int64)},
                tmp_path / 'n.ckpt.pt')
    with zipfile.ZipFile(tmp_path / 't.ckpt.pt') as t, zipfile.ZipFile(tmp_path / 'n.ckpt.pt') as n:
        assert [r.split('/', 1)[1] for r in n.namelist()] == \
               [r.split('/', 1)[1] for r in t.namelist()]
        assert {r.split('/')[0] for r in n.namelist()} == {'n.ckpt'}  # torch names it t.ckpt
        assert n.read('n.ckpt/data.pkl') == t.read('t.ckpt/data.pkl')  # byte for byte
        raw = (tmp_path / 'n.ckpt.pt').read_bytes()
        for info in n.infolist():
            start = info.header_offset + 30 + len(info.filename) + \
                int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], 'little')
            assert start % 64 == 0 and raw[start:start + info.file_size] == n.read(info)
    mapped = torch.load(tmp_path / 'n.ckpt.pt', mmap=True)
    assert torch.equal(mapped['w'], torch.ones(3))


@needs_torch
def test_nbgrad_never_imports_torch(tmp_path):
    torch.save({'w': torch.arange(3.0), 'p': torch.nn.Parameter(torch.ones(2))}, tmp_path / 'a.pt')
    script = ("import sys; sys.modules['torch'] = None  # any import of torch now fails\n"
              "import nbgrad\n"
              "state = nbgrad.load(sys.argv[1])\n"
              "state['w'] += 1\n"
              "nbgrad.save(state, sys.argv[2])\n")
    subprocess.run([sys.executable, '-c', script, str(tmp_path / 'a.pt'), str(tmp_path / 'b.pt')],
                   check=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    state = torch.load(tmp_path / 'b.pt', weights_only=True)
    assert state['w'].tolist() == [1.0, 2.0, 3.0] and type(state['p']) is torch.nn.Parameter


@pytest.mark.parametrize('lib', LIBS)
def test_loaded_views_share_memory(lib):
    x = lib.arange(6.0).reshape(2, 3)
    a, at, row = loaded(lib, saved(lib, [x, x.t(), x[1]]))
    a[1, 2] = 100.0
    assert at[2, 1].item() == 100.0 and row[2].item() == 100.0


@needs_torch
def test_state_dict_of_torch_linear_runs_in_nbgrad_and_back():
    torch.manual_seed(0)
    reference = torch.nn.Linear(4, 3)
    state = nbgrad.load(saved(torch, reference.state_dict()))
    assert type(state) is collections.OrderedDict and list(state) == ['weight', 'bias']
    assert state._metadata == reference.state_dict()._metadata
    model = nbgrad.nn.Linear(4, 3)
    model.load_state_dict(state)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    np.testing.assert_allclose(model(nbgrad.tensor(x)).detach().numpy(),
                               reference(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-7)
    back = torch.nn.Linear(4, 3)
    back.load_state_dict(torch.load(saved(nbgrad, model.state_dict()), weights_only=True))
    for p, q in zip(back.parameters(), reference.parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize('lib', LIBS)
def test_same_memory_as_two_dtypes_is_refused(lib):
    x = lib.zeros(4)
    with pytest.raises(RuntimeError, match='view the same data as different types'):
        lib.save([x, x.view(lib.int32)], io.BytesIO())


def test_memory_torch_cannot_describe_is_saved_as_a_copy():
    """A view that reinterprets part of an element (odd byte offset) cannot be a storage view."""
    # (PyTorch's view(dtype) refuses an odd offset, as nbgrad's does; NumPy makes one)
    odd = nbgrad.from_numpy(np.arange(8, dtype=np.uint8)[1:7].view(np.int16))
    (back,) = nbgrad.load(saved(nbgrad, [odd]))
    np.testing.assert_array_equal(back.numpy(), odd.numpy())


# ------------------------------------------------------------------------------------------------
# weights_only: nothing but tensors and plain data unless the caller trusts the file
# ------------------------------------------------------------------------------------------------

CALLS = []


def record_call(*args):
    CALLS.append(args)
    return 'ran'


class RunsCodeWhenLoaded:
    def __reduce__(self):
        return record_call, ('payload',)


class UserPoint:
    def __init__(self, x):
        self.x = x


@pytest.mark.parametrize('lib', LIBS)
def test_weights_only_refuses_a_pickle_that_calls_code(lib):
    file = saved(lib, {'w': lib.ones(2), 'evil': RunsCodeWhenLoaded()})
    CALLS.clear()
    with pytest.raises(pickle.UnpicklingError) as info:
        loaded(nbgrad, file)
    assert not CALLS
    message = str(info.value)
    assert f'{__name__}.record_call' in message and 'weights_only' in message
    if torch is not None:
        with pytest.raises(pickle.UnpicklingError):
            loaded(torch, file, weights_only=True)
    result = loaded(nbgrad, file, weights_only=False)  # the caller trusts the file
    assert result['evil'] == 'ran' and CALLS == [('payload',)]


def test_user_classes_load_when_trusted_or_allowlisted():
    file = saved(nbgrad, [UserPoint(nbgrad.ones(2))])
    with pytest.raises(pickle.UnpicklingError, match='UserPoint'):
        loaded(nbgrad, file)
    (point,) = loaded(nbgrad, file, weights_only=False)
    assert type(point) is UserPoint and point.x.tolist() == [1.0, 1.0]
    with serialization.safe_globals([UserPoint]):
        (point,) = loaded(nbgrad, file)
        assert type(point) is UserPoint
    assert UserPoint not in serialization.get_safe_globals()


def archive_with(data_pkl):
    """A zip laid out like a checkpoint, around a hand-made data.pkl."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w') as z:
        z.writestr('archive/data.pkl', data_pkl)
        z.writestr('archive/version', b'3\n')
    buf.seek(0)
    return buf


HOSTILE_PICKLES = {
    # BUILD on nbgrad.float32 would overwrite the dtype singleton's NumPy type
    'build_on_dtype': b'\x80\x02ctorch\nfloat32\nN}X\x02\x00\x00\x00npK\x01s\x86b.',
    # SETITEM on a tensor would write into it
    'setitem_on_tensor': b'\x80\x02ctorch\nTensor\nK\x02\x85RK\x00K\x01s.',
    # INST calls a class by name
    'inst': b'(ibuiltins\nlist\n.',
    'os_system': b'\x80\x02cos\nsystem\nX\x04\x00\x00\x00truex\x85R.',
}


@pytest.mark.parametrize('name', HOSTILE_PICKLES)
def test_weights_only_refuses_hostile_opcodes(name):
    np_type = nbgrad.float32.np
    with pytest.raises(pickle.UnpicklingError, match='weights_only'):
        nbgrad.load(archive_with(HOSTILE_PICKLES[name]))
    assert nbgrad.float32.np is np_type
    if torch is not None:
        with pytest.raises(pickle.UnpicklingError):
            torch.load(archive_with(HOSTILE_PICKLES[name]), weights_only=True)


@pytest.mark.parametrize('lib', LIBS)
def test_explicit_pickle_module_with_weights_only_is_refused(lib):
    file = saved(lib, [lib.ones(1)])
    with pytest.raises(RuntimeError, match='pickle_module'):
        lib.load(file, pickle_module=pickle, weights_only=True)
    assert loaded(lib, file, pickle_module=pickle, weights_only=False)[0].tolist() == [1.0]
    # left unset, weights_only is False when a pickle_module is given
    file.seek(0)
    assert lib.load(file, pickle_module=pickle)[0].tolist() == [1.0]


@pytest.mark.parametrize('lib', LIBS)
def test_unknown_pickle_load_args_are_refused(lib):
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        loaded(lib, saved(lib, [lib.ones(1)]), foo=1)


@needs_torch
def test_torch_objects_nbgrad_has_no_counterpart_for_are_named():
    with pytest.raises(pickle.UnpicklingError, match='torch.nn.modules.linear.Linear'):
        loaded(nbgrad, saved(torch, torch.nn.Linear(2, 2)))     # (weights only: refused)
    with pytest.raises(pickle.UnpicklingError, match='torch.ao.quantization.qconfig.QConfig'):
        loaded(nbgrad, saved(torch, [torch.ao.quantization.QConfig]),
               weights_only=False)                  # (no nbgrad.ao: no quantization)
    assert loaded(nbgrad, saved(torch, [torch.fx.Graph]), weights_only=False) == \
        [nbgrad.fx.graph.Graph]


@needs_torch
def test_a_whole_model_saved_by_pytorch_loads_as_nbgrads_modules():
    """torch.save(model) pickles the module objects; with weights_only=False nbgrad rebuilds
    them from its classes of the same paths, and they compute what PyTorch's do."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(),
                                torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2)).eval()
    mine = loaded(nbgrad, saved(torch, model), weights_only=False)
    assert type(mine) is nbgrad.nn.Sequential and repr(mine) == repr(model)
    assert sorted(mine.state_dict()) == sorted(model.state_dict())
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(mine(nbgrad.tensor(x)).detach().numpy(),
                               model(torch.tensor(x)).detach().numpy(), rtol=1e-6)


@needs_torch
def test_attributes_set_on_tensors_and_parameters_go_both_ways():
    for writer, reader in ((torch, nbgrad), (nbgrad, torch)):
        t, p = writer.ones(2), writer.nn.Parameter(writer.zeros(1))
        t.note, p.note = 'tensor note', 'parameter note'
        t2, p2 = loaded(reader, saved(writer, [t, p]))
        assert (t2.note, p2.note) == ('tensor note', 'parameter note')
        assert type(t2) is reader.Tensor and type(p2) is reader.nn.Parameter


@needs_torch
def test_big_endian_files_are_byteswapped():
    """A checkpoint from a big-endian machine: byteorder 'big', each element's bytes reversed."""
    original = [torch.tensor([1.5, -2.0, 3e30]), torch.tensor([1, -2, 2 ** 40]),
                torch.tensor([1 + 2j], dtype=torch.complex64)]
    swapped = io.BytesIO()
    with zipfile.ZipFile(saved(torch, original)) as src, zipfile.ZipFile(swapped, 'w') as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.endswith('/byteorder'):
                data = b'big'
            elif '/data/' in name:
                t = original[int(name.rsplit('/', 1)[1])]
                data = t.numpy().byteswap().tobytes()
            dst.writestr(name, data)
    for reader in (torch, nbgrad):
        for got, expected in zip(loaded(reader, swapped), original):
            assert got.tolist() == expected.tolist()


@needs_torch
def test_conjugate_and_negative_views_from_torch_are_materialised():
    z = torch.tensor([1 + 2j, -3j])
    conj = loaded(nbgrad, saved(torch, z.conj()))
    neg_conj = loaded(nbgrad, saved(torch, z.conj().imag))
    assert conj.tolist() == z.conj().resolve_conj().tolist()
    assert neg_conj.tolist() == z.conj().imag.resolve_neg().tolist()


# ------------------------------------------------------------------------------------------------
# Atomic writes
# ------------------------------------------------------------------------------------------------

class FailsWhilePickled:
    """Tensor-like object whose pickling fails (a crash in the middle of torch.save)."""

    def __reduce__(self):
        raise OSError('simulated failure while writing')


@pytest.fixture
def old_checkpoint(tmp_path):
    path = tmp_path / 'model.pt'
    nbgrad.save({'w': nbgrad.ones(3)}, path)
    return path, path.read_bytes()


def test_failed_pickling_leaves_the_old_file_alone(old_checkpoint):
    path, before = old_checkpoint
    with pytest.raises(OSError, match='simulated'):
        nbgrad.save({'w': nbgrad.zeros(3), 'bad': FailsWhilePickled()}, path)
    assert path.read_bytes() == before and os.listdir(path.parent) == ['model.pt']


def test_failure_while_writing_storages_removes_the_temporary_file(old_checkpoint, monkeypatch):
    path, before = old_checkpoint
    real = serialization._fmt.memory_bytes
    written = []

    def fail_on_second_storage(memory):
        written.append(memory)
        if len(written) == 2:
            raise OSError('simulated disk full')
        return real(memory)

    monkeypatch.setattr(serialization._fmt, 'memory_bytes', fail_on_second_storage)
    with pytest.raises(OSError, match='disk full'):
        nbgrad.save({'a': nbgrad.zeros(1000), 'b': nbgrad.zeros(1000)}, path)
    assert len(written) == 2  # it failed half-way through the archive
    assert path.read_bytes() == before and os.listdir(path.parent) == ['model.pt']
    assert nbgrad.load(path)['w'].tolist() == [1.0, 1.0, 1.0]


def test_save_replaces_keeping_mode_and_symlink(old_checkpoint):
    path, _ = old_checkpoint
    os.chmod(path, 0o640)
    link = path.parent / 'latest.pt'
    link.symlink_to(path.name)
    nbgrad.save({'w': nbgrad.full((3,), 2.0)}, link)
    assert link.is_symlink() and stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert nbgrad.load(path)['w'].tolist() == [2.0, 2.0, 2.0]
    assert sorted(os.listdir(path.parent)) == ['latest.pt', 'model.pt']


@pytest.mark.parametrize('lib', LIBS)
def test_missing_parent_directory(lib, tmp_path):
    with pytest.raises(RuntimeError, match='Parent directory .* does not exist'):
        lib.save(lib.ones(1), tmp_path / 'nowhere' / 'x.pt')


# ------------------------------------------------------------------------------------------------
# Damaged files: a RuntimeError that names the file
# ------------------------------------------------------------------------------------------------

def damaged_copies(good):
    data_pkl_at = good.find(b'\x80\x02')
    storage_at = good.find(np.arange(1.0, 9.0, dtype=np.float32).tobytes())
    flipped = bytearray(good), bytearray(good)
    flipped[0][data_pkl_at + 5] ^= 0xFF
    flipped[1][storage_at + 9] ^= 0x01
    return {'half': good[:len(good) // 2], 'last_byte_cut': good[:-1], 'first_10': good[:10],
            'empty': b'', 'random': np.random.default_rng(0).bytes(len(good)),
            'pickle_byte_flipped': bytes(flipped[0]), 'storage_bit_flipped': bytes(flipped[1])}


@pytest.mark.parametrize('damage', ['half', 'last_byte_cut', 'first_10', 'empty', 'random',
                                    'pickle_byte_flipped', 'storage_bit_flipped'])
def test_damaged_file_raises_a_clear_error(tmp_path, damage):
    good = tmp_path / 'good.pt'
    nbgrad.save({'w': nbgrad.arange(1.0, 9.0)}, good)
    bad = tmp_path / 'bad.pt'
    bad.write_bytes(damaged_copies(good.read_bytes())[damage])
    # (a file that does not start as a zip archive is read as the legacy format, whose
    # unpickling fails with PyTorch's exception class: EOFError when empty)
    kind = {'empty': EOFError, 'random': Exception}.get(damage, RuntimeError)
    with pytest.raises(kind, match='bad.pt') as info:
        nbgrad.load(bad)
    assert 'corrupted' in str(info.value)
    if torch is not None and damage == 'empty':
        with pytest.raises(EOFError):
            torch.load(bad)
    if torch is not None and damage == 'half':
        with pytest.raises(Exception) as torch_info:
            torch.load(bad)
        assert exc_kind(torch_info.value) is RuntimeError


def test_zip_that_is_not_a_checkpoint(tmp_path):
    path = tmp_path / 'notes.zip'
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('notes.txt', 'hello')
    with pytest.raises(RuntimeError, match='data.pkl'):
        nbgrad.load(path)


def test_nonexistent_file():
    with pytest.raises(FileNotFoundError):
        nbgrad.load('/nonexistent/checkpoint.pt')


# ------------------------------------------------------------------------------------------------
# map_location and devices
# ------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def torch_tags_storages_as(location):
    """Make torch.save write `location` as the storages' device, as on a machine with GPUs."""
    entry = (-1, lambda storage: location, lambda storage, loc: None)
    torch.serialization._package_registry.insert(0, entry)
    try:
        yield
    finally:
        torch.serialization._package_registry.remove(entry)


@needs_torch
@pytest.mark.skipif(nbgrad.cuda.is_available(), reason='checks a CPU-only machine')
def test_gpu_checkpoint_on_a_cpu_only_machine():
    with torch_tags_storages_as('cuda:0'):
        file = saved(torch, {'w': torch.arange(4.0), 'p': torch.nn.Parameter(torch.ones(2))})
    with pytest.raises(RuntimeError, match='map_location') as info:
        loaded(nbgrad, file)
    with pytest.raises(Exception) as torch_info:
        loaded(torch, file, weights_only=True)
    assert exc_kind(torch_info.value) is exc_kind(info.value) is RuntimeError
    locations = []
    for map_location in ('cpu', nbgrad.device('cpu'), {'cuda:0': 'cpu'},
                         lambda storage, loc: locations.append(loc) or storage):
        state = loaded(nbgrad, file, map_location=map_location)
        assert state['w'].device == nbgrad.device('cpu') and state['w'].tolist() == [0, 1, 2, 3]
        assert type(state['p']) is nbgrad.nn.Parameter and state['p'].requires_grad
    assert set(locations) == {'cuda:0'}


def test_bad_map_location():
    file = saved(nbgrad, nbgrad.ones(1))
    with pytest.raises(TypeError, match='map_location'):
        loaded(nbgrad, file, map_location=3.5)
    with pytest.raises(RuntimeError, match='xla:0'):
        loaded(nbgrad, file, map_location='xla:0')
    with pytest.raises(TypeError, match='map_location'):
        loaded(nbgrad, file, map_location=lambda storage, loc: 'not a storage')


def test_map_location_callable_may_decline(device):
    file = saved(nbgrad, [nbgrad.ones(2, device=device)])
    (t,) = loaded(nbgrad, file, map_location=lambda storage, loc: None)
    assert t.device.type == device


def test_tensors_come_back_on_their_device(device):
    x = nbgrad.arange(12.0, device=device).reshape(3, 4)
    a, at, tail = loaded(nbgrad, saved(nbgrad, [x, x.t(), x[1:]]))
    assert a.device == at.device == x.device
    assert at.stride() == (1, 4) and tail.storage_offset() == 4
    assert a.untyped_storage().data_ptr() == at.untyped_storage().data_ptr() \
        == tail.untyped_storage().data_ptr()
    a[2, 3] = -1.0
    assert at[3, 2].item() == -1.0 and tail[1, 3].item() == -1.0
    on_cpu = loaded(nbgrad, saved(nbgrad, [x, x.t()]), map_location='cpu')
    assert on_cpu[0].device == nbgrad.device('cpu') and on_cpu[1].tolist() == x.t().tolist()


def test_strided_views_come_back_sharing_one_storage(device):
    """Views that are no dense block (every other column) are strided views of the loaded
    storage: same storage, offsets, writes seen by all, and saved again as one storage. (On
    CuPy such a view keeps no base of its own.)"""
    x = nbgrad.arange(12.0, device=device).reshape(3, 4)
    a, cols, row = loaded(nbgrad, saved(nbgrad, [x, x[1:, ::2], x[1:, ::2][1]]))
    assert cols.stride() == (4, 2) and cols.storage_offset() == 4 and row.storage_offset() == 8
    pointers = {t.untyped_storage().data_ptr() for t in (a, cols, row, cols[0])}
    assert len(pointers) == 1
    a[2, 2] = -1.0
    assert cols[1, 1].item() == -1.0 and row[1].item() == -1.0
    again = loaded(nbgrad, saved(nbgrad, [cols, a]), map_location='cpu')
    assert again[0].untyped_storage().data_ptr() == again[1].untyped_storage().data_ptr()
    assert again[0].tolist() == cols.tolist()


@needs_torch
def test_torch_reads_the_location_nbgrad_wrote(device):
    file = saved(nbgrad, {'w': nbgrad.arange(3.0, device=device)})
    locations = []
    state = loaded(torch, file, weights_only=True,
                   map_location=lambda storage, loc: locations.append(loc) or storage)
    assert locations == ['cpu' if device == 'cpu' else 'cuda:0']
    assert state['w'].tolist() == [0.0, 1.0, 2.0]


@pytest.mark.cuda
@pytest.mark.skipif(not nbgrad.cuda.is_available() or nbgrad.cuda.device_count() < 2,
                    reason='needs two CUDA devices (or NBGRAD_FAKE_CUDA_DEVICES=2)')
def test_map_location_between_gpus():
    x = nbgrad.arange(6.0, device='cuda:0').reshape(2, 3)
    file = saved(nbgrad, [x, x[1]])
    one = nbgrad.device('cuda:1')
    for map_location in ('cuda:1', one, {'cuda:0': 'cuda:1'},
                         lambda storage, loc: storage.cuda(1)):
        a, row = loaded(nbgrad, file, map_location=map_location)
        assert a.device == row.device == one and row.tolist() == [3.0, 4.0, 5.0]
        assert a.untyped_storage().data_ptr() == row.untyped_storage().data_ptr()
    with pytest.raises(RuntimeError, match='device_count'):
        loaded(nbgrad, file, map_location='cuda:7')


# ------------------------------------------------------------------------------------------------
# mmap and arguments
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('lib', LIBS)
def test_mmap_loads_copy_on_write(lib, tmp_path):
    path = tmp_path / 'm.pt'
    lib.save({'w': lib.arange(6.0).reshape(2, 3)}, path)
    before = path.read_bytes()
    w = lib.load(path, mmap=True)['w']
    w[0, 0] = 42.0
    assert w.sum().item() == 57.0 and path.read_bytes() == before
    with pytest.raises(ValueError, match='mmap'):
        lib.load(io.BytesIO(before), mmap=True)


@pytest.mark.parametrize('lib', LIBS)
def test_paths_and_file_objects(lib, tmp_path):
    lib.save(lib.ones(2), str(tmp_path / 'a.pt'))
    with open(tmp_path / 'b.pt', 'wb') as f:
        lib.save(lib.ones(2), f)
    with open(tmp_path / 'b.pt', 'rb') as f:
        assert lib.load(f).tolist() == lib.load(str(tmp_path / 'a.pt')).tolist() == [1.0, 1.0]


@needs_torch
@pytest.mark.parametrize('writer', ['torch', 'nbgrad'])
@pytest.mark.parametrize('reader', ['torch', 'nbgrad'])
def test_layouts_round_trip_between_the_libraries(writer, reader):
    """Layouts are written as torch.save writes them (torch.serialization._get_layout) and read
    back as the reader's own layout objects."""
    libs = {'torch': torch, 'nbgrad': nbgrad}
    w, r = libs[writer], libs[reader]
    out = loaded(r, saved(w, {'dense': w.strided, 'coo': w.sparse_coo}))
    assert out['dense'] is r.strided and out['coo'] is r.sparse_coo


def _local_class_instance():
    class Settings:
        pass
    return Settings()


def _local_function():
    def inner():
        pass
    return inner


@needs_torch
@pytest.mark.parametrize('make', [_local_class_instance, lambda: (lambda x: x),
                                  lambda: {'hook': _local_function()}],
                         ids=['local_class', 'lambda', 'local_function'])
def test_unpicklable_objects_raise_what_pytorch_raises(make):
    """torch.save uses the C pickler: a local class or function is its AttributeError, a lambda
    its PicklingError naming the failed lookup; nbgrad's pure-Python pickler says the same."""
    errors = []
    for lib in (torch, nbgrad):
        with pytest.raises(Exception) as caught:
            lib.save(make(), io.BytesIO())
        errors.append((type(caught.value), str(caught.value).split(' at 0x')[0]))
    assert errors[0] == errors[1]
