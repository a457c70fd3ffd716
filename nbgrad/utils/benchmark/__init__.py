"""nbgrad.utils.benchmark: PyTorch's Timer, Measurement and Compare, timing real code.

Laid out as torch.utils.benchmark (utils/common.py, utils/timer.py, utils/compare.py) so that a
Measurement's repr names the same module path. Callgrind instruction counts, C++ statements and
the fuzzers are PyTorch-build tooling and are not part of nbgrad.
"""
from .utils.common import *  # noqa: F401,F403
from .utils.timer import *  # noqa: F401,F403
from .utils.compare import *  # noqa: F401,F403
