#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "arrays.hpp"
#include "driftcore/value_grid.hpp"
#include "interrupt.hpp"

namespace py = pybind11;
using namespace driftcore;
using namespace driftcore::bind;

void register_value_grid(py::module_& m) {
  m.def(
      "grid_cell_bounds",
      [](const py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>& keys,
         int shift) {
        if (keys.ndim() != 1) throw invalid_input("keys must be a 1-D array");
        if (shift < 0 || shift > value_grid::max_shift)
          throw invalid_input("shift must be in [0, " + std::to_string(value_grid::max_shift) +
                              "]");
        const auto n = static_cast<std::size_t>(keys.size());
        std::vector<double> lo(n), hi(n);
        for (std::size_t i = 0; i < n; ++i) {
          lo[i] = value_grid::cell_low(keys.data()[i], shift);
          hi[i] = value_grid::cell_high(keys.data()[i], shift);
        }
        return py::make_tuple(to_numpy(lo), to_numpy(hi));
      },
      py::arg("keys"), py::arg("shift"),
      "(smallest, largest) finite double of each cell `keys` of a grid at `shift`.");
  py::class_<value_grid>(m, "ValueGrid")
      .def(py::init<std::uint32_t>(), py::arg("max_cells") = 4096)
      .def(
          "update",
          [](value_grid& g, const py::array& values, int threads) {
            array_view v = host_view(values);
            // Long updates run on a helper thread (Ctrl-C stops them and leaves the
            // grid unchanged); pybind11 keeps `g` alive for the call.
            run_interruptible([&] { g.update(v, threads); }, v.size >= (std::size_t(1) << 22));
          },
          py::arg("values"), py::arg("threads") = 0)
      .def(
          "update_summarized",
          [](value_grid& g, const py::array& values, int threads) {
            array_view v = host_view(values);
            value_summary s = run_interruptible([&] { return g.update_summarized(v, threads); },
                                                v.size >= (std::size_t(1) << 22));
            return py::make_tuple(s.counts, to_numpy(s.sums.s1), to_numpy(s.sums.s2));
          },
          py::arg("values"), py::arg("threads") = 0)
      .def(
          "update_summarized_device",
          [](value_grid& g, std::uintptr_t ptr, std::size_t n, const std::string& typestr,
             std::uintptr_t stream) {
            array_view v = device_view(ptr, n, typestr);
            value_summary s;
            {
              // The caller holds the device array; the Python wrapper serializes use of `g`.
              py::gil_scoped_release release;
              s = g.update_summarized_device(v, stream);
            }
            return py::make_tuple(s.counts, to_numpy(s.sums.s1), to_numpy(s.sums.s2));
          },
          py::arg("ptr"), py::arg("n"), py::arg("typestr"), py::arg("stream"))
      .def(
          "update_summarized_replay",
          [](value_grid& g, const py::array& values) {
            array_view v = host_view(values);
            value_summary s;
            {
              py::gil_scoped_release release;
              s = g.update_summarized_replay(v);
            }
            return py::make_tuple(s.counts, to_numpy(s.sums.s1), to_numpy(s.sums.s2));
          },
          py::arg("values"),
          "The device algorithm of update_summarized_device run on the host (for tests).")
      .def(
          "add_counts",
          [](value_grid& g,
             const py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>& keys,
             const py::array_t<std::uint64_t, py::array::c_style | py::array::forcecast>& counts,
             int shift) {
            if (keys.ndim() != 1 || counts.ndim() != 1)
              throw invalid_input("keys and counts must be 1-D arrays");
            std::vector<std::uint64_t> k(keys.data(), keys.data() + keys.size());
            std::vector<std::uint64_t> c(counts.data(), counts.data() + counts.size());
            py::gil_scoped_release release;
            g.add_counts(std::move(k), std::move(c), shift);
          },
          py::arg("keys"), py::arg("counts"), py::arg("shift"))
      .def("merge", &value_grid::merge, py::call_guard<py::gil_scoped_release>())
      .def("coarsen_to", &value_grid::coarsen_to)
      .def_property_readonly("max_cells", &value_grid::max_cells)
      .def_property_readonly("shift", &value_grid::shift)
      .def_property_readonly("total", &value_grid::total)
      .def_property_readonly("keys", [](const value_grid& g) { return to_numpy(g.keys()); })
      .def_property_readonly("counts", [](const value_grid& g) { return to_numpy(g.counts()); })
      .def("to_bytes", [](const value_grid& g) { return py::bytes(g.to_bytes()); })
      .def_static("from_bytes",
                  [](const py::bytes& b) { return value_grid::from_bytes(std::string(b)); })
      .def("__eq__", [](const value_grid& a, const value_grid& b) { return a == b; })
      .def("copy", [](const value_grid& g) { return value_grid(g); });
}
