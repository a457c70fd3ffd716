"""nbgrad.utils.cpp_extension: C++ compiled with g++ and pybind11, called with nbgrad tensors
(the same memory on both sides), results checked against NumPy; the build cache, the errors."""
import os
import shutil

import numpy as np
import pytest

import nbgrad

pytest.importorskip('pybind11')
if shutil.which('g++') is None:
    pytest.skip('no g++ on this machine', allow_module_level=True)
from nbgrad.utils import cpp_extension  # noqa: E402

SOURCE = r'''
// y = a * x + b, a new array; scale_ in place
nbgrad::Tensor axpb(nbgrad::TensorOf<float> x, double a, double b) {
  auto in = x.unchecked<1>();
  nbgrad::TensorOf<float> out(in.shape(0));
  auto o = out.mutable_unchecked<1>();
  for (py::ssize_t i = 0; i < in.shape(0); ++i) o(i) = float(a * in(i) + b);
  return out;
}

void scale_(nbgrad::Tensor x, double factor) {
  auto data = static_cast<double*>(x.mutable_data());
  for (py::ssize_t i = 0; i < x.size(); ++i) data[i] *= factor;
}

std::vector<int64_t> shape_of(nbgrad::Tensor x) {
  return std::vector<int64_t>(x.shape(), x.shape() + x.ndim());
}
'''


@pytest.fixture(scope='module')
def module(tmp_path_factory):
    build = str(tmp_path_factory.mktemp('build'))
    return cpp_extension.load_inline('nbgrad_test_ext', SOURCE,
                                     functions=['axpb', 'scale_', 'shape_of'],
                                     build_directory=build), build


def test_functions_take_and_return_tensors(module):
    ext, _ = module
    x = nbgrad.arange(5.)
    y = ext.axpb(x, 2.0, 0.5)
    assert isinstance(y, nbgrad.Tensor) and y.dtype == nbgrad.float32
    np.testing.assert_allclose(y.numpy(), 2.0 * np.arange(5.) + 0.5)
    assert ext.shape_of(nbgrad.zeros(2, 3, 4)) == [2, 3, 4]


def test_in_place_writes_reach_the_tensor(module):
    ext, _ = module
    x = nbgrad.tensor([1.0, 2.0, 3.0], dtype=nbgrad.float64)
    ext.scale_(x, 10.0)
    assert x.tolist() == [10.0, 20.0, 30.0]


def test_a_second_load_uses_the_cached_build(module):
    ext, build = module
    before = os.listdir(os.path.join(build))
    again = cpp_extension.load_inline('nbgrad_test_ext', SOURCE,
                                      functions=['axpb', 'scale_', 'shape_of'],
                                      build_directory=build)
    assert os.listdir(build) == before and again.__file__ == ext.__file__


def test_compile_errors_show_the_compiler_output(tmp_path):
    with pytest.raises(RuntimeError, match=r"Error building extension 'broken'[\s\S]*error"):
        cpp_extension.load_inline('broken', 'int f() { return missing_name; }',
                                  functions=['f'], build_directory=str(tmp_path))
    assert not [f for f in os.listdir(next(p for p in tmp_path.iterdir()))
                if f.endswith('.so')]        # no half-built library left


def test_load_compiles_source_files(tmp_path):
    path = tmp_path / 'ext.cpp'
    path.write_text('#include <nbgrad/extension.h>\n'
                    'double total(nbgrad::TensorOf<double> x) { double s = 0; '
                    'for (py::ssize_t i = 0; i < x.size(); ++i) s += x.data()[i]; return s; }\n'
                    'PYBIND11_MODULE(from_file, m) { m.def("total", &total); }\n')
    ext = cpp_extension.load('from_file', [str(path)], build_directory=str(tmp_path / 'b'))
    assert ext.total(nbgrad.arange(1., 5., dtype=nbgrad.float64)) == 10.0


def test_what_is_refused():
    with pytest.raises(RuntimeError, match='CuPy'):
        cpp_extension.load_inline('x', '', cuda_sources='__global__ void k() {}')
    with pytest.raises(ValueError, match='identifier'):
        cpp_extension.load_inline('not a name', '')


def test_setuptools_helpers():
    from setuptools.command.build_ext import build_ext
    extension = cpp_extension.CppExtension('fast_ops', ['fast_ops.cpp'])
    assert extension.language == 'c++' and extension.sources == ['fast_ops.cpp']
    assert set(cpp_extension.include_paths()) <= set(extension.include_dirs)
    assert issubclass(cpp_extension.BuildExtension, build_ext)
