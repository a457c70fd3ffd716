"""nbgrad/_malloc.py: on glibc, importing nbgrad keeps freed array memory for reuse, so a loop
that replaces an array by a new one (r = r * z + c) stops faulting pages in on every pass; the
user's own malloc settings and NBGRAD_MALLOC=system are respected. Each case runs in a fresh
interpreter (the thresholds are process-wide), compared with the same loop under glibc's own
defaults."""
import os
import subprocess
import sys

import pytest

from nbgrad import _malloc

pytestmark = pytest.mark.skipif(_malloc._glibc() is None, reason='glibc only')

_LOOP = '''
import resource, sys
import numpy as np
if sys.argv[1] == 'nbgrad':
    import nbgrad
    from nbgrad import _malloc
    print(int(_malloc.applied))
else:
    print(0)
z = np.random.default_rng(0).standard_normal(65536) ** 2
def horner():
    r = 0.5 * z + 1.0
    for c in (2.0, 3.0, 4.0, 5.0):
        r = r * z + c
horner()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(100):
    horner()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
'''


def _run(mode, **env):
    chosen = ('NBGRAD_MALLOC', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_')
    environment = {k: v for k, v in os.environ.items() if k not in chosen}
    environment.update(env)
    out = subprocess.run([sys.executable, '-c', _LOOP, mode], capture_output=True, text=True,
                         env=environment, check=True).stdout.split()
    return bool(int(out[0])), int(out[1])


def test_importing_nbgrad_stops_the_page_faults_of_replaced_arrays():
    _, faults_with_glibc_defaults = _run('numpy')
    if faults_with_glibc_defaults < 1000:
        pytest.skip("this glibc's own thresholds do not refault the loop's pages")
    applied, faults = _run('nbgrad')
    assert applied
    assert faults < faults_with_glibc_defaults / 20


@pytest.mark.parametrize('env', [{'NBGRAD_MALLOC': 'system'},
                                 {'MALLOC_TRIM_THRESHOLD_': '1048576'},
                                 {'MALLOC_MMAP_THRESHOLD_': '1048576'}])
def test_the_users_choice_is_left_alone(env):
    applied, _ = _run('nbgrad', **env)
    assert not applied
