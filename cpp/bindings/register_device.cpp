#include <pybind11/pybind11.h>

#include "driftcore/build_info.hpp"
#include "driftcore/common.hpp"
#include "driftcore/device.hpp"
#include "driftcore/threading.hpp"

namespace py = pybind11;
using namespace driftcore;

void register_device(py::module_& m) {
  m.def("cuda_compiled", &cuda_compiled, "True when the CUDA kernels were compiled in.");
  m.def("cuda_device_count", &cuda_device_count, "Usable CUDA devices (0 without a driver).");
  m.def("cuda_build_summary", &cuda_build_summary);
  m.def("hardware_threads", &hardware_threads);
  m.def("version", &version);
  m.def("compiler", &compiler);
  m.def("set_simd", &set_simd, py::arg("allowed"),
        "Allow or forbid the AVX-512 paths (for tests: they give the portable code's bits).");
  m.def("_set_thread_start_limit", &set_thread_start_limit, py::arg("limit"),
        "For tests: each parallel call starts at most `limit` threads (< 0: no cap), "
        "as under a process limit.");
  m.def("_set_small_shared_memory", &set_small_shared_memory, py::arg("on"),
        "For tests: kernels that need much shared memory take their path for cards "
        "with less.");
  m.def("_refused_thread_starts", &refused_thread_starts,
        "Thread starts refused so far (by the system or the cap).");
}
