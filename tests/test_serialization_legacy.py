"""The checkpoint format before PyTorch 1.6 (torch.save(..., _use_new_zipfile_serialization=
False)), which old checkpoints are in: torch's files load in nbgrad and nbgrad's in torch, with
the same values, dtypes, strides, shared memory and parameters, under both pickle protocols
torch writes, weights_only or not; and files that are not checkpoints."""
import collections
import io
import pickle

import numpy as np
import pytest

import nbgrad
from test_serialization import describe, sample, SAMPLES

torch = pytest.importorskip('torch')


def _legacy_bytes(lib, obj, protocol=2):
    buf = io.BytesIO()
    lib.save(obj, buf, _use_new_zipfile_serialization=False, pickle_protocol=protocol)
    return buf.getvalue()


def _load(lib, data, **kwargs):
    return lib.load(io.BytesIO(data), **kwargs)


@pytest.mark.parametrize('name', SAMPLES)
def test_legacy_files_go_both_ways(name):
    """Every (writer, reader) pair gives what torch.load gives for torch's own legacy file."""
    expected = describe(_load(torch, _legacy_bytes(torch, sample(name, torch)),
                              weights_only=True))
    for writer in (torch, nbgrad):
        data = _legacy_bytes(writer, sample(name, writer))
        for reader in (torch, nbgrad):
            got = describe(_load(reader, data, weights_only=True))
            assert got == expected, f'{writer.__name__}.save -> {reader.__name__}.load'


@pytest.mark.parametrize('weights_only', [True, False])
@pytest.mark.parametrize('protocol', [2, 4])
def test_torch_legacy_state_dicts_load(protocol, weights_only):
    """A model's and an optimizer's state_dicts (with _metadata), from torch's legacy file."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(5, 3)).sum().backward()
    optimizer.step()
    obj = {'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'epoch': 3}
    data = _legacy_bytes(torch, obj, protocol)
    if weights_only and protocol == 4:
        pytest.skip('torch 2.13 refuses protocol-4 legacy files under weights_only')
    expected = describe(_load(torch, data, weights_only=weights_only))
    assert describe(_load(nbgrad, data, weights_only=weights_only)) == expected


def test_a_whole_torch_module_in_the_legacy_format_loads_untrusted_only():
    """torch writes each module class as a persistent id with its source; weights_only=False
    rebuilds the module as nbgrad's (a trusted file), weights_only=True refuses it."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh())
    data = _legacy_bytes(torch, model)
    ours = _load(nbgrad, data, weights_only=False)
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(ours(nbgrad.tensor(x)).detach().numpy(),
                                  model(torch.tensor(x)).detach().numpy())
    with pytest.raises(pickle.UnpicklingError):
        _load(nbgrad, data, weights_only=True)


def test_map_location_sees_each_storage_before_its_bytes():
    """As in PyTorch, map_location gets an (uninitialised) storage and where it was saved; the
    bytes are written into what it returns."""
    seen = []

    def where(storage, location):
        seen.append((location, tuple(storage.shape)))
        return storage
    data = _legacy_bytes(torch, collections.OrderedDict(a=torch.arange(4.0), b=torch.ones(2, 3)))
    got = _load(nbgrad, data, map_location=where)
    assert seen == [('cpu', (4,)), ('cpu', (6,))]
    assert got['a'].tolist() == [0.0, 1.0, 2.0, 3.0] and got['b'].tolist() == [[1.0] * 3] * 2


def test_files_that_are_not_checkpoints_get_pytorchs_exception_class(tmp_path):
    for data, kind in ((b'', EOFError), (pickle.dumps({'a': 1}, protocol=2), RuntimeError)):
        for lib in (torch, nbgrad):
            with pytest.raises(kind):
                _load(lib, data)
    path = tmp_path / 'old.pt'
    path.write_bytes(_legacy_bytes(torch, torch.ones(2)))
    for lib in (torch, nbgrad):
        with pytest.raises(RuntimeError, match='mmap can only be used'):
            lib.load(path, mmap=True)


def test_legacy_files_load_onto_and_save_from_each_device(device):
    """map_location puts the empty storages on the device; the bytes are copied there after."""
    data = _legacy_bytes(torch, {'a': torch.arange(4.0), 'tail': torch.arange(6.0)[2:]})
    got = _load(nbgrad, data, map_location=device)
    assert got['a'].device.type == got['tail'].device.type == device
    assert got['a'].tolist() == [0.0, 1.0, 2.0, 3.0] and got['tail'].tolist() == [2, 3, 4, 5]
    back = _load(torch, _legacy_bytes(nbgrad, got), map_location='cpu')
    assert back['a'].tolist() == [0.0, 1.0, 2.0, 3.0] and back['tail'].tolist() == [2, 3, 4, 5]
