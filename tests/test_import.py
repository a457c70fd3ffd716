"""`import nbgrad` needs NumPy alone: no notebook stack, no torch, no CuPy (design rule)."""
import subprocess
import sys


def test_import_pulls_in_numpy_only():
    code = ('import sys, nbgrad; '
            "print(' '.join(m for m in ('IPython', 'ipywidgets', 'ipykernel', 'matplotlib', "
            "'jupyter_client', 'torch', 'cupy', 'scipy', 'ml_dtypes') if m in sys.modules))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ''


def test_cuda_is_cleanly_unavailable_without_gpu_stack():
    code = 'import nbgrad; print(nbgrad.cuda.is_available() in (True, False))'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == 'True'
