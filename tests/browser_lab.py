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
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    install = ['apt-get', 'install', '-y', '-q', 'chromium']
    done = subprocess.run(install, capture_output=True, text=True, timeout=900, env=env)
    if done.returncode != 0:     # a fresh image has no package lists yet: fetch them, try again
        subprocess.run(['apt-get', 'update', '-q'], capture_output=True, timeout=300, env=env)
        done = subprocess.run(install, capture_output=True, text=True, timeout=900, env=env)
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


# The notebook's state read from its model (through `window.jupyterapp`), not from the DOM: an
# error renders as plain stderr text there, indistinguishable from a warning by its markup.
_NOTEBOOK_STATE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const code = Array.from(panel.content.model.cells).filter(c => c.type === 'code');
    return {
        idle: kernel !== null && kernel.status === 'idle',
        counts: code.map(c => c.executionCount),
        errors: code.flatMap(c => c.outputs.toJSON().filter(o => o.output_type === 'error')
            .map(o => `${o.ename}: ${o.evalue}\\nin the cell:\\n${c.sharedModel.getSource()}`)),
    };
}"""


def cell_errors(page):
    """The errors the page's notebook cells raised, as 'Name: value' plus the cell's code."""
    return page.evaluate(_NOTEBOOK_STATE)['errors']


def run_all_cells(page, timeout_ms=180_000):
    """Run every cell and wait until each code cell has an execution count and the kernel is
    idle again. A cell that raises stops Run All (the cells after it never run): that fails at
    once, with the error, rather than at the timeout."""
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        f"""() => {{
            const state = ({_NOTEBOOK_STATE})();
            return state.idle && (state.errors.length > 0 ||
                                  state.counts.every(n => typeof n === 'number'));
        }}""", timeout=timeout_ms, polling=300)
    errors = cell_errors(page)
    if errors:
        raise AssertionError('a cell raised during Run All: ' + '\n'.join(errors))


def screenshot_notebook(page, path, max_height=16_000):
    """A screenshot of the whole notebook. The notebook scrolls inside its panel (a full-page
    screenshot shows only what is in view), so the viewport grows to the notebook's height for
    the shot and then goes back: the views redraw at their usual size. Cells below the view may
    be drawn only once in view (their height was an estimate), so the height is measured again
    after each growth until it settles."""
    size = page.viewport_size
    height = size['height']
    for _ in range(5):
        extra = page.evaluate("""() => {
            const scroller = document.querySelector(
                '.jp-NotebookPanel .jp-WindowedPanel-outer');
            const cells = scroller ? scroller.querySelectorAll('.jp-Cell') : [];
            if (!cells.length) return 0;
            scroller.scrollTop = 0;                 // (it stays where Run All left it)
            // the last cell's bottom, not scrollHeight: that includes the room JupyterLab
            // leaves to scroll past the end, which grows with the viewport
            const bottom = cells[cells.length - 1].getBoundingClientRect().bottom -
                scroller.getBoundingClientRect().top;
            return Math.ceil(bottom) + 20 - scroller.clientHeight;
        }""")
        if extra <= 0 or height >= max_height:
            break
        height = min(height + extra, max_height)
        page.set_viewport_size({'width': size['width'], 'height': height})
        page.wait_for_timeout(400)                  # (layout; the windowed notebook draws)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    page.wait_for_timeout(300)
