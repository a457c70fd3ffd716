"""JupyterLab in a real browser, for tests/test_browser.py: a JupyterLab server on a free
loopback port with temporary config, settings, workspace and runtime folders (nothing of the
user's is read or written), and headless Chromium (Debian's, driven by Playwright) on a page of
it. Also: finding Chromium, installing it with apt when missing and allowed."""
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

CHROMIUM = '/usr/bin/chromium'
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-quic', '--no-first-run', '--disable-component-update',
                 '--disable-sync']


def chromium_or_reason():
    """(path, None) when Chromium is here, installing it with apt if missing and root;
    else (None, why not)."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM, None
    if os.geteuid() != 0 or shutil.which('apt-get') is None:
        return None, 'Chromium is missing and cannot be installed here (needs root and apt-get)'
    done = subprocess.run(['apt-get', 'install', '-y', '-q', 'chromium'], capture_output=True,
                          text=True, timeout=900, env=dict(os.environ,
                                                           DEBIAN_FRONTEND='noninteractive'))
    if done.returncode != 0 or not os.path.exists(CHROMIUM):
        return None, f'apt-get install chromium failed: {done.stderr[-300:]}'
    return CHROMIUM, None


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(root_dir, scratch, timeout=90):
    """A JupyterLab server serving root_dir; yields its base URL. `scratch` holds its config."""
    port = _free_port()
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(scratch / 'config'),
               JUPYTERLAB_SETTINGS_DIR=str(scratch / 'settings'),
               JUPYTERLAB_WORKSPACES_DIR=str(scratch / 'workspaces'),
               JUPYTER_RUNTIME_DIR=str(scratch / 'runtime'),
               IPYTHONDIR=str(scratch / 'ipython'))
    command = [sys.executable, '-m', 'jupyter', 'lab', '--no-browser', f'--port={port}',
               '--ip=127.0.0.1', '--IdentityProvider.token=', '--ServerApp.password=',
               f'--ServerApp.root_dir={root_dir}', '--LabApp.expose_app_in_browser=True',
               '--ServerApp.disable_check_xsrf=True']
    if os.geteuid() == 0:
        command.append('--allow-root')
    log = open(scratch / 'jupyterlab.log', 'w')
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}'
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f'{url}/api/status', timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f'JupyterLab did not start; its log: '
                                   f'{(scratch / "jupyterlab.log").read_text()[-2000:]}')
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def open_notebook(page, url, name, timeout_ms=90_000):
    """Open a notebook and wait for its kernel; answers the dialogs a fresh profile shows.
    Each notebook gets a workspace of its own, so that it is the page's only notebook."""
    workspace = ''.join(c if c.isalnum() else '-' for c in name)
    page.goto(f'{url}/lab/workspaces/{workspace}/tree/{name}')
    page.wait_for_selector('.jp-Notebook', timeout=timeout_ms)
    page.wait_for_function('window.jupyterapp !== undefined', timeout=timeout_ms)
    with contextlib.suppress(Exception):     # a kernel choice, when the notebook names none
        page.click('.jp-Dialog button:has-text("Select")', timeout=3000)
    with contextlib.suppress(Exception):     # "Would you like to get notified about news?"
        page.click('.jp-toast-button:has-text("No")', timeout=1000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=timeout_ms)


def run_all_cells(page, timeout_ms=180_000):
    """Run every cell and wait until each code cell has run and the kernel is idle again."""
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll(
                '.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim());
            const busy = document.querySelector(
                ".jp-Notebook-ExecutionIndicator[data-status='busy']");
            return prompts.length > 0 && !busy && prompts.every(p => /\\[\\d+\\]/.test(p));
        }""", timeout=timeout_ms, polling=500)
