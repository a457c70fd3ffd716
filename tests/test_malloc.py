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
             if not (k.startswith('MALLOC_') or k == 'NBGRAD_SYSTEM_MALLOC')}
    done = subprocess.run([sys.executable, '-c', LOOP], env={**clean, **env},
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_freed_arrays_are_reused_without_page_faults():
    tuned, system = _faults(), _faults(NBGRAD_SYSTEM_MALLOC='1')
    # glibc's defaults fault in every page of every temporary (20 steps x 8 x 512 pages)
    assert system > 20 * 8 * 256
    assert tuned < system / 50


def test_the_callers_own_malloc_settings_are_kept():
    assert _faults(MALLOC_TRIM_THRESHOLD_='0', MALLOC_MMAP_THRESHOLD_=str(64 << 10)) > 20 * 8 * 256
