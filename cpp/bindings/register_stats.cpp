#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "arrays.hpp"
#include "driftcore/moments.hpp"
#include "driftcore/row_sample.hpp"
#include "driftcore/two_sample.hpp"
#include "interrupt.hpp"

namespace py = pybind11;
using namespace driftcore;
using namespace driftcore::bind;

namespace {
// Values from which a pass runs on a helper thread, so Ctrl-C stops it (a few
// milliseconds of work; a thread start costs about 50 microseconds).
constexpr std::size_t kLongPass = std::size_t(1) << 22;
}  // namespace

void register_stats(py::module_& m) {
  py::class_<moments>(m, "Moments")
      .def(py::init<>())
      .def_readwrite("count", &moments::count)
      .def_readwrite("nan", &moments::nan)
      .def_readwrite("pos_inf", &moments::pos_inf)
      .def_readwrite("neg_inf", &moments::neg_inf)
      .def_readwrite("min", &moments::min)
      .def_readwrite("max", &moments::max)
      .def_readwrite("mean", &moments::mean)
      .def_readwrite("m2", &moments::m2)
      .def("merge", &moments::merge);

  m.def(
      "power_sums",
      [](const py::array& values, int threads) {
        array_view v = host_view(values);
        power_sums s =
            run_interruptible([&] { return compute_power_sums(v, threads); }, v.size >= kLongPass);
        return py::make_tuple(to_numpy(s.s1), to_numpy(s.s2));
      },
      py::arg("values"), py::arg("threads") = 0);

  m.def(
      "moments",
      [](const py::array& values, int threads) {
        array_view v = host_view(values);
        return run_interruptible([&] { return compute_moments(v, threads); }, v.size >= kLongPass);
      },
      py::arg("values"), py::arg("threads") = 0);

  m.def("sample_base", &sample_base, py::arg("seed"), py::arg("stream"));

  m.def(
      "sample_keys_below",
      [](std::uint64_t base, std::uint64_t start, std::size_t n, double cut) {
        std::vector<std::int64_t> rows;
        std::vector<double> keys;
        {
          py::gil_scoped_release release;
          sample_keys_below(base, start, n, cut, rows, keys);
        }
        return std::make_tuple(to_numpy(rows), to_numpy(keys));
      },
      py::arg("base"), py::arg("start"), py::arg("n"), py::arg("cut"));

  m.def(
      "sample_keys_at",
      [](std::uint64_t base, const bind::in_array<std::uint64_t>& rows) {
        if (rows.ndim() != 1) throw invalid_input("rows must be 1-D");
        const auto n = static_cast<std::size_t>(rows.size());
        py::array_t<double> keys(static_cast<py::ssize_t>(n));
        double* out = keys.mutable_data();
        const std::uint64_t* r = rows.data();
        {
          py::gil_scoped_release release;
          sample_keys_at(base, r, n, out);
        }
        return keys;
      },
      py::arg("base"), py::arg("rows"));

  m.def(
      "two_sample_sorted",
      [](const py::array& a, const py::array& b, bool ks, bool wasserstein) {
        auto va = f64_array(a, "a"), vb = f64_array(b, "b");
        const auto na = static_cast<std::size_t>(va.size()),
                   nb = static_cast<std::size_t>(vb.size());
        const auto r = run_interruptible(
            [&] { return two_sample_sorted(va.data(), na, vb.data(), nb, ks, wasserstein); },
            na + nb >= kLongPass);
        return std::make_tuple(r.ks, r.wasserstein, r.n_a, r.n_b);
      },
      py::arg("a"), py::arg("b"), py::arg("ks") = true, py::arg("wasserstein") = true);

  m.def(
      "two_sample_weighted",
      [](const py::array& a, const py::array& ca, const py::array& b, const py::array& cb) {
        auto va = f64_array(a, "a"), vca = f64_array(ca, "ca"), vb = f64_array(b, "b"),
             vcb = f64_array(cb, "cb");
        if (va.size() != vca.size() || vb.size() != vcb.size())
          throw invalid_input("values and cumulative weights differ in length");
        const auto na = static_cast<std::size_t>(va.size()),
                   nb = static_cast<std::size_t>(vb.size());
        const auto r = run_interruptible(
            [&] {
              return two_sample_weighted(va.data(), vca.data(), na, vb.data(), vcb.data(), nb);
            },
            na + nb >= kLongPass);
        return std::make_tuple(r.ks, r.wasserstein, r.n_a, r.n_b);
      },
      py::arg("a"), py::arg("ca"), py::arg("b"), py::arg("cb"));
}
