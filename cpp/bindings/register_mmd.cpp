// MMD: permutation masks, the tiled permutation sums (CPU and GPU) and the exact
// median of pairwise squared distances. Python validates shapes and values first.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "arrays.hpp"
#include "driftcore/common.hpp"
#include "driftcore/mmd.hpp"
#include "driftcore/rff.hpp"
#include "interrupt.hpp"

namespace py = pybind11;
using namespace driftcore;
using driftcore::bind::run_interruptible;

namespace {

using f64_matrix = bind::in_array<double>;
using f32_matrix = bind::in_array<float>;
using mask_matrix = py::array_t<std::uint64_t, py::array::c_style | bind::aligned>;

mmd_kernel kernel_kind(const std::string& name) {
  if (name == "rbf") return mmd_kernel::rbf;
  if (name == "laplacian") return mmd_kernel::laplacian;
  throw invalid_input("kernel must be 'rbf' or 'laplacian', got '" + name + "'");
}

void check_matrix(const py::array& a, const char* what) {
  if (a.ndim() != 2) throw invalid_input(std::string(what) + " must be 2-D");
}

py::tuple sums_tuple(mmd_sums&& s) {
  return py::make_tuple(py::array_t<double>(static_cast<py::ssize_t>(s.a.size()), s.a.data()),
                        py::array_t<double>(static_cast<py::ssize_t>(s.c.size()), s.c.data()), s.t);
}

void check_masks(const mask_matrix& masks, std::size_t N, std::size_t ncols) {
  if (masks.ndim() != 2 || static_cast<std::size_t>(masks.shape(0)) != N ||
      static_cast<std::size_t>(masks.shape(1)) != mmd_mask_words(ncols))
    throw invalid_input("masks must have shape (N, ceil(ncols / 64))");
}

}  // namespace

void register_mmd(py::module_& m) {
  m.def(
      "mmd_permutation_masks",
      [](std::size_t n, std::size_t m, std::size_t permutations, std::uint64_t seed, int threads) {
        const std::size_t words = mmd_mask_words(permutations + 1);
        mask_matrix out({static_cast<py::ssize_t>(n + m), static_cast<py::ssize_t>(words)});
        std::uint64_t* p = out.mutable_data();
        // Writes only into `out`, owned here.
        run_interruptible([&] { mmd_permutation_masks(n, m, permutations, seed, p, threads); },
                          (n + m) * permutations >= (std::size_t(1) << 20));
        return out;
      },
      py::arg("n"), py::arg("m"), py::arg("permutations"), py::arg("seed"), py::arg("threads") = 0);

  m.def(
      "mmd_permutation_sums",
      [](const py::array& z, const std::string& kernel, std::vector<double> bandwidths,
         const mask_matrix& masks, std::size_t ncols, int threads) {
        check_matrix(z, "z");
        auto zz = f64_matrix::ensure(z);
        const std::size_t N = static_cast<std::size_t>(zz.shape(0)),
                          d = static_cast<std::size_t>(zz.shape(1));
        check_masks(masks, N, ncols);
        mmd_kernel_spec spec{kernel_kind(kernel), std::move(bandwidths)};
        const double* zp = zz.data();
        const std::uint64_t* mp = masks.data();
        // zz and masks stay referenced by this frame.
        mmd_sums s = run_interruptible(
            [&] { return mmd_permutation_sums(zp, N, d, spec, mp, ncols, threads); },
            N * N * ncols >= (std::size_t(1) << 22));
        return sums_tuple(std::move(s));
      },
      py::arg("z"), py::arg("kernel"), py::arg("bandwidths"), py::arg("masks"), py::arg("ncols"),
      py::arg("threads") = 0);

  m.def(
      "mmd_permutation_sums_device",
      [](std::uintptr_t ptr, std::size_t N, std::size_t d, const std::string& kernel,
         std::vector<double> bandwidths, const mask_matrix& masks, std::size_t ncols,
         std::uintptr_t stream) {
        check_masks(masks, N, ncols);
        mmd_kernel_spec spec{kernel_kind(kernel), std::move(bandwidths)};
        const std::uint64_t* mp = masks.data();
        mmd_sums s;
        {
          py::gil_scoped_release release;  // the caller holds the device array
          s = mmd_permutation_sums_device(reinterpret_cast<const float*>(ptr), N, d, spec, mp,
                                          ncols, stream);
        }
        return sums_tuple(std::move(s));
      },
      py::arg("ptr"), py::arg("N"), py::arg("d"), py::arg("kernel"), py::arg("bandwidths"),
      py::arg("masks"), py::arg("ncols"), py::arg("stream"));

  m.def(
      "mmd_permutation_sums_replay",
      [](const py::array& z, const std::string& kernel, std::vector<double> bandwidths,
         const mask_matrix& masks, std::size_t ncols, std::size_t grid) {
        check_matrix(z, "z");
        auto zz = f32_matrix::ensure(z);
        const std::size_t N = static_cast<std::size_t>(zz.shape(0)),
                          d = static_cast<std::size_t>(zz.shape(1));
        check_masks(masks, N, ncols);
        mmd_kernel_spec spec{kernel_kind(kernel), std::move(bandwidths)};
        const float* zp = zz.data();
        const std::uint64_t* mp = masks.data();
        // zz and masks stay referenced by this frame.
        mmd_sums s = run_interruptible(
            [&] { return mmd_permutation_sums_replay(zp, N, d, spec, mp, ncols, grid); }, true);
        return sums_tuple(std::move(s));
      },
      py::arg("z"), py::arg("kernel"), py::arg("bandwidths"), py::arg("masks"), py::arg("ncols"),
      py::arg("grid"), "The GPU kernel's arithmetic replayed on the CPU (for tests): float32 z.");

  m.def(
      "mmd_median_sq_distance",
      [](const py::array& z, int threads, bool histogram_only) {
        check_matrix(z, "z");
        auto zz = f64_matrix::ensure(z);
        const double* zp = zz.data();
        const std::size_t N = static_cast<std::size_t>(zz.shape(0)),
                          d = static_cast<std::size_t>(zz.shape(1));
        // zz stays referenced by this frame.
        const mmd_distance_summary r = run_interruptible(
            [&] { return mmd_median_sq_distance(zp, N, d, threads, histogram_only); }, N >= 4096);
        return py::make_tuple(r.median_sq, r.mean_sq);
      },
      py::arg("z"), py::arg("threads") = 0, py::arg("histogram_only") = false);

  m.def(
      "rff_uniforms",
      [](std::uint64_t seed, std::uint64_t stream, std::size_t count) {
        std::vector<double> out(count);
        rff_uniforms(seed, stream, out.data(), count);
        return bind::to_numpy(out);
      },
      py::arg("seed"), py::arg("stream"), py::arg("count"),
      "count uniforms in (0, 1) from hash(seed, stream, i): the random features' draws.");
  m.def(
      "rff_accumulate",
      [](const py::array& x, const py::array& w, py::array_t<double, py::array::c_style>& cos_sum,
         py::array_t<double, py::array::c_style>& sin_sum, int threads) {
        check_matrix(x, "x");
        check_matrix(w, "w");
        auto xx = f64_matrix::ensure(x);
        auto ww = f64_matrix::ensure(w);
        const std::size_t n = static_cast<std::size_t>(xx.shape(0)),
                          d = static_cast<std::size_t>(xx.shape(1));
        const std::size_t F = static_cast<std::size_t>(ww.shape(1));
        if (static_cast<std::size_t>(ww.shape(0)) != d)
          throw invalid_input("w must have shape (d, F)");
        if (cos_sum.ndim() != 1 || sin_sum.ndim() != 1 ||
            static_cast<std::size_t>(cos_sum.size()) != F ||
            static_cast<std::size_t>(sin_sum.size()) != F)
          throw invalid_input("cos_sum and sin_sum must be 1-D float64 arrays of length F");
        const double *xp = xx.data(), *wp = ww.data();
        double *cp = cos_sum.mutable_data(), *sp = sin_sum.mutable_data();
        // All arrays are held by this frame; the sums change only after the last check.
        run_interruptible([&] { rff_accumulate(xp, n, d, wp, F, cp, sp, threads); },
                          n * F >= (std::size_t(1) << 20));
      },
      py::arg("x"), py::arg("w"), py::arg("cos_sum"), py::arg("sin_sum"), py::arg("threads") = 0);
}
