"""nbgrad/_malloc.py: after `import nbgrad`, arrays freed by one step are reused by the next
instead of starting on fresh pages; measured as page faults against the same loop with glibc's
own settings (NBGRAD_SYSTEM_MALLOC=1), in fresh processes."""
import json
import os
import subprocess
import sys

import pytest

from nbgrad import _malloc

if _malloc._glibc() is None:
    pytest.skip('glibc only', allow_module_level=True)

# a training-step-like loop: eight 2 MiB temporaries made and dropped per step
LOOP = '''
import json, resource, numpy as np
import nbgrad
x = np.ones((512, 1024), np.float32)
def step():
    parts = [x * i for i in range(8)]
    return sum(p.sum() for p in parts)
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before))
'''


def _faults(**env):
    clean = {k: v for k, v in os.environ.items()
             if not (k.startswith('MALLOC_') or k in ('NBGRAD_SYSTEM_MALLOC', 'GLIBC_TUNABLES'))}
    done = subprocess.run([sys.executable, '-c', LOOP], env={**clean, **env},
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_freed_arrays_are_reused_without_page_faults():
    tuned, system = _faults(), _faults(NBGRAD_SYSTEM_MALLOC='1')
    # glibc's defaults fault in every page of every temporary (20 steps x 8 x 512 pages)
    assert system > 20 * 8 * 256
    assert tuned < system / 50


@pytest.mark.parametrize('env', [
    {'MALLOC_TRIM_THRESHOLD_': '0', 'MALLOC_MMAP_THRESHOLD_': str(64 << 10)},
    {'GLIBC_TUNABLES': f'glibc.malloc.mmap_threshold={64 << 10}:glibc.malloc.trim_threshold=0'}],
    ids=['MALLOC_variables', 'GLIBC_TUNABLES'])
def test_the_callers_own_malloc_settings_are_kept(env):
    assert _faults(**env) > 20 * 8 * 256


def test_which_variables_count_as_the_callers_choice():
    assert not _malloc.callers_settings({})
    assert not _malloc.callers_settings({'NBGRAD_SYSTEM_MALLOC': '0'})
    assert not _malloc.callers_settings({'MALLOC_ARENA_MAX': '2', 'GLIBC_TUNABLES':
                                         'glibc.cpu.hwcaps=-AVX2'})
    assert _malloc.callers_settings({'NBGRAD_SYSTEM_MALLOC': '1'})
    assert _malloc.callers_settings({'MALLOC_TOP_PAD_': '0'})


def test_import_starts_no_process():
    """ctypes.util.find_library would run ldconfig; the C library is found in the process."""
    program = ('import subprocess\n'
               'def refuse(*a, **k): raise AssertionError("a subprocess at import")\n'
               'subprocess.Popen.__init__ = refuse\n'
               'from nbgrad import _malloc\n'
               'assert _malloc._glibc() is not None\n')
    subprocess.run([sys.executable, '-c', program], check=True)
