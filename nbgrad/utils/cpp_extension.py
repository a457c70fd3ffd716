"""torch.utils.cpp_extension: C++ compiled at run time and called with nbgrad tensors.

load_inline(name, cpp_sources, functions=[...]) and load(name, sources) compile C++ with g++ and
pybind11 into a Python extension module (cached by the sources' hash, so a second call with the
same code imports the earlier build), binding the named functions as PyTorch's load_inline does.
The C++ side includes <nbgrad/extension.h> (included for you): a tensor arrives as the NumPy
array over its memory (nbgrad::Tensor, a pybind11 array), and arrays returned come back as nbgrad
tensors. There is no torch::Tensor C++ API and no autograd in C++ (wrap the call in an
autograd.Function for gradients); CUDA sources are not compiled (nbgrad's GPU code is CuPy: use
cupy.RawKernel).
"""
import hashlib
import importlib.util
import os
import subprocess
import sys
import sysconfig
import tempfile

import numpy as np

__all__ = ['load', 'load_inline', 'include_paths', 'get_default_build_root', 'CppExtension',
           'BuildExtension', 'verify_ninja_availability', 'is_ninja_available']

_HEADER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'include')


def include_paths(device_type='cpu', torch_include_dirs=True):
    """nbgrad's header folder, pybind11's and Python's."""
    return [_HEADER_DIR, _pybind11().get_include(), sysconfig.get_paths()['include']]


def _pybind11():
    try:
        import pybind11
    except ImportError:
        raise RuntimeError('nbgrad.utils.cpp_extension needs pybind11 to build extensions: '
                           'pip install pybind11') from None
    return pybind11


def get_default_build_root():
    """$TORCH_EXTENSIONS_DIR, else ~/.cache/nbgrad_extensions (nbgrad's builds are not
    PyTorch's, so they do not share PyTorch's folder)."""
    return os.path.realpath(os.environ.get('TORCH_EXTENSIONS_DIR') or os.path.join(
        os.path.expanduser('~'), '.cache', 'nbgrad_extensions'))


def is_ninja_available():
    return False


def verify_ninja_availability():
    raise RuntimeError('nbgrad builds extensions with g++ directly; it does not use Ninja')


def _bindings(name, functions):
    if functions is None:
        return ''
    if isinstance(functions, str):
        functions = [functions]
    docs = functions if isinstance(functions, dict) else {f: f for f in functions}
    lines = [f'm.def("{f}", &{f}, "{doc}");' for f, doc in docs.items()]
    return 'PYBIND11_MODULE(%s, m) {\n  %s\n}\n' % (name, '\n  '.join(lines))


def load_inline(name, cpp_sources, cuda_sources=None, sycl_sources=None, functions=None,
                extra_cflags=None, extra_cuda_cflags=None, extra_sycl_cflags=None,
                extra_ldflags=None, extra_include_paths=None, build_directory=None,
                verbose=False, with_cuda=None, with_sycl=None, is_python_module=True,
                with_pytorch_error_handling=True, keep_intermediates=True, use_pch=False,
                no_implicit_headers=False):
    """Compile C++ source text into module `name`; `functions` (names, or {name: docstring})
    are bound for Python."""
    if cuda_sources or with_cuda or sycl_sources or with_sycl:
        raise RuntimeError('nbgrad.utils.cpp_extension compiles C++ only: CUDA and SYCL sources '
                           'are not supported (nbgrad runs GPU code through CuPy; write a '
                           'cupy.RawKernel instead)')
    if isinstance(cpp_sources, str):
        cpp_sources = [cpp_sources]
    source = ('' if no_implicit_headers else '#include <nbgrad/extension.h>\n') + \
        '\n'.join(cpp_sources) + '\n' + _bindings(name, functions)
    return _build(name, source, extra_cflags, extra_ldflags, extra_include_paths,
                  build_directory, verbose, is_python_module)


def load(name, sources, extra_cflags=None, extra_cuda_cflags=None, extra_sycl_cflags=None,
         extra_ldflags=None, extra_include_paths=None, build_directory=None, verbose=False,
         with_cuda=None, with_sycl=None, is_python_module=True, is_standalone=False,
         keep_intermediates=True):
    """Compile C++ source files (which declare their own PYBIND11_MODULE(name, m) bindings)."""
    if isinstance(sources, str):
        sources = [sources]
    for path in sources:
        if not path.endswith(('.cpp', '.cc', '.cxx', '.c')):
            raise RuntimeError(f'nbgrad.utils.cpp_extension compiles C++ sources only, not '
                               f'{path!r}')
    text = []
    for path in sources:
        with open(path) as f:
            text.append(f'#line 1 "{os.path.abspath(path)}"\n' + f.read())
    return _build(name, '\n'.join(text), extra_cflags, extra_ldflags, extra_include_paths,
                  build_directory, verbose, is_python_module)


def _build(name, source, extra_cflags, extra_ldflags, extra_include_paths, build_directory,
           verbose, is_python_module):
    if not name.isidentifier():
        raise ValueError(f'extension name {name!r} must be a Python identifier')
    includes = include_paths() + list(extra_include_paths or [])
    flags = ['-O2', '-std=c++17', '-fPIC', '-shared', '-fvisibility=hidden'] + \
        list(extra_cflags or [])
    digest = hashlib.sha256('\0'.join([source, *includes, *flags, *(extra_ldflags or [])])
                            .encode()).hexdigest()[:16]
    folder = os.path.join(build_directory or os.path.join(get_default_build_root(), name), digest)
    library = os.path.join(folder, name + sysconfig.get_config_var('EXT_SUFFIX'))
    if not os.path.exists(library):
        os.makedirs(folder, exist_ok=True)
        source_path = os.path.join(folder, 'main.cpp')
        with open(source_path, 'w') as f:
            f.write(source)
        # compile into a temporary name, then rename: a crash never leaves a broken library
        fd, partial = tempfile.mkstemp(suffix='.so', dir=folder)
        os.close(fd)
        command = ['g++', *flags, *(f'-I{p}' for p in includes), source_path, '-o', partial,
                   *(extra_ldflags or [])]
        if verbose:
            print(' '.join(command), file=sys.stderr)
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            os.remove(partial)
            raise RuntimeError(f"Error building extension '{name}':\n{done.stderr}")
        os.replace(partial, library)
    elif verbose:
        print(f'Using the cached build {library}', file=sys.stderr)
    if not is_python_module:
        return library
    spec = importlib.util.spec_from_file_location(name, library)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return _TensorModule(module)


class _TensorModule:
    """The compiled module, its functions taking and returning nbgrad tensors."""

    def __init__(self, module):
        self._module = module
        self.__name__ = module.__name__
        self.__file__ = module.__file__

    def __getattr__(self, name):
        value = getattr(self._module, name)
        if not callable(value):
            return value

        def call(*args, **kwargs):
            result = value(*[_to_array(a) for a in args],
                           **{k: _to_array(v) for k, v in kwargs.items()})
            return _to_tensor(result)
        call.__name__ = name
        call.__doc__ = getattr(value, '__doc__', None)
        return call

    def __dir__(self):
        return dir(self._module)


def _to_array(value):
    from .._tensor import Tensor
    if isinstance(value, Tensor):
        if not value.is_cpu or value.is_sparse:
            raise RuntimeError(f'a C++ extension takes dense CPU tensors (got one on '
                               f'{value.device}{", sparse" if value.is_sparse else ""}): '
                               f'call .cpu() (or .to_dense()) first')
        return value.detach()._data
    if isinstance(value, (list, tuple)):
        return type(value)(_to_array(v) for v in value)
    return value


def _to_tensor(value):
    from .._tensor import Tensor
    if isinstance(value, np.ndarray):
        return Tensor._make(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_to_tensor(v) for v in value)
    return value


def CppExtension(name, sources, *args, **kwargs):
    """A setuptools Extension for C++ sources, with nbgrad's and pybind11's headers."""
    from setuptools import Extension
    kwargs['include_dirs'] = list(kwargs.get('include_dirs', [])) + include_paths()
    kwargs['language'] = 'c++'
    return Extension(name, sources, *args, **kwargs)


def __getattr__(name):
    """BuildExtension, made on first use (importing setuptools costs 100 ms)."""
    if name != 'BuildExtension':
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    from setuptools.command.build_ext import build_ext

    class BuildExtension(build_ext):
        """setuptools' build_ext compiling C++17 (cmdclass={'build_ext': BuildExtension})."""

        def build_extensions(self):
            for extension in self.extensions:
                extension.extra_compile_args = list(extension.extra_compile_args or []) + \
                    ['-std=c++17']
            super().build_extensions()
    globals()['BuildExtension'] = BuildExtension
    return BuildExtension
