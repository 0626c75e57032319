#pragma once
// Turning Python buffers into engine views. Python has already checked shape and
// contiguity; these checks are the last line, so a bad call raises, never crashes.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "driftcore/common.hpp"

namespace driftcore::bind {
namespace py = pybind11;

// numpy passes a misaligned buffer (np.frombuffer at an odd offset, a field of a
// packed record) through unchanged; reading it through a typed pointer is undefined
// behaviour. Inputs therefore ask numpy for an aligned copy when one is needed.
constexpr int aligned = py::detail::npy_api::NPY_ARRAY_ALIGNED_;

/// A C-contiguous, aligned input array of T (numpy copies or casts only if it must).
template <class T>
using in_array = py::array_t<T, py::array::c_style | py::array::forcecast | aligned>;

inline dtype dtype_from_typestr(const std::string& t) {
  // numpy/__cuda_array_interface__ typestr without byte order, e.g. "f8", "i4".
  if (t == "f4") return dtype::f32;
  if (t == "f8") return dtype::f64;
  if (t == "i1") return dtype::i8;
  if (t == "i2") return dtype::i16;
  if (t == "i4") return dtype::i32;
  if (t == "i8") return dtype::i64;
  if (t == "u1") return dtype::u8;
  if (t == "u2") return dtype::u16;
  if (t == "u4") return dtype::u32;
  if (t == "u8") return dtype::u64;
  throw invalid_input("unsupported dtype '" + t + "': use float32/64 or an integer type");
}

inline array_view host_view(const py::array& a) {
  if (a.ndim() != 1)
    throw invalid_input("expected a 1-D array, got " + std::to_string(a.ndim()) + "-D");
  if (!(a.flags() & py::array::c_style)) throw invalid_input("expected a contiguous array");
  if (!(a.flags() & aligned)) throw invalid_input("expected an aligned array (copy it first)");
  const auto dt = a.dtype();
  if (dt.byteorder() == '>') throw invalid_input("big-endian arrays are not supported");
  const std::string t = std::string(1, dt.kind()) + std::to_string(dt.itemsize());
  return array_view{a.data(), static_cast<std::size_t>(a.size()), dtype_from_typestr(t)};
}

inline array_view device_view(std::uintptr_t ptr, std::size_t n, const std::string& typestr) {
  return array_view{reinterpret_cast<const void*>(ptr), n, dtype_from_typestr(typestr)};
}

template <class T>
py::array_t<T> to_numpy(const std::vector<T>& v) {
  py::array_t<T> out(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

inline py::array_t<double> f64_array(const py::array& a, const char* what) {
  if (a.ndim() != 1) throw invalid_input(std::string(what) + " must be 1-D");
  return in_array<double>::ensure(a);
}

}  // namespace driftcore::bind
