"""Running a CUDA C++ kernel's own source on the CPU, for the fake cupy.RawKernel.

g++ compiles the source with the CUDA built-ins the kernel uses (blockIdx, blockDim, threadIdx,
gridDim, __global__) defined as plain globals, plus a generated driver that runs every thread of
the grid in turn: the fake CUDA tests then check the very arithmetic a GPU will run, not a Python
imitation of it. Element-wise kernels run their threads one after another. A kernel whose
threads cooperate (__shared__ memory, __syncthreads()) runs each block's threads as coroutines
(ucontext fibers) on one CPU thread: __syncthreads() hands over to the next thread, so every
thread of the block reaches the barrier before any goes past it, as on the GPU, and __shared__
variables are statics, one copy for the block that is running. Compiled libraries are cached
by the source's hash.
"""
import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile

import numpy as np

_PRELUDE = r'''
#include <cmath>
using std::sqrt; using std::fabs; using std::exp; using std::log; using std::tanh;
using std::floor; using std::fmod; using std::nearbyint; using std::erf; using std::erfc;
#define __global__
#define __device__
#define __forceinline__ inline
// the threads run one after another, so an atomic add is a plain one
template <typename U> U atomicAdd(U* address, U value) { U old = *address; *address += value;
                                                         return old; }
template <typename U> U atomicCAS(U* address, U compare, U value) {
    U old = *address; if (old == compare) *address = value; return old; }
#include <cstring>
inline unsigned int __float_as_uint(float x) { unsigned int b; std::memcpy(&b, &x, 4); return b; }
inline float __uint_as_float(unsigned int b) { float x; std::memcpy(&x, &b, 4); return x; }
inline long long __double_as_longlong(double x) { long long b; std::memcpy(&b, &x, 8); return b; }
inline double __longlong_as_double(long long b) { double x; std::memcpy(&x, &b, 8); return x; }
struct nbgrad_dim3 { unsigned int x, y, z; };
static nbgrad_dim3 blockIdx, blockDim, gridDim;
'''
# threads run one after another: threadIdx is a plain global
_SEQUENTIAL = 'static nbgrad_dim3 threadIdx;\n'
# threads are fibers of one block: threadIdx is the running fiber's
_COOPERATIVE = r'''
#include <ucontext.h>
#include <cstdlib>
static const unsigned int nbgrad_max_threads = 1024;
static nbgrad_dim3 nbgrad_thread_index[nbgrad_max_threads];
static ucontext_t nbgrad_fibers[nbgrad_max_threads], nbgrad_scheduler;
static bool nbgrad_finished[nbgrad_max_threads];
static unsigned int nbgrad_current;
#define threadIdx (nbgrad_thread_index[nbgrad_current])
#define __shared__ static
static void __syncthreads() { swapcontext(&nbgrad_fibers[nbgrad_current], &nbgrad_scheduler); }
'''
# C type: (ctypes type, the NumPy type CuPy passes as it: a kernel argument is passed as its own
# NumPy type, whatever the kernel declares, so a mismatch is garbage on a GPU and an error here)
_C_TYPES = {'int': (ctypes.c_int, np.int32), 'unsigned int': (ctypes.c_uint, np.uint32),
            'long long': (ctypes.c_longlong, np.int64),
            'unsigned long long': (ctypes.c_ulonglong, np.uint64),
            'double': (ctypes.c_double, np.float64), 'float': (ctypes.c_float, np.float32),
            'unsigned char': (ctypes.c_ubyte, np.uint8),
            'unsigned short': (ctypes.c_ushort, np.uint16)}
_compiled = {}


class CompileError(Exception):
    pass


def available():
    return shutil.which('g++') is not None


def kernel(source, name):
    """The kernel `name` of source as a Python function f(grid, block, args)."""
    key = (source, name)
    if key not in _compiled:
        _compiled[key] = _build(source, name)
    return _compiled[key]


def _parameters(source, name):
    """[(C type, parameter name)] of the kernel's signature."""
    match = re.search(r'extern\s+"C"\s+__global__\s+void\s+' + re.escape(name) +
                      r'\s*\((.*?)\)\s*\{', source, re.S)
    if match is None:
        raise CompileError(f'no kernel named {name!r} in the source')
    parameters = []
    for part in match.group(1).split(','):
        part = ' '.join(part.split())
        kind, _, pname = part.rpartition(' ')
        if pname.startswith('*'):
            kind, pname = kind + '*', pname.lstrip('*')
        parameters.append((kind, pname))
    return parameters


def _build(source, name):
    parameters = _parameters(source, name)
    declared = ', '.join(f'{kind} {pname}' for kind, pname in parameters)
    passed = ', '.join(pname for _, pname in parameters)
    cooperative = '__syncthreads' in source or '__shared__' in source
    # (the driver's own names start with nbgrad_run_, clear of the kernel's parameters)
    driver = (_cooperative_driver if cooperative else _sequential_driver)(name, parameters,
                                                                          declared, passed)
    code = _PRELUDE + (_COOPERATIVE if cooperative else _SEQUENTIAL) + source + driver
    folder = os.path.join(tempfile.gettempdir(), 'nbgrad-fake-cuda-kernels')
    os.makedirs(folder, exist_ok=True)
    stem = os.path.join(folder, hashlib.sha256(code.encode()).hexdigest()[:24])
    library = stem + '.so'
    if not os.path.exists(library):
        with open(stem + '.cpp', 'w') as f:
            f.write(code)
        built = subprocess.run(['g++', '-O1', '-shared', '-fPIC', '-o', library + '.part',
                                stem + '.cpp'], capture_output=True, text=True)
        if built.returncode:
            raise CompileError(built.stderr)
        os.replace(library + '.part', library)      # atomic: parallel test runs share it
    run = ctypes.CDLL(library).nbgrad_run
    run.argtypes = [ctypes.c_uint, ctypes.c_uint] + [
        ctypes.c_void_p if kind.endswith('*') else _C_TYPES[_base(kind)][0]
        for kind, _ in parameters]
    run.restype = ctypes.c_int if cooperative else None

    def launch(grid, block, args):
        if len(args) != len(parameters):
            raise TypeError(f'{name} takes {len(parameters)} arguments, got {len(args)}')
        values = []
        for (kind, pname), a in zip(parameters, args):
            if kind.endswith('*'):
                if not isinstance(a, np.ndarray):
                    raise TypeError(f'{name}: {pname} is a pointer; got {type(a).__name__}')
                known = _C_TYPES.get(_base(kind[:-1]))
                if known is not None and np.dtype(known[1]).itemsize != a.dtype.itemsize:
                    raise TypeError(f'{name}: {pname} points to {kind[:-1]}; got {a.dtype}')
                values.append(np.asarray(a).ctypes.data)   # the fake's "device" memory
            else:
                expected = _C_TYPES[_base(kind)][1]
                if type(a) is not expected:
                    raise TypeError(f'{name}: {pname} is {kind}; got {type(a).__name__} (CuPy '
                                    f'would pass its bits unconverted)')
                values.append(a.item())
        if run(int(np.prod(grid)), int(np.prod(block)), *values):
            raise RuntimeError(f'{name}: a block of {int(np.prod(block))} threads is more than '
                               f'the emulator (and CUDA) allow, or its stacks do not fit')
    return launch


def _sequential_driver(name, parameters, declared, passed):
    return (f'\nextern "C" void nbgrad_run(unsigned int nbgrad_run_blocks, '
            f'unsigned int nbgrad_run_threads, {declared}) {{'
            f'\n    gridDim.x = nbgrad_run_blocks; blockDim.x = nbgrad_run_threads;'
            f'\n    for (unsigned int nbgrad_run_b = 0; nbgrad_run_b < nbgrad_run_blocks; '
            f'++nbgrad_run_b)'
            f'\n        for (unsigned int nbgrad_run_t = 0; nbgrad_run_t < nbgrad_run_threads; '
            f'++nbgrad_run_t) {{'
            f'\n            blockIdx.x = nbgrad_run_b; threadIdx.x = nbgrad_run_t;'
            f'\n            {name}({passed});'
            f'\n        }}\n}}\n')


def _cooperative_driver(name, parameters, declared, passed):
    """Each block: one fiber per thread, resumed in turn until all have returned (each pass
    runs every live thread up to its next __syncthreads)."""
    # makecontext passes no pointers portably: the arguments wait in statics
    statics = ''.join(f'static {kind if kind.endswith("*") else _base(kind)} '
                      f'nbgrad_run_arg_{pname};\n' for kind, pname in parameters)
    stores = ' '.join(f'nbgrad_run_arg_{pname} = {pname};' for _, pname in parameters)
    loads = ', '.join(f'nbgrad_run_arg_{pname}' for _, pname in parameters)
    return (f'\n{statics}'
            f'static void nbgrad_run_thread() {{ {name}({loads}); '
            f'nbgrad_finished[nbgrad_current] = true; }}'
            f'\nextern "C" int nbgrad_run(unsigned int nbgrad_run_blocks, '
            f'unsigned int nbgrad_run_threads, {declared}) {{'
            f'\n    if (nbgrad_run_threads > nbgrad_max_threads) return 1;'
            f'\n    {stores}'
            f'\n    gridDim.x = nbgrad_run_blocks; blockDim.x = nbgrad_run_threads;'
            f'\n    const size_t nbgrad_run_stack = 256 * 1024;'
            f'\n    char* nbgrad_run_stacks = (char*)malloc(nbgrad_run_stack * nbgrad_run_threads);'
            f'\n    if (!nbgrad_run_stacks) return 2;'
            f'\n    ucontext_t nbgrad_run_template;   // getcontext is a system call: once'
            f'\n    getcontext(&nbgrad_run_template);'
            f'\n    for (unsigned int b = 0; b < nbgrad_run_blocks; ++b) {{'
            f'\n        blockIdx.x = b;'
            f'\n        for (unsigned int t = 0; t < nbgrad_run_threads; ++t) {{'
            f'\n            nbgrad_thread_index[t].x = t; nbgrad_finished[t] = false;'
            f'\n            nbgrad_fibers[t] = nbgrad_run_template;'
            f'\n            nbgrad_fibers[t].uc_stack.ss_sp = nbgrad_run_stacks + t * nbgrad_run_stack;'
            f'\n            nbgrad_fibers[t].uc_stack.ss_size = nbgrad_run_stack;'
            f'\n            nbgrad_fibers[t].uc_link = &nbgrad_scheduler;'
            f'\n            makecontext(&nbgrad_fibers[t], nbgrad_run_thread, 0);'
            f'\n        }}'
            f'\n        for (unsigned int live = nbgrad_run_threads; live; ) {{'
            f'\n            live = 0;'
            f'\n            for (unsigned int t = 0; t < nbgrad_run_threads; ++t) {{'
            f'\n                if (nbgrad_finished[t]) continue;'
            f'\n                nbgrad_current = t;'
            f'\n                swapcontext(&nbgrad_scheduler, &nbgrad_fibers[t]);'
            f'\n                live += !nbgrad_finished[t];'
            f'\n            }}'
            f'\n        }}'
            f'\n    }}'
            f'\n    free(nbgrad_run_stacks);'
            f'\n    return 0;\n}}\n')


def _base(kind):
    return ' '.join(w for w in kind.split() if w != 'const')
