"""The JupyterLab extension (labextension/) from the Python side: one name and version for the
widgets' front end, its TypeScript unit tests, and JupyterLab finding it installed. The
real-browser test is tests/test_browser.py."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXTENSION = ROOT / 'labextension'
FRONTEND = json.loads((ROOT / 'widgets' / 'frontend.json').read_text())


def test_the_npm_package_is_the_module_the_widgets_name():
    package = json.loads((EXTENSION / 'package.json').read_text())
    assert package['name'] == FRONTEND['module']
    # the views register under frontend.json's name and version, read from that file
    source = (EXTENSION / 'src' / 'frontend.ts').read_text()
    assert "from '../../widgets/frontend.json'" in source
    from nbgrad.widgets import TrainingView
    view = TrainingView()
    assert (view._model_module, view._model_module_version) == (FRONTEND['module'],
                                                                FRONTEND['version'])


def _npm():
    npm = shutil.which('npm')
    if npm is None or not (EXTENSION / 'node_modules').is_dir():
        pytest.skip('npm or labextension/node_modules missing (scripts/_venv.sh installs them)')
    return npm


def test_typescript_unit_tests():
    done = subprocess.run([_npm(), 'test', '--silent'], cwd=EXTENSION, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert '# fail 0' in done.stdout


def test_jupyterlab_lists_the_extension_enabled_and_ok():
    if not (EXTENSION / 'dist' / 'package.json').is_file():
        pytest.skip('the labextension is not built here (scripts/_venv.sh builds it with npm)')
    jupyter = pathlib.Path(sys.executable).parent / 'jupyter'
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(ROOT / '.venv' / 'no-user-config'))
    done = subprocess.run([str(jupyter), 'labextension', 'list'], capture_output=True,
                          text=True, env=env, timeout=120)
    line = next((l for l in (done.stdout + done.stderr).splitlines()
                 if FRONTEND['module'] in l), '')
    assert f'{FRONTEND["module"]} v' in line and 'enabled' in line and 'OK' in line, line
