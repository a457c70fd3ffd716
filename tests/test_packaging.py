"""The wheel a user installs holds the whole package. pyproject lists the packages by hand (the
notebook layer lives outside nbgrad/), and a folder missing from that list used to ship a wheel
without nbgrad.nn or nbgrad.optim while every test passed from the checkout."""
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# where each installed package's files come from in the checkout
SOURCES = {'nbgrad': ROOT / 'nbgrad', 'nbgrad/widgets': ROOT / 'widgets',
           'nbgrad/magics': ROOT / 'magics'}
# the JupyterLab extension as scripts/_venv.sh builds it (needs Node.js)
BUILT_EXTENSION = ROOT / 'labextension' / 'dist'


def _source_files():
    files = set()
    for installed, folder in SOURCES.items():
        for path in folder.rglob('*.py'):
            files.add(f'{installed}/{path.relative_to(folder).as_posix()}')
    return files


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    # built from a copy: setuptools reuses a checkout's stale build/ folder, which can hold
    # packages that pyproject no longer lists
    source = tmp_path_factory.mktemp('source')
    for name in ('pyproject.toml', 'README.md'):
        shutil.copy(ROOT / name, source / name)
    for folder in SOURCES.values():
        shutil.copytree(folder, source / folder.name,
                        ignore=shutil.ignore_patterns('__pycache__'))
    if BUILT_EXTENSION.is_dir():
        shutil.copytree(BUILT_EXTENSION, source / 'labextension' / 'dist')
    out = tmp_path_factory.mktemp('wheel')
    done = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
                           '--no-build-isolation', '-q', '-w', str(out), str(source)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f'could not build a wheel here: {done.stderr[-500:]}')
    (path,) = out.glob('nbgrad-*.whl')
    return path


def test_the_wheel_holds_every_source_file(wheel):
    shipped = {name for name in zipfile.ZipFile(wheel).namelist() if name.endswith('.py')}
    missing = sorted(_source_files() - shipped)
    assert not missing, f'pyproject.toml [tool.setuptools] packages leaves out: {missing[:10]}'


def test_the_installed_wheel_imports_and_trains(wheel, tmp_path):
    zipfile.ZipFile(wheel).extractall(tmp_path / 'site')
    script = (
        'import nbgrad, nbgrad.nn.functional as F\n'
        'assert nbgrad.__file__.startswith(%r), nbgrad.__file__\n'
        'model = nbgrad.nn.Linear(3, 1)\n'
        'opt = nbgrad.optim.SGD(model.parameters(), lr=0.1)\n'
        'x = nbgrad.randn(8, 3)\n'
        'F.mse_loss(model(x), x.sum(1, keepdim=True)).backward()\n'
        'opt.step()\n'
        'import nbgrad.utils.dlpack, nbgrad.backends.cudnn, nbgrad.testing, nbgrad.cuda\n'
        % str(tmp_path / 'site'))
    # -S: no site-packages .pth files, so the checkout's editable install cannot fill in what
    # the wheel lacks; NumPy's folder is added by hand
    numpy_folder = pathlib.Path(np.__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path / 'site'), str(numpy_folder)]))
    done = subprocess.run([sys.executable, '-S', '-c', script], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_wheel_ships_the_prebuilt_labextension(wheel):
    if not (BUILT_EXTENSION / 'package.json').is_file():
        pytest.skip('the labextension is not built here (scripts/_venv.sh builds it with npm)')
    prefix = 'nbgrad-0.1.0.dev0.data/data/share/jupyter/labextensions/nbgrad-widgets/'
    names = [n[len(prefix):] for n in zipfile.ZipFile(wheel).namelist() if n.startswith(prefix)]
    assert {'package.json', 'install.json'} <= set(names)
    assert any(n.startswith('static/remoteEntry.') for n in names)
    built = {p.relative_to(BUILT_EXTENSION).as_posix() for p in BUILT_EXTENSION.rglob('*')
             if p.is_file() and not p.name.startswith('.')}
    assert set(names) == built


def test_pip_install_of_the_wheel_gives_jupyterlab_the_extension(wheel, tmp_path):
    """No Node.js on a user's machine: pip puts the prebuilt extension where JupyterLab looks,
    and `jupyter labextension list` reports it enabled, OK, installed by the nbgrad package."""
    if not (BUILT_EXTENSION / 'package.json').is_file():
        pytest.skip('the labextension is not built here (scripts/_venv.sh builds it with npm)')
    prefix = tmp_path / 'prefix'
    # --ignore-installed: into the prefix only (pip would otherwise uninstall this
    # environment's own nbgrad first)
    done = subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
                           '--no-index', '--ignore-installed', '--prefix', str(prefix),
                           str(wheel)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    data = prefix / 'share' / 'jupyter'
    env = dict(os.environ, JUPYTER_PATH=str(data), JUPYTER_CONFIG_DIR=str(tmp_path / 'config'))
    jupyter = pathlib.Path(sys.executable).parent / 'jupyter'
    listed = subprocess.run([str(jupyter), 'labextension', 'list'], capture_output=True,
                            text=True, env=env, timeout=120)
    text = listed.stdout + listed.stderr
    section = text[text.index(str(data / 'labextensions')):]
    line = next(l for l in section.splitlines() if 'nbgrad-widgets' in l)
    assert 'enabled' in line and 'OK' in line and '(python, nbgrad)' in line, text
