#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "arrays.hpp"
#include "driftcore/histogram.hpp"
#include "interrupt.hpp"

namespace py = pybind11;
using namespace driftcore;
using namespace driftcore::bind;

void register_histogram(py::module_& m) {
  py::class_<histogram>(m, "Histogram")
      .def(py::init([](const py::array& edges, bool weighted) {
             auto e = f64_array(edges, "edges");
             return histogram(std::vector<double>(e.data(), e.data() + e.size()), weighted);
           }),
           py::arg("edges"), py::arg("weighted") = false)
      .def(
          "update",
          [](histogram& h, const py::array& values, const py::object& weights, int threads) {
            array_view v = host_view(values);
            array_view w;
            const bool has_w = !weights.is_none();
            if (has_w) w = host_view(weights.cast<py::array>());
            // The arrays stay referenced by the caller's frame; the kernel reads only them
            // and commits to `h` only when it finishes.
            run_interruptible([&] { h.update(v, has_w ? &w : nullptr, threads); },
                              v.size >= (std::size_t(1) << 20));
          },
          py::arg("values"), py::arg("weights") = py::none(), py::arg("threads") = 0)
      .def(
          "update_device",
          [](histogram& h, std::uintptr_t ptr, std::size_t n, const std::string& typestr,
             std::uintptr_t wptr, const std::string& wtypestr, std::uintptr_t stream) {
            array_view v = device_view(ptr, n, typestr);
            array_view w;
            if (wptr) w = device_view(wptr, n, wtypestr);
            // The caller holds the device arrays; the Python wrapper serializes use of `h`.
            py::gil_scoped_release release;
            h.update_device(v, wptr ? &w : nullptr, stream);
          },
          py::arg("ptr"), py::arg("n"), py::arg("typestr"), py::arg("weights_ptr"),
          py::arg("weights_typestr"), py::arg("stream"))
      .def("merge", &histogram::merge)
      .def("slots", [](const histogram& h) { return to_numpy(h.slots()); })
      .def("weight_slots", [](const histogram& h) { return to_numpy(h.weight_slots()); })
      .def_property_readonly("edges", [](const histogram& h) { return to_numpy(h.edges()); })
      .def_property_readonly("uniform", &histogram::uniform)
      .def_property_readonly("weighted", &histogram::weighted)
      .def_property_readonly("nbins", &histogram::nbins)
      .def("same_layout", &histogram::same_layout)
      .def("__eq__", [](const histogram& a, const histogram& b) { return a == b; })
      .def("__copy__", [](const histogram& h) { return histogram(h); })
      .def("empty_copy", &histogram::empty_copy)
      .def("serialize", [](const histogram& h) { return py::bytes(h.serialize()); })
      .def_static("deserialize",
                  [](const py::bytes& b) { return histogram::deserialize(std::string(b)); });
}
