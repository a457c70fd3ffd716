// nbgrad's C++ extension header (torch/extension.h's counterpart for nbgrad).
//
// An nbgrad tensor reaches C++ as the NumPy array that holds its memory (the same memory: a
// write is seen by the tensor), and a NumPy array returned becomes an nbgrad tensor over that
// array. Write functions over pybind11's arrays; load_inline's `functions=` binds them.
#pragma once

#include <cstdint>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace py = pybind11;

namespace nbgrad {
// any dtype, any layout
using Tensor = py::array;
// a C-contiguous array of T (converted, copying, when the tensor is not one already)
template <typename T>
using TensorOf = py::array_t<T, py::array::c_style | py::array::forcecast>;
}  // namespace nbgrad
