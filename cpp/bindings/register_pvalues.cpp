#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "arrays.hpp"
#include "driftcore/common.hpp"
#include "driftcore/pvalues.hpp"

namespace py = pybind11;
using namespace driftcore;

namespace {

using f64_in = bind::in_array<double>;

// out[i] = f(a[i], b[i]) over two equal-length float64 arrays (Python broadcasts).
template <class F>
py::array_t<double> elementwise(const f64_in& a, const f64_in& b, const char* what, F f) {
  if (a.ndim() != 1 || b.ndim() != 1 || a.size() != b.size())
    throw invalid_input(std::string(what) + ": expected two 1-D arrays of one length");
  const auto n = static_cast<std::size_t>(a.size());
  py::array_t<double> out(a.size());
  const double* pa = a.data();
  const double* pb = b.data();
  double* po = out.mutable_data();
  {
    // Safe without the GIL: plain buffers owned by arrays this frame keeps alive.
    py::gil_scoped_release release;
    for (std::size_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
  }
  return out;
}

}  // namespace

void register_pvalues(py::module_& m) {
  m.def("kolmogorov_sf", &kolmogorov_sf, py::arg("d"), py::arg("n"),
        "scipy.stats.kstwo.sf(d, n); NaN for invalid input.");
  m.def(
      "kolmogorov_sf_many",
      [](const f64_in& d, const f64_in& n) {
        return elementwise(d, n, "kolmogorov_sf_many",
                           [](double x, double y) { return kolmogorov_sf(x, y); });
      },
      py::arg("d"), py::arg("n"));
  m.def(
      "ks_2samp_pvalue",
      [](std::uint64_t n1, std::uint64_t n2, double d) {
        const ks_2samp_result r = ks_2samp_pvalue(n1, n2, d);
        return py::make_tuple(r.statistic, r.pvalue, r.exact);
      },
      py::arg("n1"), py::arg("n2"), py::arg("d"),
      "(statistic, pvalue, exact) of scipy.stats.ks_2samp for sizes n1, n2 and statistic d.");
  m.def("chi2_sf", &chi2_sf, py::arg("x"), py::arg("dof"), "scipy.stats.chi2.sf(x, dof).");
  m.def(
      "chi2_sf_many",
      [](const f64_in& x, const f64_in& dof) {
        return elementwise(x, dof, "chi2_sf_many",
                           [](double a, double b) { return chi2_sf(a, b); });
      },
      py::arg("x"), py::arg("dof"));
  m.def("normal_sf", &normal_sf, py::arg("z"), "scipy.stats.norm.sf(z).");
  m.def(
      "normal_sf_many",
      [](const f64_in& z) {
        return elementwise(z, z, "normal_sf_many", [](double a, double) { return normal_sf(a); });
      },
      py::arg("z"));
}
