"""Hand-written CUDA kernels compiled by CuPy (RawKernel): what the layers that have some share.

A family (the kernels of one layer) compiles each kernel on first use, per dtype, with
`typedef <C type> T;` before its source. If the compiler refuses one, the family warns once and
reports itself unavailable from then on, and the layer keeps its array formulas: a compiler
problem costs speed, never results. Launches are 1-d grids of THREADS-thread blocks over a count
of independent work items (the kernels loop grid-stride over theirs).
"""
import warnings

import numpy as np

THREADS = 128
MAX_BLOCKS = 4096
C_TYPES = {np.dtype(np.float32): 'float', np.dtype(np.float64): 'double'}

# the logistic function as the recurrent cells' array formulas compute it (through tanh)
SIGMOID = r'''
__device__ __forceinline__ T nbgrad_sigmoid(T x) { return tanh(x * (T)0.5) * (T)0.5 + (T)0.5; }
'''


class KernelFamily:
    def __init__(self, what, fallback=None):
        self.what = what        # how the warning names the layer: 'LSTM cell', 'softmax'...
        self.fallback = fallback or f'{what} uses its array formulas'
        self.kernels = {}
        self.failed = False

    def available(self, xp, dtype):
        """Whether these kernels serve arrays of this module and dtype."""
        return xp is not np and not self.failed and dtype in C_TYPES

    def launch(self, xp, name, source, dtype, items, args):
        """Run kernel `name` of `source` over `items` work items; False (after one warning) if
        it does not compile."""
        key = (name, dtype, source)
        blocks = min(max(1, -(-items // THREADS)), MAX_BLOCKS)
        try:
            if key not in self.kernels:
                self.kernels[key] = xp.RawKernel(f'typedef {C_TYPES[dtype]} T;\n{source}', name)
            self.kernels[key]((blocks,), (THREADS,), args)
        except xp.cuda.compiler.CompileException as e:
            self.failed = True
            warnings.warn(f'nbgrad: the CUDA {self.what} kernel {name} did not compile, so '
                          f'{self.fallback} (same results, more kernel launches). Please report '
                          f'this with the compiler message: {e}', RuntimeWarning, stacklevel=3)
            return False
        return True
