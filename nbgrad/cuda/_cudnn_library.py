"""cuDNN through ctypes, where the machine has it.

CuPy 14 no longer wraps cuDNN, and nbgrad has no compiled code, so this loads NVIDIA's library
itself: from a pip wheel (nvidia-cudnn-cu12 / -cu13, which PyTorch's CUDA wheels also install)
or from the system's library path. Nothing here runs until a CUDA convolution asks for it (the
engine imports with NumPy alone), and where cuDNN is missing or refuses to start,
`available()` is False, `unavailable_reason()` says why, and convolutions use nbgrad's own
kernels (nn/functional/_conv_cuda.py) as before.

Only the legacy convolution API is bound (descriptors, heuristics or timed search for an
algorithm, forward / backward-data / backward-filter). cuDNN 9 still ships it, in its cnn
sub-library, behind the front library libcudnn.so.9.
"""
import ctypes
import glob
import os
import sys
import threading

# cuDNN 9's front library loads its sub-libraries by soname when first needed. A pip wheel's
# folder is not on the loader's path, so they are loaded here first, by full path (the loader
# then finds them already loaded), in dependency order. PyTorch does the same at import.
_SUBLIBRARIES = ('graph', 'engines_precompiled', 'engines_runtime_compiled', 'heuristic', 'ops',
                 'cnn', 'adv')
_MAJORS = ('9', '8')

SUCCESS = 0
DATA_FLOAT, DATA_DOUBLE, DATA_HALF = 0, 1, 2
TENSOR_NCHW = 0
CROSS_CORRELATION = 1
DEFAULT_MATH, TENSOR_OP_MATH, FMA_MATH = 0, 1, 3
DETERMINISTIC = 1
ALGORITHM_COUNT = 10        # at least every fwd / bwd-data / bwd-filter algorithm cuDNN has


class AlgorithmPerformance(ctypes.Structure):
    """cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t (the three share one layout)."""
    _fields_ = [('algo', ctypes.c_int), ('status', ctypes.c_int), ('time', ctypes.c_float),
                ('memory', ctypes.c_size_t), ('determinism', ctypes.c_int),
                ('mathType', ctypes.c_int), ('reserved', ctypes.c_int * 3)]


class CudnnError(RuntimeError):
    pass


_P, _I, _S = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
_PI, _PS, _PP = ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(_P)
_PERF = ctypes.POINTER(AlgorithmPerformance)
# name -> argument types (every function returns a cudnnStatus_t, an int)
_SIGNATURES = {
    'cudnnCreate': [_PP],
    'cudnnSetStream': [_P, _P],
    'cudnnCreateTensorDescriptor': [_PP],
    'cudnnSetTensorNdDescriptor': [_P, _I, _I, _PI, _PI],
    'cudnnDestroyTensorDescriptor': [_P],
    'cudnnCreateFilterDescriptor': [_PP],
    'cudnnSetFilterNdDescriptor': [_P, _I, _I, _I, _PI],
    'cudnnDestroyFilterDescriptor': [_P],
    'cudnnCreateConvolutionDescriptor': [_PP],
    'cudnnSetConvolutionNdDescriptor': [_P, _I, _PI, _PI, _PI, _I, _I],
    'cudnnSetConvolutionGroupCount': [_P, _I],
    'cudnnSetConvolutionMathType': [_P, _I],
    'cudnnDestroyConvolutionDescriptor': [_P],
    # (handle, x, w, conv, y, ...) for forward; (handle, w, dy, conv, dx, ...) for backward
    # data; (handle, x, dy, conv, dw, ...) for backward filter: the same argument types
    'cudnnGetConvolutionForwardAlgorithm_v7': [_P, _P, _P, _P, _P, _I, _PI, _PERF],
    'cudnnFindConvolutionForwardAlgorithm': [_P, _P, _P, _P, _P, _I, _PI, _PERF],
    'cudnnGetConvolutionForwardWorkspaceSize': [_P, _P, _P, _P, _P, _I, _PS],
    'cudnnConvolutionForward': [_P, _P, _P, _P, _P, _P, _P, _I, _P, _S, _P, _P, _P],
    'cudnnGetConvolutionBackwardDataAlgorithm_v7': [_P, _P, _P, _P, _P, _I, _PI, _PERF],
    'cudnnFindConvolutionBackwardDataAlgorithm': [_P, _P, _P, _P, _P, _I, _PI, _PERF],
    'cudnnGetConvolutionBackwardDataWorkspaceSize': [_P, _P, _P, _P, _P, _I, _PS],
    'cudnnConvolutionBackwardData': [_P, _P, _P, _P, _P, _P, _P, _I, _P, _S, _P, _P, _P],
    'cudnnGetConvolutionBackwardFilterAlgorithm_v7': [_P, _P, _P, _P, _P, _I, _PI, _PERF],
    'cudnnFindConvolutionBackwardFilterAlgorithm': [_P, _P, _P, _P, _P, _I, _PI, _PERF],
    'cudnnGetConvolutionBackwardFilterWorkspaceSize': [_P, _P, _P, _P, _P, _I, _PS],
    'cudnnConvolutionBackwardFilter': [_P, _P, _P, _P, _P, _P, _P, _I, _P, _S, _P, _P, _P],
}

_state = {'loaded': False, 'library': None, 'reason': 'not loaded yet', 'version': None}
_handles = {}           # device id -> [handle, the stream it was last set to]
_lock = threading.Lock()


def _wheel_folders():
    """Folders holding NVIDIA's pip-installed cuDNN: site-packages/nvidia/cudnn/lib, or the
    layout of the CUDA 13 wheels (nvidia/cu13/lib), wherever a sys.path entry has them."""
    folders = []
    for entry in sys.path:
        for pattern in ('nvidia/*/lib/libcudnn.so.*', 'nvidia/*/*/lib/libcudnn.so.*'):
            for path in glob.glob(os.path.join(entry or '.', pattern)):
                folder = os.path.dirname(path)
                if folder not in folders:
                    folders.append(folder)
    return folders


def _open():
    """The loaded front library, or raise OSError saying what was tried."""
    try:    # cuDNN's engines link cuBLAS(Lt); CuPy's copy, loaded first, satisfies that
        import cupy_backends.cuda.libs.cublas  # noqa: F401
    except ImportError:
        pass
    tried = []
    for folder in _wheel_folders():
        for major in _MAJORS:
            front = os.path.join(folder, f'libcudnn.so.{major}')
            if not os.path.exists(front):
                continue
            for name in _SUBLIBRARIES:
                for path in glob.glob(os.path.join(folder, f'libcudnn_{name}.so.{major}')):
                    try:
                        ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                    except OSError as e:      # the front library says if it needed this one
                        tried.append(f'{path}: {e}')
            try:
                return ctypes.CDLL(front, mode=ctypes.RTLD_GLOBAL)
            except OSError as e:
                tried.append(f'{front}: {e}')
    for major in _MAJORS:
        try:
            return ctypes.CDLL(f'libcudnn.so.{major}', mode=ctypes.RTLD_GLOBAL)
        except OSError as e:
            tried.append(str(e))
    raise OSError('cuDNN was not found (install nvidia-cudnn-cu12 or -cu13 with pip, or put '
                  'libcudnn.so.9 on the library path); tried: ' + '; '.join(tried))


def _load():
    try:
        library = _open()
        for name, argtypes in _SIGNATURES.items():
            function = getattr(library, name)
            function.argtypes, function.restype = argtypes, ctypes.c_int
        library.cudnnGetErrorString.argtypes = [ctypes.c_int]
        library.cudnnGetErrorString.restype = ctypes.c_char_p
        library.cudnnGetVersion.restype = ctypes.c_size_t
        version = int(library.cudnnGetVersion())
    except (OSError, AttributeError) as e:
        _state['reason'] = str(e)
        return
    _state.update(library=library, version=version, reason=None)


def library():
    """The loaded cuDNN (a ctypes.CDLL with argument types set), or None."""
    if not _state['loaded']:
        with _lock:
            if not _state['loaded']:
                _load()
                _state['loaded'] = True
    return _state['library']


def available():
    return library() is not None


def unavailable_reason():
    """Why cuDNN is not used (None when it is)."""
    library()
    return _state['reason']


def version():
    """cuDNN's version as one number (9.10.2 -> 91002), as torch.backends.cudnn.version()."""
    library()
    return _state['version']


def check(status, what):
    if status != SUCCESS:
        message = _state['library'].cudnnGetErrorString(status).decode()
        raise CudnnError(f'cuDNN {what} failed: {message} (status {status})')


def handle(cupy, device_id):
    """This device's cuDNN handle, set to the current CuPy stream (the stream nbgrad's other
    kernels run on, so cuDNN's work is ordered with theirs)."""
    lib = _state['library']
    entry = _handles.get(device_id)
    if entry is None:
        with cupy.cuda.Device(device_id):
            created = ctypes.c_void_p()
            check(lib.cudnnCreate(ctypes.byref(created)), 'cudnnCreate')
        entry = _handles[device_id] = [created, None]
    stream = cupy.cuda.get_current_stream().ptr
    if entry[1] != stream:
        check(lib.cudnnSetStream(entry[0], stream), 'cudnnSetStream')
        entry[1] = stream
    return entry[0]
