"""The tutorial notebooks are PyTorch code (`import nbgrad as torch`): run each code cell with real
PyTorch and with nbgrad, and require the same printed output (with 'torch.' read as 'nbgrad.').

nbval already checks the notebooks against their stored outputs; this checks that those outputs
are PyTorch's, so the tutorials cannot drift from PyTorch's behaviour."""
import ast
import contextlib
import io
import pathlib

import pytest

nbformat = pytest.importorskip('nbformat')
torch = pytest.importorskip('torch')

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / 'notebooks'
# Notebooks written in PyTorch's API. Cells tagged 'nbgrad-only' (the notebook layer: magics,
# widgets) are left out of the comparison; the tour notebook is nbgrad's notebook layer throughout.
TORCH_ONLY = ['01_tensors_and_autograd.ipynb', '02_nn_and_optim.ipynb', '03_data.ipynb',
              '04_distributions.ipynb', '06_randomness.ipynb', '07_sparse.ipynb',
              '08_hub.ipynb', '09_multiprocessing.ipynb', '10_tensorboard.ipynb',
              '11_jit.ipynb', '12_distributed.ipynb', '13_devices_and_interop.ipynb']
NBGRAD_ONLY_TAG = 'nbgrad-only'


def _run_cells(path, use_torch):
    notebook = nbformat.read(path, as_version=4)
    namespace = {'__name__': '__main__'}   # (a notebook's cells run in __main__)
    outputs = []
    for cell in notebook.cells:
        if cell.cell_type != 'code' or NBGRAD_ONLY_TAG in cell.metadata.get('tags', ()):
            continue
        source = cell.source
        if use_torch:
            # porting is changing the imports: nbgrad -> torch, nbgrad.x -> torch.x
            source = source.replace('import nbgrad as torch', 'import torch') \
                .replace('from nbgrad.', 'from torch.').replace('from nbgrad import', 'from torch import')
        tree = ast.parse(source)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(tree, path.name, 'exec'), namespace)
            if last is not None:
                value = eval(compile(last, path.name, 'eval'), namespace)
                if value is not None:
                    print(repr(value))
        outputs.append(buffer.getvalue().replace('torch.', 'nbgrad.').replace("'torch'", "'nbgrad'"))
    return outputs


@pytest.mark.parametrize('name', TORCH_ONLY)
def test_notebook_prints_what_pytorch_prints(name):
    path = NOTEBOOKS / name
    expected = _run_cells(path, use_torch=True)
    got = _run_cells(path, use_torch=False)
    for index, (want, have) in enumerate(zip(expected, got)):
        assert have == want, f'code cell {index} of {name} differs from PyTorch'
