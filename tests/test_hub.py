"""nbgrad.hub against torch.hub, offline: every scenario runs with both libraries, each in its own
hub directory, and must give the same results, messages (paths read relative to the hub
directory), cache layout and errors. GitHub archives are served from local zip files through
file:// URLs (the archive link and the fork check are the only functions replaced)."""
import contextlib
import hashlib
import io
import os
import sys
import zipfile

import numpy as np
import pytest

import nbgrad

torch = pytest.importorskip('torch')

HUBCONF = '''
"""A test repository's hub configuration."""
dependencies = ['numpy']
import helper_module


def tiny(scale=1.0, *, name='tiny'):
    """A tiny entry point."""
    return (name, scale, helper_module.VALUE)


def _private():
    return 'hidden'


not_callable = 3
'''


def _write_repo(folder, hubconf=HUBCONF):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'hubconf.py'), 'w') as f:
        f.write(hubconf)
    with open(os.path.join(folder, 'helper_module.py'), 'w') as f:
        f.write('VALUE = 42\n')
    return folder


def _zip_repo(path, top='owner-repo-abc123', extra=()):
    """A GitHub zipball: the repository's files under one top folder (plus `extra` entries)."""
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr(top + '/', '')
        archive.writestr(f'{top}/hubconf.py', HUBCONF)
        archive.writestr(f'{top}/helper_module.py', 'VALUE = 42\n')
        for name, text in extra:
            archive.writestr(name, text)
    return path


def _run(lib, tmp_path, monkeypatch, scenario):
    """scenario(hub, workdir) with lib's hub using its own hub directory; returns (result or
    exception kind and message, stdout, stderr), paths replaced by <HUB>/<WORK>."""
    work = tmp_path / lib.__name__
    work.mkdir()
    hub_dir = str(work / 'hub')
    monkeypatch.setattr(lib.hub, '_hub_dir', hub_dir)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            result = scenario(lib.hub, str(work))
        except Exception as error:     # noqa: BLE001 (the kind and message are compared)
            result = (type(error).__name__, str(error))

    def clean(value):
        if isinstance(value, str):
            return value.replace(hub_dir, '<HUB>').replace(str(work), '<WORK>')
        if isinstance(value, (tuple, list)):
            return type(value)(clean(v) for v in value)
        return value
    return clean(result), clean(out.getvalue()), clean(err.getvalue())


def _same(tmp_path, monkeypatch, scenario):
    ours = _run(nbgrad, tmp_path, monkeypatch, scenario)
    theirs = _run(torch, tmp_path, monkeypatch, scenario)
    assert ours == theirs
    return ours


# -- local repositories ----------------------------------------------------------------------------

@pytest.mark.parametrize('call', [
    lambda hub, repo: hub.load(repo, 'tiny', 2.0, source='local', name='x'),
    lambda hub, repo: hub.load(repo, 'tiny', source='LOCAL'),
    lambda hub, repo: hub.load(repo, 'missing', source='local'),
    lambda hub, repo: hub.load(repo, 'not_callable', source='local'),
    lambda hub, repo: hub.load(repo, 3, source='local'),
    lambda hub, repo: hub.load(repo, 'tiny', source='gitlab'),
], ids=['args', 'source-case', 'missing', 'not-callable', 'not-a-name', 'bad-source'])
def test_load_from_a_local_directory(tmp_path, monkeypatch, call):
    path_before = list(sys.path)
    _same(tmp_path, monkeypatch,
          lambda hub, work: call(hub, _write_repo(os.path.join(work, 'repo'))))
    assert sys.path == path_before      # the repository left sys.path as it found it
    sys.modules.pop('helper_module', None)


def test_missing_dependencies_are_named(tmp_path, monkeypatch):
    hubconf = HUBCONF.replace("['numpy']", "['numpy', 'no_such_package_nbgrad']")
    result, _, _ = _same(tmp_path, monkeypatch, lambda hub, work: hub.load(
        _write_repo(os.path.join(work, 'repo'), hubconf), 'tiny', source='local'))
    assert result == ('RuntimeError', 'Missing dependencies: no_such_package_nbgrad')


# -- GitHub repositories (offline) -----------------------------------------------------------------

@pytest.fixture
def archive(tmp_path, monkeypatch):
    """Both hubs download 'GitHub' archives from a local zip."""
    path = _zip_repo(str(tmp_path / 'zipball.zip'))
    for lib in (nbgrad, torch):
        monkeypatch.setattr(lib.hub, '_git_archive_link',
                            lambda owner, name, ref: 'file://' + path)
    yield path
    sys.modules.pop('helper_module', None)


def _github_session(hub, work):
    """list, help, load (cached the second time), then the cache's layout and trust list."""
    entries = hub.list('owner/repo:main', trust_repo=True, skip_validation=True)
    doc = hub.help('owner/repo:main', 'tiny', trust_repo=True)
    loaded = hub.load('owner/repo:main', 'tiny', 3.0, trust_repo=True, skip_validation=True)
    layout = sorted(os.listdir(hub.get_dir()))
    with open(os.path.join(hub.get_dir(), 'trusted_list')) as f:
        trusted = f.read()
    return entries, doc, loaded, layout, trusted


def test_github_download_cache_and_trust_list(tmp_path, monkeypatch, archive):
    result, out, err = _same(tmp_path, monkeypatch, _github_session)
    entries, doc, loaded, layout, trusted = result
    assert entries == ['tiny'] and loaded == ('tiny', 3.0, 42)
    assert layout == ['owner_repo_main', 'trusted_list'] and trusted == 'owner_repo\n'
    assert 'Downloading' in out and 'Using cache found in <HUB>/owner_repo_main' in err


def test_force_reload_downloads_again(tmp_path, monkeypatch, archive):
    def session(hub, work):
        hub.load('owner/repo:dev/x', 'tiny', trust_repo=True, skip_validation=True)
        return hub.load('owner/repo:dev/x', 'tiny', trust_repo=True, skip_validation=True,
                        force_reload=True, verbose=False), sorted(os.listdir(hub.get_dir()))
    (loaded, layout), out, _ = _same(tmp_path, monkeypatch, session)
    assert layout == ['owner_repo_dev_x', 'trusted_list'] and out.count('Downloading') == 2


@pytest.mark.parametrize('answer', ['n', 'y', 'maybe'])
def test_an_untrusted_repository_asks_first(tmp_path, monkeypatch, archive, answer):
    monkeypatch.setattr('builtins.input', lambda prompt: answer)
    _same(tmp_path, monkeypatch, lambda hub, work: hub.load(
        'stranger/repo:main', 'tiny', skip_validation=True))


def test_archives_cannot_write_outside_the_hub(tmp_path, monkeypatch):
    path = _zip_repo(str(tmp_path / 'evil.zip'), extra=[('../escaped.py', 'x = 1\n')])
    for lib in (nbgrad, torch):
        monkeypatch.setattr(lib.hub, '_git_archive_link', lambda owner, name, ref: 'file://' + path)
    result, _, _ = _same(tmp_path, monkeypatch, lambda hub, work: hub.load(
        'owner/repo:main', 'tiny', trust_repo=True, skip_validation=True))
    assert result[0] == 'ValueError' and 'directory traversal' in result[1]
    assert not any(p.name == 'escaped.py' for p in tmp_path.rglob('escaped.py'))


# -- downloads and checkpoints ---------------------------------------------------------------------

def _source_file(work, data=b'nbgrad hub test payload\n' * 100):
    path = os.path.join(work, 'source.bin')
    with open(path, 'wb') as f:
        f.write(data)
    return path, hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize('prefix', [None, 'good', 'bad'])
def test_download_url_to_file_checks_the_hash_and_is_atomic(tmp_path, monkeypatch, prefix):
    def scenario(hub, work):
        source, digest = _source_file(work)
        hash_prefix = {None: None, 'good': digest[:10], 'bad': '0123abcd'}[prefix]
        dst = os.path.join(work, 'out', 'copy.bin')
        os.makedirs(os.path.dirname(dst))
        try:
            hub.download_url_to_file('file://' + source, dst, hash_prefix, progress=False)
        finally:
            left = sorted(os.listdir(os.path.dirname(dst)))    # no .partial file left behind
        with open(dst, 'rb') as f, open(source, 'rb') as g:
            return left, f.read() == g.read()
    result, _, _ = _same(tmp_path, monkeypatch, scenario)
    if prefix == 'bad':
        assert result[0] == 'RuntimeError' and 'invalid hash value' in result[1]
    else:
        assert result == (['copy.bin'], True)


def _checkpoint(save_lib, folder):
    """A Linear layer's state_dict saved by save_lib under PyTorch's '<name>-<sha256 prefix>.pth'
    naming; returns (path, the weights as NumPy arrays)."""
    save_lib.manual_seed(0)
    state = save_lib.nn.Linear(3, 2).state_dict()
    plain = os.path.join(folder, 'layer.pth')
    save_lib.save(state, plain)
    with open(plain, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    named = os.path.join(folder, f'layer-{digest[:8]}.pth')
    os.rename(plain, named)
    return named, {k: v.numpy() for k, v in state.items()}


@pytest.mark.parametrize('saved_by', ['torch', 'nbgrad'])
def test_load_state_dict_from_url_downloads_once_and_reads_either_file(tmp_path, saved_by):
    saver = {'torch': torch, 'nbgrad': nbgrad}[saved_by]
    source_dir = tmp_path / 'published'
    source_dir.mkdir()
    path, weights = _checkpoint(saver, str(source_dir))
    loaded = {}
    for lib in (nbgrad, torch):
        model_dir = str(tmp_path / f'cache_{lib.__name__}')
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            first = lib.hub.load_state_dict_from_url('file://' + path, model_dir=model_dir,
                                                     check_hash=True, progress=False)
            second = lib.hub.load_state_dict_from_url('file://' + path, model_dir=model_dir)
        assert out.getvalue().count('Downloading') == 1     # the second came from the cache
        assert os.listdir(model_dir) == [os.path.basename(path)]
        for state in (first, second):
            assert list(state) == list(weights)
            for key, value in weights.items():
                np.testing.assert_array_equal(state[key].numpy(), value)
        loaded[lib] = first
    nbgrad.nn.Linear(3, 2).load_state_dict(loaded[nbgrad])   # (nbgrad tensors, whoever saved)


def test_a_checkpoint_with_a_wrong_hash_is_not_kept(tmp_path):
    source_dir = tmp_path / 'published'
    source_dir.mkdir()
    path, _ = _checkpoint(nbgrad, str(source_dir))
    wrong = os.path.join(str(source_dir), 'layer-00000000.pth')
    os.rename(path, wrong)
    for lib in (nbgrad, torch):
        model_dir = str(tmp_path / f'cache_{lib.__name__}')
        with contextlib.redirect_stdout(io.StringIO()), \
                pytest.raises(RuntimeError, match='invalid hash value'):
            lib.hub.load_state_dict_from_url('file://' + wrong, model_dir=model_dir,
                                             check_hash=True, progress=False)
        assert os.listdir(model_dir) == []


def test_get_dir_follows_torch_home_and_set_dir(tmp_path, monkeypatch):
    for lib in (nbgrad, torch):
        monkeypatch.setattr(lib.hub, '_hub_dir', None)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'home'))
    assert nbgrad.hub.get_dir() == torch.hub.get_dir() == str(tmp_path / 'home' / 'hub')
    monkeypatch.delenv('TORCH_HOME')
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'xdg'))
    assert nbgrad.hub.get_dir() == torch.hub.get_dir()
    for lib in (nbgrad, torch):
        lib.hub.set_dir('~/elsewhere')
    assert nbgrad.hub.get_dir() == torch.hub.get_dir() == os.path.expanduser('~/elsewhere')
