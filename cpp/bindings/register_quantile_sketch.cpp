#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "arrays.hpp"
#include "driftcore/quantile_sketch.hpp"
#include "interrupt.hpp"

namespace py = pybind11;
using namespace driftcore;
using namespace driftcore::bind;

void register_quantile_sketch(py::module_& m) {
  py::class_<quantile_sketch>(m, "QuantileSketch")
      .def(py::init<std::uint32_t, std::uint64_t>(), py::arg("k") = 200, py::arg("seed") = 0)
      .def(
          "update",
          [](quantile_sketch& s, const py::array& values) {
            array_view v = host_view(values);
            // Long updates run on a helper thread (Ctrl-C stops them and leaves the
            // sketch unchanged); pybind11 keeps `s` alive for the call.
            run_interruptible([&] { s.update(v); }, v.size >= (std::size_t(1) << 22));
          },
          py::arg("values"))
      .def(
          "update_compacted",
          [](quantile_sketch& s, const py::array& values, std::uint32_t level, double lo, double hi,
             std::uint64_t nan_count) {
            auto v = f64_array(values, "values");
            py::gil_scoped_release release;
            s.update_compacted(v.data(), static_cast<std::size_t>(v.size()), level, lo, hi,
                               nan_count);
          },
          py::arg("values"), py::arg("level"), py::arg("lo"), py::arg("hi"), py::arg("nan_count"))
      .def("compaction_offset", &quantile_sketch::compaction_offset, py::arg("count"),
           py::arg("level"))
      .def("merge", &quantile_sketch::merge)
      .def_property_readonly("k", &quantile_sketch::k)
      .def_property_readonly("seed", &quantile_sketch::seed)
      .def_property_readonly("n", &quantile_sketch::n)
      .def_property_readonly("nan_count", &quantile_sketch::nan_count)
      .def_property_readonly("min", &quantile_sketch::min)
      .def_property_readonly("max", &quantile_sketch::max)
      .def_property_readonly("retained", &quantile_sketch::retained)
      .def_property_readonly("exact", &quantile_sketch::exact)
      .def_property_readonly("rank_error", &quantile_sketch::rank_error)
      .def_static("rank_error_for", &quantile_sketch::rank_error_for)
      .def("quantiles",
           [](const quantile_sketch& s, const py::array& q) {
             auto a = f64_array(q, "q");
             std::vector<double> out;
             {
               py::gil_scoped_release release;
               out = s.quantiles(a.data(), static_cast<std::size_t>(a.size()));
             }
             return to_numpy(out);
           })
      .def("cdf",
           [](const quantile_sketch& s, const py::array& x) {
             auto a = f64_array(x, "x");
             std::vector<double> out;
             {
               py::gil_scoped_release release;
               out = s.cdf(a.data(), static_cast<std::size_t>(a.size()));
             }
             return to_numpy(out);
           })
      .def("sorted_view",
           [](const quantile_sketch& s) {
             std::vector<double> v, c;
             {
               py::gil_scoped_release release;
               s.sorted_view(v, c);
             }
             return py::make_tuple(to_numpy(v), to_numpy(c));
           })
      .def("__eq__", [](const quantile_sketch& a, const quantile_sketch& b) { return a == b; })
      .def("__copy__", [](const quantile_sketch& s) { return quantile_sketch(s); })
      .def("serialize", [](const quantile_sketch& s) { return py::bytes(s.serialize()); })
      .def_static("deserialize",
                  [](const py::bytes& b) { return quantile_sketch::deserialize(std::string(b)); });
}
